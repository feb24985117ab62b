// Compile-or-fetch: the program's key (compiler/ProgramKey.h) finds it in the persistent cache, or cpuPipeline()
// (cudaPipeline() for CUDA) lowers it to the LLVM dialect and compiler/SharedObjectEmitter.h makes the shared object,
// which the cache keeps.
#include "compiler/ArtifactBuilder.h"

#include "compiler/Pipelines.h"
#include "compiler/ProgramFunction.h"
#include "compiler/ProgramKey.h"
#include "compiler/PtxEmitter.h"
#include "compiler/SharedObjectEmitter.h"
#include "dsl/Error.h"
#include "runtime/core/CudaDevice.h"
#include "runtime/core/KernelProfile.h"
#include "runtime/core/NativeProgram.h"
#include "runtime/core/ProgramCache.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>

namespace seqjit {

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// The pipeline for `options.device`. CUDA needs libdevice (GPU math) from the toolkit, not a GPU: programs
/// compile for CUDA anywhere, and only calling them needs the device.
std::string pipelineFor(const ArtifactOptions &options, const std::string &name) {
  if (!options.pipeline.empty()) {
    if (options.device != Device::Cpu)
      throw Error(fmt::format("{}: a pipeline of one's own runs on the CPU only", name));
    return options.pipeline;
  }
  if (options.device == Device::Cpu)
    return cpuPipeline();
  if (kernelProfileEnabled())
    throw Error(fmt::format("{}: the kernel profile times programs on the CPU; for CUDA, run seqjit under Nsight "
                            "Systems (nsys profile) instead",
                            name));
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

Artifact buildGraphArtifact(const Graph &graph, const ImportOptions &importOptions, const ArtifactOptions &options) {
  if (importOptions.batch <= 0)
    throw Error(
        fmt::format("model '{}': compiling needs a static batch size, got {}", graph.name, importOptions.batch));
  return buildArtifact([&](mlir::MLIRContext &context) { return importGraph(context, graph, importOptions); },
                       "model '" + graph.name + "'", importOptions.float64, {importOptions.functionName}, options);
}

namespace {

std::mutex tallyMutex;
CompileTally tally;

} // namespace

void countCompile(const Artifact &artifact, double readySeconds) {
  std::lock_guard<std::mutex> lock(tallyMutex);
  (artifact.fromCache ? tally.cached : tally.compiled) += 1;
  (artifact.fromCache ? tally.cachedSeconds : tally.compiledSeconds) += readySeconds;
  tally.loweringSeconds += artifact.loweringSeconds;
  tally.codegenSeconds += artifact.codegenSeconds;
}

namespace {

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
void compileOrFetch(Artifact &artifact, mlir::ModuleOp module, const std::string &pipeline,
                    const std::vector<std::string> &entryPoints, int optLevel,
                    std::chrono::steady_clock::time_point start) {
  const std::string &name = artifact.name;
  std::optional<ProgramCache> cache = programCache();
  std::string target, key;
  if (cache) {
    target = hostTargetDescription() + (artifact.device == Device::Cuda ? " launching CUDA kernels" : "");
    key = programKey(module, pipeline, target, entryPoints, optLevel);
    std::string rejected;
    if (std::optional<std::filesystem::path> entry = cache->find(key, target, rejected)) {
      artifact.file = *entry;
      artifact.fromCache = true;
      return;
    }
    if (!rejected.empty())
      fmt::print(stderr, "seqjit: the cached build of {} was discarded ({}); compiling it again\n", name, rejected);
  }
  if (mlir::failed(runPipeline(module, pipeline)))
    throw Error(fmt::format("{}: lowering to LLVM for the {} failed (see the diagnostics above)", name,
                            artifact.device == Device::Cpu ? "CPU" : "GPU"));
  artifact.loweringSeconds = secondsSince(start);
  std::vector<std::string> imports;
  for (const auto &[function, address] : programImports(artifact.device))
    imports.push_back(function);
  EmittedLibrary library = emitSharedObject(module, entryPoints, imports, optLevel, name);
  artifact.codegenSeconds = library.llvmSeconds + library.linkSeconds;
  if (cache) {
    try {
      cache->store(key, target, library.bytes);
    } catch (const Error &e) {
      // A program that cannot be kept still runs.
      fmt::print(stderr, "seqjit: warning: {}\n", e.what());
    }
  }
  artifact.bytes = std::move(library.bytes);
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

Artifact buildArtifact(const ModuleBuilder &build, const std::string &name, bool float64,
                       const std::vector<std::string> &entryPoints, const ArtifactOptions &options) {
  auto start = std::chrono::steady_clock::now();
  Artifact artifact;
  artifact.name = name;
  artifact.device = options.device;
  artifact.signature.elementBytes = float64 ? 8 : 4;
  mlir::MLIRContext context;
  loadSeqjitDialects(context);
  auto module = build(context);
  for (const std::string &entryPoint : entryPoints) {
    auto function = module->lookupSymbol<mlir::func::FuncOp>(entryPoint);
    if (!function)
      throw Error(fmt::format("{}: the module has no function '{}'", name, entryPoint));
    artifact.signature.functions.push_back(functionSignature(function));
  }
  std::string pipeline = pipelineFor(options, name);
  compileOrFetch(artifact, *module, pipeline, entryPoints, options.optimizationLevel, start);
  return artifact;
}

} // namespace seqjit
