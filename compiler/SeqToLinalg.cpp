// seq -> linalg: each op as one or a few linalg.generic ops, so that elementwise fusion and tiling apply.
#include "compiler/SeqToLinalg.h"

#include "compiler/LinalgBuilders.h"
#include "compiler/SeqDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

using namespace mlir;

namespace seqjit {
namespace {

using utils::IteratorType;

/// The initial accumulator of a conv or dense layer: its bias broadcast along dim 1, or zeros.
Value biasOrZeros(OpBuilder &b, Location loc, RankedTensorType resultType, Value bias) {
  if (!bias)
    return filled(b, loc, resultType, 0.0);
  return elementwise(b, loc, resultType, {}, {bias}, [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

struct Conv1dLowering : SeqPattern<seq::Conv1dOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::Conv1dOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    int64_t width = tensorType(op.getWeight()).getDimSize(2);
    int64_t stride = op.getStride(), dilation = op.getDilation();
    Value input = conv1dPaddedInput(b, loc, op.getInput(), op.getPadding(), width, stride, dilation);
    auto resultType = tensorType(op.getResult());
    Value init = biasOrZeros(b, loc, resultType, op.getBias());
    // Loops (n, f, c, k, l): out[n, f, l] += x[n, c, l * stride + k * dilation] * w[f, c, k]. The output
    // position is innermost, so the innermost loop is parallel and unit-stride: it vectorises as it is.
    AffineExpr n = b.getAffineDimExpr(0), f = b.getAffineDimExpr(1), c = b.getAffineDimExpr(2),
               k = b.getAffineDimExpr(3), l = b.getAffineDimExpr(4);
    return generic(b, loc, resultType, {input, op.getWeight()}, init,
                   {{n, c, l * stride + k * dilation}, {f, c, k}}, {n, f, l},
                   {kParallel, kParallel, kReduction, kReduction, kParallel},
                   multiplyAccumulate);
  }
};

/// Per-channel statistic over every dimension but 1: sum(g(x)) / count.
Value channelMean(OpBuilder &b, Location loc, Value x, Value centre) {
  auto type = tensorType(x);
  int64_t count = type.getNumElements() / type.getDimSize(1);
  auto vectorType = RankedTensorType::get({type.getDimSize(1)}, type.getElementType());
  unsigned rank = type.getRank();
  SmallVector<IteratorType> iterators(rank, kReduction);
  iterators[1] = kParallel;
  SmallVector<SmallVector<AffineExpr>> inputExprs{dimExprs(b, rank)};
  SmallVector<Value> inputs{x};
  if (centre) {
    inputExprs.push_back({b.getAffineDimExpr(1)});
    inputs.push_back(centre);
  }
  Value sum = generic(b, loc, vectorType, inputs, filled(b, loc, vectorType, 0.0), inputExprs,
                      {b.getAffineDimExpr(1)}, iterators, [&](OpBuilder &nb, Location nl, ValueRange a) {
                        Value term = a[0];
                        if (centre) {
                          Value d = nb.create<arith::SubFOp>(nl, a[0], a[1]);
                          term = nb.create<arith::MulFOp>(nl, d, d);
                        }
                        return nb.create<arith::AddFOp>(nl, a.back(), term).getResult();
                      });
  Value inverse = constantFloat(b, loc, type.getElementType(), 1.0 / static_cast<double>(count));
  return generic(b, loc, vectorType, {sum}, emptyTensor(b, loc, vectorType), {{b.getAffineDimExpr(0)}},
                 {b.getAffineDimExpr(0)}, {kParallel}, [&](OpBuilder &nb, Location nl, ValueRange a) {
                   return nb.create<arith::MulFOp>(nl, a[0], inverse).getResult();
                 });
}

struct BatchNormLowering : SeqPattern<seq::BatchNormOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::BatchNormOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    Value mean = op.getRunningMean(), variance = op.getRunningVar();
    if (op.getTraining()) {
      mean = channelMean(b, loc, op.getInput(), Value());
      variance = channelMean(b, loc, op.getInput(), mean);
    }
    auto channelType = tensorType(variance);
    Value eps = constantFloat(b, loc, channelType.getElementType(), op.getEps().convertToDouble());
    // weight * rsqrt(variance + eps) once per channel, not once per element (a square root and a division each).
    AffineExpr c = b.getAffineDimExpr(0);
    Value scale = generic(b, loc, channelType, {op.getWeight(), variance}, emptyTensor(b, loc, channelType), {{c}, {c}},
                          {c}, {kParallel}, [&](OpBuilder &nb, Location nl, ValueRange a) {
                            Value inverseStd = nb.create<math::RsqrtOp>(nl, nb.create<arith::AddFOp>(nl, a[1], eps));
                            return nb.create<arith::MulFOp>(nl, a[0], inverseStd).getResult();
                          });
    return elementwise(b, loc, tensorType(op.getResult()), {op.getInput()}, {scale, op.getBias(), mean},
                       [&](OpBuilder &nb, Location nl, ValueRange a) {
                         Value centred = nb.create<arith::SubFOp>(nl, a[0], a[3]);
                         return nb.create<math::FmaOp>(nl, centred, a[1], a[2]).getResult();
                       });
  }
};

/// The scalar body of an activation: f(scale * x + shift).
Value activationBody(OpBuilder &b, Location loc, Value x, seq::ActivationOp op) {
  Type t = x.getType();
  double scale = op.getScale().convertToDouble(), shift = op.getShift().convertToDouble();
  Value z = x;
  if (scale != 1.0)
    z = b.create<arith::MulFOp>(loc, z, constantFloat(b, loc, t, scale));
  if (shift != 0.0)
    z = b.create<arith::AddFOp>(loc, z, constantFloat(b, loc, t, shift));
  Value zero = constantFloat(b, loc, t, 0.0), one = constantFloat(b, loc, t, 1.0);
  StringRef kind = op.getKind();
  if (kind == "relu")
    return b.create<arith::MaximumFOp>(loc, z, zero);
  if (kind == "exp")
    return b.create<math::ExpOp>(loc, z);
  if (kind == "softplus")
    return b.create<arith::AddFOp>(loc, b.create<arith::MaximumFOp>(loc, z, zero), softplusTail(b, loc, z));
  if (kind == "sigmoid") {
    Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, z));
    return b.create<arith::DivFOp>(loc, one, b.create<arith::AddFOp>(loc, one, e));
  }
  if (kind == "tanh")
    return b.create<math::TanhOp>(loc, z);
  if (kind == "elu") {
    Value alpha = constantFloat(b, loc, t, op.getAlpha().convertToDouble());
    Value negative = b.create<arith::MulFOp>(loc, alpha, b.create<math::ExpM1Op>(loc, z));
    Value positive = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, z, zero);
    return b.create<arith::SelectOp>(loc, positive, z, negative);
  }
  if (kind == "log_relu")
    return b.create<math::Log1pOp>(loc, b.create<arith::MaximumFOp>(loc, z, zero));
  // The primitives of gradient programs, with the numerics dsl/OpSpec.h defines.
  if (kind == "step")
    return b.create<arith::SelectOp>(loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, z, zero), one, zero);
  if (kind == "sign") {
    // z itself where it is neither positive nor negative: 0 stays 0 and NaN stays NaN, as in PyTorch.
    Value minusOne = constantFloat(b, loc, t, -1.0);
    Value negative = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, z, zero);
    Value positive = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, z, zero);
    return b.create<arith::SelectOp>(loc, positive, one, b.create<arith::SelectOp>(loc, negative, minusOne, z));
  }
  if (kind == "abs")
    return b.create<math::AbsFOp>(loc, z);
  if (kind == "square")
    return b.create<arith::MulFOp>(loc, z, z);
  if (kind == "sqrt")
    return b.create<math::SqrtOp>(loc, z);
  if (kind == "rsqrt")
    return b.create<math::RsqrtOp>(loc, z);
  if (kind == "reciprocal") {
    Value isZero = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, z, zero);
    return b.create<arith::SelectOp>(loc, isZero, zero, b.create<arith::DivFOp>(loc, one, z));
  }
  if (kind == "log")
    return b.create<math::LogOp>(loc, z);
  return z; // linear: the verifier admits no other kind.
}

