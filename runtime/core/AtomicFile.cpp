// Temp-file-and-rename writes, so that a crash or a full disk never leaves a half-written checkpoint.
#include "runtime/core/AtomicFile.h"

#include "dsl/Error.h"

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace seqjit {

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  static std::atomic<unsigned> counter{0};
  // Same directory as the target: rename across file systems is not atomic (and fails with EXDEV).
  temporary_ = fmt::format("{}.tmp.{}.{}", path_, ::getpid(), counter++);
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw Error(fmt::format("cannot write '{}': {}", path_, std::strerror(errno)));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temporary_.c_str());
  }
}

void AtomicFileWriter::fail(const char *what) {
  int savedErrno = errno;
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  failed_ = true;
  ::unlink(temporary_.c_str());
  throw Error(fmt::format("cannot write '{}': {} ({})", path_, what, std::strerror(savedErrno)));
}

void AtomicFileWriter::write(std::string_view bytes) {
  if (fd_ < 0)
    throw Error(fmt::format("cannot write '{}': {}", path_,
                            failed_ ? "an earlier write failed" : "the file is already committed"));
  const char *cursor = bytes.data();
  size_t remaining = bytes.size();
  while (remaining > 0) {
    ssize_t written = ::write(fd_, cursor, remaining);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      fail("write failed");
    }
    cursor += written;
    remaining -= static_cast<size_t>(written);
  }
}

void AtomicFileWriter::commit() {
  if (fd_ < 0)
    throw Error(fmt::format("cannot write '{}': {}", path_,
                            failed_ ? "an earlier write failed" : "the file is already committed"));
  if (::fsync(fd_) != 0)
    fail("fsync failed");
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    int savedErrno = errno;
    ::unlink(temporary_.c_str());
    throw Error(fmt::format("cannot write '{}': close failed ({})", path_, std::strerror(savedErrno)));
  }
  if (::rename(temporary_.c_str(), path_.c_str()) != 0) {
    int savedErrno = errno;
    ::unlink(temporary_.c_str());
    throw Error(fmt::format("cannot write '{}': rename failed ({})", path_, std::strerror(savedErrno)));
  }
}

void writeFileAtomically(const std::string &path, std::string_view bytes) {
  AtomicFileWriter writer(path);
  writer.write(bytes);
  writer.commit();
}

} // namespace seqjit
