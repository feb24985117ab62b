// Builders of linalg.generic and tensor ops on static shapes, shared by the seq-op and program-op lowerings.
#pragma once

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace seqjit {

constexpr mlir::utils::IteratorType kParallel = mlir::utils::IteratorType::parallel;
constexpr mlir::utils::IteratorType kReduction = mlir::utils::IteratorType::reduction;

/// The type of a value the seq verifiers guarantee to be a ranked tensor.
mlir::RankedTensorType tensorType(mlir::Value v);

/// A scalar float constant.
mlir::Value constantFloat(mlir::OpBuilder &b, mlir::Location loc, mlir::Type type, double value);

/// A tensor.empty of `type`: the init of generics that write every element, or a size-only loop-bound operand.
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type);

/// A tensor of `type` filled with `value` (any element type).
mlir::Value filled(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type, mlir::TypedAttr value);
/// A float tensor filled with `value`.
mlir::Value filled(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type, double value);

/// A linalg.generic with any number of outputs, its maps written as lists of affine expressions over its loop
/// dimensions (`exprs`: the inputs' then the outputs'); `body` yields one value per output.
mlir::linalg::GenericOp
genericOp(mlir::OpBuilder &b, mlir::Location loc, mlir::TypeRange resultTypes, mlir::ValueRange inputs,
          mlir::ValueRange inits, llvm::ArrayRef<llvm::SmallVector<mlir::AffineExpr>> exprs,
          llvm::ArrayRef<mlir::utils::IteratorType> iterators,
          llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)> body);

/// A linalg.generic with one output of `resultType`, initialised by `init`.
mlir::Value generic(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType resultType, mlir::ValueRange inputs,
                    mlir::Value init, llvm::ArrayRef<llvm::SmallVector<mlir::AffineExpr>> inputExprs,
                    llvm::ArrayRef<mlir::AffineExpr> outputExprs, llvm::ArrayRef<mlir::utils::IteratorType> iterators,
                    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)> body);

/// d0 ... d(count - 1): the identity map's results.
llvm::SmallVector<mlir::AffineExpr> dimExprs(mlir::OpBuilder &b, unsigned count);

/// An elementwise generic over `resultType`; `channelInputs` are per-channel vectors broadcast along dim 1.
mlir::Value elementwise(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType resultType,
                        mlir::ValueRange fullInputs, mlir::ValueRange channelInputs,
                        llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)> body);

/// The body of conv, dense and their gradients: a[2] + a[0] * a[1]. Reassociation lets LLVM vectorise reductions
/// (the dense dot product) and contraction makes an FMA; both stay within the 1e-5 tolerance against the
/// interpreter.
mlir::Value multiplyAccumulate(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange a);

/// max(accumulator, x) as a max pool or a row maximum takes it: x where x > accumulator or x is NaN, else the
/// accumulator, so that the first of equal maxima is kept (+0 after -0 included), as the reference interpreter's
/// first maximum, and a NaN anywhere gives NaN, as arith.maximumf. Two compares and a blend on x86, where
/// arith.maximumf also orders the zeros, with more blends and a branch on the sign bit.
mlir::Value firstMaximum(mlir::OpBuilder &b, mlir::Location loc, mlir::Value accumulator, mlir::Value x);

/// log1p(exp(-|z|)): what softplus(z) = log(1 + exp(z)) adds to max(z, 0), without overflow for large |z|.
mlir::Value softplusTail(mlir::OpBuilder &b, mlir::Location loc, mlir::Value z);

/// `dest` with `source` written into it at `offset` along `axis`, every `stride`-th position there, and from 0
/// along every other axis.
mlir::Value insertAlong(mlir::OpBuilder &b, mlir::Location loc, mlir::Value source, mlir::Value dest, int64_t axis,
                        int64_t offset, int64_t stride = 1);

/// The `type`-shaped window of `source` at `offset` along `axis`, and from 0 along every other axis.
mlir::Value extractAlong(mlir::OpBuilder &b, mlir::Location loc, mlir::Value source, mlir::RankedTensorType type,
                         int64_t axis, int64_t offset);

/// Zeros of `type` with `source` written at `offset` along `axis`, every `stride`-th position (insertAlong).
mlir::Value placeInZeros(mlir::OpBuilder &b, mlir::Location loc, mlir::Value source, mlir::RankedTensorType type,
                         int64_t axis, int64_t offset, int64_t stride = 1);

/// The (N, C, L) input of a conv1d with its 'same' padding applied (the extra pad on the right), or `input` itself
/// for 'valid' padding or when no pad is needed.
mlir::Value conv1dPaddedInput(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input, llvm::StringRef padding,
                              int64_t width, int64_t stride, int64_t dilation);

/// Whether every operand and the result have static shapes, as every lowering needs.
bool staticShapes(mlir::Operation *op);

/// A lowering of one seq op to a value of its result type; refuses dynamic shapes so that the pass can name them.
template <typename OpType> struct SeqPattern : mlir::OpRewritePattern<OpType> {
  using mlir::OpRewritePattern<OpType>::OpRewritePattern;
  mlir::LogicalResult matchAndRewrite(OpType op, mlir::PatternRewriter &rewriter) const final {
    if (!staticShapes(op))
      return rewriter.notifyMatchFailure(op, "lowering needs static shapes");
    mlir::Value lowered = lower(op, rewriter);
    rewriter.replaceOp(op, lowered);
    return mlir::success();
  }
  virtual mlir::Value lower(OpType op, mlir::PatternRewriter &b) const = 0;
};

} // namespace seqjit
