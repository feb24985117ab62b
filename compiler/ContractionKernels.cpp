// Register-tiled CPU kernels for the contractions and sums: see ContractionKernels.h.
//
// A generic out[...] += term(inputs[...]) is planned as follows. One loop dimension is the vector dimension: every
// buffer that depends on it does so through its last, unit-stride index with coefficient 1, so that a vector of
// consecutive iterations is one vector load. Up to two more parallel dimensions (the row and the column) index a block
// of accumulators; each is chosen so that an input does not depend on it, and that input's load is shared by the whole
// row or column (failing that, a row of independent sums only overlaps their latencies); of the choices, the one with
// the fewest loads per multiply-add. When the vector dimension is parallel, an accumulator holds `lanes` outputs (the
// column may then be several vectors side by side); when it is a reduction, an accumulator holds partial sums that are
// added together once, after the reduction loops. Loops over the other parallel dimensions surround the block, and the
// reduction loops run innermost with the accumulators as loop-carried values, so that they live in registers (where the
// blocks would stream more than the cache keeps, the outermost reduction runs in chunks, just inside the loop the
// kernel threads share, the blocks adding each chunk's sums to the output). A product of two inputs is one FMA; any
// other term is the body's elementwise ops on vectors, then an add. Where a constant fill of the whole output comes
// just before, the sums start from the constant in registers and the fill goes. The iteration space is split into
// boxes that the blocks fill exactly; what is left at an edge gets a smaller block or, below four lanes, a masked
// four-lane vector (or, where inactive lanes could change a sum, scalar loops with the same rows and columns); along
// a parallel vector dimension whose sums start from the constant, it is one more block of whole vectors instead, just
// wide enough and overlapping the last one (the outputs they share are computed twice, to the same bits).
#include "compiler/ContractionKernels.h"

#include "compiler/BufferAccess.h"
#include "compiler/ElementwiseBody.h"
#include "compiler/InitialFill.h"
#include "compiler/KernelEpilogue.h"
#include "compiler/LoopNestOutlining.h"
#include "dsl/Error.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

using namespace mlir;

namespace seqjit {

VectorTarget hostVectorTarget() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto has = [&](llvm::StringRef name) { return features.lookup(name); };
  if (has("avx512f"))
    return {512, 32};
  if (has("avx"))
    return {256, 16};
  return {128, 16};
}

std::optional<VectorTarget> vectorTargetOfWidth(unsigned bits) {
  VectorTarget host = hostVectorTarget();
  if (bits > host.vectorBits)
    return std::nullopt;
  if (bits == host.vectorBits)
    return host;
  if (bits == 256 || bits == 128)
    return VectorTarget{bits, 16}; // AVX's and SSE's registers (an AVX-512 machine runs both shapes)
  return std::nullopt;
}

VectorTarget cpuVectorTarget() {
  const char *requested = std::getenv("SEQJIT_VECTOR_BITS");
  if (!requested || !*requested)
    return hostVectorTarget();
  std::string text = requested;
  unsigned bits = text == "512" ? 512 : text == "256" ? 256 : text == "128" ? 128 : 0;
  if (bits == 0)
    throw Error("SEQJIT_VECTOR_BITS must be 128, 256 or 512, got '" + text + "'");
  std::optional<VectorTarget> target = vectorTargetOfWidth(bits);
  if (!target)
    throw Error("SEQJIT_VECTOR_BITS=" + text + ": this CPU's vector registers are " +
                std::to_string(hostVectorTarget().vectorBits) + " bits wide");
  return *target;
}

namespace {

/// A linalg.generic on buffers whose body is out += term(inputs), the term elementwise, with static loop extents: a
/// product for conv1d, dense and their gradients; x, x * x or dy * x (widened to float64) for batch norm's
/// statistics and their gradients.
struct Contraction {
  linalg::GenericOp op;
  SmallVector<BufferAccess> inputs;
  BufferAccess out;
  SmallVector<int64_t> extents;
  SmallVector<bool> isReduction;
  FloatType element;                      ///< the output's
  unsigned widestBits = 0;                ///< of every value in the body: it sets how many lanes fit a register
  arith::AddFOp accumulate;               ///< the body's out + term
  Value term;                             ///< the body's term
  std::optional<KernelEpilogue> epilogue; ///< the elementwise op after it, if the kernel applies it
  linalg::FillOp initialFill;             ///< the fill of its whole output before it, if the sums start there

