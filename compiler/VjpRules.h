// The vector-Jacobian product of every seq op, written in seq ops only (DESIGN decision 2).
#pragma once

#include "compiler/SeqBuilder.h"

namespace seqjit {

/// The cotangents of `op`'s operands, given the cotangent of its result. Entry i is null where `needed[i]` is
/// false or where the operand has no derivative (batch-norm running statistics, max-pool's choice of window
/// maximum, step, sign, constants): a null cotangent means zero. Emits at `b`'s insertion point.
/// Fails, with an error on the op, for an op no rule knows.
mlir::FailureOr<llvm::SmallVector<mlir::Value>> operandCotangents(mlir::OpBuilder &b, mlir::Operation *op,
                                                                  mlir::Value resultCotangent,
                                                                  llvm::ArrayRef<bool> needed);

} // namespace seqjit
