// The CUDA driver API, loaded with dlopen when first asked for: seqjit has no link-time dependency on a driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace seqjit {

/// The driver entry points seqjit uses, with the driver's own ABI (CUresult is an int, handles are pointers,
/// device pointers 64-bit integers). Declared here so that building needs no CUDA headers.
struct CudaDriver {
  using Result = int;
  using DevicePointer = uint64_t;

  Result (*init)(unsigned flags);
  Result (*deviceGetCount)(int *count);
  Result (*deviceGet)(int *device, int ordinal);
  Result (*deviceGetName)(char *name, int length, int device);
  Result (*deviceGetAttribute)(int *value, int attribute, int device);
  Result (*primaryContextRetain)(void **context, int device);
  Result (*contextSetCurrent)(void *context);
  Result (*moduleLoadDataEx)(void **module, const void *image, unsigned optionCount, int *options, void **values);
  Result (*moduleGetFunction)(void **function, void *module, const char *name);
  Result (*moduleUnload)(void *module);
  Result (*launchKernel)(void *function, unsigned gridX, unsigned gridY, unsigned gridZ, unsigned blockX,
                         unsigned blockY, unsigned blockZ, unsigned sharedBytes, void *stream, void **parameters,
                         void **extra);
  Result (*streamCreate)(void **stream, unsigned flags);
  Result (*streamSynchronize)(void *stream);
  Result (*memAlloc)(DevicePointer *pointer, size_t bytes);
  Result (*memFree)(DevicePointer pointer);
  Result (*memcpyHostToDeviceAsync)(DevicePointer destination, const void *source, size_t bytes, void *stream);
  Result (*memcpyDeviceToHostAsync)(void *destination, DevicePointer source, size_t bytes, void *stream);
  /// Either direction, from the pointers themselves (unified addressing).
  Result (*memcpyAsync)(DevicePointer destination, DevicePointer source, size_t bytes, void *stream);
  Result (*memGetInfo)(size_t *freeBytes, size_t *totalBytes);
  Result (*getErrorName)(Result result, const char **name);

  static constexpr Result kSuccess = 0;
  static constexpr Result kOutOfMemory = 2;
  static constexpr int kComputeCapabilityMajor = 75; ///< CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
  static constexpr int kComputeCapabilityMinor = 76;
  static constexpr unsigned kNonBlockingStream = 1;

  /// The driver library seqjit opens: SEQJIT_CUDA_DRIVER if set (tests use it), else libcuda.so.1.
  static std::string libraryName();

  /// The loaded driver, or nullptr with `why` saying what is missing (no library, a missing entry point).
  static const CudaDriver *load(std::string &why);

  /// "CUDA_ERROR_OUT_OF_MEMORY (2)", from the driver where it knows the code.
  std::string describe(Result result) const;
};

} // namespace seqjit