  /// The two inputs whose product the term is, if it is a product of two inputs (the kernel then emits an FMA).
  std::optional<std::pair<unsigned, unsigned>> productOfInputs() const {
    auto multiply = term.getDefiningOp<arith::MulFOp>();
    auto lhs = dyn_cast_if_present<BlockArgument>(multiply ? multiply.getLhs() : Value());
    auto rhs = dyn_cast_if_present<BlockArgument>(multiply ? multiply.getRhs() : Value());
    auto isInput = [&](BlockArgument argument) {
      return argument && argument.getOwner() == linalg::GenericOp(op).getBlock() &&
             argument.getArgNumber() < inputs.size() && argument.getType() == element;
    };
    if (!isInput(lhs) || !isInput(rhs))
      return std::nullopt;
    return std::make_pair(lhs.getArgNumber(), rhs.getArgNumber());
  }
};

std::optional<Contraction> matchContraction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() == 0 || op.getNumDpsInits() != 1)
    return std::nullopt;
  // The body: elementwise ops computing a term, then %s = addf(out, term) (either order), yield %s.
  Block &body = *op.getBlock();
  BlockArgument accumulator = body.getArguments().back();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || add->getNextNode() != yield || !accumulator.hasOneUse() || !add->hasOneUse() ||
      !isElementwiseBody(body, add))
    return std::nullopt;
  Value term = add.getLhs() == accumulator ? add.getRhs() : add.getLhs();
  if (term == accumulator || (add.getLhs() != accumulator && add.getRhs() != accumulator) ||
      term.getParentBlock() != &body)
    return std::nullopt;
  auto element = dyn_cast<FloatType>(accumulator.getType());
  if (!element || (element.getWidth() != 32 && element.getWidth() != 64))
    return std::nullopt;
  unsigned widestBits = 0;
  for (Value value : body.getArguments())
    widestBits = std::max(widestBits, value.getType().getIntOrFloatBitWidth());
  for (Operation &inner : body.without_terminator())
    for (Type type : inner.getResultTypes())
      widestBits = std::max(widestBits, type.getIntOrFloatBitWidth());
  SmallVector<int64_t> extents = op.getStaticLoopRanges();
  if (llvm::any_of(extents, [](int64_t extent) { return extent <= 0; })) // dynamic, or nothing to do
    return std::nullopt;
  SmallVector<bool> isReduction;
  for (utils::IteratorType iterator : op.getIteratorTypesArray())
    isReduction.push_back(iterator == utils::IteratorType::reduction);
  // The output is indexed by exactly the parallel dimensions, each once: one accumulator per output element.
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!outMap.isProjectedPermutation())
    return std::nullopt;
  SmallVector<bool> indexesOutput(extents.size(), false);
  for (AffineExpr result : outMap.getResults())
    indexesOutput[cast<AffineDimExpr>(result).getPosition()] = true;
  for (size_t d = 0; d < extents.size(); ++d)
    if (indexesOutput[d] == isReduction[d])
      return std::nullopt;
  std::optional<BufferAccess> out = bufferAccess(op.getDpsInits()[0], outMap);
  if (!out)
    return std::nullopt;
  SmallVector<BufferAccess> inputs;
  for (OpOperand *input : op.getDpsInputOperands()) {
    std::optional<BufferAccess> access = bufferAccess(input->get(), op.getMatchingIndexingMap(input));
    // An input that is the output seen through another map would be read after the kernel wrote it.
    if (!access || underlyingBuffer(input->get()) == underlyingBuffer(out->buffer))
      return std::nullopt;
    inputs.push_back(std::move(*access));
  }
  return Contraction{op,
                     std::move(inputs),
                     std::move(*out),
                     std::move(extents),
                     std::move(isReduction),
                     element,
                     widestBits,
                     add,
                     term,
                     std::nullopt,
                     {}};
}

/// The shape of the register block: see the file comment.
struct KernelPlan {
  unsigned vectorDim = 0;
  int64_t lanes = 0;
  int rowDim = -1; ///< -1: none
  int64_t rowBlock = 1;
  int colDim = -1; ///< -1: none; vectorDim: colBlock vectors side by side
  int64_t colBlock = 1;
  /// Whether an edge narrower than four lanes can be a masked vector (the inactive lanes are neither loaded nor
  /// stored) rather than scalar code: the vector dimension is parallel, or a reduction of products.
  bool maskable = false;
  /// Lanes of each vector that are active: 0 for all of them, else the first `activeLanes` (an edge).
  int64_t activeLanes = 0;

  bool severalVectors() const { return colDim == static_cast<int>(vectorDim); }
  /// How far one block reaches along `dim`.
  int64_t step(unsigned dim) const {
    if (dim == vectorDim && activeLanes > 0)
      return activeLanes;
    if (dim == vectorDim)
      return severalVectors() ? lanes * colBlock : lanes;
    if (static_cast<int>(dim) == rowDim)
      return rowBlock;
    if (static_cast<int>(dim) == colDim)
      return colBlock;
    return 1;
  }
  /// Where accumulator (row, col) sits along `dim`, relative to the block.
  int64_t offset(unsigned dim, int64_t row, int64_t col) const {
    int64_t at = 0;
    if (static_cast<int>(dim) == rowDim)
      at += row;
    if (static_cast<int>(dim) == colDim)
      at += severalVectors() ? col * lanes : col;
    return at;
  }
  SmallVector<unsigned> blockedDims() const {
    SmallVector<unsigned> dims;
    if (rowDim >= 0)
      dims.push_back(rowDim);
    if (colDim >= 0 && !severalVectors())
      dims.push_back(colDim);
    dims.push_back(vectorDim);
    return dims;
  }
};

constexpr int64_t kMinimumLanes = 4;

/// Loads per multiply-add in one step of the reduction loops: each input once per distinct row and column of the
/// block that it depends on.
double loadsPerTerm(const Contraction &c, const KernelPlan &plan) {
  int64_t loads = 0;
  for (const BufferAccess &input : c.inputs)
    loads += (input.dependsOn(plan.rowDim) ? plan.rowBlock : 1) * (input.dependsOn(plan.colDim) ? plan.colBlock : 1);
  return static_cast<double>(loads) / static_cast<double>(plan.rowBlock * plan.colBlock);
}

