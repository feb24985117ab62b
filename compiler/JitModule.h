// A graph compiled for the CPU: lowered through MLIR to LLVM and JIT-compiled with ORC. No MLIR in this header.
#pragma once

#include "compiler/GraphImport.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace seqjit {

/// A contiguous row-major host buffer handed to or filled by compiled code.
struct BufferView {
  void *data = nullptr;
  std::vector<int64_t> shape;
};

struct JitOptions {
  int optimizationLevel = 3;
};

class JitModule {
public:
  ~JitModule();
  /// Imports `graph` (options.batch must be static), lowers it with cpuPipeline() and JIT-compiles it.
  /// Throws seqjit::Error if a stage fails (MLIR's diagnostics are printed to stderr first).
  static std::unique_ptr<JitModule> compileGraph(const Graph &graph, const ImportOptions &options,
                                                 const JitOptions &jitOptions = {});

  /// Calls `function`(arguments...) and copies its single result into `result`, whose shape must match.
  void call(const std::string &function, const std::vector<BufferView> &arguments, const BufferView &result) const;

  /// Seconds spent in MLIR lowering and in LLVM code generation.
  double loweringSeconds() const;
  double codegenSeconds() const;

private:
  struct Impl;
  explicit JitModule(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace seqjit
