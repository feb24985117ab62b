// PTX for NVIDIA GPUs from the same pipeline as the CPU JIT: what the CUDA backend will load.
#pragma once

#include "compiler/GraphImport.h"

#include <string>
#include <vector>

namespace seqjit {

struct PtxOptions {
  std::string chip = "sm_90";
  std::string features = "+ptx80";
  /// libdevice bitcode for GPU math; empty to look in the CUDA toolkit (CUDA_HOME, /usr/local/cuda).
  std::string libdevice;
};

/// Where libdevice.10.bc is, or an empty string.
std::string findLibdevice();

/// One outlined kernel module: what cuModuleLoadData takes.
struct PtxModule {
  std::string name; ///< The gpu.module's symbol, e.g. forward_kernel_3.
  std::string ptx;  ///< PTX text, without the trailing NUL.
};

/// Lowers a module of seq functions with static shapes (any program builder's: forward, train step, input gradient,
/// DeepLIFT, mutation windows) to PTX, one module per kernel; `name` names it in errors. Throws seqjit::Error on
/// failure.
std::vector<PtxModule> emitModulePtx(mlir::ModuleOp module, const std::string &name, const PtxOptions &ptxOptions = {});

/// The forward program of `graph` (static batch) as PTX.
std::vector<PtxModule> emitPtx(const Graph &graph, const ImportOptions &options, const PtxOptions &ptxOptions = {});

} // namespace seqjit
