// A stand-in for libcuda.so.1 that has every entry point seqjit loads but no GPU: cuInit reports
// CUDA_ERROR_NO_DEVICE, so tests see the fallback a machine with a driver and no device gives.
#include <cstddef>
#include <cstdint>

namespace {
constexpr int kNoDevice = 100;     // CUDA_ERROR_NO_DEVICE
constexpr int kNotInitialized = 3; // CUDA_ERROR_NOT_INITIALIZED: anything called after a failed cuInit
} // namespace

extern "C" {
int cuInit(unsigned) { return kNoDevice; }
int cuGetErrorName(int result, const char **name) {
  *name = result == kNoDevice ? "CUDA_ERROR_NO_DEVICE" : "CUDA_ERROR_NOT_INITIALIZED";
  return 0;
}
int cuDeviceGetCount(int *) { return kNotInitialized; }
int cuDeviceGet(int *, int) { return kNotInitialized; }
int cuDeviceGetName(char *, int, int) { return kNotInitialized; }
int cuDeviceGetAttribute(int *, int, int) { return kNotInitialized; }
int cuDevicePrimaryCtxRetain(void **, int) { return kNotInitialized; }
int cuCtxSetCurrent(void *) { return kNotInitialized; }
int cuModuleLoadDataEx(void **, const void *, unsigned, int *, void **) { return kNotInitialized; }
int cuModuleGetFunction(void **, void *, const char *) { return kNotInitialized; }
int cuModuleUnload(void *) { return kNotInitialized; }
int cuLaunchKernel(void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void *, void **,
                   void **) {
  return kNotInitialized;
}
int cuStreamCreate(void **, unsigned) { return kNotInitialized; }
int cuStreamSynchronize(void *) { return kNotInitialized; }
int cuMemAlloc_v2(uint64_t *, size_t) { return kNotInitialized; }
int cuMemFree_v2(uint64_t) { return kNotInitialized; }
int cuMemcpyHtoDAsync_v2(uint64_t, const void *, size_t, void *) { return kNotInitialized; }
int cuMemcpyDtoHAsync_v2(void *, uint64_t, size_t, void *) { return kNotInitialized; }
int cuMemcpyAsync(uint64_t, uint64_t, size_t, void *) { return kNotInitialized; }
int cuMemGetInfo_v2(size_t *, size_t *) { return kNotInitialized; }
}
