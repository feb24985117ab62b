// The JIT: cpuPipeline() or cudaPipeline() to the LLVM dialect, then mlir::ExecutionEngine (ORC) with host CPU
// features; on CUDA the host code's runtime calls are bound to CudaLaunchRuntime and buffers staged on the device.
#include "compiler/JitModule.h"

#include "compiler/CudaLaunchRuntime.h"
#include "compiler/Pipelines.h"
#include "compiler/PtxEmitter.h"
#include "dsl/Error.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/TargetSelect.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace seqjit {

struct JitModule::Impl {
  mlir::MLIRContext context;
  Device device = Device::Cpu;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  /// On CUDA where there is a GPU: the program's loaded kernels (destroyed before the engine whose PTX constants
  /// key them).
  std::unique_ptr<CudaKernelCache> kernels;
  size_t elementBytes = 4;
  double loweringSeconds = 0;
  double codegenSeconds = 0;
};

JitModule::JitModule(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JitModule::~JitModule() = default;
Device JitModule::device() const { return impl_->device; }
double JitModule::loweringSeconds() const { return impl_->loweringSeconds; }
double JitModule::codegenSeconds() const { return impl_->codegenSeconds; }

namespace {

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

/// Compiled programs malloc their intermediate buffers (megabytes each) and free them before returning. By default
/// glibc serves such sizes with mmap or trims them off the heap when freed, so every call faults every page in
/// again: a quarter of a training step and a third of a forward pass went to the kernel. Freed memory is kept for
/// reuse instead: buffers up to 32 MiB (glibc's maximum) come from the heap, and up to 512 MiB of free heap stay
/// mapped.
void keepFreedMemoryForReuse() {
#ifdef __GLIBC__
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
  });
#endif
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// The memref descriptor of a contiguous buffer: {allocated, aligned, offset, sizes[rank], strides[rank]}.
std::vector<int64_t> descriptor(void *data, const std::vector<int64_t> &shape) {
  size_t rank = shape.size();
  std::vector<int64_t> d(3 + 2 * rank);
  d[0] = d[1] = reinterpret_cast<int64_t>(data);
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    d[3 + i] = shape[i];
    d[3 + rank + i] = stride;
    stride *= shape[i];
  }
  return d;
}

/// The pipeline for `options.device`. CUDA needs libdevice (GPU math) from the toolkit, not a GPU: programs
/// compile for CUDA anywhere, and only calling them needs the device.
std::string pipelineFor(const JitOptions &options, const std::string &name) {
  if (!options.pipeline.empty()) {
    if (options.device != Device::Cpu)
      throw Error(fmt::format("{}: a pipeline of one's own runs on the CPU only", name));
    return options.pipeline;
  }
  if (options.device == Device::Cpu)
    return cpuPipeline();
  std::string libdevice = findLibdevice();
  if (libdevice.empty())
    throw Error(fmt::format("{}: compiling for CUDA needs libdevice.10.bc from the CUDA toolkit, which was not found "
                            "(set CUDA_HOME to the toolkit's directory)",
                            name));
  std::string chip = options.cudaChip;
  if (chip.empty()) {
    std::string why;
    CudaDevice *gpu = CudaDevice::get(why);
    if (!gpu)
      throw Error(fmt::format("{}: cannot compile for CUDA: {}", name, why));
    chip = fmt::format("sm_{}", std::min(gpu->computeCapability(), 90));
  }
  return cudaPipeline(chip, "+ptx80", libdevice);
}

} // namespace

std::unique_ptr<JitModule> JitModule::compileGraph(const Graph &graph, const ImportOptions &options,
                                                   const JitOptions &jitOptions) {
  if (options.batch <= 0)
    throw Error(fmt::format("model '{}': the CPU JIT needs a static batch size, got {}", graph.name, options.batch));
  return compileModule([&](mlir::MLIRContext &context) { return importGraph(context, graph, options); },
                       "model '" + graph.name + "'", options.float64, {options.functionName}, jitOptions);
}

