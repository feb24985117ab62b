// Compile-or-fetch: a seq module lowered through MLIR and LLVM into a shared object (for CUDA: the host code, with
// its kernels' PTX among its constants) and kept in the persistent compiled-program cache
// (runtime/core/ProgramCache.h), or the cache's entry for it. The compiler produces the artifact and its signature;
// runtime/Program.h loads and runs it.
#pragma once

#include "compiler/GraphImport.h"
#include "runtime/core/Device.h"
#include "runtime/core/ProgramSignature.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace seqjit {

struct ArtifactOptions {
  int optimizationLevel = 3;
  /// Where the program runs. On CUDA, the host code runs on the CPU and launches PTX kernels.
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

/// A compiled program as the compiler hands it over.
struct Artifact {
  std::string name;           ///< names the program in messages: "loss gradient of model 'cnn-deep'"
  std::filesystem::path file; ///< the shared object, where it is a cache entry
  std::string bytes;          ///< else the shared object itself
  ProgramSignature signature; ///< of the entry points, in order
  Device device = Device::Cpu;
  double loweringSeconds = 0; ///< MLIR's passes (zero where the cache served it)
  double codegenSeconds = 0;  ///< LLVM's optimisation, code generation and linking
  bool fromCache = false;
};

/// Adds `artifact` to the tally: ready to call `readySeconds` after its build began (runtime/Program.h counts each
/// program once it is loaded).
void countCompile(const Artifact &artifact, double readySeconds);

/// Builds a module of seq functions (static shapes, llvm.emit_c_interface on each entry point) in a context of its
/// own, and returns the cache's artifact for it or lowers it with cpuPipeline() (cudaPipeline() on CUDA) and
/// compiles `entryPoints`. Throws seqjit::Error if a stage fails (MLIR's diagnostics are printed to stderr first).
using ModuleBuilder = std::function<mlir::OwningOpRef<mlir::ModuleOp>(mlir::MLIRContext &)>;
Artifact buildArtifact(const ModuleBuilder &build, const std::string &name, bool float64,
                       const std::vector<std::string> &entryPoints, const ArtifactOptions &options = {});

/// The same for the forward program of `graph` (options.batch must be static).
Artifact buildGraphArtifact(const Graph &graph, const ImportOptions &importOptions,
                            const ArtifactOptions &options = {});

} // namespace seqjit
