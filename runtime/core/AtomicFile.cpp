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

void writeFileAtomically(const std::string &path, std::string_view bytes) {
  static std::atomic<unsigned> counter{0};
  // Same directory as the target: rename across file systems is not atomic (and fails with EXDEV).
  std::string temporary = fmt::format("{}.tmp.{}.{}", path, ::getpid(), counter++);
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  auto failWith = [&](const char *what) {
    int savedErrno = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    throw Error(fmt::format("cannot write '{}': {} ({})", path, what, std::strerror(savedErrno)));
  };
  const char *cursor = bytes.data();
  size_t remaining = bytes.size();
  while (remaining > 0) {
    ssize_t written = ::write(fd, cursor, remaining);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      failWith("write failed");
    }
    cursor += written;
    remaining -= static_cast<size_t>(written);
  }
  if (::fsync(fd) != 0)
    failWith("fsync failed");
  if (::close(fd) != 0) {
    int savedErrno = errno;
    ::unlink(temporary.c_str());
    throw Error(fmt::format("cannot write '{}': close failed ({})", path, std::strerror(savedErrno)));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int savedErrno = errno;
    ::unlink(temporary.c_str());
    throw Error(fmt::format("cannot write '{}': rename failed ({})", path, std::strerror(savedErrno)));
  }
}

} // namespace seqjit