std::unique_ptr<JitModule> JitModule::compileModule(const ModuleBuilder &build, const std::string &name, bool float64,
                                                    const std::vector<std::string> &entryPoints,
                                                    const JitOptions &jitOptions) {
  initializeNativeTarget();
  keepFreedMemoryForReuse();
  auto impl = std::make_unique<Impl>();
  impl->elementBytes = float64 ? 8 : 4;
  impl->device = jitOptions.device;
  auto start = std::chrono::steady_clock::now();
  loadSeqjitDialects(impl->context);
  auto module = build(impl->context);
  if (mlir::failed(runPipeline(*module, pipelineFor(jitOptions, name))))
    throw Error(fmt::format("{}: lowering to LLVM for the {} failed (see the diagnostics above)", name,
                            jitOptions.device == Device::Cuda ? "GPU" : "CPU"));
  impl->loweringSeconds = secondsSince(start);

  start = std::chrono::steady_clock::now();
  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder)
    throw Error("cannot detect the host CPU for the JIT: " + llvm::toString(machineBuilder.takeError()));
  machineBuilder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto targetMachine = machineBuilder->createTargetMachine();
  if (!targetMachine)
    throw Error("cannot create the JIT target machine: " + llvm::toString(targetMachine.takeError()));
  mlir::ExecutionEngineOptions engineOptions;
  // ExecutionEngineOptions::transformer is a function_ref: the function it refers to must outlive create().
  std::function<llvm::Error(llvm::Module *)> optimize =
      mlir::makeOptimizingTransformer(jitOptions.optimizationLevel, 0, targetMachine->get());
  engineOptions.transformer = optimize;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // memref.copy of non-trivial layouts lowers to a call of memrefCopy, which MLIR ships in this library.
  llvm::StringRef runnerUtils = SEQJIT_MLIR_C_RUNNER_UTILS;
  engineOptions.sharedLibPaths = llvm::ArrayRef<llvm::StringRef>(runnerUtils);
  auto engine = mlir::ExecutionEngine::create(*module, engineOptions, std::move(*targetMachine));
  if (!engine)
    throw Error(fmt::format("{}: JIT compilation failed: {}", name, llvm::toString(engine.takeError())));
  impl->engine = std::move(*engine);
  if (impl->device == Device::Cuda) {
    std::string why;
    if (CudaDevice *gpu = CudaDevice::get(why))
      impl->kernels = std::make_unique<CudaKernelCache>(*gpu);
    impl->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
      llvm::orc::SymbolMap symbols;
      for (auto &[symbol, address] : cudaRuntimeSymbols())
        symbols[interner(symbol)] = {llvm::orc::ExecutorAddr::fromPtr(address), llvm::JITSymbolFlags::Exported};
      return symbols;
    });
  }
  // ORC materialises lazily: look the entry points up now so that code generation happens (and is timed) here.
  for (const std::string &entryPoint : entryPoints)
    if (auto symbol = impl->engine->lookupPacked("_mlir_ciface_" + entryPoint); !symbol)
      throw Error(fmt::format("{}: JIT code generation failed: {}", name, llvm::toString(symbol.takeError())));
  impl->codegenSeconds = secondsSince(start);
  return std::unique_ptr<JitModule>(new JitModule(std::move(impl)));
}

namespace {

int64_t elementCount(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t extent : shape)
    count *= extent;
  return count;
}

/// Calls `function` through the C interface with the arguments' buffers at `argumentData` (host or device
/// addresses) and returns the results' descriptors, one after the other (all fields are 8 bytes), with the offset of
/// each.
std::vector<int64_t> invoke(mlir::ExecutionEngine &engine, const std::string &function,
                            const std::vector<BufferView> &arguments, const std::vector<void *> &argumentData,
                            const std::vector<BufferView> &results, std::vector<size_t> &resultOffsets) {
  size_t resultWords = 0;
  for (const BufferView &r : results) {
    resultOffsets.push_back(resultWords);
    resultWords += 3 + 2 * r.shape.size();
  }
  std::vector<int64_t> resultDescriptors(resultWords, 0);
  std::vector<std::vector<int64_t>> argumentDescriptors;
  argumentDescriptors.reserve(arguments.size());
  for (size_t a = 0; a < arguments.size(); ++a)
    argumentDescriptors.push_back(descriptor(argumentData[a], arguments[a].shape));
  // The C interface takes pointers to descriptors (the results' first); the packed call takes pointers to those.
  std::vector<void *> descriptorPointers{resultDescriptors.data()};
  for (auto &d : argumentDescriptors)
    descriptorPointers.push_back(d.data());
  std::vector<void *> packed;
  for (void *&p : descriptorPointers)
    packed.push_back(&p);
  if (llvm::Error error = engine.invokePacked("_mlir_ciface_" + function, packed))
    throw Error(fmt::format("calling compiled function '{}' failed: {}", function, llvm::toString(std::move(error))));
  return resultDescriptors;
}

