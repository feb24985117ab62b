// Program ops -> linalg: the primitives, backward ops and losses of programs as linalg.generic and tensor ops.
#include "compiler/LinalgBuilders.h"
#include "compiler/SeqDialect.h"
#include "compiler/SeqToLinalg.h"
#include "dsl/ShapeFunctions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <algorithm>
#include <limits>

using namespace mlir;

namespace seqjit {
namespace {

/// The loop dimensions d0 ... d(rank - 1) other than `axes`: the map of a tensor reduced over (or broadcast
/// along) `axes`.
SmallVector<AffineExpr> dimsExcept(OpBuilder &b, unsigned rank, ArrayRef<int64_t> axes) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d = 0; d < rank; ++d)
    if (!llvm::is_contained(axes, static_cast<int64_t>(d)))
      exprs.push_back(b.getAffineDimExpr(d));
  return exprs;
}

/// Loop iterators over `rank` dimensions, reducing over `axes`.
SmallVector<utils::IteratorType> reducingOver(unsigned rank, ArrayRef<int64_t> axes) {
  SmallVector<utils::IteratorType> iterators(rank, kParallel);
  for (int64_t axis : axes)
    iterators[axis] = kReduction;
  return iterators;
}

Value add(OpBuilder &b, Location loc, Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }

struct MulLowering : SeqPattern<seq::MulOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::MulOp op, PatternRewriter &b) const override {
    return elementwise(
        b, op.getLoc(), op.getType(), {op.getLhs(), op.getRhs()}, {},
        [](OpBuilder &nb, Location nl, ValueRange a) { return nb.create<arith::MulFOp>(nl, a[0], a[1]).getResult(); });
  }
};

struct ReduceSumLowering : SeqPattern<seq::ReduceSumOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::ReduceSumOp op, PatternRewriter &b) const override {
    unsigned rank = tensorType(op.getInput()).getRank();
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    // float32 sums accumulate in float64: an L2 penalty over millions of weights, or a batch-norm statistic over
    // N * L positions, would otherwise lose about 1e-4 of its value to rounding.
    bool widen = type.getElementType().isF32();
    auto accumulatorType = widen ? RankedTensorType::get(type.getShape(), b.getF64Type()) : type;
    // An empty output map when every axis is reduced: a rank-0 result.
    Value sum = generic(b, loc, accumulatorType, {op.getInput()}, filled(b, loc, accumulatorType, 0.0),
                        {dimExprs(b, rank)}, dimsExcept(b, rank, op.getAxes()), reducingOver(rank, op.getAxes()),
                        [&](OpBuilder &nb, Location nl, ValueRange a) {
                          Value term = widen ? nb.create<arith::ExtFOp>(nl, nb.getF64Type(), a[0]) : a[0];
                          return add(nb, nl, a[1], term);
                        });
    if (!widen)
      return sum;
    unsigned resultRank = type.getRank();
    return generic(b, loc, type, {sum}, emptyTensor(b, loc, type), {dimExprs(b, resultRank)}, dimExprs(b, resultRank),
                   SmallVector<utils::IteratorType>(resultRank, kParallel),
                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                     return nb.create<arith::TruncFOp>(nl, type.getElementType(), a[0]).getResult();
                   });
  }
};

struct BroadcastLowering : SeqPattern<seq::BroadcastOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::BroadcastOp op, PatternRewriter &b) const override {
    unsigned rank = op.getType().getRank();
    return generic(b, op.getLoc(), op.getType(), {op.getInput()}, emptyTensor(b, op.getLoc(), op.getType()),
                   {dimsExcept(b, rank, op.getAxes())}, dimExprs(b, rank),
                   SmallVector<utils::IteratorType>(rank, kParallel),
                   [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }
};

/// Between a tensor and the 1-D tensor `flat` of its elements, either way: one reassociation group of every
/// dimension, or none for a rank-0 tensor (its one element).
Value throughFlat(OpBuilder &b, Location loc, Value source, RankedTensorType targetType) {
  auto sourceType = tensorType(source);
  int64_t shaped = std::max(sourceType.getRank(), targetType.getRank());
  SmallVector<ReassociationIndices> groups;
  if (std::min(sourceType.getRank(), targetType.getRank()) == 1)
    groups.push_back(llvm::to_vector(llvm::seq<int64_t>(0, shaped)));
  if (sourceType.getRank() > targetType.getRank())
    return b.create<tensor::CollapseShapeOp>(loc, targetType, source, groups);
  return b.create<tensor::ExpandShapeOp>(loc, targetType, source, groups);
}

/// Any row-major reshape as a collapse to 1-D and an expansion from it: both are views after bufferization
/// (no copy), and unlike one collapse or expand they need no common refinement of the two shapes.
struct ReshapeLowering : SeqPattern<seq::ReshapeOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::ReshapeOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto inputType = tensorType(op.getInput());
    if (inputType == op.getType())
      return op.getInput();
    auto flatType = RankedTensorType::get({inputType.getNumElements()}, inputType.getElementType());
    Value flat = inputType.getRank() == 1 ? op.getInput() : throughFlat(b, loc, op.getInput(), flatType);
    return op.getType().getRank() == 1 ? flat : throughFlat(b, loc, flat, op.getType());
  }
};

