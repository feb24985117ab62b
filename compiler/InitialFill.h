// The fill that only sets a kernel's starting values: a kernel that writes every element of its output can start its
// sums (or maxima) at the fill's constant in registers, and the pass over the buffer that the fill is goes.
#pragma once

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace seqjit {

/// The linalg.fill of a constant that writes all of the buffer behind `init` (an output of `op`, a linalg op on
/// buffers; the buffer a memref.alloc of the function's) before `op`, with nothing else touching that buffer in
/// between, where `op`'s parallel loops visit each element of that buffer once (its indexing map a permutation of them,
/// covering the buffer); null otherwise.
mlir::linalg::FillOp initialFill(mlir::linalg::LinalgOp op, mlir::OpOperand &init);

} // namespace seqjit
