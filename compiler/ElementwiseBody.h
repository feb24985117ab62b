// The scalar body of a linalg.generic, cloned elementwise over vectors: how the contraction kernels compute their
// terms and epilogues.
#pragma once

#include "mlir/IR/Block.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace seqjit {

/// Whether every op of `body` before `end` maps elementwise over vectors: ops with the Elementwise trait (arith,
/// math) and constants, on integer and float scalars (no index), without regions; the arguments are such scalars too.
bool isElementwiseBody(mlir::Block &body, mlir::Operation *end);

/// Clones the ops of `body` before `end` at `b`, with `mapping` holding the values of the block arguments (and
/// getting those of the clones). With `lanes` > 1 every result is a vector of that many lanes, and values from
/// outside the body and constants are broadcast to one.
void cloneElementwise(mlir::OpBuilder &b, mlir::Location loc, mlir::Block &body, mlir::Operation *end,
                      mlir::IRMapping &mapping, int64_t lanes);

} // namespace seqjit
