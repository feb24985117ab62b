// A compiled CPU program loaded from its shared object (an artifact of the compiler, or a compiled-program cache
// entry) and called through its packed entry points. Needs neither MLIR nor LLVM.
#pragma once

#include "runtime/core/BufferView.h"
#include "runtime/core/PackedCall.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace seqjit {

/// The symbol under which an artifact exports the packed entry point of compiled function `function`.
std::string packedEntrySymbol(const std::string &function);

class NativeProgram {
public:
  ~NativeProgram();
  NativeProgram(const NativeProgram &) = delete;
  NativeProgram &operator=(const NativeProgram &) = delete;

  /// Loads `library` and looks up `entryPoints`; `elementBytes` is the size of the programs' elements (4 or 8).
  /// Throws seqjit::Error naming the file if it cannot be loaded or lacks an entry point. The dynamic loader knows a
  /// library by its path: a path loaded before gives that library again, so one path must always hold one program
  /// (a cache entry's path names its key).
  static std::unique_ptr<NativeProgram> load(const std::filesystem::path &library,
                                             const std::vector<std::string> &entryPoints, size_t elementBytes);
  /// The same from the shared object's bytes, through a temporary file removed once loaded.
  static std::unique_ptr<NativeProgram> loadBytes(const std::string &library,
                                                  const std::vector<std::string> &entryPoints, size_t elementBytes);

  /// Calls `function`(arguments...) and copies its results into `results`, whose shapes must match. Reentrant:
  /// every call allocates its own buffers, so calls run side by side.
  void call(const std::string &function, const std::vector<BufferView> &arguments,
            const std::vector<BufferView> &results) const;

private:
  NativeProgram() = default;
  void *handle_ = nullptr;
  std::map<std::string, PackedFunction> entries_;
  size_t elementBytes_ = 4;
};

} // namespace seqjit