struct SliceLowering : SeqPattern<seq::SliceOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::SliceOp op, PatternRewriter &b) const override {
    return extractAlong(b, op.getLoc(), op.getInput(), op.getType(), static_cast<int64_t>(op.getAxis()),
                        static_cast<int64_t>(op.getOffset()));
  }
};

struct PadLowering : SeqPattern<seq::PadOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::PadOp op, PatternRewriter &b) const override {
    return placeInZeros(b, op.getLoc(), op.getInput(), op.getType(), static_cast<int64_t>(op.getAxis()),
                        static_cast<int64_t>(op.getOffset()));
  }
};

struct ConstantLowering : SeqPattern<seq::ConstantOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::ConstantOp op, PatternRewriter &b) const override {
    return b.create<arith::ConstantOp>(op.getLoc(), cast<TypedAttr>(op.getValue()));
  }
};

/// x - m - log(sum(exp(x - m))) with m the maximum along the axis: exp never overflows.
struct LogSoftmaxLowering : SeqPattern<seq::LogSoftmaxOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::LogSoftmaxOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    unsigned rank = type.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    SmallVector<AffineExpr> full = dimExprs(b, rank), row = dimsExcept(b, rank, axis);
    // The row map applied to the shape: the shape without the axis.
    auto rowType = RankedTensorType::get(AffineMap::get(rank, 0, row, b.getContext()).compose(type.getShape()),
                                         type.getElementType());
    SmallVector<utils::IteratorType> iterators = reducingOver(rank, axis);
    Value x = op.getInput();
    Value max =
        generic(b, loc, rowType, {x}, filled(b, loc, rowType, -std::numeric_limits<double>::infinity()), {full}, row,
                iterators, [](OpBuilder &nb, Location nl, ValueRange a) { return firstMaximum(nb, nl, a[1], a[0]); });
    Value sum = generic(b, loc, rowType, {x, max}, filled(b, loc, rowType, 0.0), {full, row}, row, iterators,
                        [](OpBuilder &nb, Location nl, ValueRange a) {
                          Value shifted = nb.create<arith::SubFOp>(nl, a[0], a[1]);
                          return add(nb, nl, a[2], nb.create<math::ExpOp>(nl, shifted));
                        });
    return generic(b, loc, type, {x, max, sum}, emptyTensor(b, loc, type), {full, row, row}, full,
                   SmallVector<utils::IteratorType>(rank, kParallel), [](OpBuilder &nb, Location nl, ValueRange a) {
                     Value shifted = nb.create<arith::SubFOp>(nl, a[0], a[1]);
                     return nb.create<arith::SubFOp>(nl, shifted, nb.create<math::LogOp>(nl, a[2])).getResult();
                   });
  }
};

struct StopGradientLowering : SeqPattern<seq::StopGradientOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::StopGradientOp op, PatternRewriter &) const override { return op.getInput(); }
};

/// r[..., i] = sum over j of sign(x[..., i] - x[..., j]): one more loop, j, reducing over the last axis.
struct SignedRankLowering : SeqPattern<seq::SignedRankOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::SignedRankOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    unsigned rank = type.getRank();
    SmallVector<AffineExpr> self = dimExprs(b, rank), other = self;
    other.back() = b.getAffineDimExpr(rank);
    SmallVector<utils::IteratorType> iterators(rank, kParallel);
    iterators.push_back(kReduction);
    return generic(b, loc, type, {op.getInput(), op.getInput()}, filled(b, loc, type, 0.0), {self, other}, self,
                   iterators, [](OpBuilder &nb, Location nl, ValueRange a) {
                     Type t = a[0].getType();
                     Value greater = nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OGT, a[0], a[1]);
                     Value less = nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OLT, a[0], a[1]);
                     Value one = constantFloat(nb, nl, t, 1.0), zero = constantFloat(nb, nl, t, 0.0);
                     Value up = nb.create<arith::SelectOp>(nl, greater, one, zero);
                     Value down = nb.create<arith::SelectOp>(nl, less, one, zero);
                     return add(nb, nl, a[2], nb.create<arith::SubFOp>(nl, up, down));
                   });
  }
};

