// Verifiers of the seq ops: each rebuilds the DSL's OpSpec and calls the shared shape function.
#include "compiler/SeqDialect.h"
#include "compiler/SeqVerify.h"

#include "dsl/ShapeFunctions.h"

using namespace mlir;

namespace seqjit::seq {
namespace {

Shape exampleShape(RankedTensorType type) { return Shape(type.getShape().begin() + 1, type.getShape().end()); }

/// The one verifier: data inputs through the shared shape function, parameter operands against parameterSpecs.
LogicalResult verifyWithShapeFunction(Operation *op, FailureOr<OpSpec> spec, ValueRange dataInputs,
                                      ValueRange parameterOperands) {
  if (failed(spec))
    return failure();
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  Type elementType = resultType.getElementType();
  int64_t batch = resultType.getRank() > 0 ? resultType.getDimSize(0) : ShapedType::kDynamic;
  std::vector<Shape> inputShapes;
  for (Value input : dataInputs) {
    auto type = cast<RankedTensorType>(input.getType());
    if (type.getRank() < 2)
      return layerError(op) << "expected a batched input of rank 2 or 3, got " << type;
    if (type.getElementType() != elementType)
      return layerError(op) << "element types differ: " << type << " vs result " << resultType;
    if (!dimsCompatible(type.getDimSize(0), batch))
      return layerError(op) << "batch sizes differ: " << type << " vs result " << resultType;
    inputShapes.push_back(exampleShape(type));
  }
  ShapeResult inferred = inferShape(*spec, inputShapes);
  if (!inferred.ok())
    return layerError(op) << inferred.error;
  if (resultType.getRank() != static_cast<int64_t>(inferred.shape.size()) + 1 ||
      exampleShape(resultType) != inferred.shape)
    return layerError(op) << "result type " << resultType << " does not match the inferred example shape "
                          << shapeToString(inferred.shape);
  std::vector<ParameterSpec> expected = parameterSpecs(*spec, inputShapes, Initializer::Zeros);
  if (expected.size() != parameterOperands.size())
    return layerError(op) << "expected " << expected.size() << " parameter operands, got "
                          << parameterOperands.size();
  for (auto [spec, value] : llvm::zip(expected, parameterOperands)) {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getElementType() != elementType ||
        std::vector<int64_t>(type.getShape().begin(), type.getShape().end()) != spec.shape)
      return layerError(op) << "parameter '" << spec.suffix << "' has type " << type << ", expected shape "
                            << shapeToString(spec.shape);
  }
  return success();
}

/// Unbatched operands (vectors, scalars) of an elementwise op: every operand has the result's type.
LogicalResult verifyElementwise(Operation *op, FailureOr<OpSpec> spec, ValueRange inputs) {
  if (failed(spec))
    return failure();
  for (Value input : inputs)
    if (input.getType() != op->getResult(0).getType())
      return layerError(op) << "operand type " << input.getType() << " differs from the result type "
                            << op->getResult(0).getType();
  return success();
}

} // namespace

FailureOr<OpSpec> Conv1dOp::toOpSpec() {
  auto pad = verifyPadding(*this, getPadding());
  if (failed(pad))
    return failure();
  auto weightType = cast<RankedTensorType>(getWeight().getType());
  if (weightType.getRank() != 3)
    return layerError(*this) << "weight must be [filters, channels, width], got " << weightType;
  int64_t filters = weightType.getDimSize(0);
  int64_t width = weightType.getDimSize(2);
  return OpSpec{OpKind::Conv1d, Conv1dAttrs{filters, width, static_cast<int64_t>(getStride()),
                                            static_cast<int64_t>(getDilation()), *pad, getBias() != nullptr}};
}
LogicalResult Conv1dOp::verify() {
  SmallVector<Value> params{getWeight()};
  if (getBias())
    params.push_back(getBias());
  return verifyWithShapeFunction(*this, toOpSpec(), getInput(), params);
}

FailureOr<OpSpec> BatchNormOp::toOpSpec() {
  return OpSpec{OpKind::BatchNorm,
                BatchNormAttrs{getEps().convertToDouble(), getMomentum().convertToDouble(), getTraining()}};
}
LogicalResult BatchNormOp::verify() {
  return verifyWithShapeFunction(*this, toOpSpec(), getInput(),
                                 {getWeight(), getBias(), getRunningMean(), getRunningVar()});
}

