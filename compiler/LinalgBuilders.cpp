// Builders of linalg.generic and tensor ops on static shapes, shared by the seq-op and program-op lowerings.
#include "compiler/LinalgBuilders.h"

#include "dsl/ShapeFunctions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace seqjit {

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

Value constantFloat(OpBuilder &b, Location loc, Type type, double value) {
  return b.create<arith::ConstantOp>(loc, b.getFloatAttr(type, value));
}

Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type) {
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
}

Value filled(OpBuilder &b, Location loc, RankedTensorType type, TypedAttr value) {
  Value scalar = b.create<arith::ConstantOp>(loc, value);
  return b.create<linalg::FillOp>(loc, scalar, emptyTensor(b, loc, type)).getResult(0);
}

Value filled(OpBuilder &b, Location loc, RankedTensorType type, double value) {
  return filled(b, loc, type, b.getFloatAttr(type.getElementType(), value));
}

linalg::GenericOp genericOp(OpBuilder &b, Location loc, TypeRange resultTypes, ValueRange inputs, ValueRange inits,
                            ArrayRef<SmallVector<AffineExpr>> exprs, ArrayRef<utils::IteratorType> iterators,
                            function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<AffineMap> maps;
  for (const auto &operandExprs : exprs)
    maps.push_back(AffineMap::get(iterators.size(), 0, operandExprs, b.getContext()));
  return b.create<linalg::GenericOp>(
      loc, resultTypes, inputs, inits, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) { nb.create<linalg::YieldOp>(nl, body(nb, nl, args)); });
}

Value generic(OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs, Value init,
              ArrayRef<SmallVector<AffineExpr>> inputExprs, ArrayRef<AffineExpr> outputExprs,
              ArrayRef<utils::IteratorType> iterators, function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<SmallVector<AffineExpr>> exprs(inputExprs);
  exprs.emplace_back(outputExprs);
  return genericOp(b, loc, resultType, inputs, init, exprs, iterators,
                   [&](OpBuilder &nb, Location nl, ValueRange args) { return SmallVector<Value>{body(nb, nl, args)}; })
      .getResult(0);
}

SmallVector<AffineExpr> dimExprs(OpBuilder &b, unsigned count) {
  SmallVector<AffineExpr> exprs;
  for (unsigned i = 0; i < count; ++i)
    exprs.push_back(b.getAffineDimExpr(i));
  return exprs;
}

Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange fullInputs,
                  ValueRange channelInputs, function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  unsigned rank = resultType.getRank();
  SmallVector<SmallVector<AffineExpr>> exprs(fullInputs.size(), dimExprs(b, rank));
  for (size_t i = 0; i < channelInputs.size(); ++i)
    exprs.push_back({b.getAffineDimExpr(1)});
  SmallVector<Value> inputs(fullInputs);
  inputs.append(channelInputs.begin(), channelInputs.end());
  SmallVector<utils::IteratorType> iterators(rank, kParallel);
  return generic(b, loc, resultType, inputs, emptyTensor(b, loc, resultType), exprs, dimExprs(b, rank), iterators,
                 body);
}

Value multiplyAccumulate(OpBuilder &b, Location loc, ValueRange a) {
  auto flags =
      arith::FastMathFlagsAttr::get(b.getContext(), arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
  Value product = b.create<arith::MulFOp>(loc, a[0], a[1], flags);
  return b.create<arith::AddFOp>(loc, a[2], product, flags);
}

Value firstMaximum(OpBuilder &b, Location loc, Value accumulator, Value x) {
  Value greater = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x, accumulator);
  Value notANumber = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, x);
  return b.create<arith::SelectOp>(loc, b.create<arith::OrIOp>(loc, greater, notANumber), x, accumulator);
}

Value softplusTail(OpBuilder &b, Location loc, Value z) {
  Value negAbs = b.create<arith::NegFOp>(loc, b.create<math::AbsFOp>(loc, z));
  return b.create<math::Log1pOp>(loc, b.create<math::ExpOp>(loc, negAbs));
}

