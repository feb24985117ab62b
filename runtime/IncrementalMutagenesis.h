// Incremental in-silico mutagenesis on the compiled window programs (compiler/MutationWindows.h): the same maps as
// naive ISM, computing at each layer only the positions a mutation changes.
#pragma once

#include "compiler/MutationWindows.h"
#include "runtime/Compile.h"

#include <memory>

namespace seqjit {

class CompiledMutationWindows {
public:
  /// Compiles the window programs for `batch` mutants per call. Throws seqjit::Error for a model in which a layer
  /// that is not position-local reads the sequence itself (nothing to save: use naive mutagenesis).
  static CompiledMutationWindows compile(const Graph &graph, int64_t batch);

  /// In-silico mutagenesis of one-hot (N, 4, L) `input` for `output` (the flat index within one example's output):
  /// result[n, b, l] = f(x with base b at position l) - f(x), 0 at the sequence's own base (all four bases at an
  /// all-zero N column). Batches of mutants run side by side on `threads` threads.
  HostArray<float> run(const HostArray<float> &input, const Parameters &parameters, int64_t output, int threads) const;

  const MutationWindowPlan &plan() const { return plan_; }

private:
  CompiledMutationWindows(Graph graph, MutationWindowPlan plan, int64_t batch, Program program);
  Graph graph_;
  MutationWindowPlan plan_;
  int64_t batch_;
  Program program_;
};

} // namespace seqjit