std::optional<KernelPlan> planKernel(const Contraction &c, VectorTarget target) {
  const int64_t maxLanes = target.vectorBits / c.widestBits;
  // Half the registers hold accumulators and half the loaded operands; a block of vectors side by side along a
  // parallel dimension takes three quarters (BLIS's 6 x 16 on AVX2, 12 x 32 on AVX-512), as each step loads only
  // one vector per column and one broadcast at a time.
  const int64_t accumulators = target.registers / 2;
  const unsigned dims = c.extents.size();
  // The vector dimension: the most lanes over the share of its extent that whole vectors of four or more lanes
  // cover (the rest is scalar); on a tie a parallel one (no horizontal sums at the end), then the longer.
  std::optional<KernelPlan> plan;
  auto better = [&](unsigned d, int64_t lanes) {
    if (!plan)
      return true;
    auto key = [&](unsigned dim, int64_t l) {
      double covered = static_cast<double>(c.extents[dim] - c.extents[dim] % kMinimumLanes) / c.extents[dim];
      return std::make_tuple(static_cast<double>(l) * covered, !c.isReduction[dim], c.extents[dim]);
    };
    return key(d, lanes) > key(plan->vectorDim, plan->lanes);
  };
  auto fitsVector = [](const BufferAccess &a, unsigned d) { return !a.dependsOn(d) || a.vectorisableAlong(d); };
  for (unsigned d = 0; d < dims; ++d) {
    if (llvm::none_of(c.inputs, [&](const BufferAccess &a) { return a.dependsOn(d); }))
      continue;
    bool contiguous =
        fitsVector(c.out, d) && llvm::all_of(c.inputs, [&](const BufferAccess &a) { return fitsVector(a, d); });
    int64_t lanes = maxLanes;
    while (lanes > kMinimumLanes && lanes > c.extents[d])
      lanes /= 2;
    if (contiguous && lanes <= c.extents[d] && better(d, lanes)) {
      plan = KernelPlan{};
      plan->vectorDim = d;
      plan->lanes = lanes;
    }
  }
  if (!plan)
    return std::nullopt;
  // Inactive lanes load zeros: harmless where they are not stored, and in a reduction where the term is a product
  // (zero times what the other input holds; a non-finite input makes the result non-finite either way).
  plan->maskable = !c.isReduction[plan->vectorDim] || c.productOfInputs().has_value();
  // Row and column: parallel dimensions of the output that some input does not depend on (its load is reused);
  // without such a dimension, any parallel dimension of the output (independent sums to overlap).
  SmallVector<unsigned> candidates;
  auto reuse = [&](unsigned d) {
    return llvm::count_if(c.inputs, [&](const BufferAccess &a) { return !a.dependsOn(d); });
  };
  for (int64_t minimumReuse : {1, 0}) {
    for (unsigned d = 0; d < dims; ++d)
      if (d != plan->vectorDim && !c.isReduction[d] && c.out.dependsOn(d) && reuse(d) >= minimumReuse)
        candidates.push_back(d);
    if (!candidates.empty())
      break;
  }
  llvm::stable_sort(candidates, [&](unsigned a, unsigned b) {
    return std::make_pair(reuse(a), c.extents[a]) > std::make_pair(reuse(b), c.extents[b]);
  });
  // Of the blocks the candidates give, the one that loads least per multiply-add (on a tie, the first in that
  // order): the row should be a dimension the vector loads do not depend on, so that one vector serves every row and
  // only the broadcasts are per row. A convolution's rows along the batch would load rows x columns vectors of its
  // input and share one broadcast weight; along the filters, one broadcast per row and a column of vectors.
  auto choose = [&](auto &&candidatePlans) {
    std::optional<KernelPlan> best;
    for (const KernelPlan &candidate : candidatePlans)
      if (!best || loadsPerTerm(c, candidate) < loadsPerTerm(c, *best))
        best = candidate;
    if (best)
      plan = best;
  };
  unsigned v = plan->vectorDim;
  SmallVector<KernelPlan> plans;
  if (!c.isReduction[v] && c.extents[v] >= 2 * plan->lanes) {
    plan->colDim = v;
    plan->colBlock = 2;
    for (unsigned row : candidates) {
      KernelPlan candidate = *plan;
      candidate.rowDim = row;
      candidate.rowBlock = std::min<int64_t>(c.extents[row], (accumulators + accumulators / 2) / candidate.colBlock);
      plans.push_back(candidate);
    }
  } else if (candidates.size() == 1) {
    plan->rowDim = candidates[0];
    plan->rowBlock = std::min(c.extents[candidates[0]], accumulators);
  } else {
    for (unsigned row : candidates)
      for (unsigned col : candidates) {
        if (row == col)
          continue;
        KernelPlan candidate = *plan;
        candidate.rowDim = row;
        candidate.rowBlock = std::min<int64_t>(c.extents[row], 4);
        candidate.colDim = col;
        candidate.colBlock = std::min(c.extents[col], accumulators / candidate.rowBlock);
        plans.push_back(candidate);
      }
  }
  choose(plans);
  return plan;
}

/// The plan for the `remainder` iterations left along `dim` after whole blocks; where fewer than four lanes are
/// left, four-lane vectors with only the first `remainder` lanes active where the plan is maskable, else scalar code
/// (one lane, the same rows and columns of accumulators).
KernelPlan shrink(KernelPlan plan, unsigned dim, int64_t remainder) {
  if (static_cast<int>(dim) == plan.rowDim) {
    plan.rowBlock = remainder;
    return plan;
  }
  if (dim != plan.vectorDim) {
    plan.colBlock = remainder;
    return plan;
  }
  if (plan.severalVectors() && remainder >= plan.lanes) {
    plan.colBlock = remainder / plan.lanes;
    return plan;
  }
  plan.colBlock = plan.severalVectors() ? 1 : plan.colBlock;
  while (plan.lanes > remainder && plan.lanes > kMinimumLanes)
    plan.lanes /= 2;
  if (plan.lanes > remainder) {
    if (plan.maskable)
      plan.activeLanes = remainder;
    else
      plan.lanes = 1;
    plan.colDim = plan.severalVectors() ? -1 : plan.colDim;
  }
  return plan;
}