/// max(z, 0) - z y + log1p(exp(-|z|)), in that order: for a confident right logit (y = 1, large z) max(z, 0) - z y
/// cancels exactly first, so the small loss survives.
struct BceWithLogitsLowering : SeqPattern<seq::BceWithLogitsOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::BceWithLogitsOp op, PatternRewriter &b) const override {
    return elementwise(b, op.getLoc(), op.getType(), {op.getLogits(), op.getLabels()}, {},
                       [](OpBuilder &nb, Location nl, ValueRange a) {
                         Value zero = constantFloat(nb, nl, a[0].getType(), 0.0);
                         Value positivePart = nb.create<arith::MaximumFOp>(nl, a[0], zero);
                         Value linear =
                             nb.create<arith::SubFOp>(nl, positivePart, nb.create<arith::MulFOp>(nl, a[0], a[1]));
                         return add(nb, nl, linear, softplusTail(nb, nl, a[0]));
                       });
  }
};

/// dx[n, c, i] = sum over f, k, o with o * stride + k * dilation - padLeft == i of dy[n, f, o] * w[f, c, k].
/// Gathered rather than scattered: dy is spread to every stride-th position of a zero tensor, shifted right by
/// `shift`, so that dx[i] reads spread[i + padLeft - k * dilation + shift], always in bounds; the stride's
/// zeros cost multiplications, not correctness. Loops (n, c, f, k, i): the position innermost and unit-stride.
struct Conv1dInputGradLowering : SeqPattern<seq::Conv1dInputGradOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::Conv1dInputGradOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto dyType = tensorType(op.getOutputGrad());
    auto resultType = op.getType();
    int64_t outLength = dyType.getDimSize(2), length = resultType.getDimSize(2);
    int64_t width = tensorType(op.getWeight()).getDimSize(2);
    int64_t stride = op.getStride(), dilation = op.getDilation();
    int64_t padLeft = op.getPadding() == "same" ? samePaddingLeft(length, width, stride, dilation) : 0;
    int64_t shift = std::max<int64_t>(0, (width - 1) * dilation - padLeft);
    int64_t spreadLength = std::max(length + padLeft + shift, (outLength - 1) * stride + shift + 1);
    auto spreadType =
        RankedTensorType::get({dyType.getDimSize(0), dyType.getDimSize(1), spreadLength}, dyType.getElementType());
    Value spread = placeInZeros(b, loc, op.getOutputGrad(), spreadType, 2, shift, stride);
    AffineExpr n = b.getAffineDimExpr(0), c = b.getAffineDimExpr(1), f = b.getAffineDimExpr(2),
               k = b.getAffineDimExpr(3), i = b.getAffineDimExpr(4);
    return generic(b, loc, resultType, {spread, op.getWeight()}, filled(b, loc, resultType, 0.0),
                   {{n, f, i - k * dilation + (padLeft + shift)}, {f, c, k}}, {n, c, i},
                   {kParallel, kParallel, kReduction, kReduction, kParallel}, multiplyAccumulate);
  }
};

/// dw[f, c, k] = sum over n, o of x[n, c, o * stride + k * dilation - padLeft] * dy[n, f, o], on the input padded
/// as the forward conv pads it. Loops (f, c, k, n, o).
struct Conv1dWeightGradLowering : SeqPattern<seq::Conv1dWeightGradOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::Conv1dWeightGradOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto resultType = op.getType();
    int64_t stride = op.getStride(), dilation = op.getDilation();
    Value input = conv1dPaddedInput(b, loc, op.getInput(), op.getPadding(), resultType.getDimSize(2), stride, dilation);
    AffineExpr f = b.getAffineDimExpr(0), c = b.getAffineDimExpr(1), k = b.getAffineDimExpr(2),
               n = b.getAffineDimExpr(3), o = b.getAffineDimExpr(4);
    return generic(b, loc, resultType, {input, op.getOutputGrad()}, filled(b, loc, resultType, 0.0),
                   {{n, c, o * stride + k * dilation}, {n, f, o}}, {f, c, k},
                   {kParallel, kParallel, kParallel, kReduction, kReduction}, multiplyAccumulate);
  }
};