struct ActivationLowering : SeqPattern<seq::ActivationOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::ActivationOp op, PatternRewriter &b) const override {
    return elementwise(b, op.getLoc(), tensorType(op.getResult()), {op.getInput()}, {},
                       [&](OpBuilder &nb, Location nl, ValueRange a) { return activationBody(nb, nl, a[0], op); });
  }
};

Value scaled(OpBuilder &b, Location loc, Value x, double factor) {
  Value c = constantFloat(b, loc, tensorType(x).getElementType(), factor);
  return elementwise(b, loc, tensorType(x), {x}, {}, [&](OpBuilder &nb, Location nl, ValueRange a) {
    return nb.create<arith::MulFOp>(nl, a[0], c).getResult();
  });
}

/// Windowed pooling: loops (n, c, l, w) over x[n, c, l * stride + w].
template <typename OpType> Value lowerWindowPool(OpType op, OpBuilder &b, bool isMax) {
  Location loc = op.getLoc();
  auto resultType = tensorType(op.getResult());
  double start = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
  AffineExpr n = b.getAffineDimExpr(0), c = b.getAffineDimExpr(1), l = b.getAffineDimExpr(2),
             w = b.getAffineDimExpr(3);
  int64_t size = op.getSize(), stride = op.getStride();
  // The window dimension's extent comes from a size-only operand so that linalg can infer the loop bound.
  Value window = emptyTensor(b, loc, RankedTensorType::get({size}, resultType.getElementType()));
  Value pooled = generic(b, loc, resultType, {op.getInput(), window}, filled(b, loc, resultType, start),
                         {{n, c, l * stride + w}, {w}}, {n, c, l}, {kParallel, kParallel, kParallel, kReduction},
                         [&](OpBuilder &nb, Location nl, ValueRange a) {
                           if (isMax)
                             return firstMaximum(nb, nl, a[2], a[0]);
                           return nb.create<arith::AddFOp>(nl, a[2], a[0]).getResult();
                         });
  return isMax ? pooled : scaled(b, loc, pooled, 1.0 / static_cast<double>(size));
}

