// The reference interpreter of seq programs: each op of a func.func evaluated in order by its reference kernel.
#include "runtime/ProgramInterpreter.h"

#include "compiler/SeqDialect.h"
#include "dsl/Error.h"
#include "runtime/ReferenceKernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <string_view>

using namespace mlir;

namespace seqjit {

namespace {

std::string typeString(Type type) {
  std::string text;
  llvm::raw_string_ostream stream(text);
  type.print(stream);
  return text;
}

/// Names an op in messages: "seq.activation kind exp, layer 'act1'".
std::string describe(Operation *op) {
  std::string name(std::string_view(op->getName().getStringRef()));
  if (auto activation = dyn_cast<seq::ActivationOp>(op))
    name += fmt::format(" kind {}", std::string_view(activation.getKind()));
  if (auto layer = op->getAttrOfType<StringAttr>("layer"))
    name += fmt::format(", layer '{}'", std::string_view(layer.getValue()));
  return name;
}

template <typename T> std::optional<int64_t> firstNonFinite(const HostArray<T> &x) {
  for (int64_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x.data[i]))
      return i;
  return std::nullopt;
}

/// Whether `shape` is an array of `type`: same rank, equal static dimensions (dynamic ones match anything).
bool matchesType(const std::vector<int64_t> &shape, RankedTensorType type) {
  if (static_cast<int64_t>(shape.size()) != type.getRank())
    return false;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (!type.isDynamicDim(d) && type.getDimSize(d) != shape[d])
      return false;
  return true;
}

RankedTensorType resultType(Operation *op) { return cast<RankedTensorType>(op->getResult(0).getType()); }

/// Dimension `d` of the op's result type, for ops whose result shape their operands do not determine (a strided
/// conv1d's input length, a slice's length).
int64_t staticResultDim(Operation *op, int64_t d) {
  RankedTensorType type = resultType(op);
  if (d >= type.getRank() || type.isDynamicDim(d))
    throw Error(fmt::format("the result type {} does not give dimension {}, which the op's operands leave open",
                            typeString(type), d));
  return type.getDimSize(d);
}

Padding padding(StringRef name) {
  if (std::optional<Padding> parsed = parsePadding(std::string_view(name)))
    return *parsed;
  throw Error(fmt::format("unknown padding '{}'; expected same or valid", std::string_view(name)));
}

/// Evaluates the ops of one function body in order, keeping every value it has computed.
template <typename T> class Evaluator {
public:
  /// Gives the function's arguments their values.
  void bind(Value value, HostArray<T> array) { values[value] = std::move(array); }

  const HostArray<T> &operator[](Value value) const {
    auto found = values.find(value);
    if (found == values.end())
      throw Error("an operand is not defined earlier in the function");
    return found->second;
  }

  /// The op's result, computed by its kernel; every message names neither op nor layer (the caller adds them).
  HostArray<T> evaluate(Operation *op) const {
    return llvm::TypeSwitch<Operation *, HostArray<T>>(op)
        .Case([&](seq::Conv1dOp o) {
          return kernels::conv1d((*this)[o.getInput()], (*this)[o.getWeight()], optional(o.getBias()),
                                 signedValue(o.getStride()), signedValue(o.getDilation()), padding(o.getPadding()));
        })
        .Case([&](seq::BatchNormOp o) {
          return kernels::batchNorm((*this)[o.getInput()], (*this)[o.getWeight()], (*this)[o.getBias()],
                                    (*this)[o.getRunningMean()], (*this)[o.getRunningVar()],
                                    o.getEpsAttr().getValueAsDouble(), o.getTraining());
        })
        .Case([&](seq::ActivationOp o) {
          std::optional<ActivationKind> kind = parseActivationKind(std::string_view(o.getKind()));
          if (!kind)
            throw Error(fmt::format("unknown activation kind; expected one of {}", activationKindList()));
          return kernels::activation((*this)[o.getInput()], *kind, o.getScaleAttr().getValueAsDouble(),
                                     o.getShiftAttr().getValueAsDouble(), o.getAlphaAttr().getValueAsDouble());
        })
        .Case([&](seq::MaxPool1dOp o) {
          return kernels::maxPool1d((*this)[o.getInput()], signedValue(o.getSize()), signedValue(o.getStride()));
        })
        .Case([&](seq::AvgPool1dOp o) {
          return kernels::avgPool1d((*this)[o.getInput()], signedValue(o.getSize()), signedValue(o.getStride()));
        })
        .Case([&](seq::GlobalMaxPoolOp o) { return kernels::globalMaxPool((*this)[o.getInput()]); })
        .Case([&](seq::GlobalAvgPoolOp o) { return kernels::globalAvgPool((*this)[o.getInput()]); })
        .Case([&](seq::DropoutOp o) { return (*this)[o.getInput()]; }) // inference: the identity
        .Case([&](seq::FlattenOp o) { return kernels::flatten((*this)[o.getInput()]); })
        .Case([&](seq::ReverseComplementOp o) { return kernels::reverseComplement((*this)[o.getInput()]); })
        .Case([&](seq::DenseOp o) {
          return kernels::dense((*this)[o.getInput()], (*this)[o.getWeight()], optional(o.getBias()));
        })
        .Case([&](seq::AddOp o) { return kernels::add(all(o.getInputs())); })
        .Case([&](seq::ConcatOp o) { return kernels::concat(all(o.getInputs())); })
        .Case([&](seq::MulOp o) { return kernels::mul((*this)[o.getLhs()], (*this)[o.getRhs()]); })
        .Case([&](seq::ReduceSumOp o) { return kernels::reduceSum((*this)[o.getInput()], o.getAxes().vec()); })
        .Case([&](seq::BroadcastOp o) {
          const HostArray<T> &x = (*this)[o.getInput()];
          return kernels::broadcast(x, broadcastShape(o, x.shape), o.getAxes().vec());
        })
        .Case([&](seq::ReshapeOp o) {
          const HostArray<T> &x = (*this)[o.getInput()];
          return kernels::reshape(x, reshapeShape(o, x.size()));
        })
        .Case([&](seq::SliceOp o) {
          const int64_t axis = signedValue(o.getAxis());
          return kernels::slice((*this)[o.getInput()], axis, signedValue(o.getOffset()), staticResultDim(o, axis));
        })
        .Case([&](seq::PadOp o) {
          const int64_t axis = signedValue(o.getAxis());
          return kernels::pad((*this)[o.getInput()], axis, signedValue(o.getOffset()), staticResultDim(o, axis));
        })
        .Case([&](seq::ConstantOp o) { return constant(o); })
        .Case([&](seq::LogSoftmaxOp o) { return kernels::logSoftmax((*this)[o.getInput()], signedValue(o.getAxis())); })
        .Case([&](seq::StopGradientOp o) { return (*this)[o.getInput()]; })
        .Case([&](seq::SignedRankOp o) { return kernels::signedRank((*this)[o.getInput()]); })
        .Case([&](seq::FourierScoreOp o) {
          return kernels::fourierScore((*this)[o.getTrack()], signedValue(o.getSigma()), signedValue(o.getFreqLimit()),
                                       o.getSoftness().convertToDouble());
        })
        .Case([&](seq::FourierScoreGradOp o) {
          return kernels::fourierScoreGrad((*this)[o.getTrack()], (*this)[o.getOutputGrad()], signedValue(o.getSigma()),
                                           signedValue(o.getFreqLimit()), o.getSoftness().convertToDouble());
        })
        .Case([&](seq::BceWithLogitsOp o) {
          return kernels::bceWithLogits((*this)[o.getLogits()], (*this)[o.getLabels()]);
        })
        .Case([&](seq::Conv1dInputGradOp o) {
          return kernels::conv1dInputGrad((*this)[o.getOutputGrad()], (*this)[o.getWeight()], staticResultDim(o, 2),
                                          signedValue(o.getStride()), signedValue(o.getDilation()),
                                          padding(o.getPadding()));
        })
        .Case([&](seq::Conv1dWeightGradOp o) {
          return kernels::conv1dWeightGrad((*this)[o.getInput()], (*this)[o.getOutputGrad()], staticResultDim(o, 2),
                                           signedValue(o.getStride()), signedValue(o.getDilation()),
                                           padding(o.getPadding()));
        })
        .Case([&](seq::DenseInputGradOp o) {
          return kernels::denseInputGrad((*this)[o.getOutputGrad()], (*this)[o.getWeight()]);
        })
        .Case([&](seq::DenseWeightGradOp o) {
          return kernels::denseWeightGrad((*this)[o.getInput()], (*this)[o.getOutputGrad()]);
        })
        .Case([&](seq::MaxPool1dGradOp o) {
          return kernels::maxPool1dGrad((*this)[o.getInput()], (*this)[o.getOutputGrad()], signedValue(o.getSize()),
                                        signedValue(o.getStride()));
        })
        .Case([&](seq::MaxPool1dSelectOp o) {
          return kernels::maxPool1dSelect((*this)[o.getInput()], (*this)[o.getValues()], signedValue(o.getSize()),
                                          signedValue(o.getStride()));
        })
        .Case([&](seq::AvgPool1dGradOp o) {
          return kernels::avgPool1dGrad((*this)[o.getOutputGrad()], staticResultDim(o, 2), signedValue(o.getSize()),
                                        signedValue(o.getStride()));
        })
        .Default([](Operation *) -> HostArray<T> {
          throw Error("not an op the reference interpreter knows (the seq ops and func.return)");
        });
  }

private:
  llvm::DenseMap<Value, HostArray<T>> values;

  /// ODS reads I64Attr as uint64_t; the kernels reject the negative values a cast back exposes.
  static int64_t signedValue(uint64_t value) { return static_cast<int64_t>(value); }

  const HostArray<T> *optional(Value value) const { return value ? &(*this)[value] : nullptr; }

  std::vector<const HostArray<T> *> all(Operation::operand_range operands) const {
    std::vector<const HostArray<T> *> arrays;
    for (Value operand : operands)
      arrays.push_back(&(*this)[operand]);
    return arrays;
  }

  /// The result type's shape; a dynamic dimension outside `axes` is the input's (a broadcast repeats along `axes`
  /// only), one inside them is an error.
  static std::vector<int64_t> broadcastShape(seq::BroadcastOp op, const std::vector<int64_t> &inputShape) {
    RankedTensorType type = resultType(op);
    ArrayRef<int64_t> axes = op.getAxes();
    std::vector<int64_t> shape;
    size_t inputAxis = 0;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      bool repeated = llvm::is_contained(axes, d);
      shape.push_back(!type.isDynamicDim(d) || repeated ? staticResultDim(op, d) : inputShape.at(inputAxis));
      if (!repeated)
        ++inputAxis;
    }
    return shape;
  }