/// What a core's cache keeps between two passes over an input (a conservative share of a 512 KiB L2).
constexpr int64_t kCacheResidentBytes = 256 * 1024;
/// Blocks a loop needs before it may become the one the kernel threads share in place of a longer one.
constexpr int64_t kThreadShareBlocks = 16;

/// A box of the iteration space: [lo[d], hi[d]) along each dimension d.
struct Box {
  SmallVector<int64_t> lo, hi;
};

class KernelEmitter {
public:
  KernelEmitter(Contraction c, OpBuilder &b) : c(std::move(c)), b(b), loc(this->c.op.getLoc()) {}

  /// Boxes are never empty: extents are positive and a split makes a head only where whole blocks fit.
  void emit(const Box &box, const KernelPlan &plan) {
    for (unsigned d : plan.blockedDims()) {
      int64_t size = box.hi[d] - box.lo[d], whole = size - size % plan.step(d);
      if (whole == size)
        continue;
      if (whole > 0) {
        Box head = box;
        head.hi[d] = box.lo[d] + whole;
        emit(head, plan);
      }
      Box tail = box;
      tail.lo[d] = box.lo[d] + whole;
      // Past whole blocks along the vector dimension, where the sums start from a constant: one more block of whole
      // vectors, just wide enough for the rest, that ends at the box's end. The outputs it shares with the last block
      // come out the same (the same terms added in the same order) and are stored again, instead of narrower or
      // masked vectors that run at a fraction of the speed.
      if (whole > 0 && d == plan.vectorDim) {
        KernelPlan covering = plan.severalVectors() ? shrink(plan, d, llvm::alignTo(size - whole, plan.lanes)) : plan;
        Box overlapping = box;
        overlapping.lo[d] = box.hi[d] - covering.step(d);
        if (startsAtConstant(overlapping, covering)) {
          emitKernel(overlapping, covering);
          return;
        }
      }
      emit(tail, shrink(plan, d, size - whole));
      return;
    }
    emitKernel(box, plan);
  }

private:
  Contraction c;
  OpBuilder &b;
  Location loc;

  /// `element` as the kernel holds it: itself in scalar code, else a vector of the plan's lanes.
  static Type valueType(const KernelPlan &plan, Type element) {
    return plan.lanes == 1 ? element : VectorType::get({plan.lanes}, element);
  }

  /// The mask of an edge's vectors: its first plan.activeLanes lanes.
  Value edgeMask(OpBuilder &ob, const KernelPlan &plan) {
    SmallVector<bool> active(plan.lanes, false);
    std::fill_n(active.begin(), plan.activeLanes, true);
    auto type = VectorType::get({plan.lanes}, ob.getI1Type());
    return ob.create<arith::ConstantOp>(loc, type, DenseElementsAttr::get(type, ArrayRef<bool>(active)));
  }

  /// The value of `access` at `at` as a `type` (the element type, or a vector of it): a vector load where it
  /// moves along the vector dimension (masked at an edge, the inactive lanes zero), else a scalar load, broadcast to
  /// a vector.
  Value load(OpBuilder &ob, const BufferAccess &access, const KernelPlan &plan, ValueRange at, Type type) {
    Value scalarOrVector;
    if (isa<VectorType>(type) && access.dependsOn(plan.vectorDim) && plan.activeLanes > 0)
      scalarOrVector = ob.create<vector::MaskedLoadOp>(loc, type, access.buffer, at, edgeMask(ob, plan),
                                                       ob.create<arith::ConstantOp>(loc, ob.getZeroAttr(type)));
    else if (isa<VectorType>(type) && access.dependsOn(plan.vectorDim))
      scalarOrVector = ob.create<vector::LoadOp>(loc, type, access.buffer, at);
    else
      scalarOrVector = ob.create<memref::LoadOp>(loc, access.buffer, at);
    if (scalarOrVector.getType() == type)
      return scalarOrVector;
    return ob.create<vector::BroadcastOp>(loc, type, scalarOrVector);
  }

  void store(OpBuilder &ob, Value value, const BufferAccess &access, const KernelPlan &plan, ValueRange at) {
    if (isa<VectorType>(value.getType()) && plan.activeLanes > 0)
      ob.create<vector::MaskedStoreOp>(loc, access.buffer, at, edgeMask(ob, plan), value);
    else if (isa<VectorType>(value.getType()))
      ob.create<vector::StoreOp>(loc, value, access.buffer, at);
    else
      ob.create<memref::StoreOp>(loc, value, access.buffer, at);
  }

  /// The buffer indices of `access` for accumulator (row, col) of the block at `dims`.
  SmallVector<Value> indices(OpBuilder &ob, const BufferAccess &access, ArrayRef<Value> dims, const KernelPlan &plan,
                             int64_t row, int64_t col) {
    SmallVector<Value> result;
    for (const LinearForm &form : access.indices) {
      int64_t constant = form.constant;
      Value sum;
      for (unsigned d = 0; d < form.coefficients.size(); ++d) {
        int64_t coefficient = form.coefficients[d];
        if (coefficient == 0)
          continue;
        constant += coefficient * plan.offset(d, row, col);
        Value term = dims[d];
        if (coefficient != 1)
          term = ob.create<arith::MulIOp>(loc, term, ob.create<arith::ConstantIndexOp>(loc, coefficient));
        sum = sum ? ob.create<arith::AddIOp>(loc, sum, term).getResult() : term;
      }
      Value shift = ob.create<arith::ConstantIndexOp>(loc, constant);
      result.push_back(!sum ? shift : constant == 0 ? sum : ob.create<arith::AddIOp>(loc, sum, shift).getResult());
    }
    return result;
  }

