// The VJP rule of every seq op. Each rule emits seq ops only, and every op it emits has a rule here, so the
// autodiff pass can differentiate its own output: second-order gradients (the Fourier prior's double backprop)
// are exact. Notation: G is the result's cotangent; linear ops map to their transposes and back
// (conv1d <-> conv1d_input_grad / conv1d_weight_grad, dense <-> dense_*_grad, max_pool1d_grad <-> select, ...).
#include "compiler/VjpRules.h"

#include "compiler/Autodiff.h"
#include "compiler/FourierScoreDecomposition.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace seqjit {
namespace {

using Cotangents = SmallVector<Value>;

std::string gradientLayer(Operation *op) {
  auto layer = op->getAttrOfType<StringAttr>("layer");
  return (layer ? layer.getValue().str() : std::string("?")) + ".grad";
}

/// f'(scale * x + shift) for an activation whose result is y, or null where f' is zero everywhere.
Value activationDerivative(SeqBuilder &s, seq::ActivationOp op) {
  Value x = op.getInput(), y = op.getResult();
  double scale = op.getScale().convertToDouble(), shift = op.getShift().convertToDouble();
  double alpha = op.getAlpha().convertToDouble();
  auto at = [&](ActivationKind kind) { return s.activation(x, kind, scale, shift, alpha); };
  switch (*parseActivationKind(op.getKind().str())) {
  case ActivationKind::Relu:
    return at(ActivationKind::Step);
  case ActivationKind::Exp:
    return y;
  case ActivationKind::Softplus:
    return at(ActivationKind::Sigmoid);
  case ActivationKind::Sigmoid:
    return s.mul(y, s.affine(y, -1.0, 1.0));
  case ActivationKind::Tanh:
    return s.affine(s.activation(y, ActivationKind::Square), -1.0, 1.0);
  case ActivationKind::Elu: {
    // 1 where z > 0, alpha * exp(z) elsewhere; exp(-relu(-z)) = exp(min(z, 0)) never overflows.
    Value positive = at(ActivationKind::Step);
    Value negativeSide = s.activation(s.activation(x, ActivationKind::Relu, -scale, -shift), ActivationKind::Exp, -1.0);
    return s.add({positive, s.mul(s.affine(positive, -alpha, alpha), negativeSide)});
  }
  case ActivationKind::Linear:
    return Value(); // handled by the caller: the derivative is the constant scale
  case ActivationKind::LogRelu:
    return s.mul(at(ActivationKind::Step),
                 s.activation(s.affine(at(ActivationKind::Relu), 1.0, 1.0), ActivationKind::Reciprocal));
  case ActivationKind::Step:
  case ActivationKind::Sign:
    return Value();
  case ActivationKind::Abs:
    return at(ActivationKind::Sign);
  case ActivationKind::Square:
    return s.affine(x, 2.0 * scale, 2.0 * shift);
  case ActivationKind::Sqrt:
    return s.affine(s.activation(y, ActivationKind::Reciprocal), 0.5); // 0 where y = 0 (reciprocal(0) = 0)
  case ActivationKind::Rsqrt:
    return s.affine(s.mul(y, s.activation(y, ActivationKind::Square)), -0.5);
  case ActivationKind::Reciprocal:
    return s.affine(s.activation(y, ActivationKind::Square), -1.0);
  case ActivationKind::Log:
    return at(ActivationKind::Reciprocal);
  }
  return Value();
}

Cotangents activationVjp(SeqBuilder &s, seq::ActivationOp op, Value g) {
  double scale = op.getScale().convertToDouble();
  if (*parseActivationKind(op.getKind().str()) == ActivationKind::Linear)
    return {s.affine(g, scale)};
  Value derivative = activationDerivative(s, op);
  if (!derivative)
    return {Value()};
  return {s.affine(s.mul(g, derivative), scale)};
}

/// Batch norm with the running statistics: y = (x - mean) * invstd * w + b, all per channel.
Cotangents batchNormInferenceVjp(SeqBuilder &s, seq::BatchNormOp op, Value g, ArrayRef<bool> needed) {
  Value x = op.getInput();
  auto type = SeqBuilder::tensorType(x);
  auto axes = SeqBuilder::axesExceptChannels(x);
  Value inverseStd = s.activation(op.getRunningVar(), ActivationKind::Rsqrt, 1.0, op.getEps().convertToDouble());
  Cotangents result(5);
  if (needed[0])
    result[0] = s.mul(g, s.broadcast(s.mul(op.getWeight(), inverseStd), axes, type));
  if (needed[1]) {
    Value centred = s.sub(x, s.broadcast(op.getRunningMean(), axes, type));
    result[1] = s.reduceSum(s.mul(g, s.mul(centred, s.broadcast(inverseStd, axes, type))), axes);
  }
  if (needed[2])
    result[2] = s.reduceSum(g, axes);
  return result;
}

/// Batch norm with batch statistics over M = N (* L) values per channel c = x - mean(x), invstd = 1 / sqrt(var + eps):
/// dx = w * invstd * (g - mean(g) - xhat * mean(g * xhat)), dw = sum(g * xhat), db = sum(g). Written as per-channel
/// coefficients of g and c, dx = (w * invstd) g - (w * invstd) sum(g) / M - (w * invstd^2 sum(g * xhat) / M) c, the
/// whole-tensor work is four sums (x, c^2, g, g * c) and one elementwise pass; every other value is per channel.
Cotangents batchNormTrainingVjp(SeqBuilder &s, seq::BatchNormOp op, Value g, ArrayRef<bool> needed) {
  Value x = op.getInput();
  auto type = SeqBuilder::tensorType(x);
  auto axes = SeqBuilder::axesExceptChannels(x);
  double count = static_cast<double>(type.getNumElements() / type.getDimSize(1));
  auto spread = [&](Value perChannel) { return s.broadcast(perChannel, axes, type); };
  Value centred = s.sub(x, spread(s.affine(s.reduceSum(x, axes), 1.0 / count)));
  Value variance = s.affine(s.reduceSum(s.activation(centred, ActivationKind::Square), axes), 1.0 / count);
  Value inverseStd = s.activation(variance, ActivationKind::Rsqrt, 1.0, op.getEps().convertToDouble());
  Value gradientSum = s.reduceSum(g, axes);
  Value normalisedProductSum = s.mul(s.reduceSum(s.mul(g, centred), axes), inverseStd); // sum(g * xhat)
  Cotangents result(5);
  if (needed[0]) {
    Value scale = s.mul(op.getWeight(), inverseStd);
    Value shift = s.affine(s.mul(scale, gradientSum), -1.0 / count);
    Value slope = s.affine(s.mul(s.mul(scale, inverseStd), normalisedProductSum), -1.0 / count);
    result[0] = s.add({s.mul(g, spread(scale)), spread(shift), s.mul(centred, spread(slope))});
  }
  if (needed[1])
    result[1] = normalisedProductSum;
  if (needed[2])
    result[2] = gradientSum;
  return result;
}

/// Pads `cotangents` with nulls to one entry per operand and drops the ones not needed.
Cotangents select(Cotangents cotangents, ArrayRef<bool> needed) {
  cotangents.resize(needed.size());
  for (size_t i = 0; i < needed.size(); ++i)
    if (!needed[i])
      cotangents[i] = Value();
  return cotangents;
}

} // namespace

