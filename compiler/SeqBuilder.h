// SeqBuilder: emits seq ops with their result types worked out, for VJP rules, losses and program builders.
#pragma once

#include "compiler/SeqDialect.h"

#include "mlir/IR/Builders.h"

#include <string>

namespace seqjit {

/// Every op it emits carries `layer` (the layer an error or a NaN report should name) and `loc`.
class SeqBuilder {
public:
  SeqBuilder(mlir::OpBuilder &builder, mlir::Location loc, std::string layer)
      : b_(builder), loc_(loc), layer_(std::move(layer)) {}

  mlir::OpBuilder &builder() { return b_; }
  mlir::Location loc() const { return loc_; }
  /// The same builder naming another layer.
  SeqBuilder withLayer(std::string layer) const { return SeqBuilder(b_, loc_, std::move(layer)); }

  /// f(scale * x + shift), elementwise.
  mlir::Value activation(mlir::Value x, ActivationKind kind, double scale = 1.0, double shift = 0.0,
                         double alpha = 1.0);
  /// scale * x + shift.
  mlir::Value affine(mlir::Value x, double scale, double shift = 0.0);
  mlir::Value mul(mlir::Value lhs, mlir::Value rhs);
  /// The sum of one or more equally shaped values (one value is returned as it is).
  mlir::Value add(mlir::ValueRange values);
  /// lhs - rhs.
  mlir::Value sub(mlir::Value lhs, mlir::Value rhs);
  /// Sum over `axes`, which the result drops.
  mlir::Value reduceSum(mlir::Value x, llvm::ArrayRef<int64_t> axes);
  /// Sum over every axis: a rank-0 tensor.
  mlir::Value sumAll(mlir::Value x);
  /// x repeated along `axes` to `type`.
  mlir::Value broadcast(mlir::Value x, llvm::ArrayRef<int64_t> axes, mlir::RankedTensorType type);
  mlir::Value reshape(mlir::Value x, mlir::RankedTensorType type);
  /// A tensor of `type` filled with `value`.
  mlir::Value splat(mlir::RankedTensorType type, double value);
  /// A constant tensor of shape `shape` holding `values` (row-major) in the element type `elementType`.
  mlir::Value constant(llvm::ArrayRef<int64_t> shape, mlir::Type elementType, llvm::ArrayRef<double> values);
  /// Dense without bias: x W^T.
  mlir::Value dense(mlir::Value x, mlir::Value weight);
  /// Conv1d without bias, result type given (so 'same' and 'valid' results need no recomputation).
  mlir::Value conv1d(mlir::Value x, mlir::Value weight, int64_t stride, int64_t dilation, llvm::StringRef padding,
                     mlir::RankedTensorType resultType);

  /// A tensor type of `x`'s element type with shape `shape`.
  static mlir::RankedTensorType typeLike(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  static mlir::RankedTensorType tensorType(mlir::Value x) { return llvm::cast<mlir::RankedTensorType>(x.getType()); }
  /// Every axis but 1: the axes batch norm and per-channel biases reduce over.
  static llvm::SmallVector<int64_t> axesExceptChannels(mlir::Value x);

  template <typename OpType, typename... Args> mlir::Value create(mlir::Type resultType, Args &&...args) {
    return b_.create<OpType>(loc_, resultType, std::forward<Args>(args)..., llvm::StringRef(layer_)).getResult();
  }

private:
  mlir::OpBuilder &b_;
  mlir::Location loc_;
  std::string layer_;
};

} // namespace seqjit
