// Writing a file so that readers see either the old contents or the complete new ones, never a torn write.
#pragma once

#include <string>
#include <string_view>

namespace seqjit {

/// A file written piece by piece to a temporary in the directory of `path`, which commit() flushes to disk and
/// renames over `path` (rename is atomic within one file system). Destroyed before commit() (an error on the way),
/// it removes the temporary and leaves any existing file untouched. Throws seqjit::Error naming `path` on failure.
class AtomicFileWriter {
public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter &) = delete;
  AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;

  void write(std::string_view bytes);
  void commit();

private:
  [[noreturn]] void fail(const char *what);
  std::string path_, temporary_;
  int fd_ = -1;
  bool failed_ = false;
};

/// Writes `bytes` to `path` with an AtomicFileWriter.
void writeFileAtomically(const std::string &path, std::string_view bytes);

} // namespace seqjit