/// dx[n, f] = sum over u of dy[n, u] * w[u, f]. Loops (n, u, f): the feature innermost and unit-stride in w.
struct DenseInputGradLowering : SeqPattern<seq::DenseInputGradOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::DenseInputGradOp op, PatternRewriter &b) const override {
    AffineExpr n = b.getAffineDimExpr(0), u = b.getAffineDimExpr(1), f = b.getAffineDimExpr(2);
    return generic(b, op.getLoc(), op.getType(), {op.getOutputGrad(), op.getWeight()},
                   filled(b, op.getLoc(), op.getType(), 0.0), {{n, u}, {u, f}}, {n, f},
                   {kParallel, kReduction, kParallel}, multiplyAccumulate);
  }
};

/// dw[u, f] = sum over n of dy[n, u] * x[n, f]. Loops (u, n, f): the feature innermost.
struct DenseWeightGradLowering : SeqPattern<seq::DenseWeightGradOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::DenseWeightGradOp op, PatternRewriter &b) const override {
    AffineExpr u = b.getAffineDimExpr(0), n = b.getAffineDimExpr(1), f = b.getAffineDimExpr(2);
    return generic(b, op.getLoc(), op.getType(), {op.getOutputGrad(), op.getInput()},
                   filled(b, op.getLoc(), op.getType(), 0.0), {{n, u}, {n, f}}, {u, f},
                   {kParallel, kReduction, kParallel}, multiplyAccumulate);
  }
};

/// The element type of the positions a max pool's gradient picks in `input`: its float type where that holds every
/// position exactly, else i64. The gradient then compares floats, and x86 selects on a float comparison with a mask
/// where it branches on an integer one (a scalar float select), mispredicting at random maxima.
Type positionType(RankedTensorType input) {
  auto element = cast<FloatType>(input.getElementType());
  if (input.getDimSize(2) <= (int64_t{1} << element.getFPMantissaWidth()))
    return element;
  return IntegerType::get(input.getContext(), 64);
}

/// `index` as a position of `type` (positionType's).
Value positionOf(OpBuilder &b, Location loc, Value index, Type type) {
  Value integer = b.create<arith::IndexCastOp>(loc, b.getI64Type(), index);
  return isa<FloatType>(type) ? b.create<arith::UIToFPOp>(loc, type, integer).getResult() : integer;
}

/// Whether the picked position `picked` is `index`.
Value isPosition(OpBuilder &b, Location loc, Value picked, Value index) {
  Value position = positionOf(b, loc, index, picked.getType());
  if (isa<FloatType>(picked.getType()))
    return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, picked, position);
  return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, picked, position);
}

/// Per pool window of `input` (loops n, c, o, w over input[n, c, o * stride + w]), at the window's first maximum:
/// the element of `values`, or, without `values`, the position (of positionType). The first element of a window is
/// taken whatever it is (even -inf), and a later one only if strictly greater: the lowest index wins ties, as in
/// PyTorch.
Value atFirstMaximum(OpBuilder &b, Location loc, Value input, Value values, int64_t size, int64_t stride) {
  auto inputType = tensorType(input);
  auto windowsType = RankedTensorType::get(
      {inputType.getDimSize(0), inputType.getDimSize(1), (inputType.getDimSize(2) - size) / stride + 1},
      inputType.getElementType());
  Type pickedElement = values ? tensorType(values).getElementType() : positionType(inputType);
  auto pickedType = RankedTensorType::get(windowsType.getShape(), pickedElement);
  AffineExpr n = b.getAffineDimExpr(0), c = b.getAffineDimExpr(1), o = b.getAffineDimExpr(2), w = b.getAffineDimExpr(3);
  SmallVector<AffineExpr> windowElement{n, c, o * stride + w};
  // The window dimension's extent comes from a size-only operand so that linalg can infer the loop bound.
  SmallVector<Value> inputs{input, emptyTensor(b, loc, RankedTensorType::get({size}, inputType.getElementType()))};
  SmallVector<SmallVector<AffineExpr>> exprs{windowElement, {w}};
  if (values) {
    inputs.push_back(values);
    exprs.push_back(windowElement);
  }
  SmallVector<AffineExpr> window{n, c, o};
  exprs.append({window, window});
  Value inits[] = {filled(b, loc, windowsType, -std::numeric_limits<double>::infinity()),
                   filled(b, loc, pickedType, cast<TypedAttr>(b.getZeroAttr(pickedElement)))};
  auto op = genericOp(b, loc, {windowsType, pickedType}, inputs, inits, exprs,
                      {kParallel, kParallel, kParallel, kReduction}, [&](OpBuilder &nb, Location nl, ValueRange a) {
                        Value best = a[a.size() - 2], picked = a.back();
                        Value offset = nb.create<linalg::IndexOp>(nl, 3);
                        Value first = nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::eq, offset,
                                                               nb.create<arith::ConstantIndexOp>(nl, 0));
                        Value greater = nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OGT, a[0], best);
                        Value take = nb.create<arith::OrIOp>(nl, first, greater);
                        Value candidate = a[2];
                        if (!values) {
                          Value start = nb.create<arith::MulIOp>(nl, nb.create<linalg::IndexOp>(nl, 2),
                                                                 nb.create<arith::ConstantIndexOp>(nl, stride));
                          Value position = nb.create<arith::AddIOp>(nl, start, offset);
                          candidate = positionOf(nb, nl, position, pickedElement);
                        }
                        return SmallVector<Value>{nb.create<arith::SelectOp>(nl, take, a[0], best),
                                                  nb.create<arith::SelectOp>(nl, take, candidate, picked)};
                      });
  return op.getResult(1);
}

