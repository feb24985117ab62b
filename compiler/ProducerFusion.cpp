// seqjit-fuse-producers-into-consumers: see the header.
#include "compiler/ProducerFusion.h"

#include "compiler/BufferAccess.h"
#include "compiler/ElementwiseBody.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <cstdlib>
#include <functional>
#include <optional>

using namespace mlir;

namespace seqjit {

namespace {

using linalg::GenericOp;

/// Whether `map`'s results are the generic's parallel dimensions, each once: each iteration of the parallel loops
/// owns one element.
bool isPermutationOfParallelDimensions(GenericOp op, AffineMap map) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (map.getNumResults() != static_cast<unsigned>(llvm::count_if(iterators, linalg::isParallelIterator)))
    return false;
  llvm::SmallBitVector seen(map.getNumDims());
  for (AffineExpr result : map.getResults()) {
    auto dim = dyn_cast<AffineDimExpr>(result);
    if (!dim || seen[dim.getPosition()] || !linalg::isParallelIterator(iterators[dim.getPosition()]))
      return false;
    seen.set(dim.getPosition());
  }
  return true;
}

/// Whether distinct points of the iteration domain (`extents`) reach distinct elements through `map`: every index is
/// a mixed-radix number of its own dimensions (a pool's p * size + j with j < size), and every dimension that moves
/// appears in one index.
bool isOneToOne(AffineMap map, ArrayRef<int64_t> extents) {
  unsigned dims = map.getNumDims();
  SmallVector<int> indexOf(dims, -1);
  for (auto [index, expr] : llvm::enumerate(map.getResults())) {
    std::optional<LinearForm> form = linearForm(expr, dims);
    if (!form)
      return false;
    SmallVector<std::pair<int64_t, int64_t>> terms; // (|coefficient|, extent)
    for (unsigned d = 0; d < dims; ++d) {
      if (form->coefficients[d] == 0)
        continue;
      if (indexOf[d] != -1)
        return false;
      indexOf[d] = static_cast<int>(index);
      terms.emplace_back(std::abs(form->coefficients[d]), extents[d]);
    }
    llvm::sort(terms);
    int64_t reach = 0; // the largest offset the smaller terms add
    for (auto [coefficient, extent] : terms) {
      if (coefficient <= reach)
        return false;
      reach += coefficient * (extent - 1);
    }
  }
  for (unsigned d = 0; d < dims; ++d)
    if (indexOf[d] == -1 && extents[d] > 1)
      return false;
  return true;
}

bool hasStaticLoopRanges(GenericOp op) { return llvm::none_of(op.getStaticLoopRanges(), ShapedType::isDynamic); }

bool hasElementwiseBody(GenericOp op) {
  Block &body = *op.getBody();
  return isElementwiseBody(body, body.getTerminator());
}

/// A consumer, the buffer it reads that its producers will compute on the spot, and what has to move.
struct Fusion {
  GenericOp consumer;
  unsigned input;
  memref::AllocOp buffer;
  SmallVector<Operation *> producers; ///< linalg.fill or linalg.generic, in program order
  SmallVector<memref::DeallocOp> bufferDeallocations;
  SmallVector<memref::DeallocOp> delayedDeallocations; ///< of what producers read, freed before the consumer
};

bool isAcceptableProducer(Operation *op, bool first) {
  if (isa<linalg::FillOp>(op))
    return true;
  auto generic = cast<GenericOp>(op);
  if (!isPermutationOfParallelDimensions(generic, generic.getIndexingMapsArray().back()) ||
      !hasStaticLoopRanges(generic) || !hasElementwiseBody(generic))
    return false;
  // The first producer starts from nothing: it may neither accumulate nor read the buffer's old contents.
  bool readsOutput = !generic.getBody()->getArguments().back().use_empty();
  bool reduces = generic.getNumReductionLoops() > 0;
  return !(first && (readsOutput || reduces));
}

std::optional<Fusion> matchFusion(GenericOp consumer, unsigned input) {
  Value buffer = consumer.getDpsInputOperand(input)->get();
  auto alloc = buffer.getDefiningOp<memref::AllocOp>();
  Block *block = consumer->getBlock();
  if (!alloc || alloc->getBlock() != block)
    return std::nullopt;
  Fusion fusion{consumer, input, alloc, {}, {}, {}};
  unsigned consumerReads = 0;
  for (OpOperand &use : buffer.getUses()) {
    Operation *user = use.getOwner();
    if (auto dealloc = dyn_cast<memref::DeallocOp>(user)) {
      if (dealloc->getBlock() != block || dealloc->isBeforeInBlock(consumer))
        return std::nullopt;
      fusion.bufferDeallocations.push_back(dealloc);
      continue;
    }
    if (user == consumer.getOperation()) {
      if (consumer.isDpsInit(&use))
        return std::nullopt;
      ++consumerReads;
      continue;
    }
    auto producer = dyn_cast<linalg::LinalgOp>(user);
    if (!producer || !isa<linalg::FillOp, GenericOp>(user) || user->getBlock() != block ||
        !user->isBeforeInBlock(consumer) || producer.getNumDpsInits() != 1 || !producer.isDpsInit(&use))
      return std::nullopt;
    fusion.producers.push_back(user);
  }
  if (consumerReads != 1 || fusion.producers.empty())
    return std::nullopt;
  llvm::sort(fusion.producers, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
  for (auto [index, producer] : llvm::enumerate(fusion.producers))
    if (!isAcceptableProducer(producer, index == 0))
      return std::nullopt;

  AffineMap output = consumer.getIndexingMapsArray().back();
  if (consumer.getNumDpsInits() != 1 || !isPermutationOfParallelDimensions(consumer, output) ||
      !hasStaticLoopRanges(consumer) || !hasElementwiseBody(consumer) ||
      !isOneToOne(consumer.getMatchingIndexingMap(consumer.getDpsInputOperand(input)), consumer.getStaticLoopRanges()))
    return std::nullopt;

  // What the producers read must hold the same values when the consumer runs.
  llvm::SmallPtrSet<Value, 8> producerInputs;
  for (Operation *producer : fusion.producers)
    for (Value value : cast<linalg::LinalgOp>(producer).getDpsInputs())
      if (isa<BaseMemRefType>(value.getType()))
        producerInputs.insert(underlyingBuffer(value));
  if (producerInputs.contains(underlyingBuffer(consumer.getDpsInits()[0])))
    return std::nullopt;
  for (Operation *op = fusion.producers.front()->getNextNode(); op != consumer.getOperation(); op = op->getNextNode()) {
    if (llvm::is_contained(fusion.producers, op) || isa<memref::AllocOp>(op) || isMemoryEffectFree(op))
      continue;
    if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
      if (producerInputs.contains(underlyingBuffer(dealloc.getMemref())))
        fusion.delayedDeallocations.push_back(dealloc);
      continue;
    }
    auto writer = dyn_cast<linalg::LinalgOp>(op);
    if (!writer)
      return std::nullopt;
    // A write into another allocation or another argument (arguments do not alias, as bufferization assumes)
    // leaves the producers' inputs as they were.
    for (Value written : writer.getDpsInits()) {
      Value base = underlyingBuffer(written);
      if (!(base.getDefiningOp<memref::AllocOp>() || isa<BlockArgument>(base)) || producerInputs.contains(base))
        return std::nullopt;
    }
  }
  return fusion;
}

/// The values of `map`'s results at the dimension values `dims`.
SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map, ArrayRef<Value> dims) {
  SmallVector<Value> indices;
  for (unsigned r = 0; r < map.getNumResults(); ++r)
    indices.push_back(b.create<affine::AffineApplyOp>(loc, map.getSubMap({r}), dims));
  return indices;
}

