#include "runtime/core/CudaCall.h"

#include <algorithm>
#include <mutex>

namespace seqjit {
namespace {

/// Device buffers handed back to the pool when the call ends, however it ends.
struct DeviceBuffers {
  CudaDevice &device;
  std::vector<void *> blocks;
  ~DeviceBuffers() {
    for (void *block : blocks)
      device.releaseQuietly(block);
  }
  bool contains(void *block) const { return std::find(blocks.begin(), blocks.end(), block) != blocks.end(); }
};

} // namespace

void callOnCuda(CudaKernelCache &kernels, PackedFunction entry, const std::string &function,
                const std::vector<BufferView> &arguments, const std::vector<BufferView> &results, size_t elementBytes) {
  CudaDevice &gpu = kernels.device();
  std::lock_guard<std::mutex> lock(gpu.executionMutex());
  gpu.makeCurrent();
  DeviceBuffers staged{gpu, {}};
  for (const BufferView &a : arguments) {
    size_t bytes = elementCount(a.shape) * elementBytes;
    staged.blocks.push_back(gpu.allocate(bytes));
    gpu.copyToDevice(staged.blocks.back(), a.data, bytes);
  }
  CudaCallScope scope(kernels);
  ResultDescriptors descriptors = callPacked(entry, arguments, staged.blocks, results);
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
