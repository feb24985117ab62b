// Verifiers of the program ops (compiler/SeqProgramOps.td): element types, ranks and the shape relation of each op.
#include "compiler/SeqDialect.h"
#include "compiler/SeqVerify.h"

#include "dsl/ShapeFunctions.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace seqjit::seq {
namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Same rank and compatible sizes: a dynamic size (a batch fixed only when compiling) matches any size.
bool shapesCompatible(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  return a.size() == b.size() &&
         llvm::all_of(llvm::zip(a, b), [](auto p) { return dimsCompatible(std::get<0>(p), std::get<1>(p)); });
}

/// `shape` without the dimensions in `axes`.
SmallVector<int64_t> withoutAxes(ArrayRef<int64_t> shape, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> kept;
  for (auto [dim, size] : llvm::enumerate(shape))
    if (!llvm::is_contained(axes, static_cast<int64_t>(dim)))
      kept.push_back(size);
  return kept;
}

/// Every operand has the result's element type: no op here converts precision.
LogicalResult verifyElementTypes(Operation *op) {
  auto resultType = typeOf(op->getResult(0));
  for (Value operand : op->getOperands())
    if (typeOf(operand).getElementType() != resultType.getElementType())
      return layerError(op) << "element types differ: " << operand.getType() << " vs result " << resultType;
  return success();
}

/// Operands and result all have one shape (the elementwise ops).
LogicalResult verifySameShapes(Operation *op) {
  auto resultType = typeOf(op->getResult(0));
  for (Value operand : op->getOperands())
    if (!shapesCompatible(typeOf(operand).getShape(), resultType.getShape()))
      return layerError(op) << "operand and result shapes differ: " << operand.getType() << " vs result " << resultType;
  return success();
}

/// `name` has `layout.size()` dimensions; `layout` names them for the message ("batch", "filters", ...).
LogicalResult verifyLayout(Operation *op, StringRef name, Value value, ArrayRef<StringRef> layout) {
  if (typeOf(value).getRank() == static_cast<int64_t>(layout.size()))
    return success();
  return layerError(op) << name << " must be [" << llvm::join(layout, ", ") << "], got " << value.getType();
}

/// Dimension `da` of `a` and dimension `db` of `b` are one size, `what` (e.g. "batch sizes").
LogicalResult verifySameDim(Operation *op, StringRef what, Value a, unsigned da, Value b, unsigned db) {
  if (dimsCompatible(typeOf(a).getDimSize(da), typeOf(b).getDimSize(db)))
    return success();
  return layerError(op) << what << " differ: " << a.getType() << " vs " << b.getType();
}

/// Sorted, unique and in [0, rank): one meaning per axis list, so lowerings and VJPs need not normalise.
LogicalResult verifyAxes(Operation *op, ArrayRef<int64_t> axes, int64_t rank) {
  for (auto [i, axis] : llvm::enumerate(axes))
    if (axis < 0 || axis >= rank || (i > 0 && axis <= axes[i - 1]))
      return layerError(op) << "axes must be sorted, unique and in [0, " << rank << "), got [" << axes << "]";
  return success();
}

/// `axis` names a dimension of a rank-`rank` tensor.
LogicalResult verifyAxis(Operation *op, int64_t axis, int64_t rank) {
  if (axis >= 0 && axis < rank)
    return success();
  return layerError(op) << "axis " << axis << " is out of range for rank " << rank;
}

/// slice and pad: `small` is a window of `large` at `offset` along `axis`, equal elsewhere.
LogicalResult verifyWindowAlongAxis(Operation *op, RankedTensorType large, RankedTensorType small, int64_t axis,
                                    int64_t offset) {
  if (large.getRank() != small.getRank())
    return layerError(op) << "ranks differ: " << large << " vs " << small;
  if (failed(verifyAxis(op, axis, large.getRank())))
    return failure();
  if (!shapesCompatible(withoutAxes(large.getShape(), axis), withoutAxes(small.getShape(), axis)))
    return layerError(op) << "shapes differ outside axis " << axis << ": " << large << " vs " << small;
  int64_t window = small.getDimSize(axis), length = large.getDimSize(axis);
  bool fits = ShapedType::isDynamic(window) || ShapedType::isDynamic(length) || offset + window <= length;
  if (offset < 0 || !fits)
    return layerError(op) << "window [" << offset << ", " << offset << " + " << window << ") along axis " << axis
                          << " is not inside length " << length;
  return success();
}