  /// Bytes of `access` over the box, the dimensions in `fixed` held at one value.
  int64_t footprint(const BufferAccess &access, const Box &box, ArrayRef<unsigned> fixed) const {
    int64_t bytes = cast<MemRefType>(access.buffer.getType()).getElementTypeBitWidth() / 8;
    for (unsigned d = 0; d < box.lo.size(); ++d)
      if (access.dependsOn(d) && !llvm::is_contained(fixed, d))
        bytes *= box.hi[d] - box.lo[d];
    return bytes;
  }

  /// The outer loops run in dimension order, except that the two blocked dimensions of the output swap places when
  /// that re-reads much less from memory: with X outside Y, every block of X reads again whatever depends on Y and
  /// not on X (the inputs depending on X and not on Y stay in cache meanwhile). A dense layer's input gradient
  /// (out[n, k] = sum_u dy[n, u] W[u, k]) with rows along n otherwise streams all of W for every four rows.
  void orderOuterLoops(SmallVector<unsigned> &outer, const Box &box, const KernelPlan &plan) const {
    const int second = plan.colDim >= 0 && !plan.severalVectors() ? plan.colDim
                       : !c.isReduction[plan.vectorDim]           ? static_cast<int>(plan.vectorDim)
                                                                  : -1;
    if (plan.rowDim < 0 || second < 0)
      return;
    auto *first = llvm::find(outer, static_cast<unsigned>(plan.rowDim)), *other = llvm::find(outer, second);
    if (first > other)
      std::swap(first, other);
    const unsigned x = *first, y = *other;
    const SmallVector<unsigned> fixed(outer.begin(), first);
    auto blocks = [&](unsigned d) {
      return static_cast<int64_t>(llvm::divideCeil(box.hi[d] - box.lo[d], plan.step(d)));
    };
    // Bytes read again per block of `outside` from the inputs that the loop inside it moves through.
    auto rereads = [&](unsigned outside, unsigned inside) {
      int64_t bytes = 0;
      for (const BufferAccess &access : c.inputs)
        if (access.dependsOn(inside) && !access.dependsOn(outside))
          bytes += footprint(access, box, fixed);
      return std::make_pair(bytes, bytes * blocks(outside));
    };
    const auto [streamed, now] = rereads(x, y);
    const auto swapped = rereads(y, x).second;
    // The front loop is the one the kernel threads share: moved there, Y keeps enough blocks to go round.
    const bool sharedEnough = !fixed.empty() || blocks(y) >= std::min<int64_t>(blocks(x), kThreadShareBlocks);
    if (streamed > kCacheResidentBytes && now > 2 * swapped && sharedEnough)
      std::iter_swap(first, other);
  }

  /// Where the data one iteration of the shared front loop reads again is more than the cache keeps, the outermost
  /// reduction dimension (not the vector's) in chunks, its chunk loop just inside the front loop: the blocks then
  /// re-read one chunk of their inputs, from the cache. A convolution's weight gradient (dw[f, c, k] = sum over n,
  /// o of x[n, c, o + k] dy[n, f, o]) otherwise streams the whole batch of dy for every block of (c, k). Returns the
  /// dimension and the chunk, a divisor of its extent; none where the accumulators would not survive a chunk (the
  /// epilogue needs the final sums).
  std::optional<std::pair<unsigned, int64_t>> reductionChunk(ArrayRef<unsigned> outer, ArrayRef<unsigned> inner,
                                                             const Box &box, const KernelPlan &plan) const {
    const auto *dim = llvm::find_if(inner, [&](unsigned d) { return d != plan.vectorDim; });
    if (outer.size() < 2 || c.epilogue || dim == inner.end())
      return std::nullopt;
    const unsigned front = outer.front(), chunked = *dim;
    const int64_t extent = box.hi[chunked] - box.lo[chunked];
    // Bytes of `access` that one front block reads, with `chunk` iterations of the chunked dimension.
    auto bytes = [&](const BufferAccess &access, int64_t chunk) {
      int64_t total = cast<MemRefType>(access.buffer.getType()).getElementTypeBitWidth() / 8;
      for (unsigned d = 0; d < box.lo.size(); ++d)
        if (access.dependsOn(d))
          total *= d == front     ? std::min(plan.step(d), box.hi[d] - box.lo[d])
                   : d == chunked ? chunk
                                  : box.hi[d] - box.lo[d];
      return total;
    };
    auto blocks = [&](unsigned d) { return llvm::divideCeil(box.hi[d] - box.lo[d], plan.step(d)); };
    int64_t reread = 0;
    for (const BufferAccess &access : c.inputs)
      if (llvm::any_of(outer.drop_front(), [&](unsigned d) { return !access.dependsOn(d) && blocks(d) > 1; }))
        reread += bytes(access, extent);
    if (reread <= kCacheResidentBytes)
      return std::nullopt;
    for (int64_t chunk = extent - 1; chunk >= 1; --chunk) {
      int64_t total = 0;
      for (const BufferAccess &access : c.inputs)
        total += bytes(access, chunk);
      if (extent % chunk == 0 && total <= kCacheResidentBytes)
        return std::make_pair(chunked, chunk);
    }
    return std::make_pair(chunked, int64_t{1});
  }

