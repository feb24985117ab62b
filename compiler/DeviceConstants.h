// Constant buffers (a DFT matrix, a smoothing window) copied to the device, where the kernels that read them run.
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// seqjit-constants-to-device, on the host functions of a GPU module after kernel outlining: every
/// memref.get_global (a constant in the compiled host code's memory) becomes a device allocation filled by
/// gpu.memcpy from it, used in its place and freed before the function returns.
std::unique_ptr<mlir::Pass> createConstantsToDevicePass();

/// Registers seqjit-constants-to-device for textual pipelines.
void registerConstantsToDevicePass();

} // namespace seqjit
