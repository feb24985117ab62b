// Loop nests for the reductions that are not contraction kernels, with their accumulators in registers.
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// seqjit-reduction-loops, on buffers, for the CPU: a linalg.generic whose reduction loops are its innermost ones (a
/// max pool's window, the first maximum a max pool's gradient needs, a gather over pool windows) becomes an
/// scf.parallel over its parallel loops around scf.for loops over its reductions that carry the output elements as
/// loop values: loaded once (or started at the constant of the fill that wrote them just before, which then goes),
/// updated in registers, stored once. Lowered as linalg lowers it, each step stores the
/// accumulator and loads it back, and LLVM cannot keep it in a register (the output might alias an input): a chain
/// of store-to-load forwarding per step. The reductions run in the same order, so the results are the same bits.
/// Left alone: a generic with a parallel loop inside a reduction (its innermost loop vectorises as it is), dynamic
/// extents, an output indexed by a reduction, or an input in the output's buffer.
std::unique_ptr<mlir::Pass> createReductionLoopsPass();

/// Registers seqjit-reduction-loops for textual pipelines.
void registerReductionLoopsPass();

} // namespace seqjit