  /// The initial fill, of the part of the output that `box` writes.
  void fillBox(const Box &box) {
    Value out = c.op.getDpsInits()[0];
    SmallVector<OpFoldResult> offsets, sizes, strides;
    for (AffineExpr index : c.op.getMatchingIndexingMap(c.op.getDpsInitOperand(0)).getResults()) {
      unsigned d = cast<AffineDimExpr>(index).getPosition();
      offsets.push_back(b.getIndexAttr(box.lo[d]));
      sizes.push_back(b.getIndexAttr(box.hi[d] - box.lo[d]));
      strides.push_back(b.getIndexAttr(1));
    }
    Value part = b.create<memref::SubViewOp>(loc, out, offsets, sizes, strides);
    b.create<linalg::FillOp>(loc, c.initialFill.getInputs()[0], part);
  }

  /// The parallel (outer) and reduction (inner) loop dimensions of `box`'s kernel, in loop order.
  std::pair<SmallVector<unsigned>, SmallVector<unsigned>> loopOrder(const Box &box, const KernelPlan &plan) const {
    SmallVector<unsigned> outer, inner;
    for (unsigned d = 0; d < box.lo.size(); ++d)
      (c.isReduction[d] ? inner : outer).push_back(d);
    orderOuterLoops(outer, box, plan);
    return {outer, inner};
  }

  /// Whether `box`'s blocks hold outputs whose sums start from the initial fill's constant rather than from what
  /// the output holds (no reduction chunks), so that computing an output twice stores the same value twice.
  bool startsAtConstant(const Box &box, const KernelPlan &plan) const {
    auto [outer, inner] = loopOrder(box, plan);
    return c.initialFill && !c.isReduction[plan.vectorDim] && plan.activeLanes == 0 &&
           !reductionChunk(outer, inner, box, plan);
  }

  void emitKernel(const Box &box, const KernelPlan &plan) {
    auto [outer, inner] = loopOrder(box, plan);
    const std::optional<std::pair<unsigned, int64_t>> chunk = reductionChunk(outer, inner, box, plan);
    // The boxes along a reduction (a vector dimension that is one) run in order, the first from the initial value
    // and the others adding to what it stored. Chunks add to the output too: they read the initial value, written
    // first for this box.
    const bool initialBox = c.initialFill && llvm::all_of(inner, [&](unsigned d) { return box.lo[d] == 0; });
    if (initialBox && chunk)
      fillBox(box);
    const Value initialValue = initialBox && !chunk ? c.initialFill.getInputs()[0] : Value();
    auto bounds = [&](ArrayRef<unsigned> loopDims, SmallVector<Value> &lbs, SmallVector<Value> &ubs,
                      SmallVector<Value> &steps) {
      for (unsigned d : loopDims) {
        lbs.push_back(b.create<arith::ConstantIndexOp>(loc, box.lo[d]));
        ubs.push_back(b.create<arith::ConstantIndexOp>(loc, box.hi[d]));
        steps.push_back(b.create<arith::ConstantIndexOp>(loc, plan.step(d)));
      }
    };
    SmallVector<Value> outerLbs, outerUbs, outerSteps, innerLbs, innerUbs, innerSteps;
    bounds(outer, outerLbs, outerUbs, outerSteps);
    bounds(inner, innerLbs, innerUbs, innerSteps);
    // Accumulators hold outputs (loaded first, or the initial value, and stored last) unless they are partial sums
    // of a vector reduction.
    const bool holdsOutputs = plan.lanes == 1 || !c.isReduction[plan.vectorDim];
    Type accumulatorType = valueType(plan, c.element);
    SmallVector<Value> dimValues(box.lo.size());
    // One block: its accumulators loaded (or initial, or zero), the reduction loops, the sums stored.
    auto emitBlock = [&](OpBuilder &ob, ValueRange reductionLbs, ValueRange reductionUbs) {
      SmallVector<Value> initial;
      Value start = !holdsOutputs ? ob.create<arith::ConstantOp>(loc, ob.getZeroAttr(accumulatorType)).getResult()
                    : initialValue && plan.lanes > 1
                        ? ob.create<vector::BroadcastOp>(loc, accumulatorType, initialValue).getResult()
                        : initialValue;
      for (int64_t row = 0; row < plan.rowBlock; ++row)
        for (int64_t col = 0; col < plan.colBlock; ++col)
          initial.push_back(
              start ? start : load(ob, c.out, plan, indices(ob, c.out, dimValues, plan, row, col), accumulatorType));
      scf::LoopNest nest =
          scf::buildLoopNest(ob, loc, reductionLbs, reductionUbs, innerSteps, initial,
                             [&](OpBuilder &ib, Location, ValueRange innerIvs, ValueRange accumulators) {
                               for (auto [d, iv] : llvm::zip_equal(inner, innerIvs))
                                 dimValues[d] = iv;
                               return accumulateBlock(ib, plan, dimValues, accumulators);
                             });
      ValueRange finals = nest.results;
      // The epilogue goes with the box that adds the last terms of the reductions.
      const bool withEpilogue =
          c.epilogue && llvm::all_of(inner, [&](unsigned d) { return box.hi[d] == c.extents[d]; });
      for (int64_t row = 0, i = 0; row < plan.rowBlock; ++row)
        for (int64_t col = 0; col < plan.colBlock; ++col, ++i) {
          SmallVector<Value> at = indices(ob, c.out, dimValues, plan, row, col);
          Value total = finals[i];
          if (!holdsOutputs)
            total = ob.create<vector::ReductionOp>(
                loc, vector::CombiningKind::ADD, finals[i],
                initialValue ? initialValue : ob.create<memref::LoadOp>(loc, c.out.buffer, at).getResult(),
                arith::FastMathFlags::reassoc);
          if (!withEpilogue || !c.epilogue->inPlace)
            store(ob, total, c.out, plan, at);
          if (!withEpilogue)
            continue;
          Value epilogue = applyKernelEpilogue(ob, loc, *c.epilogue, total, [&](const BufferAccess &input) {
            Type element = cast<MemRefType>(input.buffer.getType()).getElementType();
            auto vector = dyn_cast<VectorType>(total.getType());
            return load(ob, input, plan, indices(ob, input, dimValues, plan, row, col),
                        vector ? VectorType::get(vector.getShape(), element) : element);
          });
          store(ob, epilogue, c.epilogue->out, plan, indices(ob, c.epilogue->out, dimValues, plan, row, col));
        }
    };
    // The outer loops after the front one, around a block.
    auto emitBlocks = [&](OpBuilder &ob, ArrayRef<unsigned> loopDims, ValueRange lbs, ValueRange ubs, ValueRange steps,
                          ValueRange reductionLbs, ValueRange reductionUbs) {
      scf::buildLoopNest(ob, loc, lbs, ubs, steps, [&](OpBuilder &nb, Location, ValueRange ivs) {
        for (auto [d, iv] : llvm::zip_equal(loopDims, ivs))
          dimValues[d] = iv;
        emitBlock(nb, reductionLbs, reductionUbs);
      });
    };
    if (outer.empty()) {
      emitBlock(b, innerLbs, innerUbs);
      return;
    }
    auto front = b.create<scf::ForOp>(loc, outerLbs[0], outerUbs[0], outerSteps[0]);
    // Every output element belongs to one iteration of the outer loops: the kernel threads may share them.
    front->setAttr(kParallelLoopAttribute, b.getUnitAttr());
    OpBuilder fb = OpBuilder::atBlockBegin(front.getBody());
    dimValues[outer[0]] = front.getInductionVar();
    const ArrayRef<unsigned> rest = ArrayRef<unsigned>(outer).drop_front();
    auto restBounds = [](const SmallVector<Value> &values) { return ValueRange(values).drop_front(); };
    if (!chunk) {
      emitBlocks(fb, rest, restBounds(outerLbs), restBounds(outerUbs), restBounds(outerSteps), innerLbs, innerUbs);
      return;
    }
    const auto [chunked, size] = *chunk;
    const size_t at = llvm::find(inner, chunked) - inner.begin();
    auto chunks = fb.create<scf::ForOp>(loc, innerLbs[at], innerUbs[at], fb.create<arith::ConstantIndexOp>(loc, size));
    OpBuilder cb = OpBuilder::atBlockBegin(chunks.getBody());
    SmallVector<Value> chunkLbs = innerLbs, chunkUbs = innerUbs;
    chunkLbs[at] = chunks.getInductionVar();
    chunkUbs[at] = cb.create<arith::AddIOp>(loc, chunks.getInductionVar(), chunks.getStep());
    emitBlocks(cb, rest, restBounds(outerLbs), restBounds(outerUbs), restBounds(outerSteps), chunkLbs, chunkUbs);
  }