/// The conv1d relation between an input length, its output length and the attributes, checked where both
/// lengths are static; the shape function is the DSL's, so gradients agree with the forward op they transpose.
LogicalResult verifyConvLengths(Operation *op, int64_t length, int64_t width, int64_t outLength, int64_t stride,
                                int64_t dilation, StringRef paddingName) {
  auto padding = verifyPadding(op, paddingName);
  if (failed(padding))
    return failure();
  if (stride < 1 || dilation < 1)
    return layerError(op) << "stride and dilation must be positive, got stride " << stride << " and dilation "
                          << dilation;
  if (ShapedType::isDynamic(length) || ShapedType::isDynamic(outLength))
    return success();
  int64_t expected = windowOutputLength(length, width, stride, dilation, *padding);
  if (outLength != expected)
    return layerError(op) << "output length " << outLength << " does not match input length " << length
                          << ": a conv1d of width " << width << ", stride " << stride << ", dilation " << dilation
                          << " and padding '" << paddingName << "' gives " << expected;
  return success();
}

/// The pool relation Lout = (L - size) / stride + 1, as the forward pools compute it.
LogicalResult verifyPoolLengths(Operation *op, int64_t length, int64_t outLength, int64_t size, int64_t stride) {
  if (size < 1 || stride < 1)
    return layerError(op) << "pool size and stride must be positive, got size " << size << " and stride " << stride;
  if (ShapedType::isDynamic(length))
    return success();
  if (length < size)
    return layerError(op) << "input length " << length << " is shorter than the pool size " << size;
  int64_t expected = windowOutputLength(length, size, stride, 1, Padding::Valid);
  if (!ShapedType::isDynamic(outLength) && outLength != expected)
    return layerError(op) << "output length " << outLength << " does not match input length " << length
                          << ": windows of size " << size << " every " << stride << " give " << expected;
  return success();
}

constexpr StringRef kBatchedLayout[] = {"batch", "channels", "length"};

/// The pool backward ops: `input` (N, C, L) and `output` (N, C, Lout) are the two sides of a pool of `size` every
/// `stride`; the names are the operands' (or "result") for the messages.
LogicalResult verifyPoolPair(Operation *op, StringRef inputName, Value input, StringRef outputName, Value output,
                             int64_t size, int64_t stride) {
  if (failed(verifyElementTypes(op)) || failed(verifyLayout(op, inputName, input, kBatchedLayout)) ||
      failed(verifyLayout(op, outputName, output, kBatchedLayout)) ||
      failed(verifySameDim(op, "batch sizes", input, 0, output, 0)) ||
      failed(verifySameDim(op, "channels", input, 1, output, 1)))
    return failure();
  return verifyPoolLengths(op, typeOf(input).getDimSize(2), typeOf(output).getDimSize(2), size, stride);
}

} // namespace

LogicalResult MulOp::verify() {
  if (failed(verifyElementTypes(*this)))
    return failure();
  return verifySameShapes(*this);
}

LogicalResult ReduceSumOp::verify() {
  auto inputType = typeOf(getInput());
  if (failed(verifyElementTypes(*this)) || failed(verifyAxes(*this, getAxes(), inputType.getRank())))
    return failure();
  if (!shapesCompatible(withoutAxes(inputType.getShape(), getAxes()), getType().getShape()))
    return layerError(*this) << "result type " << getType() << " is not the input " << inputType << " without axes ["
                             << getAxes() << "]";
  return success();
}

LogicalResult BroadcastOp::verify() {
  auto inputType = typeOf(getInput());
  if (failed(verifyElementTypes(*this)) || failed(verifyAxes(*this, getAxes(), getType().getRank())))
    return failure();
  if (getType().getRank() != inputType.getRank() + static_cast<int64_t>(getAxes().size()))
    return layerError(*this) << "result rank " << getType().getRank() << " is not the input rank "
                             << inputType.getRank() << " plus " << getAxes().size() << " axes";
  if (!shapesCompatible(withoutAxes(getType().getShape(), getAxes()), inputType.getShape()))
    return layerError(*this) << "result type " << getType() << " without axes [" << getAxes() << "] is not the input "
                             << inputType;
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto inputType = typeOf(getInput());
  if (failed(verifyElementTypes(*this)))
    return failure();
  if (inputType.hasStaticShape() && getType().hasStaticShape() &&
      inputType.getNumElements() != getType().getNumElements())
    return layerError(*this) << "element counts differ: " << inputType << " has " << inputType.getNumElements()
                             << ", result " << getType() << " has " << getType().getNumElements();
  return success();
}

