// DeepLIFT's rescale rules (Shrikumar et al. 2017) on seq ops: the multipliers that carry output differences back
// to input differences, for a network evaluated on an input and on a reference.
#pragma once

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace seqjit {

/// Below this |x - x_ref| a nonlinearity's multiplier is its gradient at x (the limit of the rescale rule).
inline constexpr double kDeepLiftEpsilon = 1e-6;

/// The multipliers of `op`'s operands given the multiplier `g` of its result, for `op` evaluated on the input;
/// `twins` maps every value computed from the input to the same value computed from the reference (values
/// computed from neither, such as parameters, are missing: they are their own twin). The rules:
///   - affine ops (conv, dense, batch norm on running statistics, average pools, add, concat, reshapes, dropout
///     in inference mode, reverse complement): their VJP, which is exact for differences;
///   - elementwise activations: g * (f(x) - f(x_ref)) / (x - x_ref), the gradient where |x - x_ref| <= epsilon;
///   - max pools: the output difference split as (max(y, y_ref) - y_ref) routed to the input's window maximum and
///     (y - max(y, y_ref)) routed to the reference's, divided by x - x_ref (Captum's rule), so that the
///     multipliers times the input differences sum exactly to the output difference.
/// With these, the multipliers of the input times (input - reference) sum to output - reference output.
/// Fails, with an error on the op, for an op without a rescale rule (batch norm on batch statistics among them).
mlir::FailureOr<llvm::SmallVector<mlir::Value>>
operandMultipliers(mlir::OpBuilder &b, mlir::Operation *op, mlir::Value g, llvm::ArrayRef<bool> needed,
                   const llvm::DenseMap<mlir::Value, mlir::Value> &twins);

} // namespace seqjit