  /// One step of the reduction loops: every accumulator += term, each input loaded once per distinct (row, col) it
  /// depends on.
  scf::ValueVector accumulateBlock(OpBuilder &ib, const KernelPlan &plan, ArrayRef<Value> dimValues,
                                   ValueRange accumulators) {
    std::map<std::tuple<unsigned, int64_t, int64_t>, Value> loaded;
    auto input = [&](unsigned which, int64_t row, int64_t col) {
      const BufferAccess &access = c.inputs[which];
      row = access.dependsOn(plan.rowDim) ? row : -1;
      col = access.dependsOn(plan.colDim) ? col : -1;
      Value &value = loaded[{which, row, col}];
      if (!value) {
        SmallVector<Value> at =
            indices(ib, access, dimValues, plan, std::max<int64_t>(row, 0), std::max<int64_t>(col, 0));
        value = load(ib, access, plan, at, valueType(plan, cast<MemRefType>(access.buffer.getType()).getElementType()));
      }
      return value;
    };
    Block &body = *c.op.getBlock();
    std::optional<std::pair<unsigned, unsigned>> product = c.productOfInputs();
    scf::ValueVector updated;
    for (int64_t row = 0, i = 0; row < plan.rowBlock; ++row)
      for (int64_t col = 0; col < plan.colBlock; ++col, ++i) {
        Value accumulator = accumulators[i];
        if (product) {
          Value lhs = input(product->first, row, col), rhs = input(product->second, row, col);
          updated.push_back(plan.lanes == 1 ? ib.create<math::FmaOp>(loc, lhs, rhs, accumulator).getResult()
                                            : ib.create<vector::FMAOp>(loc, lhs, rhs, accumulator).getResult());
          continue;
        }
        IRMapping mapping;
        for (unsigned which = 0; which < c.inputs.size(); ++which)
          mapping.map(body.getArgument(which), input(which, row, col));
        cloneElementwise(ib, loc, body, c.accumulate, mapping, plan.lanes);
        updated.push_back(
            ib.create<arith::AddFOp>(loc, accumulator, mapping.lookup(c.term), c.accumulate.getFastmathAttr()));
      }
    return updated;
  }
};

