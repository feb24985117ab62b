// seqjit-memref-copies-to-linalg, seqjit-map-loops-to-gpu and seqjit-check-host-memory-access: see the header.
#include "compiler/GpuLoopMapping.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace seqjit {

namespace {

/// Whether `op` (or an op nested in it) reads or writes the contents of a buffer. Allocation, deallocation and views
/// do not; kernel launches run on the device and do not count; a host stack allocation and an op that does not
/// declare its effects do.
bool touchesBufferContents(Operation *op) {
  if (isa<gpu::LaunchFuncOp, gpu::LaunchOp>(op))
    return false;
  if (isa<memref::AllocaOp>(op)) // host stack memory, which a kernel cannot reach
    return true;
  if (!isa<MemoryEffectOpInterface>(op) && !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
    return true; // effects unknown (a call): assume the worst
  if (auto effects = dyn_cast<MemoryEffectOpInterface>(op)) {
    SmallVector<MemoryEffects::EffectInstance> instances;
    effects.getEffects(instances);
    for (const MemoryEffects::EffectInstance &instance : instances)
      if (isa<MemoryEffects::Read, MemoryEffects::Write>(instance.getEffect()) &&
          (!instance.getValue() || isa<BaseMemRefType>(instance.getValue().getType())))
        return true;
  }
  if (op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
    for (Region &region : op->getRegions())
      for (Operation &nested : region.getOps())
        if (touchesBufferContents(&nested))
          return true;
  return false;
}

/// scf.parallel (i) = 0 to upperBound; the bounds of a loop nested in a mapped one must be defined above the
/// outermost, so the constants are created by the caller there.
scf::ParallelOp createOneDimensionalLoop(OpBuilder &builder, Location loc, Value zero, Value upperBound, Value one) {
  return builder.create<scf::ParallelOp>(loc, ValueRange{zero}, ValueRange{upperBound}, ValueRange{one});
}

LogicalResult mapTo(scf::ParallelOp loop, ArrayRef<gpu::Processor> processors) {
  MLIRContext *context = loop.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(1, context);
  SmallVector<gpu::ParallelLoopDimMappingAttr> mapping;
  for (gpu::Processor processor : processors)
    mapping.push_back(gpu::ParallelLoopDimMappingAttr::get(context, processor, identity, identity));
  return gpu::setMappingAttr(loop, mapping);
}

/// Parallel loops nested in a mapped one run sequentially inside its threads.
LogicalResult mapNestedLoopsSequential(Operation *root) {
  WalkResult result = root->walk([](scf::ParallelOp nested) {
    SmallVector<gpu::Processor> sequential(nested.getNumLoops(), gpu::Processor::Sequential);
    return failed(mapTo(nested, sequential)) ? WalkResult::interrupt() : WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

/// scf.parallel (i0, ..., in) = lb to ub step s { body }  becomes
///   scf.parallel (block) = 0 to ceil(total / blockSize) { scf.parallel (thread) = 0 to blockSize {
///     flat = block * blockSize + thread; if flat < total { (i0, ..., in) = unflatten(flat); body } } }
/// with the last dimension varying fastest.
LogicalResult collapseAndTile(scf::ParallelOp loop, int64_t blockSize) {
  if (loop.getNumReductions() != 0) // linalg's lowering never makes these; a reduction needs its own mapping
    return loop.emitError("seqjit-map-loops-to-gpu: a parallel loop with reductions is not supported");
  OpBuilder builder(loop);
  Location loc = loop.getLoc();
  auto index = [&](int64_t value) -> Value { return builder.create<arith::ConstantIndexOp>(loc, value); };
  unsigned rank = loop.getNumLoops();
  SmallVector<Value> extents;
  Value total = index(1);
  for (unsigned d = 0; d < rank; ++d) {
    // Folded where the bounds are constants, as they are in seqjit's programs.
    Value span = builder.createOrFold<arith::SubIOp>(loc, loop.getUpperBound()[d], loop.getLowerBound()[d]);
    Value extent = builder.createOrFold<arith::CeilDivUIOp>(loc, span, loop.getStep()[d]);
    extents.push_back(extent);
    total = builder.createOrFold<arith::MulIOp>(loc, total, extent);
  }
  Value zero = index(0), one = index(1), threads = index(blockSize);
  Value blocks = builder.createOrFold<arith::CeilDivUIOp>(loc, total, threads);
  scf::ParallelOp blockLoop = createOneDimensionalLoop(builder, loc, zero, blocks, one);
  builder.setInsertionPoint(blockLoop.getBody()->getTerminator());
  scf::ParallelOp threadLoop = createOneDimensionalLoop(builder, loc, zero, threads, one);
  builder.setInsertionPoint(threadLoop.getBody()->getTerminator());
  Value flat =
      builder.create<arith::AddIOp>(loc, builder.create<arith::MulIOp>(loc, blockLoop.getInductionVars()[0], threads),
                                    threadLoop.getInductionVars()[0]);
  Value inRange = builder.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, flat, total);
  auto guard = builder.create<scf::IfOp>(loc, inRange, /*withElseRegion=*/false);
  builder.setInsertionPointToStart(guard.thenBlock());
  SmallVector<Value> inductionValues(rank);
  Value remaining = flat;
  for (unsigned d = rank; d-- > 0;) {
    Value position = d == 0 ? remaining : builder.create<arith::RemUIOp>(loc, remaining, extents[d]);
    if (d > 0)
      remaining = builder.create<arith::DivUIOp>(loc, remaining, extents[d]);
    inductionValues[d] = builder.create<arith::AddIOp>(loc, loop.getLowerBound()[d],
                                                       builder.create<arith::MulIOp>(loc, position, loop.getStep()[d]));
  }
  Block *body = loop.getBody();
  body->getTerminator()->erase();
  IRRewriter rewriter(builder);
  rewriter.inlineBlockBefore(body, guard.thenBlock()->getTerminator(), inductionValues);
  loop.erase();
  if (failed(mapTo(blockLoop, {gpu::Processor::BlockX})) || failed(mapTo(threadLoop, {gpu::Processor::ThreadX})))
    return failure();
  return mapNestedLoopsSequential(guard);
}

/// Moves `run` (consecutive operations of one block) into a one-iteration parallel loop mapped to one block of one
/// thread. Operations of the run that only compute from values defined before it (constants, views) stay outside,
/// so that the host code after the run can still use them. Fails if a value computed inside is used after the run.
LogicalResult wrapInSingleThreadKernel(ArrayRef<Operation *> run) {
  llvm::SetVector<Operation *> inside;
  SmallVector<Operation *> outside;
  for (Operation *op : run) {
    bool dependsOnInside = llvm::any_of(op->getOperands(), [&](Value operand) {
      Operation *definition = operand.getDefiningOp();
      return definition && inside.contains(definition);
    });
    if (!touchesBufferContents(op) && !dependsOnInside && isMemoryEffectFree(op))
      outside.push_back(op);
    else
      inside.insert(op);
  }
  Operation *first = inside.front();
  for (Operation *op : inside)
    for (Operation *user : op->getUsers())
      if (!inside.contains(op->getBlock()->findAncestorOpInBlock(*user)))
        return op->emitError("seqjit: a value computed from buffer contents is used by host code; buffers live in "
                             "device memory, where the host cannot read them");
  for (Operation *op : outside)
    op->moveBefore(first);
  OpBuilder builder(first);
  Value zero = builder.create<arith::ConstantIndexOp>(first->getLoc(), 0);
  Value one = builder.create<arith::ConstantIndexOp>(first->getLoc(), 1);
  scf::ParallelOp kernel = createOneDimensionalLoop(builder, first->getLoc(), zero, one, one);
  for (Operation *op : inside)
    op->moveBefore(kernel.getBody()->getTerminator());
  if (failed(mapTo(kernel, {gpu::Processor::BlockX})))
    return failure();
  for (Operation *op : inside)
    if (failed(mapNestedLoopsSequential(op)))
      return failure();
  return success();
}

LogicalResult mapBlock(Block &block, int64_t blockSize) {
  SmallVector<Operation *> ops;
  for (Operation &op : block.without_terminator())
    ops.push_back(&op);
  for (size_t i = 0; i < ops.size();) {
    Operation *op = ops[i];
    if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
      if (!loop->hasAttr(gpu::getMappingAttrName()) && failed(collapseAndTile(loop, blockSize)))
        return failure();
      ++i;
      continue;
    }
    if (!touchesBufferContents(op)) {
      ++i;
      continue;
    }
    // A run: from this access to the last access before something that must stay on the host (an allocation, a
    // deallocation, a launch, a parallel loop), with the pure arithmetic in between.
    size_t last = i;
    for (size_t k = i + 1; k < ops.size() && !isa<scf::ParallelOp>(ops[k]); ++k) {
      if (touchesBufferContents(ops[k]))
        last = k;
      else if (!isMemoryEffectFree(ops[k]))
        break;
    }
    if (failed(wrapInSingleThreadKernel(ArrayRef<Operation *>(ops).slice(i, last - i + 1))))
      return failure();
    i = last + 1;
  }
  return success();
}

struct MemrefCopiesToLinalgPass : PassWrapper<MemrefCopiesToLinalgPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MemrefCopiesToLinalgPass)
  StringRef getArgument() const override { return "seqjit-memref-copies-to-linalg"; }
  StringRef getDescription() const override { return "memref.copy to linalg.copy, so that copies become kernels"; }
  void getDependentDialects(DialectRegistry &registry) const override { registry.insert<linalg::LinalgDialect>(); }
  void runOnOperation() override {
    getOperation().walk([](memref::CopyOp copy) {
      OpBuilder builder(copy);
      builder.create<linalg::CopyOp>(copy.getLoc(), copy.getSource(), copy.getTarget());
      copy.erase();
    });
  }
};

struct ParallelDimensionsOutermostPass : PassWrapper<ParallelDimensionsOutermostPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ParallelDimensionsOutermostPass)
  StringRef getArgument() const override { return "seqjit-parallel-dimensions-outermost"; }
  StringRef getDescription() const override {
    return "interchanges every linalg.generic's loops so that its parallel dimensions come first";
  }
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp generic) { generics.push_back(generic); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp generic : generics) {
      SmallVector<unsigned> order;
      SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
      for (unsigned d = 0; d < iterators.size(); ++d)
        if (linalg::isParallelIterator(iterators[d]))
          order.push_back(d);
      for (unsigned d = 0; d < iterators.size(); ++d)
        if (!linalg::isParallelIterator(iterators[d]))
          order.push_back(d);
      if (llvm::equal(order, llvm::seq<unsigned>(0, iterators.size())))
        continue;
      rewriter.setInsertionPoint(generic);
      if (failed(linalg::interchangeGenericOp(rewriter, generic, order)))
        return signalPassFailure();
    }
  }
};