struct MaxPool1dSelectLowering : SeqPattern<seq::MaxPool1dSelectOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::MaxPool1dSelectOp op, PatternRewriter &b) const override {
    return atFirstMaximum(b, op.getLoc(), op.getInput(), op.getValues(), op.getSize(), op.getStride());
  }
};

/// How many pool windows can contain one position i: those starting at o = i / stride - j for j < reach (the
/// pool backward ops gather from these rather than scatter from the windows).
int64_t windowReach(int64_t size, int64_t stride) { return (size + stride - 1) / stride; }

/// The index of window i / stride - j in a tensor padded by padWindows.
AffineExpr windowOfPosition(AffineExpr i, AffineExpr j, int64_t size, int64_t stride) {
  return i.floorDiv(stride) - j + (windowReach(size, stride) - 1);
}

/// `perWindow` (N, C, Lout) with reach - 1 zero windows in front and enough behind that windowOfPosition is in
/// bounds for every position below `length`.
Value padWindows(OpBuilder &b, Location loc, Value perWindow, int64_t length, int64_t size, int64_t stride) {
  int64_t front = windowReach(size, stride) - 1;
  auto type = tensorType(perWindow);
  int64_t windows = std::max(type.getDimSize(2), (length - 1) / stride + 1);
  auto paddedType =
      RankedTensorType::get({type.getDimSize(0), type.getDimSize(1), front + windows}, type.getElementType());
  return placeInZeros(b, loc, perWindow, paddedType, 2, front);
}

