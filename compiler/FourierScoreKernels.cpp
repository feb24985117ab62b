// seqjit-fourier-score-kernels: see the header.
#include "compiler/FourierScoreKernels.h"

#include "compiler/FourierScoreDecomposition.h"
#include "compiler/SeqDialect.h"
#include "dsl/FourierPriorTerms.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <numbers>
#include <utility>
#include <vector>

using namespace mlir;

namespace seqjit {

namespace {

constexpr int64_t kThreadsPerBlock = 256;
constexpr int64_t kSharedMemoryBytes = 48 * 1024; // static shared memory a block may have on every CUDA GPU

// gpu.barrier declares no memory effects, and buffer deallocation refuses any op whose effects it cannot see; the
// kernels carry this instead (what gpu.barrier becomes on NVIDIA, with its effects declared) until
// seqjit-block-kernels-to-gpu, after deallocation.
constexpr const char *kBarrierPlaceholder = "bar.sync 0;";

/// What one Fourier op computes, and where its block keeps it in shared memory: the smoothed row (reused for its
/// cotangent in the VJP), the DFT's cosines and sines of 2 pi l / L, the spectrum (VJP only: real and imaginary
/// parts, then their cotangents), and each thread's partial sums of the magnitudes and weighted magnitudes.
struct FourierKernelShape {
  int64_t rows = 0, length = 0, frequencies = 0, freqLimit = 0;
  double softness = 0.0;
  std::vector<double> smoothing;
  Type element;
  bool withSpectrum = false;
  int64_t threads = kThreadsPerBlock; // emulated too, so that both choose and lay out alike
  int64_t smoothed = 0, cosines = 0, sines = 0, real = 0, imaginary = 0, partialTotals = 0, partialWeighted = 0,
          sharedElements = 0;

  FourierKernelShape(const FourierOpParts &parts, bool spectrum) {
    auto type = cast<RankedTensorType>(parts.track.getType());
    rows = type.getDimSize(0);
    length = type.getDimSize(1);
    frequencies = length / 2 + 1;
    freqLimit = parts.freqLimit;
    softness = parts.softness;
    smoothing = fourierSmoothingKernel(parts.sigma);
    element = type.getElementType();
    withSpectrum = spectrum;
    int64_t next = 0;
    auto reserve = [&](int64_t count) { return std::exchange(next, next + count); };
    smoothed = reserve(length);
    cosines = reserve(length);
    sines = reserve(length);
    real = reserve(withSpectrum ? frequencies : 0);
    imaginary = reserve(withSpectrum ? frequencies : 0);
    partialTotals = reserve(threads);
    partialWeighted = reserve(threads);
    sharedElements = next;
  }

  bool fitsInSharedMemory() const {
    return sharedElements * static_cast<int64_t>(element.getIntOrFloatBitWidth() / 8) <= kSharedMemoryBytes;
  }
};

/// The code of one block, for one row: stages separated by barriers, loops strided over the block's threads, and
/// work for the first thread. On the GPU, `row` and `thread` are the block and thread index; emulated, `row` is a
/// loop over rows and each stage a loop over the threads, one after another.
class RowKernel {
public:
  RowKernel(OpBuilder &builder, Location loc, const FourierKernelShape &shape, bool emulated)
      : b(builder), loc(loc), shape(shape), emulated(emulated) {}

  OpBuilder &b;
  Location loc;
  const FourierKernelShape &shape;
  bool emulated;
  Value row, thread, threads, shared;