FailureOr<OpSpec> ActivationOp::toOpSpec() {
  auto kind = parseActivationKind(getKind().str());
  if (!kind)
    return layerError(*this) << "unknown activation kind '" << getKind()
                             << "'; expected one of " << activationKindList();
  return OpSpec{OpKind::Activation, ActivationAttrs{*kind, getScale().convertToDouble(),
                                                    getShift().convertToDouble(), getAlpha().convertToDouble()}};
}
LogicalResult ActivationOp::verify() {
  // Programs apply activations (and add) to parameters and scalars too; those have no batch to check.
  if (cast<RankedTensorType>(getInput().getType()).getRank() < 2)
    return verifyElementwise(*this, toOpSpec(), getInput());
  return verifyWithShapeFunction(*this, toOpSpec(), getInput(), {});
}

FailureOr<OpSpec> MaxPool1dOp::toOpSpec() {
  return OpSpec{OpKind::MaxPool1d, PoolAttrs{static_cast<int64_t>(getSize()), static_cast<int64_t>(getStride())}};
}
LogicalResult MaxPool1dOp::verify() { return verifyWithShapeFunction(*this, toOpSpec(), getInput(), {}); }

FailureOr<OpSpec> AvgPool1dOp::toOpSpec() {
  return OpSpec{OpKind::AvgPool1d, PoolAttrs{static_cast<int64_t>(getSize()), static_cast<int64_t>(getStride())}};
}
LogicalResult AvgPool1dOp::verify() { return verifyWithShapeFunction(*this, toOpSpec(), getInput(), {}); }

FailureOr<OpSpec> GlobalMaxPoolOp::toOpSpec() { return OpSpec{OpKind::GlobalMaxPool, NoAttrs{}}; }
LogicalResult GlobalMaxPoolOp::verify() { return verifyWithShapeFunction(*this, toOpSpec(), getInput(), {}); }

FailureOr<OpSpec> GlobalAvgPoolOp::toOpSpec() { return OpSpec{OpKind::GlobalAvgPool, NoAttrs{}}; }
LogicalResult GlobalAvgPoolOp::verify() { return verifyWithShapeFunction(*this, toOpSpec(), getInput(), {}); }

FailureOr<OpSpec> DropoutOp::toOpSpec() {
  return OpSpec{OpKind::Dropout, DropoutAttrs{getRate().convertToDouble()}};
}
LogicalResult DropoutOp::verify() { return verifyWithShapeFunction(*this, toOpSpec(), getInput(), {}); }

FailureOr<OpSpec> FlattenOp::toOpSpec() { return OpSpec{OpKind::Flatten, NoAttrs{}}; }
LogicalResult FlattenOp::verify() { return verifyWithShapeFunction(*this, toOpSpec(), getInput(), {}); }

FailureOr<OpSpec> ReverseComplementOp::toOpSpec() { return OpSpec{OpKind::ReverseComplement, NoAttrs{}}; }
LogicalResult ReverseComplementOp::verify() {
  return verifyWithShapeFunction(*this, toOpSpec(), getInput(), {});
}

FailureOr<OpSpec> DenseOp::toOpSpec() {
  auto weightType = cast<RankedTensorType>(getWeight().getType());
  if (weightType.getRank() != 2)
    return layerError(*this) << "weight must be [units, features], got " << weightType;
  int64_t units = weightType.getDimSize(0);
  return OpSpec{OpKind::Dense, DenseAttrs{units, getBias() != nullptr}};
}
LogicalResult DenseOp::verify() {
  SmallVector<Value> params{getWeight()};
  if (getBias())
    params.push_back(getBias());
  return verifyWithShapeFunction(*this, toOpSpec(), getInput(), params);
}

/// Add and concat take one input or more.
static LogicalResult verifyHasInputs(Operation *op, ValueRange inputs) {
  if (inputs.empty())
    return layerError(op) << "needs at least one input";
  return success();
}

FailureOr<OpSpec> AddOp::toOpSpec() { return OpSpec{OpKind::Add, NoAttrs{}}; }
LogicalResult AddOp::verify() {
  if (failed(verifyHasInputs(*this, getInputs())))
    return failure();
  if (cast<RankedTensorType>(getInputs().front().getType()).getRank() < 2)
    return verifyElementwise(*this, toOpSpec(), getInputs());
  return verifyWithShapeFunction(*this, toOpSpec(), getInputs(), {});
}

FailureOr<OpSpec> ConcatOp::toOpSpec() { return OpSpec{OpKind::Concat, NoAttrs{}}; }
LogicalResult ConcatOp::verify() {
  if (failed(verifyHasInputs(*this, getInputs())))
    return failure();
  return verifyWithShapeFunction(*this, toOpSpec(), getInputs(), {});
}

} // namespace seqjit::seq