  /// The result type's shape; one dynamic dimension takes whatever the element count leaves.
  static std::vector<int64_t> reshapeShape(seq::ReshapeOp op, int64_t elementCount) {
    RankedTensorType type = resultType(op);
    if (type.getNumDynamicDims() > 1)
      throw Error(fmt::format("the result type {} has more than one dynamic dimension", typeString(type)));
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    int64_t known = 1;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (!type.isDynamicDim(d))
        known *= shape[d];
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        shape[d] = known == 0 ? 0 : elementCount / known;
    return shape;
  }

  static HostArray<T> constant(seq::ConstantOp op) {
    RankedTensorType type = resultType(op);
    if (!type.hasStaticShape())
      throw Error(fmt::format("a constant needs a static type, got {}", typeString(type)));
    ElementsAttr value = op.getValueAttr();
    auto elements = value.tryGetValues<APFloat>();
    if (!elements)
      throw Error(fmt::format("the value of type {} does not hold floats", typeString(value.getType())));
    if (value.getNumElements() != type.getNumElements())
      throw Error(fmt::format("the value holds {} elements, the type {} needs {}", value.getNumElements(),
                              typeString(type), type.getNumElements()));
    HostArray<T> array(std::vector<int64_t>(type.getShape().begin(), type.getShape().end()));
    int64_t i = 0;
    for (const APFloat &element : *elements)
      array.data[i++] = static_cast<T>(element.convertToDouble());
    return array;
  }
};

