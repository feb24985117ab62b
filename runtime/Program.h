// A compiled program in the runtime: compile-or-load through the compiler's artifact, its signature (names, shapes
// and roles of every argument and result, from the program builder), calls checked against it, batches run in
// chunks on worker threads, and a non-finite result traced to its cause. Every compiled program seqjit runs goes
// through it.
#pragma once

#include "compiler/ArtifactBuilder.h"
#include "runtime/HostArray.h"
#include "runtime/NonFinite.h"
#include "runtime/core/BufferView.h"
#include "runtime/core/ProgramSignature.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace seqjit {

class NativeProgram;

class Program {
public:
  /// Compiles `entryPoints` of the module `build` makes, or loads the cache's build of it (compiler/ArtifactBuilder.h).
  static Program compile(const ModuleBuilder &build, const std::string &name, bool float64,
                         const std::vector<std::string> &entryPoints, const ArtifactOptions &options = {});
  /// The forward program of `graph` (importOptions.batch must be static).
  static Program compileGraph(const Graph &graph, const ImportOptions &importOptions,
                              const ArtifactOptions &options = {});
  /// Loads an artifact of the compiler.
  static Program load(const Artifact &artifact);

  const std::string &name() const { return name_; }
  const ProgramSignature &signature() const { return signature_; }
  Device device() const;
  /// Seconds spent lowering through MLIR and generating machine code (zero where the cache served it).
  double compileSeconds() const { return compileSeconds_; }

  /// Calls `function` on buffers in the signature's order; throws seqjit::Error naming the argument or result whose
  /// shape differs from the signature's.
  void call(const std::string &function, const std::vector<BufferView> &arguments,
            const std::vector<BufferView> &results) const;

  /// Calls `function` on host arrays in the signature's order (named as messages name them) and returns its results,
  /// shaped as the signature says. When a result holds NaN or infinity, throws seqjit::Error from
  /// diagnoseNonFinite(): the first non-finite argument, else what `interpret` (a rerun on the reference
  /// interpreter with checkNumerics) finds.
  std::vector<HostArray<float>> run(const std::string &function, const std::vector<NamedArray> &arguments,
                                    const std::function<void()> &interpret) const;

  /// Runs `function`, compiled for batches of B, on a batch of any size N: its first argument (N, ...) is cut into
  /// chunks of B rows (the last zero-padded), the others are the same for every chunk, and the chunks run side by side
  /// on `threads` threads (the compiled code is reentrant). Its one result is (N, ...). Throws seqjit::Error for a
  /// function whose first argument and one result are not both (B, ...), or a float64 program.
  HostArray<float> runInChunks(const std::string &function, const HostArray<float> &batch,
                               const std::vector<BufferView> &shared, int threads) const;

private:
  Program() = default;
  std::string name_;
  ProgramSignature signature_;
  double compileSeconds_ = 0;
  std::shared_ptr<const NativeProgram> native_;
};

} // namespace seqjit