struct MaxPoolLowering : SeqPattern<seq::MaxPool1dOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::MaxPool1dOp op, PatternRewriter &b) const override { return lowerWindowPool(op, b, true); }
};
struct AvgPoolLowering : SeqPattern<seq::AvgPool1dOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::AvgPool1dOp op, PatternRewriter &b) const override { return lowerWindowPool(op, b, false); }
};

Value lowerGlobalPool(Operation *op, OpBuilder &b, bool isMax) {
  Location loc = op->getLoc();
  Value input = op->getOperand(0);
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  double start = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
  AffineExpr n = b.getAffineDimExpr(0), c = b.getAffineDimExpr(1), l = b.getAffineDimExpr(2);
  Value pooled = generic(b, loc, resultType, {input}, filled(b, loc, resultType, start), {{n, c, l}}, {n, c},
                         {kParallel, kParallel, kReduction}, [&](OpBuilder &nb, Location nl, ValueRange a) {
                           if (isMax)
                             return firstMaximum(nb, nl, a[1], a[0]);
                           return nb.create<arith::AddFOp>(nl, a[1], a[0]).getResult();
                         });
  return isMax ? pooled : scaled(b, loc, pooled, 1.0 / static_cast<double>(tensorType(input).getDimSize(2)));
}

struct GlobalMaxPoolLowering : SeqPattern<seq::GlobalMaxPoolOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::GlobalMaxPoolOp op, PatternRewriter &b) const override { return lowerGlobalPool(op, b, true); }
};
struct GlobalAvgPoolLowering : SeqPattern<seq::GlobalAvgPoolOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::GlobalAvgPoolOp op, PatternRewriter &b) const override {
    return lowerGlobalPool(op, b, false);
  }
};

struct DropoutLowering : SeqPattern<seq::DropoutOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::DropoutOp op, PatternRewriter &) const override { return op.getInput(); }
};

struct FlattenLowering : SeqPattern<seq::FlattenOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::FlattenOp op, PatternRewriter &b) const override {
    if (tensorType(op.getInput()).getRank() == 2)
      return op.getInput();
    SmallVector<ReassociationIndices> groups{{0}, {1, 2}};
    return b.create<tensor::CollapseShapeOp>(op.getLoc(), op.getInput(), groups);
  }
};

