// CPU JIT: cpuPipeline() to the LLVM dialect, then mlir::ExecutionEngine (ORC) with host CPU features.
#include "compiler/JitModule.h"

#include "compiler/Pipelines.h"
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
  std::unique_ptr<mlir::ExecutionEngine> engine;
  size_t elementBytes = 4;
  double loweringSeconds = 0;
  double codegenSeconds = 0;
};

JitModule::JitModule(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JitModule::~JitModule() = default;
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
  auto start = std::chrono::steady_clock::now();
  loadSeqjitDialects(impl->context);
  auto module = build(impl->context);
  if (mlir::failed(runPipeline(*module, cpuPipeline())))
    throw Error(fmt::format("{}: lowering to LLVM failed (see the diagnostics above)", name));
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
  // ORC materialises lazily: look the entry points up now so that code generation happens (and is timed) here.
  for (const std::string &entryPoint : entryPoints)
    if (auto symbol = impl->engine->lookupPacked("_mlir_ciface_" + entryPoint); !symbol)
      throw Error(fmt::format("{}: JIT code generation failed: {}", name, llvm::toString(symbol.takeError())));
  impl->codegenSeconds = secondsSince(start);
  return std::unique_ptr<JitModule>(new JitModule(std::move(impl)));
}

void JitModule::call(const std::string &function, const std::vector<BufferView> &arguments,
                     const std::vector<BufferView> &results) const {
  // Several results come back as one struct of descriptors, laid out one after the other (all fields are 8 bytes).
  std::vector<size_t> resultOffsets;
  size_t resultWords = 0;
  for (const BufferView &r : results) {
    resultOffsets.push_back(resultWords);
    resultWords += 3 + 2 * r.shape.size();
  }
  std::vector<int64_t> resultDescriptors(resultWords, 0);
  std::vector<std::vector<int64_t>> argumentDescriptors;
  argumentDescriptors.reserve(arguments.size());
  for (const BufferView &a : arguments)
    argumentDescriptors.push_back(descriptor(a.data, a.shape));
  // The C interface takes pointers to descriptors (the results' first); the packed call takes pointers to those.
  std::vector<void *> descriptorPointers{resultDescriptors.data()};
  for (auto &d : argumentDescriptors)
    descriptorPointers.push_back(d.data());
  std::vector<void *> packed;
  for (void *&p : descriptorPointers)
    packed.push_back(&p);
  if (llvm::Error error = impl_->engine->invokePacked("_mlir_ciface_" + function, packed))
    throw Error(fmt::format("calling compiled function '{}' failed: {}", function, llvm::toString(std::move(error))));

  std::vector<void *> freed;
  for (size_t r = 0; r < results.size(); ++r) {
    const BufferView &result = results[r];
    const int64_t *d = &resultDescriptors[resultOffsets[r]];
    size_t rank = result.shape.size();
    for (size_t i = 0; i < rank; ++i)
      if (d[3 + i] != result.shape[i])
        throw Error(fmt::format("compiled function '{}' returned dimension {} of result {} of size {}, expected {}",
                                function, i, r, d[3 + i], result.shape[i]));
    auto *allocated = reinterpret_cast<char *>(d[0]);
    auto *aligned = reinterpret_cast<char *>(d[1]);
    int64_t count = 1;
    for (int64_t extent : result.shape)
      count *= extent;
    std::memcpy(result.data, aligned + d[2] * impl_->elementBytes, count * impl_->elementBytes);
    // A result may be an argument (an identity model) or share its buffer with another result.
    bool isArgument = llvm::any_of(arguments, [&](const BufferView &a) { return a.data == allocated; });
    if (!isArgument && !llvm::is_contained(freed, allocated)) {
      freed.push_back(allocated);
      std::free(allocated);
    }
  }
}

} // namespace seqjit
