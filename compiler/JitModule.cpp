// Compile-or-load. The CPU: the program's key (compiler/ProgramKey.h) finds it in the persistent cache, or
// cpuPipeline() lowers it to the LLVM dialect, compiler/SharedObjectEmitter.h makes the shared object, the cache
// keeps it, and runtime/core/NativeProgram.h loads and calls it. CUDA: cudaPipeline(), then mlir::ExecutionEngine
// (ORC) with host CPU features; the host code's runtime calls are bound to CudaLaunchRuntime and buffers staged on
// the device.
#include "compiler/JitModule.h"

#include "compiler/CudaLaunchRuntime.h"
#include "compiler/Pipelines.h"
#include "compiler/ProgramKey.h"
#include "compiler/PtxEmitter.h"
#include "compiler/SharedObjectEmitter.h"
#include "dsl/Error.h"
#include "runtime/core/HostMemory.h"
#include "runtime/core/NativeProgram.h"
#include "runtime/core/PackedCall.h"
#include "runtime/core/ProgramCache.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>

namespace seqjit {

struct JitModule::Impl {
  mlir::MLIRContext context;
  Device device = Device::Cpu;
  /// On the CPU: the loaded shared object.
  std::unique_ptr<NativeProgram> program;
  /// On CUDA: the JIT-compiled host code.
  std::unique_ptr<mlir::ExecutionEngine> engine;
  /// On CUDA where there is a GPU: the program's loaded kernels (destroyed before the engine whose PTX constants
  /// key them).
  std::unique_ptr<CudaKernelCache> kernels;
  size_t elementBytes = 4;
  double loweringSeconds = 0;
  double codegenSeconds = 0;
  double readySeconds = 0;
  bool fromCache = false;
};

JitModule::JitModule(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JitModule::~JitModule() = default;
Device JitModule::device() const { return impl_->device; }
double JitModule::loweringSeconds() const { return impl_->loweringSeconds; }
double JitModule::codegenSeconds() const { return impl_->codegenSeconds; }

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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

namespace {

std::mutex tallyMutex;
CompileTally tally;

void count(const JitModule::Impl &impl) {
  std::lock_guard<std::mutex> lock(tallyMutex);
  (impl.fromCache ? tally.cached : tally.compiled) += 1;
  (impl.fromCache ? tally.cachedSeconds : tally.compiledSeconds) += impl.readySeconds;
  tally.loweringSeconds += impl.loweringSeconds;
  tally.codegenSeconds += impl.codegenSeconds;
}

/// The persistent cache, unless SEQJIT_CACHE=off or the compiler's build cannot be identified (a key without it
/// could serve a program an older seqjit compiled).
std::optional<ProgramCache> programCache() {
  if (compilerBuildId().empty()) {
    static std::once_flag once;
    std::call_once(once, [] {
      fmt::print(stderr, "seqjit: this build of seqjit has no GNU build ID, so compiled programs are not cached\n");
    });
    return std::nullopt;
  }
  return ProgramCache::fromEnvironment();
}

/// The CPU: the cache's entry, or lowering, code generation and linking (then stored in the cache).
void compileForCpu(JitModule::Impl &impl, mlir::ModuleOp module, const std::string &pipeline,
                   const std::vector<std::string> &entryPoints, int optLevel, const std::string &name,
                   std::chrono::steady_clock::time_point start) {
  std::optional<ProgramCache> cache = programCache();
  std::string target, key;
  if (cache) {
    target = hostTargetDescription();
    key = programKey(module, pipeline, target, entryPoints, optLevel);
    std::string rejected;
    if (std::optional<std::filesystem::path> entry = cache->find(key, target, rejected)) {
      impl.program = NativeProgram::load(*entry, entryPoints, impl.elementBytes);
      impl.fromCache = true;
      return;
    }
    if (!rejected.empty())
      fmt::print(stderr, "seqjit: the cached build of {} was discarded ({}); compiling it again\n", name, rejected);
  }
  if (mlir::failed(runPipeline(module, pipeline)))
    throw Error(fmt::format("{}: lowering to LLVM for the CPU failed (see the diagnostics above)", name));
  impl.loweringSeconds = secondsSince(start);
  EmittedLibrary library = emitSharedObject(module, entryPoints, optLevel, name);
  impl.codegenSeconds = library.llvmSeconds + library.linkSeconds;
  if (cache) {
    try {
      cache->store(key, target, library.bytes);
    } catch (const Error &e) {
      // A program that cannot be kept still runs.
      fmt::print(stderr, "seqjit: warning: {}\n", e.what());
    }
  }
  impl.program = NativeProgram::loadBytes(library.bytes, entryPoints, impl.elementBytes);
}

} // namespace

CompileTally compileTally() {
  std::lock_guard<std::mutex> lock(tallyMutex);
  return tally;
}

std::string describeCompileTally() {
  CompileTally t = compileTally();
  std::string text;
  if (t.compiled > 0)
    text = fmt::format("{} program{} in {:.1f} s", t.compiled, t.compiled == 1 ? "" : "s", t.compiledSeconds);
  if (t.cached > 0)
    text += fmt::format("{}{} from the cache in {:.2f} s", text.empty() ? "" : ", ", t.cached, t.cachedSeconds);
  if (text.empty())
    text = "no programs";
  const char *mode = std::getenv("SEQJIT_CACHE");
  return "compiling: " + text + (mode && std::string(mode) == "off" ? " (cache off)" : "");
}

std::unique_ptr<JitModule> JitModule::compileModule(const ModuleBuilder &build, const std::string &name, bool float64,
                                                    const std::vector<std::string> &entryPoints,
                                                    const JitOptions &jitOptions) {
  keepFreedMemoryForReuse();
  auto impl = std::make_unique<Impl>();
  impl->elementBytes = float64 ? 8 : 4;
  impl->device = jitOptions.device;
  auto start = std::chrono::steady_clock::now();
  loadSeqjitDialects(impl->context);
  auto module = build(impl->context);
  std::string pipeline = pipelineFor(jitOptions, name);
  if (impl->device == Device::Cpu) {
    compileForCpu(*impl, *module, pipeline, entryPoints, jitOptions.optimizationLevel, name, start);
    impl->readySeconds = secondsSince(start);
    count(*impl);
    return std::unique_ptr<JitModule>(new JitModule(std::move(impl)));
  }

  initializeNativeTarget();
  if (mlir::failed(runPipeline(*module, pipeline)))
    throw Error(fmt::format("{}: lowering to LLVM for the GPU failed (see the diagnostics above)", name));
  impl->loweringSeconds = secondsSince(start);
  auto codegenStart = std::chrono::steady_clock::now();
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
  std::string why;
  if (CudaDevice *gpu = CudaDevice::get(why))
    impl->kernels = std::make_unique<CudaKernelCache>(*gpu);
  impl->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    for (auto &[symbol, address] : cudaRuntimeSymbols())
      symbols[interner(symbol)] = {llvm::orc::ExecutorAddr::fromPtr(address), llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  // ORC materialises lazily: look the entry points up now so that code generation happens (and is timed) here.
  for (const std::string &entryPoint : entryPoints)
    if (auto symbol = impl->engine->lookupPacked("_mlir_ciface_" + entryPoint); !symbol)
      throw Error(fmt::format("{}: JIT code generation failed: {}", name, llvm::toString(symbol.takeError())));
  impl->codegenSeconds = secondsSince(codegenStart);
  impl->readySeconds = secondsSince(start);
  count(*impl);
  return std::unique_ptr<JitModule>(new JitModule(std::move(impl)));
}

namespace {

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
  if (impl_->device == Device::Cpu) {
    impl_->program->call(function, arguments, results);
    return;
  }

  if (!impl_->kernels) {
    std::string why;
    CudaDevice::get(why);
    throw Error(fmt::format("compiled function '{}' was compiled for CUDA, but cannot run: {}", function, why));
  }
  auto entry = impl_->engine->lookupPacked("_mlir_ciface_" + function);
  if (!entry)
    throw Error(fmt::format("calling compiled function '{}' failed: {}", function, llvm::toString(entry.takeError())));
  size_t elementBytes = impl_->elementBytes;
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
  ResultDescriptors descriptors = callPacked(*entry, arguments, staged.blocks, results);
  // The results' blocks go back to the pool however the rest ends (a result may be an argument or another result).
  DeviceBuffers returned{gpu, {}};
  for (size_t r = 0; r < results.size(); ++r) {
    auto *allocated = reinterpret_cast<void *>(descriptors.of(r)[0]);
    if (allocated && !staged.contains(allocated) && !returned.contains(allocated))
      returned.blocks.push_back(allocated);
  }
  scope.rethrow(); // the first failure inside the call says more than the stream's state after it
  gpu.synchronize();
  checkResultShapes(function, results, descriptors);
  for (size_t r = 0; r < results.size(); ++r) {
    const int64_t *d = descriptors.of(r);
    auto *aligned = reinterpret_cast<char *>(d[1]);
    gpu.copyToHost(results[r].data, aligned + d[2] * elementBytes, elementCount(results[r].shape) * elementBytes);
  }
  gpu.synchronize();
}

} // namespace seqjit
