// Compile-or-load: the program's key (compiler/ProgramKey.h) finds it in the persistent cache, or cpuPipeline()
// (cudaPipeline() for CUDA) lowers it to the LLVM dialect, compiler/SharedObjectEmitter.h makes the shared object,
// the cache keeps it, and runtime/core/NativeProgram.h loads and calls it.
#include "compiler/JitModule.h"

#include "compiler/Pipelines.h"
#include "compiler/ProgramKey.h"
#include "compiler/PtxEmitter.h"
#include "compiler/SharedObjectEmitter.h"
#include "dsl/Error.h"
#include "runtime/core/CudaDevice.h"
#include "runtime/core/HostMemory.h"
#include "runtime/core/NativeProgram.h"
#include "runtime/core/ProgramCache.h"

#include "mlir/IR/MLIRContext.h"

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
  std::unique_ptr<NativeProgram> program;
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

/// The cache's entry, or lowering, code generation and linking (then stored in the cache). A program for CUDA is
/// its host code, with the kernels' PTX among its constants, calling the CUDA runtime through import slots.
void compileOrLoad(JitModule::Impl &impl, mlir::ModuleOp module, const std::string &pipeline,
                   const std::vector<std::string> &entryPoints, int optLevel, const std::string &name,
                   std::chrono::steady_clock::time_point start) {
  std::optional<ProgramCache> cache = programCache();
  std::string target, key;
  if (cache) {
    target = hostTargetDescription() + (impl.device == Device::Cuda ? " launching CUDA kernels" : "");
    key = programKey(module, pipeline, target, entryPoints, optLevel);
    std::string rejected;
    if (std::optional<std::filesystem::path> entry = cache->find(key, target, rejected)) {
      impl.program = NativeProgram::load(*entry, entryPoints, impl.elementBytes, impl.device);
      impl.fromCache = true;
      return;
    }
    if (!rejected.empty())
      fmt::print(stderr, "seqjit: the cached build of {} was discarded ({}); compiling it again\n", name, rejected);
  }
  if (mlir::failed(runPipeline(module, pipeline)))
    throw Error(fmt::format("{}: lowering to LLVM for the {} failed (see the diagnostics above)", name,
                            impl.device == Device::Cpu ? "CPU" : "GPU"));
  impl.loweringSeconds = secondsSince(start);
  std::vector<std::string> imports;
  for (const auto &[function, address] : programImports(impl.device))
    imports.push_back(function);
  EmittedLibrary library = emitSharedObject(module, entryPoints, imports, optLevel, name);
  impl.codegenSeconds = library.llvmSeconds + library.linkSeconds;
  if (cache) {
    try {
      cache->store(key, target, library.bytes);
    } catch (const Error &e) {
      // A program that cannot be kept still runs.
      fmt::print(stderr, "seqjit: warning: {}\n", e.what());
    }
  }
  impl.program = NativeProgram::loadBytes(library.bytes, entryPoints, impl.elementBytes, impl.device);
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
  compileOrLoad(*impl, *module, pipeline, entryPoints, jitOptions.optimizationLevel, name, start);
  impl->readySeconds = secondsSince(start);
  count(*impl);
  return std::unique_ptr<JitModule>(new JitModule(std::move(impl)));
}

void JitModule::call(const std::string &function, const std::vector<BufferView> &arguments,
                     const std::vector<BufferView> &results) const {
  impl_->program->call(function, arguments, results);
}

} // namespace seqjit