/// Loops over `extents` (scf.for, the last innermost) carrying one value from `initial`; `step` gives the next value
/// from the induction variables and the current one.
using Step = std::function<Value(OpBuilder &, ValueRange, Value)>;
Value carryThroughLoops(OpBuilder &b, Location loc, ArrayRef<int64_t> extents, Value initial, const Step &step) {
  SmallVector<Value> inductionVariables;
  std::function<Value(OpBuilder &, unsigned, Value)> nest = [&](OpBuilder &builder, unsigned level,
                                                                Value carried) -> Value {
    if (level == extents.size())
      return step(builder, inductionVariables, carried);
    Value zero = builder.create<arith::ConstantIndexOp>(loc, 0);
    Value extent = builder.create<arith::ConstantIndexOp>(loc, extents[level]);
    Value one = builder.create<arith::ConstantIndexOp>(loc, 1);
    auto loop =
        builder.create<scf::ForOp>(loc, zero, extent, one, ValueRange{carried},
                                   [&](OpBuilder &inner, Location, Value inductionVariable, ValueRange arguments) {
                                     inductionVariables.push_back(inductionVariable);
                                     Value next = nest(inner, level + 1, arguments[0]);
                                     inductionVariables.pop_back();
                                     inner.create<scf::YieldOp>(loc, next);
                                   });
    return loop.getResult(0);
  };
  return nest(b, 0, initial);
}