namespace {

/// The offsets, sizes and strides of a `window`-shaped slice at `offset` along `axis`, every `stride`-th position
/// there, and from 0 along every other axis.
struct SliceAlong {
  SmallVector<OpFoldResult> offsets, sizes, strides;
};

SliceAlong sliceAlong(OpBuilder &b, RankedTensorType window, int64_t axis, int64_t offset, int64_t stride) {
  SliceAlong slice{SmallVector<OpFoldResult>(window.getRank(), b.getIndexAttr(0)),
                   {},
                   SmallVector<OpFoldResult>(window.getRank(), b.getIndexAttr(1))};
  slice.offsets[axis] = b.getIndexAttr(offset);
  slice.strides[axis] = b.getIndexAttr(stride);
  for (int64_t d : window.getShape())
    slice.sizes.push_back(b.getIndexAttr(d));
  return slice;
}

} // namespace

Value insertAlong(OpBuilder &b, Location loc, Value source, Value dest, int64_t axis, int64_t offset, int64_t stride) {
  SliceAlong slice = sliceAlong(b, tensorType(source), axis, offset, stride);
  return b.create<tensor::InsertSliceOp>(loc, source, dest, slice.offsets, slice.sizes, slice.strides);
}

Value extractAlong(OpBuilder &b, Location loc, Value source, RankedTensorType type, int64_t axis, int64_t offset) {
  SliceAlong slice = sliceAlong(b, type, axis, offset, 1);
  return b.create<tensor::ExtractSliceOp>(loc, type, source, slice.offsets, slice.sizes, slice.strides);
}

Value placeInZeros(OpBuilder &b, Location loc, Value source, RankedTensorType type, int64_t axis, int64_t offset,
                   int64_t stride) {
  auto sourceType = tensorType(source);
  bool coversOtherAxes = true;
  for (int64_t d = 0; d < type.getRank(); ++d)
    coversOtherAxes &= d == axis || sourceType.getDimSize(d) == type.getDimSize(d);
  if (stride != 1 || !coversOtherAxes) {
    Value zeros = filled(b, loc, type, cast<TypedAttr>(b.getZeroAttr(type.getElementType())));
    return insertAlong(b, loc, source, zeros, axis, offset, stride);
  }
  // Zeros before and after the source along `axis` only: the source overwrites the rest (a convolution's 'same'
  // padding fills its few border columns, not the whole padded input).
  Value dest = emptyTensor(b, loc, type);
  Value zero = b.create<arith::ConstantOp>(loc, b.getZeroAttr(type.getElementType()));
  auto zerosAt = [&](int64_t start, int64_t size) {
    if (size == 0)
      return;
    SmallVector<int64_t> shape(type.getShape());
    shape[axis] = size;
    auto borderType = RankedTensorType::get(shape, type.getElementType());
    Value border =
        b.create<linalg::FillOp>(loc, zero, extractAlong(b, loc, dest, borderType, axis, start)).getResult(0);
    dest = insertAlong(b, loc, border, dest, axis, start);
  };
  const int64_t end = offset + sourceType.getDimSize(axis);
  zerosAt(0, offset);
  zerosAt(end, type.getDimSize(axis) - end);
  return insertAlong(b, loc, source, dest, axis, offset);
}

Value conv1dPaddedInput(OpBuilder &b, Location loc, Value input, StringRef padding, int64_t width, int64_t stride,
                        int64_t dilation) {
  if (padding != "same")
    return input;
  auto type = tensorType(input);
  int64_t length = type.getDimSize(2);
  int64_t total = samePaddingTotal(length, width, stride, dilation);
  if (total == 0)
    return input;
  auto paddedType =
      RankedTensorType::get({type.getDimSize(0), type.getDimSize(1), length + total}, type.getElementType());
  return placeInZeros(b, loc, input, paddedType, 2, samePaddingLeft(length, width, stride, dilation));
}

bool staticShapes(Operation *op) {
  for (Type t : op->getOperandTypes())
    if (!cast<RankedTensorType>(t).hasStaticShape())
      return false;
  return cast<RankedTensorType>(op->getResult(0).getType()).hasStaticShape();
}

} // namespace seqjit
