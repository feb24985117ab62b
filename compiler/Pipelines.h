// The lowering pipelines, as textual pass pipelines so that seqjit-opt and the tests run exactly the same thing.
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <string>

namespace seqjit {

/// seq -> linalg -> bufferized loops -> LLVM dialect, for the CPU JIT (pass list for a builtin.module;
/// also registered as the pipeline `seqjit-lower-to-llvm`), with kernels for cpuVectorTarget(), fusing as fusionLevel()
/// says (every pipeline does) and timing its loop nests where kernelProfileEnabled().
std::string cpuPipeline();

/// seq -> linalg -> parallel loops -> gpu kernels -> NVVM -> PTX in a gpu.binary (`seqjit-lower-to-ptx`). Every loop
/// and every access to a buffer's contents is in a kernel; the host code only allocates, frees and launches.
/// `libdevice` is linked when non-empty (math functions on the GPU come from it).
std::string ptxPipeline(const std::string &chip, const std::string &features, const std::string &libdevice);

/// ptxPipeline() followed by the host code's lowering to the LLVM dialect, for the CUDA runtime: buffers are allocated
/// with _mlir_memref_to_llvm_alloc (device memory), kernels launched with the mgpu* functions on one stream per
/// function (`seqjit-lower-to-cuda`).
std::string cudaPipeline(const std::string &chip, const std::string &features, const std::string &libdevice);

/// The GPU pipeline's loops (the same fusion, collapsing, tiling and one-thread wrapping as ptxPipeline) lowered for
/// the CPU instead of outlined into kernels, where a parallel loop runs as a sequential one: tests run it to check
/// the GPU's loop structure computes what the program says on machines without a GPU (`seqjit-gpu-loops-on-cpu`).
std::string gpuLoopsOnCpuPipeline();

/// Registers every MLIR pass and seqjit's own (idempotent).
void registerPipelinePasses();

/// Runs a textual pipeline on `module`. SEQJIT_DUMP_IR=all prints the IR after every pass;
/// SEQJIT_DUMP_IR=<pass argument> after that pass only. Diagnostics go to stderr.
mlir::LogicalResult runPipeline(mlir::ModuleOp module, const std::string &pipeline);

} // namespace seqjit