  Value index(int64_t value) { return b.create<arith::ConstantIndexOp>(loc, value); }
  Value scalar(double value) { return b.create<arith::ConstantOp>(loc, FloatAttr::get(shape.element, value)); }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y); }
  Value div(Value x, Value y) { return b.create<arith::DivFOp>(loc, x, y); }
  Value select(Value condition, Value x, Value y) { return b.create<arith::SelectOp>(loc, condition, x, y); }
  Value positive(Value x) { return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x, scalar(0.0)); }
  Value toFloat(Value i) {
    Value integer = b.create<arith::IndexCastOp>(loc, b.getI64Type(), i);
    return b.create<arith::SIToFPOp>(loc, shape.element, integer);
  }
  Value load(Value memref, ValueRange indices) { return b.create<memref::LoadOp>(loc, memref, indices); }
  void store(Value value, Value memref, ValueRange indices) { b.create<memref::StoreOp>(loc, value, memref, indices); }
  Value loadShared(int64_t offset, Value i) { return load(shared, {b.create<arith::AddIOp>(loc, index(offset), i)}); }
  void storeShared(Value value, int64_t offset, Value i) {
    store(value, shared, {b.create<arith::AddIOp>(loc, index(offset), i)});
  }

  /// body(i) for i = thread, thread + threads, ... below `extent`.
  void forEachThread(int64_t extent, function_ref<void(Value)> body) {
    auto loop = b.create<scf::ForOp>(loc, thread, index(extent), threads);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }

  /// The values of `initial` after body(i, values) for i in [0, extent): a sequential accumulation in one thread.
  SmallVector<Value> accumulate(Value extent, ValueRange initial,
                                function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto loop = b.create<scf::ForOp>(loc, index(0), extent, index(1), initial,
                                     [&](OpBuilder &nested, Location, Value i, ValueRange values) {
                                       OpBuilder::InsertionGuard guard(b);
                                       b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
                                       b.create<scf::YieldOp>(loc, body(i, values));
                                     });
    return SmallVector<Value>(loop.getResults());
  }

  /// One stage of the block: body for each thread, then (if `synchronise`) a barrier before the next stage. On the
  /// GPU the threads run it together; emulated, one after another, which is what the barrier promises.
  void stage(function_ref<void()> body, bool synchronise = true) {
    if (!emulated) {
      body();
      if (synchronise) // a placeholder for gpu.barrier until seqjit-block-kernels-to-gpu (see kBarrierPlaceholder)
        b.create<LLVM::InlineAsmOp>(loc, TypeRange{}, ValueRange{}, kBarrierPlaceholder, "~{memory}",
                                    /*has_side_effects=*/true, /*is_align_stack=*/false, /*asm_dialect=*/nullptr,
                                    /*operand_attrs=*/nullptr);
      return;
    }
    auto each = b.create<scf::ForOp>(loc, index(0), threads, index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(each.getBody());
    Value block = std::exchange(thread, each.getInductionVar());
    body();
    thread = block;
  }

  void onFirstThread(function_ref<void()> body) {
    Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, thread, index(0));
    auto branch = b.create<scf::IfOp>(loc, first, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(branch.thenBlock());
    body();
  }

  /// (phase + step) mod L for phase, step < L: the DFT's index k l mod L, advanced without a division.
  Value advancePhase(Value phase, Value step) {
    Value next = b.create<arith::AddIOp>(loc, phase, step);
    Value wrapped = b.create<arith::SubIOp>(loc, next, index(shape.length));
    Value past = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, next, index(shape.length));
    return select(past, wrapped, next);
  }

  /// sum over the smoothing taps j of tap[j] * values(l + direction * (j - radius)), zero outside [0, L).
  Value smooth(Value l, int64_t direction, function_ref<Value(Value)> values) {
    int64_t radius = static_cast<int64_t>(shape.smoothing.size()) / 2;
    Value sum = scalar(0.0);
    for (auto [j, tap] : llvm::enumerate(shape.smoothing)) {
      Value at = b.create<arith::AddIOp>(loc, l, index(direction * (static_cast<int64_t>(j) - radius)));
      Value inside =
          b.create<arith::AndIOp>(loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, at, index(0)),
                                  b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, at, index(shape.length)));
      Value value = values(select(inside, at, index(0)));
      sum = add(sum, mul(scalar(tap), select(inside, value, scalar(0.0))));
    }
    return sum;
  }

  /// The weight of frequency k (dsl/FourierPriorTerms.h).
  Value frequencyWeight(Value k) {
    Value beyond = sub(toFloat(k), scalar(static_cast<double>(shape.freqLimit)));
    Value base = b.create<arith::MaximumFOp>(loc, beyond, scalar(0.0));
    Value damped = div(scalar(1.0), add(scalar(1.0), b.create<math::PowFOp>(loc, base, scalar(shape.softness))));
    Value isDc = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, k, index(0));
    Value passed = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, k, index(shape.freqLimit));
    return select(isDc, scalar(0.0), select(passed, scalar(1.0), damped));
  }

  /// Stages 1 and 2: the smoothed row and the DFT table in shared memory, then per frequency the rfft (kept if the
  /// shape has room for the spectrum) and each thread's partial sums of magnitudes.
  void spectrum(Value track) {
    stage([&] {
      forEachThread(shape.length, [&](Value l) {
        Value smoothed = shape.smoothing.empty() ? load(track, {row, l}) : smooth(l, 1, [&](Value at) {
          return load(track, {row, at});
        });
        storeShared(smoothed, shape.smoothed, l);
        Value angle = mul(toFloat(l), scalar(2.0 * std::numbers::pi / static_cast<double>(shape.length)));
        storeShared(b.create<math::CosOp>(loc, angle), shape.cosines, l);
        storeShared(b.create<math::SinOp>(loc, angle), shape.sines, l);
      });
      storeShared(scalar(0.0), shape.partialTotals, thread);
      storeShared(scalar(0.0), shape.partialWeighted, thread);
    });
    stage([&] {
      forEachThread(shape.frequencies, [&](Value k) {
        SmallVector<Value> dft =
            accumulate(index(shape.length), {scalar(0.0), scalar(0.0), index(0)},
                       [&](Value l, ValueRange sums) -> SmallVector<Value> {
                         Value phase = sums[2], value = loadShared(shape.smoothed, l);
                         return {add(sums[0], mul(value, loadShared(shape.cosines, phase))),
                                 add(sums[1], mul(value, loadShared(shape.sines, phase))), advancePhase(phase, k)};
                       });
        Value magnitude = b.create<math::SqrtOp>(loc, add(mul(dft[0], dft[0]), mul(dft[1], dft[1])));
        storeShared(add(loadShared(shape.partialTotals, thread), magnitude), shape.partialTotals, thread);
        storeShared(add(loadShared(shape.partialWeighted, thread), mul(frequencyWeight(k), magnitude)),
                    shape.partialWeighted, thread);
        if (shape.withSpectrum) {
          storeShared(dft[0], shape.real, k);
          storeShared(dft[1], shape.imaginary, k);
        }
      });
    });
  }

  /// Stage 3, in the first thread: (sum of magnitudes, score) from the threads' partial sums.
  std::pair<Value, Value> totalAndScore() {
    SmallVector<Value> sums =
        accumulate(threads, {scalar(0.0), scalar(0.0)}, [&](Value t, ValueRange partial) -> SmallVector<Value> {
          return {add(partial[0], loadShared(shape.partialTotals, t)),
                  add(partial[1], loadShared(shape.partialWeighted, t))};
        });
    Value nonzero = positive(sums[0]);
    Value score = select(nonzero, div(sums[1], select(nonzero, sums[0], scalar(1.0))), scalar(0.0));
    return {sums[0], score};
  }
};

