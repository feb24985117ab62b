// The work of a model's forward pass as the benchmarks and `seqjit train` count it.
#pragma once

#include "dsl/Graph.h"

namespace seqjit {

/// The multiply-adds of one example's forward pass through the convolutions and dense layers (2 flops each; a
/// gradient counts 3 forward passes: forward, input and weight gradients). Batch norm, activations, pools and the
/// Fourier prior's extra passes are not counted, so GFLOP/s and % of peak derived from it are lower bounds.
double multiplyAddsPerExample(const Graph &graph);

} // namespace seqjit
