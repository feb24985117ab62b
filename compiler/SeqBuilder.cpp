// SeqBuilder: result types for the seq ops that VJP rules, losses and program builders emit.
#include "compiler/SeqBuilder.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

namespace seqjit {

RankedTensorType SeqBuilder::typeLike(Value x, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, tensorType(x).getElementType());
}

SmallVector<int64_t> SeqBuilder::axesExceptChannels(Value x) {
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < tensorType(x).getRank(); ++i)
    if (i != 1)
      axes.push_back(i);
  return axes;
}

Value SeqBuilder::activation(Value x, ActivationKind kind, double scale, double shift, double alpha) {
  return b_.create<seq::ActivationOp>(loc_, x.getType(), x, b_.getStringAttr(activationKindName(kind)),
                                      b_.getF64FloatAttr(scale), b_.getF64FloatAttr(shift), b_.getF64FloatAttr(alpha),
                                      b_.getStringAttr(layer_));
}

Value SeqBuilder::affine(Value x, double scale, double shift) {
  if (scale == 1.0 && shift == 0.0)
    return x;
  return activation(x, ActivationKind::Linear, scale, shift);
}

Value SeqBuilder::mul(Value lhs, Value rhs) { return create<seq::MulOp>(lhs.getType(), lhs, rhs); }

Value SeqBuilder::add(ValueRange values) {
  if (values.size() == 1)
    return values.front();
  return create<seq::AddOp>(values.front().getType(), values);
}

Value SeqBuilder::sub(Value lhs, Value rhs) { return add({lhs, affine(rhs, -1.0)}); }

Value SeqBuilder::reduceSum(Value x, ArrayRef<int64_t> axes) {
  if (axes.empty())
    return x;
  SmallVector<int64_t> kept;
  auto shape = tensorType(x).getShape();
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i)
    if (!llvm::is_contained(axes, i))
      kept.push_back(shape[i]);
  return create<seq::ReduceSumOp>(typeLike(x, kept), x, axes);
}

Value SeqBuilder::sumAll(Value x) {
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < tensorType(x).getRank(); ++i)
    axes.push_back(i);
  return reduceSum(x, axes);
}

Value SeqBuilder::broadcast(Value x, ArrayRef<int64_t> axes, RankedTensorType type) {
  if (axes.empty())
    return x;
  return create<seq::BroadcastOp>(type, x, axes);
}

Value SeqBuilder::reshape(Value x, RankedTensorType type) {
  if (x.getType() == type)
    return x;
  return create<seq::ReshapeOp>(type, x);
}

Value SeqBuilder::splat(RankedTensorType type, double value) {
  auto attr = DenseElementsAttr::get(type, b_.getFloatAttr(type.getElementType(), value));
  return create<seq::ConstantOp>(type, attr);
}

Value SeqBuilder::constant(ArrayRef<int64_t> shape, Type elementType, ArrayRef<double> values) {
  auto type = RankedTensorType::get(shape, elementType);
  SmallVector<Attribute> elements;
  for (double v : values)
    elements.push_back(b_.getFloatAttr(elementType, v));
  return create<seq::ConstantOp>(type, DenseElementsAttr::get(type, elements));
}

Value SeqBuilder::dense(Value x, Value weight) {
  auto type = typeLike(x, {tensorType(x).getDimSize(0), tensorType(weight).getDimSize(0)});
  return create<seq::DenseOp>(type, x, weight, Value());
}

Value SeqBuilder::conv1d(Value x, Value weight, int64_t stride, int64_t dilation, StringRef padding,
                         RankedTensorType resultType) {
  return create<seq::Conv1dOp>(resultType, x, weight, Value(), stride, dilation, padding);
}

} // namespace seqjit
