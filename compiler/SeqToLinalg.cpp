// seq -> linalg: each op as one or a few linalg.generic ops, so that elementwise fusion and tiling apply.
#include "compiler/SeqToLinalg.h"

#include "compiler/SeqDialect.h"
#include "dsl/ShapeFunctions.h"

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
constexpr IteratorType kParallel = IteratorType::parallel;
constexpr IteratorType kReduction = IteratorType::reduction;

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

Value constantFloat(OpBuilder &b, Location loc, Type type, double value) {
  return b.create<arith::ConstantOp>(loc, b.getFloatAttr(type, value));
}

Value filled(OpBuilder &b, Location loc, RankedTensorType type, double value) {
  Value empty = b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
  return b.create<linalg::FillOp>(loc, constantFloat(b, loc, type.getElementType(), value), empty).getResult(0);
}

/// A linalg.generic whose maps are written as lists of affine expressions over its loop dimensions.
Value generic(OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs, Value init,
              ArrayRef<SmallVector<AffineExpr>> inputExprs, ArrayRef<AffineExpr> outputExprs,
              ArrayRef<IteratorType> iterators, function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  unsigned dims = iterators.size();
  SmallVector<AffineMap> maps;
  for (const auto &exprs : inputExprs)
    maps.push_back(AffineMap::get(dims, 0, exprs, b.getContext()));
  maps.push_back(AffineMap::get(dims, 0, outputExprs, b.getContext()));
  auto op = b.create<linalg::GenericOp>(loc, TypeRange{resultType}, inputs, ValueRange{init}, maps, iterators,
                                        [&](OpBuilder &nb, Location nl, ValueRange args) {
                                          nb.create<linalg::YieldOp>(nl, body(nb, nl, args));
                                        });
  return op.getResult(0);
}

SmallVector<AffineExpr> dimExprs(OpBuilder &b, unsigned count) {
  SmallVector<AffineExpr> exprs;
  for (unsigned i = 0; i < count; ++i)
    exprs.push_back(b.getAffineDimExpr(i));
  return exprs;
}

/// An elementwise generic over `resultType`; `channelInputs` are per-channel vectors broadcast along dim 1.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange fullInputs,
                  ValueRange channelInputs, function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  unsigned rank = resultType.getRank();
  SmallVector<SmallVector<AffineExpr>> exprs(fullInputs.size(), dimExprs(b, rank));
  for (size_t i = 0; i < channelInputs.size(); ++i)
    exprs.push_back({b.getAffineDimExpr(1)});
  SmallVector<Value> inputs(fullInputs);
  inputs.append(channelInputs.begin(), channelInputs.end());
  Value init = b.create<tensor::EmptyOp>(loc, resultType.getShape(), resultType.getElementType());
  SmallVector<IteratorType> iterators(rank, kParallel);
  return generic(b, loc, resultType, inputs, init, exprs, dimExprs(b, rank), iterators, body);
}

