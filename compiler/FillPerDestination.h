// One fill per destination, so that bufferization writes each kernel's output in place.
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// seqjit-fill-per-destination: a linalg.fill on tensors that several ops take as their destination (CSE merges the
/// zero tensors that every convolution and sum starts from) is cloned for each of them but the first. Without it,
/// one-shot bufferization gives the others a new buffer and a copy of the filled one, and the contraction kernels,
/// which start their sums at a fill's constant in registers when the fill writes their output just before them
/// (compiler/InitialFill.h), see a copy instead: the fill and the copy stay two passes over memory, and the kernel's
/// edges run as narrow vectors where an overlapping whole block would do.
std::unique_ptr<mlir::Pass> createFillPerDestinationPass();

/// Registers seqjit-fill-per-destination for textual pipelines.
void registerFillPerDestinationPass();

} // namespace seqjit