/// Throws unless every result has the expected shape.
void checkResultShapes(const std::string &function, const std::vector<BufferView> &results,
                       const std::vector<int64_t> &resultDescriptors, const std::vector<size_t> &resultOffsets) {
  for (size_t r = 0; r < results.size(); ++r)
    for (size_t i = 0; i < results[r].shape.size(); ++i)
      if (int64_t found = resultDescriptors[resultOffsets[r] + 3 + i]; found != results[r].shape[i])
        throw Error(fmt::format("compiled function '{}' returned dimension {} of result {} of size {}, expected {}",
                                function, i, r, found, results[r].shape[i]));
}

/// Device buffers handed back to the pool when the call ends, however it ends.
struct DeviceBuffers {
  CudaDevice &device;
  std::vector<void *> blocks;
  ~DeviceBuffers() {
    for (void *block : blocks)
      device.releaseQuietly(block);
  }
  bool contains(void *block) const { return llvm::is_contained(blocks, block); }
};

} // namespace

void JitModule::call(const std::string &function, const std::vector<BufferView> &arguments,
                     const std::vector<BufferView> &results) const {
  size_t elementBytes = impl_->elementBytes;
  std::vector<size_t> offsets;
  if (impl_->device == Device::Cpu) {
    std::vector<void *> argumentData;
    for (const BufferView &a : arguments)
      argumentData.push_back(a.data);
    std::vector<int64_t> descriptors = invoke(*impl_->engine, function, arguments, argumentData, results, offsets);
    checkResultShapes(function, results, descriptors, offsets);
    std::vector<void *> freed;
    for (size_t r = 0; r < results.size(); ++r) {
      const int64_t *d = &descriptors[offsets[r]];
      auto *allocated = reinterpret_cast<char *>(d[0]);
      auto *aligned = reinterpret_cast<char *>(d[1]);
      std::memcpy(results[r].data, aligned + d[2] * elementBytes, elementCount(results[r].shape) * elementBytes);
      // A result may be an argument (an identity model) or share its buffer with another result.
      bool isArgument = llvm::is_contained(argumentData, allocated);
      if (!isArgument && !llvm::is_contained(freed, allocated)) {
        freed.push_back(allocated);
        std::free(allocated);
      }
    }
    return;
  }

  if (!impl_->kernels) {
    std::string why;
    CudaDevice::get(why);
    throw Error(fmt::format("compiled function '{}' was compiled for CUDA, but cannot run: {}", function, why));
  }
  CudaDevice &gpu = impl_->kernels->device();
  std::lock_guard<std::mutex> lock(gpu.executionMutex());
  gpu.makeCurrent();
  DeviceBuffers staged{gpu, {}};
  for (const BufferView &a : arguments) {
    size_t bytes = elementCount(a.shape) * elementBytes;
    staged.blocks.push_back(gpu.allocate(bytes));
    gpu.copyToDevice(staged.blocks.back(), a.data, bytes);
  }
  CudaCallScope scope(*impl_->kernels);
  std::vector<int64_t> descriptors = invoke(*impl_->engine, function, arguments, staged.blocks, results, offsets);
  // The results' blocks go back to the pool however the rest ends (a result may be an argument or another result).
  DeviceBuffers returned{gpu, {}};
  for (size_t r = 0; r < results.size(); ++r) {
    auto *allocated = reinterpret_cast<void *>(descriptors[offsets[r]]);
    if (allocated && !staged.contains(allocated) && !returned.contains(allocated))
      returned.blocks.push_back(allocated);
  }
  scope.rethrow(); // the first failure inside the call says more than the stream's state after it
  gpu.synchronize();
  checkResultShapes(function, results, descriptors, offsets);
  for (size_t r = 0; r < results.size(); ++r) {
    const int64_t *d = &descriptors[offsets[r]];
    auto *aligned = reinterpret_cast<char *>(d[1]);
    gpu.copyToHost(results[r].data, aligned + d[2] * elementBytes, elementCount(results[r].shape) * elementBytes);
  }
  gpu.synchronize();
}

} // namespace seqjit