/// Runs `body` once per row of `shape`: a gpu.launch of a block per row, or emulated, a loop over rows whose stages
/// run the block's threads one after another, with the shared buffer on the stack.
void emitRowKernel(OpBuilder &b, Location loc, const FourierKernelShape &shape, bool emulated,
                   function_ref<void(RowKernel &)> body) {
  RowKernel kernel(b, loc, shape, emulated);
  if (emulated) {
    kernel.shared = b.create<memref::AllocaOp>(loc, MemRefType::get({shape.sharedElements}, shape.element));
    auto rows = b.create<scf::ForOp>(loc, kernel.index(0), kernel.index(shape.rows), kernel.index(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(rows.getBody());
    kernel.row = rows.getInductionVar();
    kernel.threads = kernel.index(shape.threads);
    return body(kernel);
  }
  Value one = kernel.index(1);
  auto launch = b.create<gpu::LaunchOp>(loc, kernel.index(shape.rows), one, one, kernel.index(shape.threads), one, one);
  OpBuilder::InsertionGuard guard(b);
  Block &block = launch.getBody().front();
  b.setInsertionPointToEnd(&block);
  if (block.empty() || !block.back().hasTrait<OpTrait::IsTerminator>())
    b.create<gpu::TerminatorOp>(loc);
  b.setInsertionPoint(block.getTerminator());
  kernel.row = launch.getBlockIds().x;
  kernel.thread = launch.getThreadIds().x;
  kernel.threads = launch.getBlockSize().x;
  // A stack allocation in workgroup memory stands for the block's shared buffer until seqjit-block-kernels-to-gpu
  // makes it a workgroup attribution, which buffer deallocation would take for a buffer it must own.
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  kernel.shared = b.create<memref::AllocaOp>(
      loc, MemRefType::get({shape.sharedElements}, shape.element, MemRefLayoutAttrInterface(), workgroup));
  body(kernel);
}

/// `tensor` as a buffer the kernel reads, in whatever layout bufferization gives it.
Value readBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, strides);
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType(), layout);
  return b.create<bufferization::ToMemrefOp>(loc, memrefType, tensor, /*read_only=*/true);
}

