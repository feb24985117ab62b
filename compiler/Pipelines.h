// The lowering pipelines, as textual pass pipelines so that seqjit-opt and the tests run exactly the same thing.
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <string>

namespace seqjit {

/// seq -> linalg -> bufferized loops -> LLVM dialect, for the CPU JIT (pass list for a builtin.module;
/// also registered as the pipeline `seqjit-lower-to-llvm`).
std::string cpuPipeline();

/// seq -> linalg -> parallel loops -> gpu kernels -> NVVM -> PTX in a gpu.binary (`seqjit-lower-to-ptx`).
/// `libdevice` is linked when non-empty (math functions on the GPU come from it).
std::string ptxPipeline(const std::string &chip, const std::string &features, const std::string &libdevice);

/// Registers every MLIR pass and seqjit's own (idempotent).
void registerPipelinePasses();

/// Runs a textual pipeline on `module`. SEQJIT_DUMP_IR=all prints the IR after every pass;
/// SEQJIT_DUMP_IR=<pass argument> after that pass only. Diagnostics go to stderr.
mlir::LogicalResult runPipeline(mlir::ModuleOp module, const std::string &pipeline);

} // namespace seqjit
