#include "runtime/core/NativeProgram.h"

#include "dsl/Error.h"
#include "runtime/core/BufferCopies.h"
#include "runtime/core/CudaCall.h"
#include "runtime/core/HostMemory.h"
#include "runtime/core/KernelProfile.h"
#include "runtime/core/ParallelFor.h"

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <unistd.h>

namespace seqjit {

std::string packedEntrySymbol(const std::string &function) { return "seqjit_packed_" + function; }

std::string importSlotSymbol(const std::string &function) { return "seqjit_import_" + function; }

std::vector<std::pair<std::string, void *>> programImports(Device device) {
  std::vector<std::pair<std::string, void *>> imports = {
      {kStridedCopyFunction, reinterpret_cast<void *>(&seqjit_memref_copy)}};
  if (device == Device::Cuda) {
    std::vector<std::pair<std::string, void *>> cuda = cudaRuntimeSymbols();
    imports.insert(imports.end(), cuda.begin(), cuda.end());
  } else {
    imports.emplace_back(kParallelForFunction, reinterpret_cast<void *>(&seqjit_parallel_for));
    imports.emplace_back(kCopyBytesFunction, reinterpret_cast<void *>(&seqjit_copy_bytes));
    imports.emplace_back(kAllocFunction, reinterpret_cast<void *>(&seqjit_host_alloc));
    imports.emplace_back(kAlignedAllocFunction, reinterpret_cast<void *>(&seqjit_host_aligned_alloc));
    imports.emplace_back(kFreeFunction, reinterpret_cast<void *>(&seqjit_host_free));
    imports.emplace_back(kProfileEnterFunction, reinterpret_cast<void *>(&seqjit_profile_enter));
    imports.emplace_back(kProfileExitFunction, reinterpret_cast<void *>(&seqjit_profile_exit));
  }
  return imports;
}

NativeProgram::NativeProgram() = default;

NativeProgram::~NativeProgram() {
  kernels_.reset(); // the kernels' PTX lives in the library's constants
  if (handle_)
    dlclose(handle_);
}

std::unique_ptr<NativeProgram> NativeProgram::load(const std::filesystem::path &library,
                                                   const std::vector<std::string> &entryPoints, size_t elementBytes,
                                                   Device device) {
  keepFreedMemoryForReuse();
  if (device == Device::Cpu)
    kernelThreads(); // starts the pool, or refuses a bad SEQJIT_NUM_THREADS here rather than inside a program
  std::unique_ptr<NativeProgram> program(new NativeProgram);
  program->elementBytes_ = elementBytes;
  program->device_ = device;
  // RTLD_LOCAL: every program's symbols (each has a `forward`, say) stay its own.
  program->handle_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!program->handle_)
    throw Error(fmt::format("cannot load the compiled program {}: {}", library.string(), dlerror()));
  for (const std::string &function : entryPoints) {
    void *entry = dlsym(program->handle_, packedEntrySymbol(function).c_str());
    if (!entry)
      throw Error(fmt::format("the compiled program {} has no entry point '{}'", library.string(), function));
    program->entries_[function] = reinterpret_cast<PackedFunction>(entry);
  }
  for (const auto &[function, address] : programImports(device)) {
    void *slot = dlsym(program->handle_, importSlotSymbol(function).c_str());
    if (!slot)
      throw Error(fmt::format("the compiled program {} has no import slot for '{}': it was not compiled for {}",
                              library.string(), function, deviceName(device)));
    *static_cast<void **>(slot) = address;
  }
  if (device == Device::Cuda) {
    if (CudaDevice *gpu = CudaDevice::get(program->noGpu_))
      program->kernels_ = std::make_unique<CudaKernelCache>(*gpu);
  }
  return program;
}

std::unique_ptr<NativeProgram> NativeProgram::loadBytes(const std::string &library,
                                                        const std::vector<std::string> &entryPoints,
                                                        size_t elementBytes, Device device) {
  // A name no other library of this process has had: the process id and a counter (see load()).
  static std::atomic<uint64_t> counter{0};
  std::string path = (std::filesystem::temp_directory_path() /
                      fmt::format("seqjit-program-{}-{}-XXXXXX.so", getpid(), counter.fetch_add(1)))
                         .string();
  int fd = mkstemps(path.data(), 3);
  if (fd < 0)
    throw Error(fmt::format("cannot create a temporary file in {} for a compiled program: {}",
                            std::filesystem::temp_directory_path().string(), std::strerror(errno)));
  size_t written = 0;
  while (written < library.size()) {
    ssize_t n = write(fd, library.data() + written, library.size() - written);
    if (n <= 0)
      break;
    written += static_cast<size_t>(n);
  }
  close(fd);
  struct Remove {
    std::string path;
    ~Remove() { unlink(path.c_str()); } // the mapping keeps the file
  } remove{path};
  if (written < library.size())
    throw Error(fmt::format("cannot write the compiled program {} (full disk?)", path));
  return load(path, entryPoints, elementBytes, device);
}

void NativeProgram::call(const std::string &function, const std::vector<BufferView> &arguments,
                         const std::vector<BufferView> &results) const {
  auto entry = entries_.find(function);
  if (entry == entries_.end())
    throw Error(fmt::format("calling compiled function '{}' failed: the program has no such entry point", function));
  if (device_ == Device::Cuda) {
    if (!kernels_)
      throw Error(fmt::format("compiled function '{}' was compiled for CUDA, but cannot run: {}", function, noGpu_));
    callOnCuda(*kernels_, entry->second, function, arguments, results, elementBytes_);
    return;
  }
  std::vector<void *> argumentData;
  for (const BufferView &a : arguments)
    argumentData.push_back(a.data);
  ResultDescriptors descriptors = callPacked(entry->second, arguments, argumentData, results);
  checkResultShapes(function, results, descriptors);
  takeHostResults(descriptors, arguments, results, elementBytes_);
}

} // namespace seqjit
