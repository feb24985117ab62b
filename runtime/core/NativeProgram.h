// A compiled program loaded from its shared object (an artifact of the compiler, or a compiled-program cache entry)
// and called through its packed entry points, on the CPU or on a CUDA GPU. Needs neither MLIR nor LLVM.
#pragma once

#include "runtime/core/BufferView.h"
#include "runtime/core/Device.h"
#include "runtime/core/PackedCall.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace seqjit {

class CudaKernelCache;

/// The symbol under which an artifact exports the packed entry point of compiled function `function`.
std::string packedEntrySymbol(const std::string &function);

/// The symbol of an artifact's import slot for runtime function `function`: a pointer the loader fills with the
/// runtime's function, through which the program calls it: every program the strided copy
/// (runtime/core/BufferCopies.h), programs for CUDA the CUDA runtime (cudaRuntimeSymbols()), programs for the CPU the
/// kernel threads (runtime/core/ParallelFor.h), the large contiguous copy, the host allocator and the kernel profile's
/// timer (runtime/core/KernelProfile.h). A shared object needs no symbol of the process that loads it, nor any library.
std::string importSlotSymbol(const std::string &function);

/// The runtime functions a program for `device` calls through its import slots, by name.
std::vector<std::pair<std::string, void *>> programImports(Device device);

class NativeProgram {
public:
  ~NativeProgram();
  NativeProgram(const NativeProgram &) = delete;
  NativeProgram &operator=(const NativeProgram &) = delete;

  /// Loads `library`, a program for `device`, looks up `entryPoints` and fills its import slots
  /// (programImports(device)); `elementBytes` is the size of the programs' elements (4 or 8). Throws seqjit::Error
  /// naming the file if it cannot be loaded or lacks an entry point or a slot. A program for CUDA loads without a GPU
  /// and says why it cannot run when called. The dynamic loader knows a library by its path: a path loaded before
  /// gives that library again, so one path must always hold one program (a cache entry's path names its key).
  static std::unique_ptr<NativeProgram> load(const std::filesystem::path &library,
                                             const std::vector<std::string> &entryPoints, size_t elementBytes,
                                             Device device = Device::Cpu);
  /// The same from the shared object's bytes, through a temporary file removed once loaded.
  static std::unique_ptr<NativeProgram> loadBytes(const std::string &library,
                                                  const std::vector<std::string> &entryPoints, size_t elementBytes,
                                                  Device device = Device::Cpu);

  /// Calls `function`(arguments...) with host buffers and copies its results into `results` (host buffers), whose
  /// shapes must match. On the CPU reentrant: every call allocates its own buffers, so calls run side by side. On
  /// CUDA the arguments are staged on the device and the results copied back; calls run one at a time.
  void call(const std::string &function, const std::vector<BufferView> &arguments,
            const std::vector<BufferView> &results) const;

  Device device() const { return device_; }

private:
  NativeProgram();
  void *handle_ = nullptr;
  std::map<std::string, PackedFunction> entries_;
  size_t elementBytes_ = 4;
  Device device_ = Device::Cpu;
  /// On CUDA where there is a GPU: the program's loaded kernels; else why it cannot run.
  std::unique_ptr<CudaKernelCache> kernels_;
  std::string noGpu_;
};

} // namespace seqjit
