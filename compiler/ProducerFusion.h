// GPU fusion across a reduction: a convolution (with its bias and any in-place update) recomputed inside the loop
// nest of the one op that reads it, such as batch norm + activation + max pool, instead of stored and read back.
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// seqjit-fuse-producers-into-consumers, on buffers, for the GPU. A linalg.generic C reading a buffer Y is rewritten
/// as its own loop nest (parallel dimensions in an scf.parallel, its reductions in scf.for loops carrying the output
/// element in a register) where every element of Y it reads is computed on the spot by Y's producers, when:
///  - Y is a local allocation that only its producers write (a linalg.fill or generics with Y as their one output,
///    every parallel dimension indexing one dimension of Y: a convolution, the bias fill before it) and only C reads;
///  - C reads each element of Y at most once (its map from loop dimensions to Y's indices is one to one), so nothing
///    is computed twice: a max pool's windows do not overlap, a following convolution's do and is left alone;
///  - nothing between the first producer and C writes what the producers read (deallocations of it move after C);
///  - C's output map is a permutation of its parallel dimensions, and all bodies are elementwise arithmetic.
/// Y's buffer disappears. The forward pass's conv + bias + batch norm + exp + max pool becomes one loop nest.
std::unique_ptr<mlir::Pass> createFuseProducersIntoConsumersPass();

/// Registers seqjit-fuse-producers-into-consumers for textual pipelines.
void registerFuseProducersIntoConsumersPass();

} // namespace seqjit
