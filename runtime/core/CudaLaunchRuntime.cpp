// The mgpu* runtime functions of MLIR 19's gpu-to-llvm lowering and the generic allocation functions of
// finalize-memref-to-llvm{use-generic-functions}, on seqjit's CudaDevice: one stream, pooled device memory.
#include "runtime/core/CudaLaunchRuntime.h"

#include "dsl/Error.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace seqjit {

namespace {

thread_local CudaCallScope *currentScope = nullptr;

constexpr int kJitErrorLogBuffer = 5;          // CU_JIT_ERROR_LOG_BUFFER
constexpr int kJitErrorLogBufferSizeBytes = 6; // CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES

/// Runs `body` for compiled code: nothing once the scope has failed, and a thrown error becomes the scope's failure.
/// `afterFailure`: run even once the scope has failed (freeing is always safe and keeps the pool's books right).
template <typename Result, typename Body>
Result guarded(const char *what, Result otherwise, Body body, bool afterFailure = false) {
  CudaCallScope *scope = CudaCallScope::current();
  if (!scope) {
    // Compiled CUDA code is only ever run by callOnCuda (runtime/core/CudaCall.h), which opens a scope.
    std::fprintf(stderr, "seqjit: %s called outside a CUDA call scope\n", what);
    std::abort();
  }
  if (scope->failed() && !afterFailure)
    return otherwise;
  try {
    return body(*scope);
  } catch (const std::exception &error) {
    scope->fail(error.what());
  } catch (...) {
    scope->fail(std::string("CUDA: unknown failure in ") + what);
  }
  return otherwise;
}

void *moduleLoadJit(void *ptx, int /*optimizationLevel*/) {
  return guarded("mgpuModuleLoadJIT", static_cast<void *>(nullptr),
                 [&](CudaCallScope &scope) { return scope.kernels().module(ptx); });
}

void moduleUnload(void *) {
  // The kernel cache keeps modules loaded until the program is destroyed.
}

void *moduleGetFunction(void *module, const char *name) {
  return guarded("mgpuModuleGetFunction", static_cast<void *>(nullptr),
                 [&](CudaCallScope &scope) { return scope.kernels().function(module, name); });
}

void launchKernel(void *function, intptr_t gridX, intptr_t gridY, intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                  intptr_t blockZ, int32_t sharedBytes, void *stream, void **parameters, void **extra,
                  size_t /*parameterCount*/) {
  guarded("mgpuLaunchKernel", 0, [&](CudaCallScope &scope) {
    CudaDevice &device = scope.kernels().device();
    device.check(
        device.driver().launchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream,
                                     parameters, extra),
        fmt::format("cuLaunchKernel (grid {}x{}x{}, block {}x{}x{})", gridX, gridY, gridZ, blockX, blockY, blockZ));
    return 0;
  });
}

void *streamCreate() {
  return guarded("mgpuStreamCreate", static_cast<void *>(nullptr),
                 [](CudaCallScope &scope) { return scope.kernels().device().stream(); });
}

void streamDestroy(void *) {
  // The device's one stream lives as long as the process.
}

// gpu-async-region makes the host wait for the stream before every allocation and free (they have side effects),
// which would stall the GPU after each kernel. The host code never reads device memory
// (seqjit-check-host-memory-access), the pool hands out memory in stream order, and callOnCuda waits for the
// stream before it reads the results: nothing inside a call needs the host to wait, so these waits are no-ops.
void streamSynchronize(void *) {}

// gpu-async-region joins streams with events; on one stream, order already holds and an event is a no-op marker.
int eventMarker;
void *eventCreate() { return &eventMarker; }
void eventDestroy(void *) {}
void eventRecord(void *, void *) {}
void streamWaitEvent(void *, void *) {}
void eventSynchronize(void *) {}

/// gpu.memcpy: a constant buffer of the host code copied to the device (seqjit-constants-to-device).
void copyMemory(void *destination, void *source, size_t bytes, void *stream) {
  guarded("mgpuMemcpy", 0, [&](CudaCallScope &scope) {
    CudaDevice &device = scope.kernels().device();
    device.check(device.driver().memcpyAsync(reinterpret_cast<CudaDriver::DevicePointer>(destination),
                                             reinterpret_cast<CudaDriver::DevicePointer>(source), bytes, stream),
                 "cuMemcpyAsync");
    return 0;
  });
}

void *allocate(uint64_t bytes) {
  return guarded("_mlir_memref_to_llvm_alloc", static_cast<void *>(nullptr),
                 [&](CudaCallScope &scope) { return scope.kernels().device().allocate(bytes); });
}