struct DenseLowering : SeqPattern<seq::DenseOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::DenseOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto resultType = tensorType(op.getResult());
    Value init = biasOrZeros(b, loc, resultType, op.getBias());
    AffineExpr n = b.getAffineDimExpr(0), u = b.getAffineDimExpr(1), f = b.getAffineDimExpr(2);
    return generic(b, loc, resultType, {op.getInput(), op.getWeight()}, init, {{n, f}, {u, f}}, {n, u},
                   {kParallel, kParallel, kReduction}, multiplyAccumulate);
  }
};

struct AddLowering : SeqPattern<seq::AddOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::AddOp op, PatternRewriter &b) const override {
    return elementwise(b, op.getLoc(), tensorType(op.getResult()), op.getInputs(), {},
                       [](OpBuilder &nb, Location nl, ValueRange a) {
                         Value sum = a[0];
                         for (size_t i = 1; i + 1 < a.size(); ++i)
                           sum = nb.create<arith::AddFOp>(nl, sum, a[i]);
                         return sum;
                       });
  }
};

struct ConcatLowering : SeqPattern<seq::ConcatOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::ConcatOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto resultType = tensorType(op.getResult());
    Value result = emptyTensor(b, loc, resultType);
    int64_t channelOffset = 0;
    for (Value input : op.getInputs()) {
      result = insertAlong(b, loc, input, result, 1, channelOffset);
      channelOffset += tensorType(input).getDimSize(1);
    }
    return result;
  }
};

struct ReverseComplementLowering : SeqPattern<seq::ReverseComplementOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::ReverseComplementOp op, PatternRewriter &b) const override {
    auto type = tensorType(op.getResult());
    AffineExpr n = b.getAffineDimExpr(0), c = b.getAffineDimExpr(1), l = b.getAffineDimExpr(2);
    return generic(b, op.getLoc(), type, {op.getInput()}, emptyTensor(b, op.getLoc(), type),
                   {{n, -c + (type.getDimSize(1) - 1), -l + (type.getDimSize(2) - 1)}}, {n, c, l},
                   {kParallel, kParallel, kParallel}, [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }
};

/// Every seq op whose `layer` differs from the name its location gives (a VJP's "conv1.grad" at conv1's place) is
/// located at NameLoc(layer, its location), so that the loops it becomes say which layer they compute, for the kernel
/// profile (compiler/LoopNestCost.h).
void nameLocationsByLayer(ModuleOp module) {
  module.walk([](Operation *op) {
    if (!isa<seq::SeqDialect>(op->getDialect()))
      return;
    auto layer = op->getAttrOfType<StringAttr>("layer");
    auto named = dyn_cast<NameLoc>(op->getLoc());
    if (layer && !layer.getValue().empty() && !(named && named.getName() == layer))
      op->setLoc(NameLoc::get(layer, op->getLoc()));
  });
}

struct SeqToLinalgPass : PassWrapper<SeqToLinalgPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(SeqToLinalgPass)
  StringRef getArgument() const override { return "convert-seq-to-linalg"; }
  StringRef getDescription() const override { return "Lower seq ops to linalg.generic and tensor ops"; }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, linalg::LinalgDialect, math::MathDialect, tensor::TensorDialect>();
  }
  void runOnOperation() override {
    nameLocationsByLayer(getOperation());
    RewritePatternSet patterns(&getContext());
    patterns.add<Conv1dLowering, BatchNormLowering, ActivationLowering, MaxPoolLowering, AvgPoolLowering,
                 GlobalMaxPoolLowering, GlobalAvgPoolLowering, DropoutLowering, FlattenLowering, DenseLowering,
                 AddLowering, ConcatLowering, ReverseComplementLowering>(&getContext());
    populateProgramOpsToLinalgPatterns(patterns);
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns), config);
    WalkResult remaining = getOperation().walk([](Operation *op) {
      if (isa<seq::FourierScoreOp, seq::FourierScoreGradOp>(op)) {
        op->emitOpError("is not lowered to linalg: run seqjit-decompose-fourier-score (CPU) or "
                        "seqjit-fourier-score-kernels (GPU) first, as the pipelines do");
        return WalkResult::interrupt();
      }
      if (isa<seq::SeqDialect>(op->getDialect())) {
        op->emitOpError("could not be lowered: the lowering needs static shapes (compile for a fixed batch size)");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (remaining.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> createSeqToLinalgPass() { return std::make_unique<SeqToLinalgPass>(); }

void registerSeqjitPasses() { PassRegistration<SeqToLinalgPass>(); }

} // namespace seqjit