/// The initial accumulator of a conv or dense layer: its bias broadcast along dim 1, or zeros.
Value biasOrZeros(OpBuilder &b, Location loc, RankedTensorType resultType, Value bias) {
  if (!bias)
    return filled(b, loc, resultType, 0.0);
  return elementwise(b, loc, resultType, {}, {bias}, [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

/// The body of conv and dense: acc + x * w. Reassociation lets LLVM vectorise reductions (the dense dot
/// product) and contraction makes an FMA; both stay within the 1e-5 tolerance against the interpreter.
Value multiplyAccumulate(OpBuilder &b, Location loc, ValueRange a) {
  auto flags = arith::FastMathFlagsAttr::get(b.getContext(),
                                             arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
  Value product = b.create<arith::MulFOp>(loc, a[0], a[1], flags);
  return b.create<arith::AddFOp>(loc, a[2], product, flags);
}

bool staticShapes(Operation *op) {
  for (Type t : op->getOperandTypes())
    if (!cast<RankedTensorType>(t).hasStaticShape())
      return false;
  return cast<RankedTensorType>(op->getResult(0).getType()).hasStaticShape();
}

template <typename OpType> struct SeqPattern : OpRewritePattern<OpType> {
  using OpRewritePattern<OpType>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpType op, PatternRewriter &rewriter) const final {
    if (!staticShapes(op))
      return rewriter.notifyMatchFailure(op, "lowering needs static shapes");
    Value lowered = lower(op, rewriter);
    rewriter.replaceOp(op, lowered);
    return success();
  }
  virtual Value lower(OpType op, PatternRewriter &b) const = 0;
};

struct Conv1dLowering : SeqPattern<seq::Conv1dOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::Conv1dOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    auto inputType = tensorType(input);
    auto weightType = tensorType(op.getWeight());
    int64_t width = weightType.getDimSize(2);
    int64_t stride = op.getStride(), dilation = op.getDilation();
    if (op.getPadding() == "same") {
      int64_t length = inputType.getDimSize(2);
      int64_t total = samePaddingTotal(length, width, stride, dilation);
      if (total > 0) {
        int64_t left = samePaddingLeft(length, width, stride, dilation);
        auto paddedType = RankedTensorType::get({inputType.getDimSize(0), inputType.getDimSize(1), length + total},
                                                inputType.getElementType());
        Value zeros = filled(b, loc, paddedType, 0.0);
        SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), b.getIndexAttr(0), b.getIndexAttr(left)};
        SmallVector<OpFoldResult> sizes;
        for (int64_t d : inputType.getShape())
          sizes.push_back(b.getIndexAttr(d));
        SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
        input = b.create<tensor::InsertSliceOp>(loc, input, zeros, offsets, sizes, strides);
      }
    }
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
  return generic(b, loc, vectorType, {sum}, b.create<tensor::EmptyOp>(loc, vectorType.getShape(),
                                                                      vectorType.getElementType()),
                 {{b.getAffineDimExpr(0)}}, {b.getAffineDimExpr(0)}, {kParallel},
                 [&](OpBuilder &nb, Location nl, ValueRange a) {
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
    Type elementType = tensorType(op.getInput()).getElementType();
    Value eps = constantFloat(b, loc, elementType, op.getEps().convertToDouble());
    return elementwise(b, loc, tensorType(op.getResult()), {op.getInput()},
                       {op.getWeight(), op.getBias(), mean, variance}, [&](OpBuilder &nb, Location nl, ValueRange a) {
                         Value centred = nb.create<arith::SubFOp>(nl, a[0], a[3]);
                         Value inverseStd = nb.create<math::RsqrtOp>(nl, nb.create<arith::AddFOp>(nl, a[4], eps));
                         Value scale = nb.create<arith::MulFOp>(nl, a[1], inverseStd);
                         return nb.create<math::FmaOp>(nl, centred, scale, a[2]).getResult();
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
  if (kind == "softplus") {
    // max(z, 0) + log1p(exp(-|z|)): no overflow for large |z|.
    Value negAbs = b.create<arith::NegFOp>(loc, b.create<math::AbsFOp>(loc, z));
    Value tail = b.create<math::Log1pOp>(loc, b.create<math::ExpOp>(loc, negAbs));
    return b.create<arith::AddFOp>(loc, b.create<arith::MaximumFOp>(loc, z, zero), tail);
  }
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
  Value window = b.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{size}, resultType.getElementType());
  Value pooled = generic(b, loc, resultType, {op.getInput(), window}, filled(b, loc, resultType, start),
                         {{n, c, l * stride + w}, {w}}, {n, c, l}, {kParallel, kParallel, kParallel, kReduction},
                         [&](OpBuilder &nb, Location nl, ValueRange a) {
                           if (isMax)
                             return nb.create<arith::MaximumFOp>(nl, a[2], a[0]).getResult();
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
                             return nb.create<arith::MaximumFOp>(nl, a[1], a[0]).getResult();
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
    Value result = b.create<tensor::EmptyOp>(loc, resultType.getShape(), resultType.getElementType());
    int64_t channelOffset = 0;
    for (Value input : op.getInputs()) {
      auto type = tensorType(input);
      SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)), sizes, strides(type.getRank(),
                                                                                           b.getIndexAttr(1));
      offsets[1] = b.getIndexAttr(channelOffset);
      for (int64_t d : type.getShape())
        sizes.push_back(b.getIndexAttr(d));
      result = b.create<tensor::InsertSliceOp>(loc, input, result, offsets, sizes, strides);
      channelOffset += type.getDimSize(1);
    }
    return result;
  }
};

struct ReverseComplementLowering : SeqPattern<seq::ReverseComplementOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::ReverseComplementOp op, PatternRewriter &b) const override {
    auto type = tensorType(op.getResult());
    AffineExpr n = b.getAffineDimExpr(0), c = b.getAffineDimExpr(1), l = b.getAffineDimExpr(2);
    Value init = b.create<tensor::EmptyOp>(op.getLoc(), type.getShape(), type.getElementType());
    return generic(b, op.getLoc(), type, {op.getInput()}, init,
                   {{n, -c + (type.getDimSize(1) - 1), -l + (type.getDimSize(2) - 1)}}, {n, c, l},
                   {kParallel, kParallel, kParallel}, [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }
};

struct SeqToLinalgPass : PassWrapper<SeqToLinalgPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(SeqToLinalgPass)
  StringRef getArgument() const override { return "convert-seq-to-linalg"; }
  StringRef getDescription() const override { return "Lower seq ops to linalg.generic and tensor ops"; }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, linalg::LinalgDialect, math::MathDialect, tensor::TensorDialect>();
  }
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<Conv1dLowering, BatchNormLowering, ActivationLowering, MaxPoolLowering, AvgPoolLowering,
                 GlobalMaxPoolLowering, GlobalAvgPoolLowering, DropoutLowering, FlattenLowering, DenseLowering,
                 AddLowering, ConcatLowering, ReverseComplementLowering>(&getContext());
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns), config);
    WalkResult remaining = getOperation().walk([](Operation *op) {
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
