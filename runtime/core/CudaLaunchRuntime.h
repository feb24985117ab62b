// What compiled CUDA host code calls: the mgpu* functions MLIR's gpu-to-llvm emits, and buffer allocation.
#pragma once

#include "runtime/core/CudaDevice.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace seqjit {

/// The kernels of one compiled program: each PTX module is loaded (JIT-compiled by the driver) at its first launch
/// and kept until the program goes, where MLIR's lowering would load and unload it around every launch.
class CudaKernelCache {
public:
  explicit CudaKernelCache(CudaDevice &device) : device_(device) {}
  ~CudaKernelCache();
  CudaKernelCache(const CudaKernelCache &) = delete;
  CudaKernelCache &operator=(const CudaKernelCache &) = delete;

  /// The module of the NUL-terminated PTX text at `ptx` (an address in the program's constants).
  void *module(const void *ptx);
  /// `name` is a constant of the program (the kernel's name), so its address identifies it.
  void *function(void *module, const char *name);
  CudaDevice &device() { return device_; }

private:
  CudaDevice &device_;
  std::map<const void *, void *> modules_;
  std::map<std::pair<void *, const char *>, void *> functions_;
};

/// While alive, the calling thread's compiled code launches through `kernels`. The runtime functions cannot throw
/// through compiled frames: the first failure is kept here, later calls do nothing, and rethrow() raises it.
class CudaCallScope {
public:
  explicit CudaCallScope(CudaKernelCache &kernels);
  ~CudaCallScope();
  CudaCallScope(const CudaCallScope &) = delete;
  CudaCallScope &operator=(const CudaCallScope &) = delete;

  /// Throws seqjit::Error with the first failure of a runtime call in this scope, if there was one.
  void rethrow() const;

  static CudaCallScope *current();
  CudaKernelCache &kernels() { return kernels_; }
  bool failed() const { return !failure_.empty(); }
  void fail(const std::string &message) {
    if (failure_.empty())
      failure_ = message;
  }

private:
  CudaKernelCache &kernels_;
  CudaCallScope *outer_;
  std::string failure_;
};

/// The runtime functions by the names compiled code calls them, bound to a loaded program's import slots.
std::vector<std::pair<std::string, void *>> cudaRuntimeSymbols();

} // namespace seqjit
