// One call of a compiled program's host code on a CUDA GPU: arguments staged in device memory, the launches bound
// to the program's kernels, the results copied back, every device buffer returned to the pool however it ends.
#pragma once

#include "runtime/core/BufferView.h"
#include "runtime/core/CudaLaunchRuntime.h"
#include "runtime/core/PackedCall.h"

#include <string>
#include <vector>

namespace seqjit {

/// Calls `entry` (compiled function `function`, elements of `elementBytes` bytes) with the host buffers
/// `arguments`, filling the host buffers `results`. Throws seqjit::Error with the first failure of the call.
void callOnCuda(CudaKernelCache &kernels, PackedFunction entry, const std::string &function,
                const std::vector<BufferView> &arguments, const std::vector<BufferView> &results, size_t elementBytes);

} // namespace seqjit
