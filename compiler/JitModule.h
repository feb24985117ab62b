// Seq programs compiled for the CPU or a CUDA GPU (host code with the kernels' PTX): lowered through MLIR and LLVM
// into a shared object, kept in the persistent compiled-program cache (runtime/core/ProgramCache.h) and loaded from
// there on later runs.
#pragma once

#include "compiler/GraphImport.h"
#include "runtime/core/BufferView.h"
#include "runtime/core/Device.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace seqjit {

struct JitOptions {
  int optimizationLevel = 3;
  /// Where the program runs. On CUDA, the host code is JIT-compiled for the CPU and launches PTX kernels; buffers
  /// handed to call() are copied to the device and results back.
  Device device = defaultDevice();
  /// The GPU the PTX is for (the driver JIT-compiles it for newer ones); empty: the device's own, up to sm_90.
  std::string cudaChip;
  /// A pass pipeline to use instead of the device's, ending in the LLVM dialect for the CPU (the tests run
  /// gpuLoopsOnCpuPipeline() this way).
  std::string pipeline;
};

/// What compiling has cost this process so far, and how often the cache served it: every command prints it.
struct CompileTally {
  int compiled = 0;
  double compiledSeconds = 0;
  double loweringSeconds = 0; ///< of compiledSeconds: MLIR's passes
  double codegenSeconds = 0;  ///< of compiledSeconds: LLVM's optimisation, code generation and linking
  int cached = 0;
  double cachedSeconds = 0;
};
CompileTally compileTally();
/// "compiling: 2 programs in 9.3 s, 1 from the cache in 0.02 s" (or "no programs compiled"); "(cache off)" where
/// SEQJIT_CACHE=off.
std::string describeCompileTally();

class JitModule {
public:
  ~JitModule();
  /// Imports `graph` (options.batch must be static), lowers it with cpuPipeline() and JIT-compiles it.
  /// Throws seqjit::Error if a stage fails (MLIR's diagnostics are printed to stderr first).
  static std::unique_ptr<JitModule> compileGraph(const Graph &graph, const ImportOptions &options,
                                                 const JitOptions &jitOptions = {});

  /// Builds a module of seq functions (static shapes, llvm.emit_c_interface on each entry point) in the JIT's own
  /// context, lowers it with cpuPipeline() (cudaPipeline() on CUDA) and JIT-compiles `entryPoints`. `name` names the
  /// program in errors.
  using ModuleBuilder = std::function<mlir::OwningOpRef<mlir::ModuleOp>(mlir::MLIRContext &)>;
  static std::unique_ptr<JitModule> compileModule(const ModuleBuilder &build, const std::string &name, bool float64,
                                                  const std::vector<std::string> &entryPoints,
                                                  const JitOptions &jitOptions = {});

  /// Calls `function`(arguments...) and copies its results into `results`, whose shapes must match.
  void call(const std::string &function, const std::vector<BufferView> &arguments,
            const std::vector<BufferView> &results) const;
  void call(const std::string &function, const std::vector<BufferView> &arguments, const BufferView &result) const {
    call(function, arguments, std::vector<BufferView>{result});
  }

  Device device() const;
  /// Seconds spent in MLIR lowering and in LLVM code generation (zero where the cache served the program).
  double loweringSeconds() const;
  double codegenSeconds() const;

  /// The state behind a JitModule (JitModule.cpp).
  struct Impl;

private:
  explicit JitModule(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace seqjit
