// seqjit-decompose-fourier-score: see the header.
#include "compiler/FourierScoreDecomposition.h"

#include "compiler/Autodiff.h"
#include "compiler/SeqBuilder.h"
#include "dsl/FourierPriorTerms.h"

#include <cmath>
#include <numbers>

using namespace mlir;

namespace seqjit {

namespace {

SeqBuilder builderFor(OpBuilder &b, Operation *op) {
  auto layer = op->getAttrOfType<StringAttr>("layer");
  return SeqBuilder(b, op->getLoc(), layer ? layer.getValue().str() : std::string("fourier_score"));
}

/// The score of each row of the track (B, L); see seq.fourier_score.
Value scoreOf(SeqBuilder &s, const FourierOpParts &parts) {
  Value track = parts.track;
  auto trackType = SeqBuilder::tensorType(track);
  Type elementType = trackType.getElementType();
  int64_t batch = trackType.getDimSize(0), length = trackType.getDimSize(1);
  Value smoothed = track;
  if (std::vector<double> kernel = fourierSmoothingKernel(parts.sigma); !kernel.empty()) {
    auto channelType = SeqBuilder::typeLike(track, {batch, 1, length});
    Value convolved = s.conv1d(s.reshape(track, channelType),
                               s.constant({1, 1, static_cast<int64_t>(kernel.size())}, elementType, kernel), 1, 1,
                               "same", channelType);
    smoothed = s.reshape(convolved, trackType);
  }
  // rfft as two dense layers with constant DFT matrices: the magnitudes' derivatives are then seq ops too.
  int64_t frequencies = length / 2 + 1;
  std::vector<double> cosines(frequencies * length), sines(frequencies * length);
  for (int64_t k = 0; k < frequencies; ++k)
    for (int64_t l = 0; l < length; ++l) {
      double angle = 2.0 * std::numbers::pi * static_cast<double>((k * l) % length) / static_cast<double>(length);
      cosines[k * length + l] = std::cos(angle);
      sines[k * length + l] = std::sin(angle);
    }
  Value real = s.dense(smoothed, s.constant({frequencies, length}, elementType, cosines));
  Value imaginary = s.dense(smoothed, s.constant({frequencies, length}, elementType, sines));
  Value magnitude =
      s.activation(s.add({s.activation(real, ActivationKind::Square), s.activation(imaginary, ActivationKind::Square)}),
                   ActivationKind::Sqrt); // (B, K)
  auto magnitudeType = SeqBuilder::tensorType(magnitude);
  // reciprocal(0) = 0: a row of zeros stays zeros, as Tseng's code does by dividing it by 1.
  Value normalised = s.mul(magnitude, s.broadcast(s.activation(s.reduceSum(magnitude, {1}), ActivationKind::Reciprocal),
                                                  {1}, magnitudeType));
  std::vector<double> weights(frequencies);
  for (int64_t k = 0; k < frequencies; ++k)
    weights[k] = fourierFrequencyWeight(k, parts.freqLimit, parts.softness);
  return s.reshape(s.dense(normalised, s.constant({1, frequencies}, elementType, weights)),
                   SeqBuilder::typeLike(track, {batch}));
}

struct DecomposeFourierScorePass : PassWrapper<DecomposeFourierScorePass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(DecomposeFourierScorePass)
  StringRef getArgument() const override { return "seqjit-decompose-fourier-score"; }
  StringRef getDescription() const override {
    return "seq.fourier_score and its VJP as conv1d, dense and elementwise seq ops";
  }
  void runOnOperation() override {
    if (failed(replaceFourierOps(getOperation(), decomposeFourierOp)))
      signalPassFailure();
  }
};

} // namespace

FourierOpParts fourierOpParts(Operation *op) {
  auto partsOf = [](auto fourier) {
    return FourierOpParts{fourier.getTrack(), static_cast<int64_t>(fourier.getSigma()),
                          static_cast<int64_t>(fourier.getFreqLimit()), fourier.getSoftness().convertToDouble()};
  };
  if (auto score = dyn_cast<seq::FourierScoreOp>(op))
    return partsOf(score);
  return partsOf(cast<seq::FourierScoreGradOp>(op));
}

LogicalResult replaceFourierOps(func::FuncOp function, function_ref<FailureOr<Value>(OpBuilder &, Operation *)> lower) {
  SmallVector<Operation *> ops;
  function.walk([&](Operation *op) {
    if (isa<seq::FourierScoreOp, seq::FourierScoreGradOp>(op))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    OpBuilder b(op);
    FailureOr<Value> replacement = lower(b, op);
    if (failed(replacement))
      return failure();
    op->getResult(0).replaceAllUsesWith(*replacement);
    op->erase();
  }
  return success();
}

Value decomposeFourierScore(OpBuilder &b, seq::FourierScoreOp op) {
  SeqBuilder s = builderFor(b, op);
  return scoreOf(s, fourierOpParts(op));
}

FailureOr<Value> decomposeFourierScoreGrad(OpBuilder &b, seq::FourierScoreGradOp op) {
  SeqBuilder s = builderFor(b, op);
  Value score = scoreOf(s, fourierOpParts(op));
  FailureOr<SmallVector<Value>> gradients = buildVjp(b, {score}, {op.getOutputGrad()}, {op.getTrack()});
  if (failed(gradients))
    return failure();
  return (*gradients)[0];
}

FailureOr<Value> decomposeFourierOp(OpBuilder &b, Operation *op) {
  if (auto score = dyn_cast<seq::FourierScoreOp>(op))
    return decomposeFourierScore(b, score);
  return decomposeFourierScoreGrad(b, cast<seq::FourierScoreGradOp>(op));
}

std::unique_ptr<Pass> createDecomposeFourierScorePass() { return std::make_unique<DecomposeFourierScorePass>(); }

void registerDecomposeFourierScorePass() {
  registerPass([] { return createDecomposeFourierScorePass(); });
}

} // namespace seqjit
