// Elementwise fusion on tensors that recomputes only what is cheaper to compute than to store and read back.
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// seqjit-fuse-elementwise-ops: MLIR's linalg elementwise fusion (an elementwise producer with one use moves into the
/// body of its consumer; reshapes fold into them), except into a consumer that reads each element of the producer's
/// result more than once. A convolution's weight gradient reads dy[n, f, o] once for every input channel and tap:
/// with batch norm's input gradient fused into it, it would recompute that gradient channels x taps times over, and
/// its body would no longer be the product of two inputs that a contraction kernel turns into FMAs. A per-channel
/// value read along the batch and positions stays a small buffer computed once. The one recomputation: an elementwise
/// op of a few arithmetic operations that reads one operand as large as its result (x - mean, a broadcast) and has
/// several consumers is copied into each of them that reads its elements once, so that its result is never stored
/// (batch norm's input gradient reads x - mean in three sums and its elementwise pass).
std::unique_ptr<mlir::Pass> createFuseElementwiseOpsPass();

/// Registers seqjit-fuse-elementwise-ops for textual pipelines.
void registerFuseElementwiseOpsPass();

} // namespace seqjit
