// dlopen of the CUDA driver and lookup of its entry points (the versioned names CUDA 12's headers map to).
#include "runtime/core/CudaDriver.h"

#include <fmt/format.h>

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

namespace seqjit {

namespace {

template <typename Function> bool resolve(void *library, const char *symbol, Function &entry, std::string &why) {
  entry = reinterpret_cast<Function>(dlsym(library, symbol));
  if (!entry)
    why = fmt::format("the CUDA driver {} has no {} (a driver for CUDA 12 or later is needed)",
                      CudaDriver::libraryName(), symbol);
  return entry != nullptr;
}

} // namespace

std::string CudaDriver::libraryName() {
  const char *fromEnvironment = std::getenv("SEQJIT_CUDA_DRIVER");
  return fromEnvironment && *fromEnvironment ? fromEnvironment : "libcuda.so.1";
}

const CudaDriver *CudaDriver::load(std::string &why) {
  static std::once_flag once;
  static CudaDriver driver;
  static const CudaDriver *loaded = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    std::string name = libraryName();
    void *library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char *error = dlerror();
      failure = fmt::format("no CUDA driver: {} cannot be opened ({})", name, error ? error : "not found");
      return;
    }
    CudaDriver &d = driver;
    bool complete = resolve(library, "cuInit", d.init, failure) &&
                    resolve(library, "cuDeviceGetCount", d.deviceGetCount, failure) &&
                    resolve(library, "cuDeviceGet", d.deviceGet, failure) &&
                    resolve(library, "cuDeviceGetName", d.deviceGetName, failure) &&
                    resolve(library, "cuDeviceGetAttribute", d.deviceGetAttribute, failure) &&
                    resolve(library, "cuDevicePrimaryCtxRetain", d.primaryContextRetain, failure) &&
                    resolve(library, "cuCtxSetCurrent", d.contextSetCurrent, failure) &&
                    resolve(library, "cuModuleLoadDataEx", d.moduleLoadDataEx, failure) &&
                    resolve(library, "cuModuleGetFunction", d.moduleGetFunction, failure) &&
                    resolve(library, "cuModuleUnload", d.moduleUnload, failure) &&
                    resolve(library, "cuLaunchKernel", d.launchKernel, failure) &&
                    resolve(library, "cuStreamCreate", d.streamCreate, failure) &&
                    resolve(library, "cuStreamSynchronize", d.streamSynchronize, failure) &&
                    resolve(library, "cuMemAlloc_v2", d.memAlloc, failure) &&
                    resolve(library, "cuMemFree_v2", d.memFree, failure) &&
                    resolve(library, "cuMemcpyHtoDAsync_v2", d.memcpyHostToDeviceAsync, failure) &&
                    resolve(library, "cuMemcpyDtoHAsync_v2", d.memcpyDeviceToHostAsync, failure) &&
                    resolve(library, "cuMemcpyAsync", d.memcpyAsync, failure) &&
                    resolve(library, "cuMemGetInfo_v2", d.memGetInfo, failure) &&
                    resolve(library, "cuGetErrorName", d.getErrorName, failure);
    if (complete)
      loaded = &driver;
  });
  why = failure;
  return loaded;
}

std::string CudaDriver::describe(Result result) const {
  const char *name = nullptr;
  if (getErrorName(result, &name) != kSuccess || !name)
    name = "unknown CUDA error";
  return fmt::format("{} ({})", name, result);
}

} // namespace seqjit
