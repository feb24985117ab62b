// The CPU and PTX lowering pipelines and the one function that runs them.
#include "compiler/Pipelines.h"

#include "compiler/Autodiff.h"
#include "compiler/ContractionKernels.h"
#include "compiler/DeviceConstants.h"
#include "compiler/ElementwiseFusion.h"
#include "compiler/FillPerDestination.h"
#include "compiler/FourierScoreDecomposition.h"
#include "compiler/FourierScoreKernels.h"
#include "compiler/FusionLevel.h"
#include "compiler/GpuLoopMapping.h"
#include "compiler/LoopNestOutlining.h"
#include "compiler/ProducerFusion.h"
#include "compiler/ReductionLoops.h"
#include "compiler/SeqToLinalg.h"
#include "runtime/core/KernelProfile.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <mutex>

using namespace mlir;

namespace seqjit {

namespace {
/// Shared by both targets: seq to linalg, elementwise fusion (at FusionLevel::Full), bufferization.
std::string tensorStages(FusionLevel fusion) {
  return std::string("convert-seq-to-linalg, canonicalize, ") +
         (fusion == FusionLevel::Full ? "seqjit-fuse-elementwise-ops, " : "") +
         "cse, seqjit-fill-per-destination, one-shot-bufferize{bufferize-function-boundaries "
         "function-boundary-type-conversion=identity-layout-map}";
}

/// The Fourier prior in the ops the CPU lowers well (its DFTs become contraction kernels); cse merges the score's
/// decomposition with the one its VJP repeats.
const char *kDecomposedFourierScore = "func.func(seqjit-decompose-fourier-score), cse, ";

/// The Fourier prior and its VJP as one GPU kernel each.
const char *kFourierScoreKernels = "func.func(seqjit-fourier-score-kernels), ";

/// Loops on buffers (linalg already lowered to parallel loops) to the LLVM dialect, for the CPU. The passes that work within a function run nested in
/// func.func, so that MLIR runs them on the outlined loop nests side by side; the same IR comes out.
const char *kCpuLoweringTail =
    "func.func(lower-affine, convert-scf-to-cf, canonicalize, "
    "expand-strided-metadata, convert-math-to-llvm), convert-math-to-libm, "
    "func.func(convert-vector-to-llvm{reassociate-fp-reductions}), finalize-memref-to-llvm{use-generic-functions}, "
    "func.func(convert-arith-to-llvm, convert-index-to-llvm), convert-func-to-llvm, convert-cf-to-llvm, "
    "reconcile-unrealized-casts";

/// The GPU's loop structure, on buffers: every loop and buffer access ends in a parallel loop mapped to blocks and
/// threads. At FusionLevel::Full a convolution read only by a pool is recomputed inside it; from
/// FusionLevel::Epilogue adjacent loops over the same index space fuse (a convolution with the fill of its bias,
/// batch norm and activation with the convolution they follow), so that each becomes one kernel.
std::string gpuLoopStages(FusionLevel fusion) {
  return std::string("buffer-deallocation-pipeline, convert-bufferization-to-memref, "
                     "func.func(seqjit-block-kernels-to-gpu, seqjit-memref-copies-to-linalg, "
                     "seqjit-parallel-dimensions-outermost") +
         (fusion == FusionLevel::Full ? ", seqjit-fuse-producers-into-consumers" : "") +
         "), convert-linalg-to-parallel-loops, canonicalize, func.func(" +
         (fusion != FusionLevel::None ? "scf-parallel-loop-fusion, " : "") + "seqjit-map-loops-to-gpu)";
}
} // namespace

std::string cpuPipeline() {
  VectorTarget target = cpuVectorTarget();
  FusionLevel fusion = fusionLevel();
  return std::string(kDecomposedFourierScore) + tensorStages(fusion) +
         ", func.func(seqjit-contraction-kernels{vector-bits=" + std::to_string(target.vectorBits) +
         " registers=" + std::to_string(target.registers) + (fusion == FusionLevel::None ? " epilogues=false" : "") +
         "}, seqjit-reduction-loops), buffer-deallocation-pipeline, convert-bufferization-to-memref, "
         "func.func(convert-linalg-to-parallel-loops), seqjit-outline-loop-nests" +
         (kernelProfileEnabled() ? "{profile}" : "") + ", " + kCpuLoweringTail;
}

std::string ptxPipeline(const std::string &chip, const std::string &features, const std::string &libdevice) {
  std::string attach = "nvvm-attach-target{chip=" + chip + " features=" + features;
  if (!libdevice.empty())
    attach += " l=" + libdevice;
  attach += "}";
  FusionLevel fusion = fusionLevel();
  return std::string(kFourierScoreKernels) + tensorStages(fusion) + ", " + gpuLoopStages(fusion) +
         ", convert-parallel-loops-to-gpu, gpu-launch-sink-index-computations, gpu-kernel-outlining, "
         "func.func(seqjit-check-host-memory-access, seqjit-constants-to-device), "
         "lower-affine, convert-scf-to-cf, " +
         attach +
         ", gpu.module(convert-gpu-to-nvvm, convert-math-to-llvm), reconcile-unrealized-casts, "
         "gpu-module-to-binary{format=isa}";
}

std::string gpuLoopsOnCpuPipeline() {
  FusionLevel fusion = fusionLevel();
  return std::string("func.func(seqjit-fourier-score-kernels{emulate-on-cpu}), ") + tensorStages(fusion) + ", " +
         gpuLoopStages(fusion) + ", " + kCpuLoweringTail;
}

std::string cudaPipeline(const std::string &chip, const std::string &features, const std::string &libdevice) {
  return ptxPipeline(chip, features, libdevice) +
         ", func.func(gpu-async-region), expand-strided-metadata, finalize-memref-to-llvm{use-generic-functions}, "
         "gpu-to-llvm, convert-arith-to-llvm, convert-index-to-llvm, convert-func-to-llvm, convert-cf-to-llvm, "
         "reconcile-unrealized-casts";
}

void registerPipelinePasses() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerAllPasses();
    registerSeqjitPasses();
    registerContractionKernelsPass();
    registerReductionLoopsPass();
    registerGpuLoopMappingPasses();
    registerFuseProducersIntoConsumersPass();
    registerFuseElementwiseOpsPass();
    registerFillPerDestinationPass();
    registerOutlineLoopNestsPass();
    registerConstantsToDevicePass();
    registerDecomposeFourierScorePass();
    registerFourierScoreKernelsPass();
    registerPass([] { return createAutodiffPass(); });
    PassPipelineRegistration<>("seqjit-lower-to-llvm", "seqjit's CPU pipeline: seq to the LLVM dialect",
                               [](OpPassManager &pm) { (void)parsePassPipeline(cpuPipeline(), pm); });
    PassPipelineRegistration<>(
        "seqjit-lower-to-ptx", "seqjit's GPU pipeline: seq to PTX for sm_90",
        [](OpPassManager &pm) { (void)parsePassPipeline(ptxPipeline("sm_90", "+ptx80", ""), pm); });
    PassPipelineRegistration<>("seqjit-gpu-loops-on-cpu", "the GPU pipeline's loops, lowered for the CPU",
                               [](OpPassManager &pm) { (void)parsePassPipeline(gpuLoopsOnCpuPipeline(), pm); });
    PassPipelineRegistration<>(
        "seqjit-lower-to-cuda", "seqjit's CUDA pipeline: seq to PTX kernels and LLVM host code launching them",
        [](OpPassManager &pm) { (void)parsePassPipeline(cudaPipeline("sm_90", "+ptx80", ""), pm); });
  });
}

LogicalResult runPipeline(ModuleOp module, const std::string &pipeline) {
  registerPipelinePasses();
  PassManager pm(module->getContext());
  std::string errors;
  llvm::raw_string_ostream errorStream(errors);
  if (failed(parsePassPipeline(pipeline, pm, errorStream))) {
    llvm::errs() << "seqjit: bad pass pipeline: " << errors << "\n";
    return failure();
  }
  if (const char *dump = std::getenv("SEQJIT_DUMP_IR")) {
    std::string which = dump;
    module->getContext()->disableMultithreading();
    pm.enableIRPrinting([](Pass *, Operation *) { return false; },
                        [which](Pass *pass, Operation *) { return which == "all" || pass->getArgument() == which; },
                        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  }
  if (std::getenv("SEQJIT_PASS_TIMING"))
    pm.enableTiming();
  return pm.run(module);
}

} // namespace seqjit