LogicalResult SliceOp::verify() {
  if (failed(verifyElementTypes(*this)))
    return failure();
  return verifyWindowAlongAxis(*this, typeOf(getInput()), getType(), static_cast<int64_t>(getAxis()),
                               static_cast<int64_t>(getOffset()));
}

LogicalResult PadOp::verify() {
  if (failed(verifyElementTypes(*this)))
    return failure();
  return verifyWindowAlongAxis(*this, getType(), typeOf(getInput()), static_cast<int64_t>(getAxis()),
                               static_cast<int64_t>(getOffset()));
}

LogicalResult ConstantOp::verify() {
  if (getValue().getShapedType() != getType())
    return layerError(*this) << "value type " << getValue().getShapedType() << " is not the result type " << getType();
  return success();
}

LogicalResult LogSoftmaxOp::verify() {
  if (failed(verifyElementTypes(*this)) || failed(verifySameShapes(*this)))
    return failure();
  return verifyAxis(*this, static_cast<int64_t>(getAxis()), getType().getRank());
}

LogicalResult StopGradientOp::verify() {
  if (failed(verifyElementTypes(*this)))
    return failure();
  return verifySameShapes(*this);
}

LogicalResult SignedRankOp::verify() {
  if (failed(verifyElementTypes(*this)) || failed(verifySameShapes(*this)))
    return failure();
  if (getType().getRank() < 1)
    return layerError(*this) << "needs an axis to rank along; got rank-0 " << getType();
  return success();
}

/// The track (B, L) of a Fourier score op: a static length, and attributes in range.
LogicalResult verifyFourierTrack(Operation *op, Value track, int64_t sigma, int64_t freqLimit, double softness) {
  if (failed(verifyLayout(op, "track", track, {"batch", "length"})))
    return failure();
  if (typeOf(track).isDynamicDim(1) || typeOf(track).getDimSize(1) < 1)
    return layerError(op) << "needs a track of static, positive length; got " << track.getType();
  if (sigma < 0 || freqLimit < 0 || !(softness >= 0))
    return layerError(op) << "sigma, freq_limit and softness must not be negative; got " << sigma << ", " << freqLimit
                          << ", " << softness;
  return success();
}

LogicalResult FourierScoreOp::verify() {
  if (failed(verifyElementTypes(*this)) ||
      failed(verifyFourierTrack(*this, getTrack(), static_cast<int64_t>(getSigma()),
                                static_cast<int64_t>(getFreqLimit()), getSoftness().convertToDouble())) ||
      failed(verifyLayout(*this, "result", getResult(), {"batch"})) ||
      failed(verifySameDim(*this, "batch sizes", getTrack(), 0, getResult(), 0)))
    return failure();
  return success();
}

LogicalResult FourierScoreGradOp::verify() {
  if (failed(verifyElementTypes(*this)) ||
      failed(verifyFourierTrack(*this, getTrack(), static_cast<int64_t>(getSigma()),
                                static_cast<int64_t>(getFreqLimit()), getSoftness().convertToDouble())) ||
      failed(verifyLayout(*this, "output_grad", getOutputGrad(), {"batch"})) ||
      failed(verifySameDim(*this, "batch sizes", getTrack(), 0, getOutputGrad(), 0)))
    return failure();
  if (!shapesCompatible(typeOf(getTrack()).getShape(), getType().getShape()))
    return layerError(*this) << "result must have the track's shape " << getTrack().getType() << ", got " << getType();
  return success();
}

LogicalResult BceWithLogitsOp::verify() {
  if (failed(verifyElementTypes(*this)))
    return failure();
  return verifySameShapes(*this);
}