/// Whether the kernel can read and write the epilogue's buffers as it does its own: whole vectors along the vector
/// dimension where they move along it.
bool fits(const KernelEpilogue &epilogue, const KernelPlan &plan) {
  auto fitsAccess = [&](const BufferAccess &access) {
    return !access.dependsOn(plan.vectorDim) || access.vectorisableAlong(plan.vectorDim);
  };
  return fitsAccess(epilogue.out) && llvm::all_of(epilogue.inputs, [&](const std::optional<BufferAccess> &input) {
           return !input || fitsAccess(*input);
         });
}

/// `op` with every run of adjacent loop dimensions of one kind that each operand indexes as consecutive, contiguous
/// dimensions collapsed into one, or null where there is none. Reshapes pushed through a contraction leave such
/// runs: a dense layer's input gradient through a flatten loops over (channels, 3 positions), whose innermost 3 is
/// too short for a vector and whose outer dimension has stride 3, where the collapsed 3 x channels positions are
/// one contiguous row.
linalg::GenericOp collapseContiguousDimensions(linalg::GenericOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  // Plain dimensions of buffers laid out row-major: only then is a run of them one contiguous dimension.
  if (!llvm::all_of(maps, [](AffineMap map) { return map.isProjectedPermutation(); }) ||
      !llvm::all_of(op->getOperandTypes(), [](Type type) {
        auto buffer = dyn_cast<MemRefType>(type);
        return buffer && buffer.getLayout().isIdentity();
      }))
    return nullptr;
  SmallVector<utils::IteratorType> kinds = op.getIteratorTypesArray();
  SmallVector<ReassociationIndices> runs;
  ReassociationIndices run{0};
  auto close = [&] {
    if (run.size() > 1)
      runs.push_back(run);
  };
  for (int64_t d = 1; d < static_cast<int64_t>(kinds.size()); ++d) {
    ReassociationIndices longer = run;
    longer.push_back(d);
    if (kinds[d] == kinds[run.front()] && linalg::areDimSequencesPreserved(maps, {longer})) {
      run = longer;
      continue;
    }
    close();
    run = {d};
  }
  close();
  if (runs.empty())
    return nullptr;
  IRRewriter rewriter(op.getContext());
  rewriter.setInsertionPoint(op);
  FailureOr<linalg::CollapseResult> collapsed = linalg::collapseOpIterationDims(op, runs, rewriter);
  if (failed(collapsed))
    return nullptr;
  rewriter.replaceOp(op, collapsed->results);
  return dyn_cast<linalg::GenericOp>(collapsed->collapsedOp.getOperation());
}

struct ContractionKernelsPass : PassWrapper<ContractionKernelsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ContractionKernelsPass)
  ContractionKernelsPass() = default;
  ContractionKernelsPass(const ContractionKernelsPass &other) : PassWrapper(other) {}
  explicit ContractionKernelsPass(VectorTarget target) {
    vectorBits = target.vectorBits;
    registers = target.registers;
  }
  StringRef getArgument() const override { return "seqjit-contraction-kernels"; }
  StringRef getDescription() const override {
    return "Register-tiled vector kernels for multiply-accumulate linalg.generic ops on buffers";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, math::MathDialect, memref::MemRefDialect, scf::SCFDialect,
                    vector::VectorDialect>();
  }
  void runOnOperation() override {
    if (vectorBits < 128 || registers < 8) {
      getOperation().emitError("seqjit-contraction-kernels needs vector-bits >= 128 and registers >= 8");
      return signalPassFailure();
    }
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp op) { generics.push_back(op); });
    std::vector<Contraction> contractions;
    for (linalg::GenericOp op : generics) {
      std::optional<Contraction> contraction = matchContraction(op);
      // A contraction without a vector dimension may have one once its contiguous dimensions are collapsed.
      if (contraction && !planKernel(*contraction, {vectorBits, registers}))
        if (linalg::GenericOp collapsed = collapseContiguousDimensions(op))
          contraction = matchContraction(collapsed);
      if (contraction)
        contractions.push_back(std::move(*contraction));
    }
    for (Contraction &contraction : contractions) {
      std::optional<KernelPlan> plan = planKernel(contraction, {vectorBits, registers});
      if (!plan)
        continue;
      if (epilogues)
        contraction.epilogue = matchKernelEpilogue(contraction.op, contraction.out);
      if (contraction.epilogue && !fits(*contraction.epilogue, *plan))
        contraction.epilogue.reset();
      contraction.initialFill = initialFill(contraction.op, *contraction.op.getDpsInitOperand(0));
      OpBuilder builder(contraction.epilogue ? contraction.epilogue->op : contraction.op);
      Box all{SmallVector<int64_t>(contraction.extents.size(), 0), contraction.extents};
      KernelEmitter(contraction, builder).emit(all, *plan);
      contraction.op.erase();
      if (contraction.epilogue)
        contraction.epilogue->op.erase();
      if (contraction.initialFill)
        contraction.initialFill.erase();
    }
  }

  Option<unsigned> vectorBits{*this, "vector-bits", llvm::cl::desc("width of a vector register"), llvm::cl::init(512)};
  Option<unsigned> registers{*this, "registers", llvm::cl::desc("number of vector registers"), llvm::cl::init(32)};
  Option<bool> epilogues{*this, "epilogues",
                         llvm::cl::desc("apply the elementwise op after a contraction inside its kernel"),
                         llvm::cl::init(true)};
};

} // namespace

std::unique_ptr<Pass> createContractionKernelsPass(VectorTarget target) {
  return std::make_unique<ContractionKernelsPass>(target);
}

void registerContractionKernelsPass() { PassRegistration<ContractionKernelsPass>(); }

} // namespace seqjit