/// Windows that do not overlap (stride = size): dx viewed as (n, c, window o, offset w) is dy[n, c, o] where
/// o * size + w is the window's first maximum and 0 elsewhere, every element written once by a parallel, branch-free
/// loop nest; the positions no window covers (a length that is not a multiple of the size) are zeros around it.
Value maxPoolGradOfDisjointWindows(OpBuilder &b, Location loc, Value outputGrad, Value positions,
                                   RankedTensorType resultType, int64_t size) {
  auto windowsType = tensorType(outputGrad);
  int64_t windows = windowsType.getDimSize(2);
  auto blockType = RankedTensorType::get({windowsType.getDimSize(0), windowsType.getDimSize(1), windows, size},
                                         resultType.getElementType());
  AffineExpr n = b.getAffineDimExpr(0), c = b.getAffineDimExpr(1), o = b.getAffineDimExpr(2);
  SmallVector<AffineExpr> window{n, c, o};
  Value blocks = generic(
      b, loc, blockType, {outputGrad, positions}, emptyTensor(b, loc, blockType), {window, window}, dimExprs(b, 4),
      {kParallel, kParallel, kParallel, kParallel}, [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value start = nb.create<arith::MulIOp>(nl, nb.create<linalg::IndexOp>(nl, 2),
                                               nb.create<arith::ConstantIndexOp>(nl, size));
        Value position = nb.create<arith::AddIOp>(nl, start, nb.create<linalg::IndexOp>(nl, 3));
        Value hit = isPosition(nb, nl, a[1], position);
        return nb.create<arith::SelectOp>(nl, hit, a[0], constantFloat(nb, nl, resultType.getElementType(), 0.0));
      });
  auto coveredType = RankedTensorType::get({resultType.getDimSize(0), resultType.getDimSize(1), windows * size},
                                           resultType.getElementType());
  Value covered =
      b.create<tensor::CollapseShapeOp>(loc, coveredType, blocks, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  return coveredType == resultType ? covered : placeInZeros(b, loc, covered, resultType, 2, 0);
}

/// dx[n, c, i] = sum of dy[n, c, o] over the windows o whose first maximum is at i: the windows' positions from
/// atFirstMaximum, then, where windows overlap, a gather over the windows that can contain i. Padded windows carry a
/// zero cotangent.
struct MaxPool1dGradLowering : SeqPattern<seq::MaxPool1dGradOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::MaxPool1dGradOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto resultType = op.getType();
    int64_t size = op.getSize(), stride = op.getStride(), length = resultType.getDimSize(2);
    Value positions = atFirstMaximum(b, loc, op.getInput(), Value(), size, stride);
    if (stride == size)
      return maxPoolGradOfDisjointWindows(b, loc, op.getOutputGrad(), positions, resultType, size);
    AffineExpr n = b.getAffineDimExpr(0), c = b.getAffineDimExpr(1), i = b.getAffineDimExpr(2),
               j = b.getAffineDimExpr(3);
    Value grads = padWindows(b, loc, op.getOutputGrad(), length, size, stride);
    Value paddedPositions = padWindows(b, loc, positions, length, size, stride);
    // The j dimension's extent comes from a size-only operand so that linalg can infer the loop bound.
    Value reach = emptyTensor(b, loc, RankedTensorType::get({windowReach(size, stride)}, resultType.getElementType()));
    SmallVector<AffineExpr> window{n, c, windowOfPosition(i, j, size, stride)};
    return generic(b, loc, resultType, {grads, paddedPositions, reach}, filled(b, loc, resultType, 0.0),
                   {window, window, {j}}, {n, c, i}, {kParallel, kParallel, kParallel, kReduction},
                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                     Value hit = isPosition(nb, nl, a[1], nb.create<linalg::IndexOp>(nl, 2));
                     Value zero = constantFloat(nb, nl, resultType.getElementType(), 0.0);
                     return add(nb, nl, a[3], nb.create<arith::SelectOp>(nl, hit, a[0], zero));
                   });
  }
};

/// dx[n, c, i] = sum over the windows o containing i of dy[n, c, o] / size. Window o = i / stride - j contains i
/// iff i % stride + j * stride < size: a constant [stride, reach] of 1 / size or 0 says so, read at
/// (i % stride, j), which keeps the body a multiply-accumulate.
struct AvgPool1dGradLowering : SeqPattern<seq::AvgPool1dGradOp> {
  using SeqPattern::SeqPattern;
  Value lower(seq::AvgPool1dGradOp op, PatternRewriter &b) const override {
    Location loc = op.getLoc();
    auto resultType = op.getType();
    Type elementType = resultType.getElementType();
    int64_t size = op.getSize(), stride = op.getStride(), reach = windowReach(size, stride);
    AffineExpr n = b.getAffineDimExpr(0), c = b.getAffineDimExpr(1), i = b.getAffineDimExpr(2),
               j = b.getAffineDimExpr(3);
    Value grads = padWindows(b, loc, op.getOutputGrad(), resultType.getDimSize(2), size, stride);
    auto weightsType = RankedTensorType::get({stride, reach}, elementType);
    SmallVector<Attribute> weights;
    for (int64_t r = 0; r < stride; ++r)
      for (int64_t k = 0; k < reach; ++k)
        weights.push_back(b.getFloatAttr(elementType, r + k * stride < size ? 1.0 / static_cast<double>(size) : 0.0));
    Value weightTable = b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(weightsType, weights));
    return generic(b, loc, resultType, {grads, weightTable}, filled(b, loc, resultType, 0.0),
                   {{n, c, windowOfPosition(i, j, size, stride)}, {i % stride, j}}, {n, c, i},
                   {kParallel, kParallel, kParallel, kReduction}, multiplyAccumulate);
  }
};

} // namespace

void populateProgramOpsToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<MulLowering, ReduceSumLowering, BroadcastLowering, ReshapeLowering, SliceLowering, PadLowering,
               ConstantLowering, LogSoftmaxLowering, StopGradientLowering, SignedRankLowering, BceWithLogitsLowering,
               Conv1dInputGradLowering, Conv1dWeightGradLowering, DenseInputGradLowering, DenseWeightGradLowering,
               MaxPool1dSelectLowering, MaxPool1dGradLowering, AvgPool1dGradLowering>(patterns.getContext());
}

} // namespace seqjit