LogicalResult Conv1dInputGradOp::verify() {
  Value dy = getOutputGrad(), w = getWeight(), dx = getResult();
  if (failed(verifyElementTypes(*this)) ||
      failed(verifyLayout(*this, "output_grad", dy, {"batch", "filters", "length"})) ||
      failed(verifyLayout(*this, "weight", w, {"filters", "channels", "width"})) ||
      failed(verifyLayout(*this, "result", dx, kBatchedLayout)) ||
      failed(verifySameDim(*this, "batch sizes", dy, 0, dx, 0)) ||
      failed(verifySameDim(*this, "filters", dy, 1, w, 0)) || failed(verifySameDim(*this, "channels", w, 1, dx, 1)))
    return failure();
  return verifyConvLengths(*this, typeOf(dx).getDimSize(2), typeOf(w).getDimSize(2), typeOf(dy).getDimSize(2),
                           static_cast<int64_t>(getStride()), static_cast<int64_t>(getDilation()), getPadding());
}

LogicalResult Conv1dWeightGradOp::verify() {
  Value x = getInput(), dy = getOutputGrad(), dw = getResult();
  if (failed(verifyElementTypes(*this)) || failed(verifyLayout(*this, "input", x, kBatchedLayout)) ||
      failed(verifyLayout(*this, "output_grad", dy, {"batch", "filters", "length"})) ||
      failed(verifyLayout(*this, "result", dw, {"filters", "channels", "width"})) ||
      failed(verifySameDim(*this, "batch sizes", x, 0, dy, 0)) ||
      failed(verifySameDim(*this, "filters", dy, 1, dw, 0)) || failed(verifySameDim(*this, "channels", x, 1, dw, 1)))
    return failure();
  return verifyConvLengths(*this, typeOf(x).getDimSize(2), typeOf(dw).getDimSize(2), typeOf(dy).getDimSize(2),
                           static_cast<int64_t>(getStride()), static_cast<int64_t>(getDilation()), getPadding());
}

LogicalResult DenseInputGradOp::verify() {
  Value dy = getOutputGrad(), w = getWeight(), dx = getResult();
  if (failed(verifyElementTypes(*this)) || failed(verifyLayout(*this, "output_grad", dy, {"batch", "units"})) ||
      failed(verifyLayout(*this, "weight", w, {"units", "features"})) ||
      failed(verifyLayout(*this, "result", dx, {"batch", "features"})) ||
      failed(verifySameDim(*this, "batch sizes", dy, 0, dx, 0)) || failed(verifySameDim(*this, "units", dy, 1, w, 0)) ||
      failed(verifySameDim(*this, "features", w, 1, dx, 1)))
    return failure();
  return success();
}

LogicalResult DenseWeightGradOp::verify() {
  Value x = getInput(), dy = getOutputGrad(), dw = getResult();
  if (failed(verifyElementTypes(*this)) || failed(verifyLayout(*this, "input", x, {"batch", "features"})) ||
      failed(verifyLayout(*this, "output_grad", dy, {"batch", "units"})) ||
      failed(verifyLayout(*this, "result", dw, {"units", "features"})) ||
      failed(verifySameDim(*this, "batch sizes", x, 0, dy, 0)) || failed(verifySameDim(*this, "units", dy, 1, dw, 0)) ||
      failed(verifySameDim(*this, "features", x, 1, dw, 1)))
    return failure();
  return success();
}

LogicalResult MaxPool1dGradOp::verify() {
  if (failed(verifyPoolPair(*this, "input", getInput(), "output_grad", getOutputGrad(), static_cast<int64_t>(getSize()),
                            static_cast<int64_t>(getStride()))))
    return failure();
  if (!shapesCompatible(typeOf(getInput()).getShape(), getType().getShape()))
    return layerError(*this) << "result type " << getType() << " is not the input type " << getInput().getType();
  return success();
}

LogicalResult MaxPool1dSelectOp::verify() {
  if (!shapesCompatible(typeOf(getInput()).getShape(), typeOf(getValues()).getShape()))
    return layerError(*this) << "values type " << getValues().getType() << " is not the input type "
                             << getInput().getType();
  return verifyPoolPair(*this, "input", getInput(), "result", getResult(), static_cast<int64_t>(getSize()),
                        static_cast<int64_t>(getStride()));
}

LogicalResult AvgPool1dGradOp::verify() {
  return verifyPoolPair(*this, "result", getResult(), "output_grad", getOutputGrad(), static_cast<int64_t>(getSize()),
                        static_cast<int64_t>(getStride()));
}

} // namespace seqjit::seq