void *allocateAligned(uint64_t alignment, uint64_t bytes) {
  return guarded("_mlir_memref_to_llvm_aligned_alloc", static_cast<void *>(nullptr), [&](CudaCallScope &scope) {
    if (alignment > 256)
      throw Error(
          fmt::format("CUDA: a buffer asks for {}-byte alignment; device memory is 256-byte aligned", alignment));
    return scope.kernels().device().allocate(bytes);
  });
}

void release(void *pointer) {
  guarded(
      "_mlir_memref_to_llvm_free", 0,
      [&](CudaCallScope &scope) {
        scope.kernels().device().release(pointer);
        return 0;
      },
      /*afterFailure=*/true);
}

} // namespace

CudaKernelCache::~CudaKernelCache() {
  // Nothing here may throw: a failure to unload only leaks the module until the process ends.
  std::lock_guard<std::mutex> lock(device_.executionMutex());
  const CudaDriver &driver = device_.driver();
  if (modules_.empty() || driver.contextSetCurrent(device_.context()) != CudaDriver::kSuccess)
    return;
  driver.streamSynchronize(device_.stream());
  for (auto &[ptx, module] : modules_)
    driver.moduleUnload(module);
}

void *CudaKernelCache::module(const void *ptx) {
  if (auto found = modules_.find(ptx); found != modules_.end())
    return found->second;
  char log[8192] = {};
  int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferSizeBytes};
  void *values[] = {log, reinterpret_cast<void *>(static_cast<uintptr_t>(sizeof log))};
  void *module = nullptr;
  CudaDriver::Result result = device_.driver().moduleLoadDataEx(&module, ptx, 2, options, values);
  if (result != CudaDriver::kSuccess)
    throw Error(
        fmt::format("CUDA: the driver cannot load a kernel's PTX: {}\n{}", device_.driver().describe(result), log));
  modules_.emplace(ptx, module);
  return module;
}

void *CudaKernelCache::function(void *module, const char *name) {
  auto key = std::make_pair(module, name);
  if (auto found = functions_.find(key); found != functions_.end())
    return found->second;
  void *function = nullptr;
  device_.check(device_.driver().moduleGetFunction(&function, module, name),
                fmt::format("cuModuleGetFunction of kernel {}", name));
  functions_.emplace(key, function);
  return function;
}

CudaCallScope::CudaCallScope(CudaKernelCache &kernels) : kernels_(kernels), outer_(currentScope) {
  currentScope = this;
}

CudaCallScope::~CudaCallScope() { currentScope = outer_; }

CudaCallScope *CudaCallScope::current() { return currentScope; }

void CudaCallScope::rethrow() const {
  if (!failure_.empty())
    throw Error(failure_);
}

std::vector<std::pair<std::string, void *>> cudaRuntimeSymbols() {
  return {
      {"mgpuModuleLoadJIT", reinterpret_cast<void *>(&moduleLoadJit)},
      {"mgpuModuleUnload", reinterpret_cast<void *>(&moduleUnload)},
      {"mgpuModuleGetFunction", reinterpret_cast<void *>(&moduleGetFunction)},
      {"mgpuLaunchKernel", reinterpret_cast<void *>(&launchKernel)},
      {"mgpuStreamCreate", reinterpret_cast<void *>(&streamCreate)},
      {"mgpuStreamDestroy", reinterpret_cast<void *>(&streamDestroy)},
      {"mgpuStreamSynchronize", reinterpret_cast<void *>(&streamSynchronize)},
      {"mgpuEventCreate", reinterpret_cast<void *>(&eventCreate)},
      {"mgpuEventDestroy", reinterpret_cast<void *>(&eventDestroy)},
      {"mgpuEventRecord", reinterpret_cast<void *>(&eventRecord)},
      {"mgpuStreamWaitEvent", reinterpret_cast<void *>(&streamWaitEvent)},
      {"mgpuEventSynchronize", reinterpret_cast<void *>(&eventSynchronize)},
      {"mgpuMemcpy", reinterpret_cast<void *>(&copyMemory)},
      {"_mlir_memref_to_llvm_alloc", reinterpret_cast<void *>(&allocate)},
      {"_mlir_memref_to_llvm_aligned_alloc", reinterpret_cast<void *>(&allocateAligned)},
      {"_mlir_memref_to_llvm_free", reinterpret_cast<void *>(&release)},
  };
}

} // namespace seqjit
