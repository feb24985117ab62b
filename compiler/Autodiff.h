// Reverse-mode autodiff on the seq dialect: the VJP program of a function's values, emitted in seq ops.
#pragma once

#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <memory>

namespace seqjit {

/// Emits at `b`'s insertion point (after every value involved, in the same block) the vector-Jacobian product of
/// `outputs`, seeded with `cotangents` (one per output, same types), with respect to `wrt`: one gradient per
/// `wrt` value, a zero tensor where no output depends on it. Only seq ops are emitted (compiler/VjpRules.cpp),
/// so the emitted ops can themselves be differentiated: calling this on a program that already contains a
/// gradient gives exact second-order gradients. Fails, with an error on the op, on an op without a VJP rule.
mlir::FailureOr<llvm::SmallVector<mlir::Value>> buildVjp(mlir::OpBuilder &b, mlir::ValueRange outputs,
                                                         mlir::ValueRange cotangents, mlir::ValueRange wrt);

/// The cotangents of `op`'s operands given its result's cotangent, one entry per operand (null: zero or not
/// `needed`), emitted at the builder's insertion point: operandCotangents (compiler/VjpRules.h) for the VJP,
/// the rescale rules (compiler/DeepLiftRules.h) for DeepLIFT's multipliers.
using CotangentRule = llvm::function_ref<mlir::FailureOr<llvm::SmallVector<mlir::Value>>(
    mlir::OpBuilder &, mlir::Operation *, mlir::Value, llvm::ArrayRef<bool>)>;

/// buildVjp's reverse sweep with another rule for each op's operand cotangents.
mlir::FailureOr<llvm::SmallVector<mlir::Value>> buildReverseSweep(mlir::OpBuilder &b, mlir::ValueRange outputs,
                                                                  mlir::ValueRange cotangents, mlir::ValueRange wrt,
                                                                  CotangentRule rule);

/// The `seq-autodiff` pass: for every public func.func @f, adds @f_vjp(arguments..., cotangents of each result...)
/// returning the cotangent of every argument. Running it twice differentiates the VJPs (second order).
std::unique_ptr<mlir::Pass> createAutodiffPass();

} // namespace seqjit