/// checkNumerics: an op that turns finite operands into a NaN or an infinity is where a program's numerics broke.
/// Constants are exempt: an infinity there is the program's, not an accident of arithmetic.
template <typename T> void checkNumerics(Operation *op, const Evaluator<T> &evaluator, const HostArray<T> &result) {
  if (op->getNumOperands() == 0)
    return;
  for (Value operand : op->getOperands())
    if (firstNonFinite(evaluator[operand]))
      return;
  if (std::optional<int64_t> bad = firstNonFinite(result))
    throw Error(fmt::format("reference interpreter: {} produced {} at index {} from finite operands", describe(op),
                            result.data[*bad], kernels::shapeString(kernels::unravelIndex(*bad, result.shape))));
}

/// The name of argument `i` in messages: seq.argument_names (importGraph sets it) or its position.
std::string argumentName(func::FuncOp function, unsigned i) {
  if (auto names = function->getAttrOfType<ArrayAttr>("seq.argument_names"))
    if (i < names.size())
      if (auto name = dyn_cast<StringAttr>(names[i]))
        return fmt::format("'{}' (#{})", std::string_view(name.getValue()), i);
  return fmt::format("#{}", i);
}

} // namespace

template <typename T>
std::vector<HostArray<T>> interpretFunction(func::FuncOp function, const std::vector<HostArray<T>> &arguments,
                                            const InterpretOptions &options, std::vector<HostArray<T>> *opResults) {
  const std::string functionName(std::string_view(function.getSymName()));
  if (function.getBody().getBlocks().size() != 1)
    throw Error(fmt::format("reference interpreter: @{} must have a body of exactly one block", functionName));
  Block &body = function.getBody().front();
  if (arguments.size() != body.getNumArguments())
    throw Error(fmt::format("reference interpreter: @{} takes {} arguments, got {}", functionName,
                            body.getNumArguments(), arguments.size()));

  Evaluator<T> evaluator;
  for (unsigned i = 0; i < body.getNumArguments(); ++i) {
    auto type = dyn_cast<RankedTensorType>(body.getArgument(i).getType());
    const HostArray<T> &argument = arguments[i];
    if (!type || !matchesType(argument.shape, type) || argument.size() != HostArray<T>::elementCount(argument.shape))
      throw Error(fmt::format("reference interpreter: argument {} of @{} has shape {} ({} values), expected {}",
                              argumentName(function, i), functionName, kernels::shapeString(argument.shape),
                              argument.size(), typeString(body.getArgument(i).getType())));
    evaluator.bind(body.getArgument(i), argument);
  }

  for (Operation &op : body) {
    if (auto returnOp = dyn_cast<func::ReturnOp>(op)) {
      std::vector<HostArray<T>> results;
      for (Value operand : returnOp.getOperands())
        results.push_back(evaluator[operand]);
      return results;
    }
    HostArray<T> result;
    try {
      result = evaluator.evaluate(&op);
    } catch (const Error &error) {
      throw Error(fmt::format("reference interpreter: {}: {}", describe(&op), error.what()));
    }
    // The kernels derive every shape on their own; agreeing with the result type cross-checks them and the verifier.
    if (!matchesType(result.shape, resultType(&op)))
      throw Error(fmt::format("reference interpreter: {}: computed shape {} differs from the result type {}",
                              describe(&op), kernels::shapeString(result.shape), typeString(resultType(&op))));
    if (options.checkNumerics)
      checkNumerics(&op, evaluator, result);
    if (opResults)
      opResults->push_back(result);
    evaluator.bind(op.getResult(0), std::move(result));
  }
  throw Error(fmt::format("reference interpreter: @{} does not end in func.return", functionName));
}

template std::vector<HostArray<float>> interpretFunction<float>(func::FuncOp, const std::vector<HostArray<float>> &,
                                                                const InterpretOptions &,
                                                                std::vector<HostArray<float>> *);
template std::vector<HostArray<double>> interpretFunction<double>(func::FuncOp, const std::vector<HostArray<double>> &,
                                                                  const InterpretOptions &,
                                                                  std::vector<HostArray<double>> *);

} // namespace seqjit
