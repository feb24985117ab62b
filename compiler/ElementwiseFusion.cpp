// Elementwise fusion that leaves contractions reading stored operands: see ElementwiseFusion.h.
#include "compiler/ElementwiseFusion.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace seqjit {

namespace {

/// How many iterations `op`'s loops run, where their extents are static.
std::optional<int64_t> iterationCount(linalg::LinalgOp op) {
  int64_t iterations = 1;
  for (int64_t extent : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(extent))
      return std::nullopt;
    iterations *= extent;
  }
  return iterations;
}

/// Whether the consumer of `operand` runs no more iterations than the operand has elements. A max pool reads each
/// element of its non-overlapping windows once and takes its producer; a convolution reads each input element once
/// per filter and tap, and an elementwise op reads a per-channel vector once per batch row and position: both keep
/// their producers apart (batch norm's weight * rsqrt(variance + eps) runs once per channel, not once per element).
bool readsEachElementOnce(OpOperand *operand) {
  auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
  auto type = dyn_cast<ShapedType>(operand->get().getType());
  if (!consumer || !type || !type.hasStaticShape())
    return true;
  std::optional<int64_t> iterations = iterationCount(consumer);
  return !iterations || *iterations <= type.getNumElements();
}

/// Whether fusing the producer of `operand` into its consumer computes each of the producer's values once: the
/// producer has no other use, and the consumer reads each of its elements once.
bool fusesWithoutRecomputing(OpOperand *operand) {
  Operation *producer = operand->get().getDefiningOp();
  return producer && producer->hasOneUse() && readsEachElementOnce(operand);
}

/// Whether computing `producer` again inside each of its consumers costs less than storing its result and reading it
/// back: an elementwise op of at most four arithmetic operations (no exp, log or rsqrt), reading at most one operand
/// as large as its result (the others per channel or scalars: a broadcast, x - mean, g * scale + shift). Each consumer
/// then reads that one operand instead of the stored result, and the store and its pass over memory go.
bool isCheapToRecompute(linalg::GenericOp producer) {
  if (producer->getNumResults() != 1 || !producer.hasPureTensorSemantics() ||
      producer.getNumParallelLoops() != producer.getNumLoops())
    return false;
  std::optional<int64_t> iterations = iterationCount(producer);
  if (!iterations)
    return false;
  int wholeOperands = 0;
  for (OpOperand *input : producer.getDpsInputOperands()) {
    auto type = dyn_cast<ShapedType>(input->get().getType());
    if (!type || !type.hasStaticShape())
      return false;
    wholeOperands += type.getNumElements() >= *iterations;
  }
  if (wholeOperands > 1 || producer.payloadUsesValueFromOperand(producer.getDpsInitOperand(0)))
    return false;
  int operations = 0;
  for (Operation &op : producer.getBody()->without_terminator()) {
    if (!isa<arith::ArithDialect>(op.getDialect()))
      return false;
    ++operations;
  }
  return operations <= 4;
}

/// Gives a consumer its own copy of a cheap producer that has other uses (see isCheapToRecompute), where the
/// consumer reads each of its elements once, so that elementwise fusion can take the copy.
struct DuplicateCheapProducer : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp consumer, PatternRewriter &rewriter) const override {
    for (OpOperand *operand : consumer.getDpsInputOperands()) {
      auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
      if (!producer || producer->hasOneUse() || !isCheapToRecompute(producer) || !readsEachElementOnce(operand) ||
          !linalg::areElementwiseOpsFusable(operand))
        continue;
      rewriter.setInsertionPoint(producer);
      Operation *copy = rewriter.clone(*producer);
      rewriter.modifyOpInPlace(consumer, [&] { operand->set(copy->getResult(0)); });
      return success();
    }
    return failure();
  }
};

struct FuseElementwiseOpsPass : PassWrapper<FuseElementwiseOpsPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FuseElementwiseOpsPass)
  StringRef getArgument() const override { return "seqjit-fuse-elementwise-ops"; }
  StringRef getDescription() const override {
    return "Linalg elementwise fusion, except where the consumer would recompute the producer";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<affine::AffineDialect, linalg::LinalgDialect, tensor::TensorDialect>();
  }
  // The patterns of MLIR's linalg-fuse-elementwise-ops, with the control function above.
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns, fusesWithoutRecomputing);
    patterns.add<DuplicateCheapProducer>(context);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, fusesWithoutRecomputing);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, context);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, fusesWithoutRecomputing);
    GreedyRewriteConfig config;
    config.useTopDownTraversal = true;
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns), config); // as MLIR's pass: best effort
  }
};

} // namespace

std::unique_ptr<Pass> createFuseElementwiseOpsPass() { return std::make_unique<FuseElementwiseOpsPass>(); }

void registerFuseElementwiseOpsPass() { PassRegistration<FuseElementwiseOpsPass>(); }

} // namespace seqjit