/// One launch computing the score of each row.
Value emitScoreKernel(OpBuilder &b, seq::FourierScoreOp op, const FourierKernelShape &shape, bool emulated) {
  Location loc = op.getLoc();
  Value track = readBuffer(b, loc, op.getTrack());
  Value scores = b.create<memref::AllocOp>(loc, MemRefType::get({shape.rows}, shape.element));
  emitRowKernel(b, loc, shape, emulated, [&](RowKernel &k) {
    k.spectrum(track);
    k.stage([&] { k.onFirstThread([&] { k.store(k.totalAndScore().second, scores, {k.row}); }); },
            /*synchronise=*/false);
  });
  return b.create<bufferization::ToTensorOp>(loc, op.getType(), scores, /*restrict=*/true, /*writable=*/true);
}

/// One launch computing the track cotangent of each row: the spectrum again, then the chain rule back.
Value emitScoreGradKernel(OpBuilder &b, seq::FourierScoreGradOp op, const FourierKernelShape &shape, bool emulated) {
  Location loc = op.getLoc();
  Value track = readBuffer(b, loc, op.getTrack()), outputGrad = readBuffer(b, loc, op.getOutputGrad());
  Value grad = b.create<memref::AllocOp>(loc, MemRefType::get({shape.rows, shape.length}, shape.element));
  emitRowKernel(b, loc, shape, emulated, [&](RowKernel &k) {
    k.spectrum(track);
    // Stage 3: 1 / sum of magnitudes (0 for a zero row) and the score, for every thread.
    k.stage([&] {
      k.onFirstThread([&] {
        auto [total, score] = k.totalAndScore();
        Value nonzero = k.positive(total);
        k.storeShared(k.select(nonzero, k.div(k.scalar(1.0), k.select(nonzero, total, k.scalar(1.0))), k.scalar(0.0)),
                      shape.partialTotals, k.index(0));
        k.storeShared(score, shape.partialWeighted, k.index(0));
      });
    });
    // Stage 4: d score / d (re, im)_k = u (w_k - score) / total * (re, im)_k / m_k, in place of the spectrum.
    k.stage([&] {
      Value inverseTotal = k.loadShared(shape.partialTotals, k.index(0));
      Value score = k.loadShared(shape.partialWeighted, k.index(0));
      Value upstream = k.load(outputGrad, {k.row});
      k.forEachThread(shape.frequencies, [&](Value f) {
        Value re = k.loadShared(shape.real, f), im = k.loadShared(shape.imaginary, f);
        Value magnitude = b.create<math::SqrtOp>(loc, k.add(k.mul(re, re), k.mul(im, im)));
        Value magnitudeGrad = k.mul(k.mul(upstream, inverseTotal), k.sub(k.frequencyWeight(f), score));
        Value nonzero = k.positive(magnitude);
        Value factor =
            k.select(nonzero, k.div(magnitudeGrad, k.select(nonzero, magnitude, k.scalar(1.0))), k.scalar(0.0));
        k.storeShared(k.mul(re, factor), shape.real, f);
        k.storeShared(k.mul(im, factor), shape.imaginary, f);
      });
    });
    // Stage 5: the DFT's transpose, into the smoothed row's place.
    k.stage([&] {
      k.forEachThread(shape.length, [&](Value l) {
        SmallVector<Value> sums =
            k.accumulate(k.index(shape.frequencies), {k.scalar(0.0), k.index(0)},
                         [&](Value f, ValueRange partial) -> SmallVector<Value> {
                           Value phase = partial[1];
                           Value term =
                               k.add(k.mul(k.loadShared(shape.real, f), k.loadShared(shape.cosines, phase)),
                                     k.mul(k.loadShared(shape.imaginary, f), k.loadShared(shape.sines, phase)));
                           return {k.add(partial[0], term), k.advancePhase(phase, l)};
                         });
        k.storeShared(sums[0], shape.smoothed, l);
      });
    });
    // Stage 6: the smoothing's transpose (position l fed smoothed[l - j + radius] through tap j).
    k.stage(
        [&] {
          k.forEachThread(shape.length, [&](Value l) {
            Value value = shape.smoothing.empty()
                              ? k.loadShared(shape.smoothed, l)
                              : k.smooth(l, -1, [&](Value at) { return k.loadShared(shape.smoothed, at); });
            k.store(value, grad, {k.row, l});
          });
        },
        /*synchronise=*/false);
  });
  return b.create<bufferization::ToTensorOp>(loc, op.getType(), grad, /*restrict=*/true, /*writable=*/true);
}