struct MapLoopsToGpuPass : PassWrapper<MapLoopsToGpuPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MapLoopsToGpuPass)
  MapLoopsToGpuPass() = default;
  MapLoopsToGpuPass(const MapLoopsToGpuPass &other) : PassWrapper(other) {}
  StringRef getArgument() const override { return "seqjit-map-loops-to-gpu"; }
  StringRef getDescription() const override {
    return "parallel loops to blocks of threads, all other buffer accesses to single-thread kernels";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, gpu::GPUDialect, scf::SCFDialect>();
  }
  void runOnOperation() override {
    if (blockSize <= 0) {
      getOperation().emitError("seqjit-map-loops-to-gpu: block-size must be positive");
      return signalPassFailure();
    }
    for (Block &block : getOperation().getBody())
      if (failed(mapBlock(block, blockSize)))
        return signalPassFailure();
  }
  Option<int64_t> blockSize{*this, "block-size", llvm::cl::desc("threads per block"), llvm::cl::init(256)};
};

struct CheckHostMemoryAccessPass : PassWrapper<CheckHostMemoryAccessPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CheckHostMemoryAccessPass)
  StringRef getArgument() const override { return "seqjit-check-host-memory-access"; }
  StringRef getDescription() const override { return "fails if host code reads or writes a buffer's contents"; }
  void runOnOperation() override {
    for (Block &block : getOperation().getBody())
      for (Operation &op : block)
        if (touchesBufferContents(&op)) {
          op.emitError("seqjit: this operation would read or write device memory on the host; it should have "
                       "become a kernel");
          return signalPassFailure();
        }
  }
};

} // namespace

std::unique_ptr<Pass> createMemrefCopiesToLinalgPass() { return std::make_unique<MemrefCopiesToLinalgPass>(); }
std::unique_ptr<Pass> createParallelDimensionsOutermostPass() {
  return std::make_unique<ParallelDimensionsOutermostPass>();
}
std::unique_ptr<Pass> createMapLoopsToGpuPass() { return std::make_unique<MapLoopsToGpuPass>(); }
std::unique_ptr<Pass> createCheckHostMemoryAccessPass() { return std::make_unique<CheckHostMemoryAccessPass>(); }

void registerGpuLoopMappingPasses() {
  PassRegistration<MemrefCopiesToLinalgPass>();
  PassRegistration<ParallelDimensionsOutermostPass>();
  PassRegistration<MapLoopsToGpuPass>();
  PassRegistration<CheckHostMemoryAccessPass>();
}

} // namespace seqjit
