// DeepLIFT's rescale rules, written in seq ops like the VJP rules they fall back on for affine ops.
#include "compiler/DeepLiftRules.h"

#include "compiler/SeqBuilder.h"
#include "compiler/VjpRules.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace seqjit {
namespace {

using Multipliers = SmallVector<Value>;

Value twinOf(const DenseMap<Value, Value> &twins, Value v) {
  auto found = twins.find(v);
  return found == twins.end() ? v : found->second;
}

/// x - x_ref, where it is larger than epsilon in magnitude (mask 1, else 0), and a divisor that equals the
/// difference where the mask is 1 and is near 1 elsewhere, so that no division overflows.
struct Difference {
  Value delta, mask, divisor;
};

Difference difference(SeqBuilder &s, Value x, Value reference) {
  Value delta = s.sub(x, reference);
  Value mask = s.activation(s.activation(delta, ActivationKind::Abs), ActivationKind::Step, 1.0, -kDeepLiftEpsilon);
  return {delta, mask, s.add({delta, s.affine(mask, -1.0, 1.0)})};
}

/// numerator / (x - x_ref) where the difference is above epsilon, `gradient` (null: zero) elsewhere.
Value rescaled(SeqBuilder &s, const Difference &d, Value numerator, Value gradient) {
  Value ratio = s.mul(d.mask, s.mul(numerator, s.activation(d.divisor, ActivationKind::Reciprocal)));
  if (!gradient)
    return ratio;
  return s.add({ratio, s.mul(s.affine(d.mask, -1.0, 1.0), gradient)});
}

/// Max pooling of x (y) and of x_ref (y_ref) by windows of `size` every `stride`, g the output multipliers.
Value maxPoolMultipliers(SeqBuilder &s, Value x, Value reference, Value y, Value yReference, Value g, int64_t size,
                         int64_t stride) {
  auto inputType = SeqBuilder::tensorType(x);
  Value change = s.sub(y, yReference);
  Value towardInput = s.activation(change, ActivationKind::Relu); // max(y, y_ref) - y_ref
  Value towardReference = s.sub(change, towardInput);             // y - max(y, y_ref)
  Value routed = s.add({s.create<seq::MaxPool1dGradOp>(inputType, x, s.mul(g, towardInput), size, stride),
                        s.create<seq::MaxPool1dGradOp>(inputType, reference, s.mul(g, towardReference), size, stride)});
  Value gradient = s.create<seq::MaxPool1dGradOp>(inputType, x, g, size, stride);
  return rescaled(s, difference(s, x, reference), routed, gradient);
}

} // namespace

FailureOr<SmallVector<Value>> operandMultipliers(OpBuilder &b, Operation *op, Value g, ArrayRef<bool> needed,
                                                 const DenseMap<Value, Value> &twins) {
  auto layer = op->getAttrOfType<StringAttr>("layer");
  SeqBuilder s(b, op->getLoc(), (layer ? layer.getValue().str() : std::string("?")) + ".deeplift");
  auto twin = [&](Value v) { return twinOf(twins, v); };
  auto affine = [&](Operation *o) { return operandCotangents(b, o, g, needed); };
  return llvm::TypeSwitch<Operation *, FailureOr<Multipliers>>(op)
      .Case<seq::Conv1dOp, seq::AvgPool1dOp, seq::GlobalAvgPoolOp, seq::DropoutOp, seq::FlattenOp, seq::ReshapeOp,
            seq::DenseOp, seq::AddOp, seq::ConcatOp, seq::ReverseComplementOp, seq::SliceOp, seq::PadOp>(affine)
      .Case([&](seq::BatchNormOp o) -> FailureOr<Multipliers> {
        if (o.getTraining())
          return o.emitOpError("normalises with batch statistics; DeepLIFT needs batch norm in inference mode");
        return affine(o);
      })
      .Case([&](seq::ActivationOp o) -> FailureOr<Multipliers> {
        FailureOr<Multipliers> gradient = operandCotangents(b, o, g, {true});
        if (failed(gradient))
          return failure();
        Value numerator = s.mul(g, s.sub(o.getResult(), twin(o.getResult())));
        return Multipliers{rescaled(s, difference(s, o.getInput(), twin(o.getInput())), numerator, (*gradient)[0])};
      })
      .Case([&](seq::MaxPool1dOp o) -> FailureOr<Multipliers> {
        return Multipliers{maxPoolMultipliers(s, o.getInput(), twin(o.getInput()), o.getResult(), twin(o.getResult()),
                                              g, o.getSize(), o.getStride())};
      })
      .Case([&](seq::GlobalMaxPoolOp o) -> FailureOr<Multipliers> {
        // One window over the whole length: the (B, C) values as (B, C, 1) pools.
        auto type = SeqBuilder::tensorType(o.getInput());
        int64_t length = type.getDimSize(2);
        auto windows = [&](Value v) {
          return s.reshape(v, SeqBuilder::typeLike(v, {type.getDimSize(0), type.getDimSize(1), 1}));
        };
        return Multipliers{maxPoolMultipliers(s, o.getInput(), twin(o.getInput()), windows(o.getResult()),
                                              windows(twin(o.getResult())), windows(g), length, length)};
      })
      .Case([&](seq::MulOp o) -> FailureOr<Multipliers> {
        // x y - x_ref y_ref = (x - x_ref)(y + y_ref)/2 + (y - y_ref)(x + x_ref)/2: exact for products of two.
        auto mean = [&](Value v) { return s.affine(s.add({v, twin(v)}), 0.5); };
        Multipliers m(2);
        if (needed[0])
          m[0] = s.mul(g, mean(o.getRhs()));
        if (needed[1])
          m[1] = s.mul(g, mean(o.getLhs()));
        return m;
      })
      .Default([](Operation *o) -> FailureOr<Multipliers> {
        return o->emitOpError("has no DeepLIFT rule; DeepLIFT cannot explain a model that uses it");
      });
}

} // namespace seqjit