struct FourierScoreKernelsPass : PassWrapper<FourierScoreKernelsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FourierScoreKernelsPass)
  FourierScoreKernelsPass() = default;
  FourierScoreKernelsPass(const FourierScoreKernelsPass &other) : PassWrapper(other) {}
  StringRef getArgument() const override { return "seqjit-fourier-score-kernels"; }
  StringRef getDescription() const override {
    return "seq.fourier_score and its VJP each as one GPU kernel of a block per example";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, bufferization::BufferizationDialect, gpu::GPUDialect, LLVM::LLVMDialect,
                    math::MathDialect, memref::MemRefDialect, scf::SCFDialect>();
  }

  Option<bool> emulateOnCpu{*this, "emulate-on-cpu",
                            llvm::cl::desc("run the kernels on the CPU: each stage a loop over the block's threads"),
                            llvm::cl::init(false)};

  void runOnOperation() override {
    bool emulated = emulateOnCpu;
    auto lower = [emulated](OpBuilder &b, Operation *op) -> FailureOr<Value> {
      FourierOpParts parts = fourierOpParts(op);
      auto grad = dyn_cast<seq::FourierScoreGradOp>(op);
      FourierKernelShape shape(parts, /*spectrum=*/static_cast<bool>(grad));
      if (!fitsKernel(parts.track, shape))
        return decomposeFourierOp(b, op);
      if (grad)
        return emitScoreGradKernel(b, grad, shape, emulated);
      return emitScoreKernel(b, cast<seq::FourierScoreOp>(op), shape, emulated);
    };
    if (failed(replaceFourierOps(getOperation(), lower)))
      signalPassFailure();
  }

  /// A kernel needs static shapes and a shared buffer within a block's limit.
  static bool fitsKernel(Value track, const FourierKernelShape &shape) {
    return cast<RankedTensorType>(track.getType()).hasStaticShape() && shape.fitsInSharedMemory();
  }
};

struct BlockKernelsToGpuPass : PassWrapper<BlockKernelsToGpuPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(BlockKernelsToGpuPass)
  StringRef getArgument() const override { return "seqjit-block-kernels-to-gpu"; }
  StringRef getDescription() const override {
    return "the shared buffers and barrier placeholders of seqjit-fourier-score-kernels to workgroup attributions "
           "and gpu.barrier";
  }
  void getDependentDialects(DialectRegistry &registry) const override { registry.insert<gpu::GPUDialect>(); }
  void runOnOperation() override {
    getOperation().walk([](gpu::LaunchOp launch) {
      SmallVector<Operation *> placeholders;
      launch.getBody().walk([&](Operation *op) {
        if (auto asm_ = dyn_cast<LLVM::InlineAsmOp>(op); asm_ && asm_.getAsmString() == kBarrierPlaceholder)
          placeholders.push_back(op);
        if (auto alloca = dyn_cast<memref::AllocaOp>(op);
            alloca && alloca->getParentOp() == launch.getOperation() &&
            gpu::GPUDialect::hasWorkgroupMemoryAddressSpace(alloca.getType()))
          placeholders.push_back(op);
      });
      for (Operation *placeholder : placeholders) {
        if (auto alloca = dyn_cast<memref::AllocaOp>(placeholder)) {
          alloca.getResult().replaceAllUsesWith(launch.addWorkgroupAttribution(alloca.getType(), alloca.getLoc()));
        } else {
          OpBuilder b(placeholder);
          b.create<gpu::BarrierOp>(placeholder->getLoc());
        }
        placeholder->erase();
      }
    });
  }
};

} // namespace

std::unique_ptr<Pass> createFourierScoreKernelsPass() { return std::make_unique<FourierScoreKernelsPass>(); }

void registerFourierScoreKernelsPass() {
  registerPass([] { return createFourierScoreKernelsPass(); });
  registerPass([] { return std::make_unique<BlockKernelsToGpuPass>(); });
}

} // namespace seqjit