/// One input element of a generic at given indices.
using ReadInput = std::function<Value(OpBuilder &, unsigned input, ValueRange indices)>;

/// The generic's body at the dimension values `dims`, its output element being `output` (null if unused).
Value evaluateBody(OpBuilder &b, Location loc, GenericOp op, ArrayRef<Value> dims, Value output,
                   const ReadInput &read) {
  Block &body = *op.getBody();
  IRMapping mapping;
  for (OpOperand *operand : op.getDpsInputOperands()) {
    unsigned input = operand->getOperandNumber();
    if (body.getArgument(input).use_empty()) // a pool's window-sized operand, there for its extent
      continue;
    Value value = operand->get();
    if (isa<BaseMemRefType>(value.getType()))
      value = read(b, input, applyMap(b, loc, op.getMatchingIndexingMap(operand), dims));
    mapping.map(body.getArgument(input), value);
  }
  if (output)
    mapping.map(body.getArguments().back(), output);
  Operation *yield = body.getTerminator();
  cloneElementwise(b, loc, body, yield, mapping, 1);
  return mapping.lookupOrDefault(yield->getOperand(0));
}

Value load(OpBuilder &b, Location loc, Value buffer, ValueRange indices) {
  return b.create<memref::LoadOp>(loc, buffer, indices);
}

/// `op`'s parallel dimensions set from `values`, its reductions iterated: the generic evaluated as a loop nest
/// carrying `initial`.
Value evaluateGeneric(OpBuilder &b, Location loc, GenericOp op, SmallVector<Value> dims, Value initial,
                      const ReadInput &read) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> reductions;
  SmallVector<int64_t> extents;
  for (unsigned d = 0; d < iterators.size(); ++d)
    if (!linalg::isParallelIterator(iterators[d])) {
      reductions.push_back(d);
      extents.push_back(ranges[d]);
    }
  bool usesOutput = !op.getBody()->getArguments().back().use_empty();
  Step step = [&](OpBuilder &builder, ValueRange inductionVariables, Value carried) {
    for (auto [k, d] : llvm::enumerate(reductions))
      dims[d] = inductionVariables[k];
    return evaluateBody(builder, loc, op, dims, usesOutput ? carried : Value(), read);
  };
  if (reductions.empty())
    return step(b, {}, initial);
  return carryThroughLoops(b, loc, extents, initial, step);
}

