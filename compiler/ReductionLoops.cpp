// Reductions as loops that carry their accumulators: see ReductionLoops.h.
#include "compiler/ReductionLoops.h"

#include "compiler/BufferAccess.h"
#include "compiler/InitialFill.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace seqjit {

namespace {

/// The index of `op`'s first reduction loop if every loop after it is a reduction too and the op can be rewritten
/// (see the header), else none.
std::optional<unsigned> innermostReductions(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumReductionLoops() == 0)
    return std::nullopt;
  if (llvm::any_of(op.getStaticLoopRanges(), [](int64_t extent) { return ShapedType::isDynamic(extent); }))
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  const unsigned first = op.getNumParallelLoops();
  for (unsigned d = 0; d < iterators.size(); ++d)
    if ((d >= first) != (iterators[d] == utils::IteratorType::reduction))
      return std::nullopt;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    if (!map.isProjectedPermutation() || llvm::any_of(map.getResults(), [&](AffineExpr result) {
          return cast<AffineDimExpr>(result).getPosition() >= first;
        }))
      return std::nullopt;
    for (OpOperand *input : op.getDpsInputOperands())
      if (isa<MemRefType>(input->get().getType()) && underlyingBuffer(input->get()) == underlyingBuffer(init.get()))
        return std::nullopt;
  }
  return first;
}

/// The element of `operand` at the loop indices `ivs`, or the operand itself if it is a scalar.
Value elementAt(OpBuilder &b, Location loc, linalg::GenericOp op, OpOperand &operand, ValueRange ivs) {
  if (!isa<MemRefType>(operand.get().getType()))
    return operand.get();
  std::optional<SmallVector<Value, 8>> indices =
      affine::expandAffineMap(b, loc, op.getMatchingIndexingMap(&operand), ivs);
  return b.create<memref::LoadOp>(loc, operand.get(), *indices);
}

void rewrite(linalg::GenericOp op, unsigned firstReduction) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  SmallVector<int64_t> extents = op.getStaticLoopRanges();
  auto constants = [&](ArrayRef<int64_t> values) {
    SmallVector<Value> result;
    for (int64_t value : values)
      result.push_back(b.create<arith::ConstantIndexOp>(loc, value));
    return result;
  };
  const unsigned loops = extents.size();
  SmallVector<Value> zeros = constants(SmallVector<int64_t>(loops, 0)),
                     ones = constants(SmallVector<int64_t>(loops, 1)), bounds = constants(extents);
  auto parallelPart = [&](SmallVector<Value> &values) { return ValueRange(values).take_front(firstReduction); };
  auto reductionPart = [&](SmallVector<Value> &values) { return ValueRange(values).drop_front(firstReduction); };
  Block &body = *op.getBlock();
  const unsigned inputs = op.getNumDpsInputs();
  // An output filled with a constant just for this op starts at the constant, and the fill goes.
  SmallVector<linalg::FillOp> fills;
  for (OpOperand &init : op.getDpsInitsMutable())
    fills.push_back(initialFill(op, init));
  auto emit = [&](OpBuilder &pb, ValueRange parallelIvs) {
    SmallVector<Value> ivs(parallelIvs.begin(), parallelIvs.end());
    ivs.resize(loops);
    SmallVector<Value> initial;
    for (auto [init, fill] : llvm::zip_equal(op.getDpsInitsMutable(), fills))
      initial.push_back(fill ? fill.getInputs()[0] : elementAt(pb, loc, op, init, ivs));
    scf::LoopNest nest =
        scf::buildLoopNest(pb, loc, reductionPart(zeros), reductionPart(bounds), reductionPart(ones), initial,
                           [&](OpBuilder &ib, Location, ValueRange reductionIvs, ValueRange accumulators) {
                             llvm::copy(reductionIvs, ivs.begin() + firstReduction);
                             IRMapping mapping;
                             for (unsigned i = 0; i < inputs; ++i)
                               mapping.map(body.getArgument(i), elementAt(ib, loc, op, *op.getDpsInputOperand(i), ivs));
                             for (auto [i, accumulator] : llvm::enumerate(accumulators))
                               mapping.map(body.getArgument(inputs + i), accumulator);
                             for (Operation &inner : body.without_terminator()) {
                               if (auto index = dyn_cast<linalg::IndexOp>(inner))
                                 mapping.map(index.getResult(), ivs[index.getDim()]);
                               else
                                 ib.clone(inner, mapping);
                             }
                             scf::ValueVector results;
                             for (Value yielded : body.getTerminator()->getOperands())
                               results.push_back(mapping.lookupOrDefault(yielded));
                             return results;
                           });
    for (auto [init, result] : llvm::zip_equal(op.getDpsInitsMutable(), nest.results)) {
      std::optional<SmallVector<Value, 8>> indices =
          affine::expandAffineMap(pb, loc, op.getMatchingIndexingMap(&init), ivs);
      pb.create<memref::StoreOp>(loc, result, init.get(), *indices);
    }
  };
  if (firstReduction == 0)
    emit(b, {});
  else
    b.create<scf::ParallelOp>(loc, parallelPart(zeros), parallelPart(bounds), parallelPart(ones),
                              [&](OpBuilder &pb, Location, ValueRange ivs) { emit(pb, ivs); });
  op.erase();
  for (linalg::FillOp fill : fills)
    if (fill)
      fill.erase();
}

struct ReductionLoopsPass : PassWrapper<ReductionLoopsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ReductionLoopsPass)
  StringRef getArgument() const override { return "seqjit-reduction-loops"; }
  StringRef getDescription() const override {
    return "Innermost reductions of linalg.generic ops on buffers as loops that carry their accumulators";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<affine::AffineDialect, arith::ArithDialect, memref::MemRefDialect, scf::SCFDialect>();
  }
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, unsigned>> reductions;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<unsigned> first = innermostReductions(op))
        reductions.emplace_back(op, *first);
    });
    for (auto [op, first] : reductions)
      rewrite(op, first);
  }
};

} // namespace

std::unique_ptr<Pass> createReductionLoopsPass() { return std::make_unique<ReductionLoopsPass>(); }

void registerReductionLoopsPass() { PassRegistration<ReductionLoopsPass>(); }

} // namespace seqjit
