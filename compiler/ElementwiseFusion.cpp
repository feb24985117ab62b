// Elementwise fusion that leaves contractions reading stored operands: see ElementwiseFusion.h.
#include "compiler/ElementwiseFusion.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace seqjit {

namespace {

/// Whether fusing the producer of `operand` into its consumer computes each of the producer's values once: the
/// producer has no other use, and the consumer runs no more iterations than the operand has elements. A max pool
/// reads each element of its non-overlapping windows once and takes its producer; a convolution reads each input
/// element once per filter and tap, and an elementwise op reads a per-channel vector once per batch row and
/// position: both keep their producers apart (batch norm's weight * rsqrt(variance + eps) runs once per channel, not
/// once per element).
bool fusesWithoutRecomputing(OpOperand *operand) {
  Operation *producer = operand->get().getDefiningOp();
  if (!producer || !producer->hasOneUse())
    return false;
  auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
  auto type = dyn_cast<ShapedType>(operand->get().getType());
  if (!consumer || !type || !type.hasStaticShape())
    return true;
  int64_t iterations = 1;
  for (int64_t extent : consumer.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(extent))
      return true;
    iterations *= extent;
  }
  return iterations <= type.getNumElements();
}

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