/// The element of the fused buffer at `indices`, computed by its producers in order.
Value recompute(OpBuilder &b, Location loc, const Fusion &fusion, ValueRange indices) {
  Value value;
  for (Operation *producer : fusion.producers) {
    if (auto fill = dyn_cast<linalg::FillOp>(producer)) {
      value = fill.getInputs()[0];
      continue;
    }
    auto generic = cast<GenericOp>(producer);
    AffineMap output = generic.getIndexingMapsArray().back();
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    SmallVector<Value> dims(output.getNumDims(), zero);
    for (auto [index, expr] : llvm::enumerate(output.getResults()))
      dims[cast<AffineDimExpr>(expr).getPosition()] = indices[index];
    value = evaluateGeneric(b, loc, generic, dims, value, [&](OpBuilder &builder, unsigned input, ValueRange at) {
      return load(builder, loc, generic.getDpsInputs()[input], at);
    });
  }
  return value;
}

void fuse(Fusion &fusion) {
  GenericOp consumer = fusion.consumer;
  Location loc = consumer.getLoc();
  OpBuilder b(consumer);
  SmallVector<int64_t> ranges = consumer.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = consumer.getIteratorTypesArray();
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value one = b.create<arith::ConstantIndexOp>(loc, 1);
  SmallVector<unsigned> parallel;
  SmallVector<Value> lowerBounds, upperBounds, steps;
  for (unsigned d = 0; d < iterators.size(); ++d)
    if (linalg::isParallelIterator(iterators[d])) {
      parallel.push_back(d);
      lowerBounds.push_back(zero);
      upperBounds.push_back(b.create<arith::ConstantIndexOp>(loc, ranges[d]));
      steps.push_back(one);
    }
  auto loop = b.create<scf::ParallelOp>(loc, lowerBounds, upperBounds, steps);
  OpBuilder inner = OpBuilder::atBlockTerminator(loop.getBody());
  SmallVector<Value> dims(iterators.size(), zero);
  for (auto [k, d] : llvm::enumerate(parallel))
    dims[d] = loop.getInductionVars()[k];

  Value output = consumer.getDpsInits()[0];
  SmallVector<Value> outputIndices = applyMap(inner, loc, consumer.getIndexingMapsArray().back(), dims);
  bool usesOutput = !consumer.getBody()->getArguments().back().use_empty();
  Value initial = usesOutput ? load(inner, loc, output, outputIndices) : Value();
  Value result =
      evaluateGeneric(inner, loc, consumer, dims, initial, [&](OpBuilder &builder, unsigned input, ValueRange at) {
        if (input == fusion.input)
          return recompute(builder, loc, fusion, at);
        return load(builder, loc, consumer.getDpsInputs()[input], at);
      });
  inner.create<memref::StoreOp>(loc, result, output, outputIndices);

  for (memref::DeallocOp dealloc : fusion.delayedDeallocations)
    dealloc->moveAfter(loop);
  consumer.erase();
  for (Operation *producer : llvm::reverse(fusion.producers))
    producer->erase();
  for (memref::DeallocOp dealloc : fusion.bufferDeallocations)
    dealloc.erase();
  fusion.buffer.erase();
}

struct FuseProducersIntoConsumersPass : PassWrapper<FuseProducersIntoConsumersPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FuseProducersIntoConsumersPass)
  StringRef getArgument() const override { return "seqjit-fuse-producers-into-consumers"; }
  StringRef getDescription() const override {
    return "recomputes a buffer's producers (a convolution) inside the one op that reads it (a pool)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<affine::AffineDialect, arith::ArithDialect, memref::MemRefDialect, scf::SCFDialect>();
  }
  void runOnOperation() override {
    // Each fusion erases ops, so the search starts again after one.
    for (bool fused = true; fused;) {
      fused = false;
      getOperation().walk([&](GenericOp consumer) {
        for (unsigned input = 0; input < consumer.getNumDpsInputs(); ++input)
          if (std::optional<Fusion> fusion = matchFusion(consumer, input)) {
            fuse(*fusion);
            fused = true;
            return WalkResult::interrupt();
          }
        return WalkResult::advance();
      });
    }
  }
};

} // namespace

std::unique_ptr<Pass> createFuseProducersIntoConsumersPass() {
  return std::make_unique<FuseProducersIntoConsumersPass>();
}

void registerFuseProducersIntoConsumersPass() { PassRegistration<FuseProducersIntoConsumersPass>(); }

} // namespace seqjit