FailureOr<SmallVector<Value>> operandCotangents(OpBuilder &b, Operation *op, Value g, ArrayRef<bool> needed) {
  SeqBuilder s(b, op->getLoc(), gradientLayer(op));
  auto typeOf = [](Value v) { return SeqBuilder::tensorType(v); };
  auto need = [&](unsigned i) { return i < needed.size() && needed[i]; };
  std::optional<Cotangents> result =
      llvm::TypeSwitch<Operation *, std::optional<Cotangents>>(op)
          .Case([&](seq::Conv1dOp o) -> std::optional<Cotangents> {
            Cotangents c(o->getNumOperands());
            if (need(0))
              c[0] = s.create<seq::Conv1dInputGradOp>(typeOf(o.getInput()), g, o.getWeight(), o.getStride(),
                                                      o.getDilation(), o.getPadding());
            if (need(1))
              c[1] = s.create<seq::Conv1dWeightGradOp>(typeOf(o.getWeight()), o.getInput(), g, o.getStride(),
                                                       o.getDilation(), o.getPadding());
            if (need(2))
              c[2] = s.reduceSum(g, {0, 2});
            return c;
          })
          .Case([&](seq::BatchNormOp o) -> std::optional<Cotangents> {
            return o.getTraining() ? batchNormTrainingVjp(s, o, g, needed) : batchNormInferenceVjp(s, o, g, needed);
          })
          .Case([&](seq::ActivationOp o) -> std::optional<Cotangents> { return activationVjp(s, o, g); })
          .Case([&](seq::MaxPool1dOp o) -> std::optional<Cotangents> {
            return Cotangents{
                s.create<seq::MaxPool1dGradOp>(typeOf(o.getInput()), o.getInput(), g, o.getSize(), o.getStride())};
          })
          .Case([&](seq::AvgPool1dOp o) -> std::optional<Cotangents> {
            return Cotangents{s.create<seq::AvgPool1dGradOp>(typeOf(o.getInput()), g, o.getSize(), o.getStride())};
          })
          .Case([&](seq::GlobalMaxPoolOp o) -> std::optional<Cotangents> {
            auto type = typeOf(o.getInput());
            int64_t length = type.getDimSize(2);
            Value windows = s.reshape(g, SeqBuilder::typeLike(g, {type.getDimSize(0), type.getDimSize(1), 1}));
            return Cotangents{s.create<seq::MaxPool1dGradOp>(type, o.getInput(), windows, length, length)};
          })
          .Case([&](seq::GlobalAvgPoolOp o) -> std::optional<Cotangents> {
            auto type = typeOf(o.getInput());
            return Cotangents{s.affine(s.broadcast(g, {2}, type), 1.0 / static_cast<double>(type.getDimSize(2)))};
          })
          // Programs run dropout in inference mode (the identity); training-mode masks belong to the trainer.
          .Case([&](seq::DropoutOp) -> std::optional<Cotangents> { return Cotangents{g}; })
          .Case([&](seq::FlattenOp o) -> std::optional<Cotangents> {
            return Cotangents{s.reshape(g, typeOf(o.getInput()))};
          })
          .Case([&](seq::ReshapeOp o) -> std::optional<Cotangents> {
            return Cotangents{s.reshape(g, typeOf(o.getInput()))};
          })
          .Case([&](seq::DenseOp o) -> std::optional<Cotangents> {
            Cotangents c(o->getNumOperands());
            if (need(0))
              c[0] = s.create<seq::DenseInputGradOp>(typeOf(o.getInput()), g, o.getWeight());
            if (need(1))
              c[1] = s.create<seq::DenseWeightGradOp>(typeOf(o.getWeight()), o.getInput(), g);
            if (need(2))
              c[2] = s.reduceSum(g, {0});
            return c;
          })
          .Case([&](seq::AddOp o) -> std::optional<Cotangents> { return Cotangents(o->getNumOperands(), g); })
          .Case([&](seq::ConcatOp o) -> std::optional<Cotangents> {
            Cotangents c;
            int64_t offset = 0;
            for (Value input : o.getInputs()) {
              c.push_back(s.create<seq::SliceOp>(typeOf(input), g, int64_t{1}, offset));
              offset += typeOf(input).getDimSize(1);
            }
            return c;
          })
          .Case([&](seq::ReverseComplementOp o) -> std::optional<Cotangents> {
            return Cotangents{s.create<seq::ReverseComplementOp>(typeOf(o.getInput()), g)};
          })
          .Case([&](seq::MulOp o) -> std::optional<Cotangents> {
            Cotangents c(2);
            if (need(0))
              c[0] = s.mul(g, o.getRhs());
            if (need(1))
              c[1] = s.mul(g, o.getLhs());
            return c;
          })
          .Case([&](seq::ReduceSumOp o) -> std::optional<Cotangents> {
            return Cotangents{s.broadcast(g, o.getAxes(), typeOf(o.getInput()))};
          })
          .Case(
              [&](seq::BroadcastOp o) -> std::optional<Cotangents> { return Cotangents{s.reduceSum(g, o.getAxes())}; })
          .Case([&](seq::SliceOp o) -> std::optional<Cotangents> {
            return Cotangents{s.create<seq::PadOp>(typeOf(o.getInput()), g, o.getAxis(), o.getOffset())};
          })
          .Case([&](seq::PadOp o) -> std::optional<Cotangents> {
            return Cotangents{s.create<seq::SliceOp>(typeOf(o.getInput()), g, o.getAxis(), o.getOffset())};
          })
          .Case([&](seq::ConstantOp) -> std::optional<Cotangents> { return Cotangents{}; })
          .Case([&](seq::LogSoftmaxOp o) -> std::optional<Cotangents> {
            // dx = g - softmax * sum(g) along the axis; softmax = exp(log_softmax).
            int64_t axis = o.getAxis();
            auto type = typeOf(o.getInput());
            Value softmax = s.activation(o.getResult(), ActivationKind::Exp);
            return Cotangents{s.sub(g, s.mul(softmax, s.broadcast(s.reduceSum(g, {axis}), {axis}, type)))};
          })
          // Both are constants to autodiff: stop_gradient by definition, signed_rank by being piecewise constant.
          .Case<seq::StopGradientOp, seq::SignedRankOp>(
              [](Operation *) -> std::optional<Cotangents> { return Cotangents{}; })
          .Case([&](seq::FourierScoreOp o) -> std::optional<Cotangents> {
            return Cotangents{s.create<seq::FourierScoreGradOp>(typeOf(o.getTrack()), o.getTrack(), g, o.getSigma(),
                                                                o.getFreqLimit(), o.getSoftness())};
          })
          // Third order (a prior's gradient differentiated again): through the decomposition's own VJP rules.
          .Case([&](seq::FourierScoreGradOp o) -> std::optional<Cotangents> {
            FailureOr<Value> gradient = decomposeFourierScoreGrad(b, o);
            if (failed(gradient))
              return std::nullopt;
            FailureOr<SmallVector<Value>> c = buildVjp(b, {*gradient}, {g}, {o.getTrack(), o.getOutputGrad()});
            if (failed(c))
              return std::nullopt;
            return Cotangents(*c);
          })
          .Case([&](seq::BceWithLogitsOp o) -> std::optional<Cotangents> {
            Cotangents c(2);
            if (need(0))
              c[0] = s.mul(g, s.sub(s.activation(o.getLogits(), ActivationKind::Sigmoid), o.getLabels()));
            if (need(1))
              c[1] = s.mul(g, s.affine(o.getLogits(), -1.0));
            return c;
          })
          .Case([&](seq::Conv1dInputGradOp o) -> std::optional<Cotangents> {
            Cotangents c(2);
            if (need(0))
              c[0] =
                  s.conv1d(g, o.getWeight(), o.getStride(), o.getDilation(), o.getPadding(), typeOf(o.getOutputGrad()));
            if (need(1))
              c[1] = s.create<seq::Conv1dWeightGradOp>(typeOf(o.getWeight()), g, o.getOutputGrad(), o.getStride(),
                                                       o.getDilation(), o.getPadding());
            return c;
          })
          .Case([&](seq::Conv1dWeightGradOp o) -> std::optional<Cotangents> {
            Cotangents c(2);
            if (need(0))
              c[0] = s.create<seq::Conv1dInputGradOp>(typeOf(o.getInput()), o.getOutputGrad(), g, o.getStride(),
                                                      o.getDilation(), o.getPadding());
            if (need(1))
              c[1] =
                  s.conv1d(o.getInput(), g, o.getStride(), o.getDilation(), o.getPadding(), typeOf(o.getOutputGrad()));
            return c;
          })
          .Case([&](seq::DenseInputGradOp o) -> std::optional<Cotangents> {
            Cotangents c(2);
            if (need(0))
              c[0] = s.dense(g, o.getWeight());
            if (need(1))
              c[1] = s.create<seq::DenseWeightGradOp>(typeOf(o.getWeight()), g, o.getOutputGrad());
            return c;
          })
          .Case([&](seq::DenseWeightGradOp o) -> std::optional<Cotangents> {
            Cotangents c(2);
            if (need(0))
              c[0] = s.create<seq::DenseInputGradOp>(typeOf(o.getInput()), o.getOutputGrad(), g);
            if (need(1))
              c[1] = s.dense(o.getInput(), g);
            return c;
          })
          // The window maxima move only where the input is tied: almost everywhere the input has no derivative.
          .Case([&](seq::MaxPool1dGradOp o) -> std::optional<Cotangents> {
            return Cotangents{Value(), s.create<seq::MaxPool1dSelectOp>(typeOf(o.getOutputGrad()), o.getInput(), g,
                                                                        o.getSize(), o.getStride())};
          })
          .Case([&](seq::MaxPool1dSelectOp o) -> std::optional<Cotangents> {
            return Cotangents{Value(), s.create<seq::MaxPool1dGradOp>(typeOf(o.getValues()), o.getInput(), g,
                                                                      o.getSize(), o.getStride())};
          })
          .Case([&](seq::AvgPool1dGradOp o) -> std::optional<Cotangents> {
            return Cotangents{s.create<seq::AvgPool1dOp>(typeOf(o.getOutputGrad()), g, o.getSize(), o.getStride())};
          })
          .Default([](Operation *) -> std::optional<Cotangents> { return std::nullopt; });
  if (!result)
    return op->emitOpError("has no VJP rule; autodiff cannot differentiate through it");
  return select(std::move(*result), needed);
}

} // namespace seqjit
