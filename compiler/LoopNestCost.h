// What a loop nest on buffers costs, worked out from its IR: for the outlining pass's choice of parallel nests and
// for the kernel profile (runtime/core/KernelProfile.h). Loops count by their constant trip counts (one from i to
// i + c by their constant span c); a loop whose span or step is not constant counts once.
#pragma once

#include "mlir/IR/Operation.h"

#include <string>

namespace seqjit {

/// Operations `op` executes, every operation counting one.
double estimatedOperations(mlir::Operation *op);

/// Floating-point operations `op` executes: each arith or math operation on floats counts one per lane (a vector of
/// 8 floats counts 8), an FMA two, a vector reduction one per lane; conversions, loads and stores count nothing.
double floatingPointOperations(mlir::Operation *op);

/// Bytes of the buffers `op` reads or writes, each allocation or argument counted once, at the size of the views it
/// is accessed through (a fill of a padded buffer's border counts the border) but never above its own: the traffic
/// the nest cannot avoid where nothing is in the cache.
double bufferBytesTouched(mlir::Operation *op);

/// What kind of loop nest `op` is: "kernel" (it keeps vector accumulators in registers across a loop: a contraction
/// kernel, compiler/ContractionKernels.h), "fill" (it computes nothing and reads no buffer), "copy" (it computes
/// nothing but reads), or "loops".
std::string nestKind(mlir::Operation *op);

/// The layers `op`'s operations come from, as their locations name them (the outermost name of each), in the order
/// they first appear: "conv1 + bn1 + relu1"; empty where none is named.
std::string layersOf(mlir::Operation *op);

} // namespace seqjit
