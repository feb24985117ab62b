#include "tools/ProgressLine.h"

#include "runtime/Stopwatch.h"

#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>

namespace seqjit {

ProgressLine::ProgressLine(std::string what)
    : what_(std::move(what)), terminal_(isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()),
      drawn_(start_) {}

void ProgressLine::operator()(int64_t done, int64_t total) {
  if (!terminal_ || total <= 0)
    return;
  if (done >= total) {
    fmt::print(stderr, "\r{}\r", std::string(100, ' '));
    std::fflush(stderr);
    return;
  }
  if (secondsSince(drawn_) < 0.1) // at most ten redraws a second
    return;
  drawn_ = std::chrono::steady_clock::now();
  double elapsed = secondsSince(start_);
  double remaining = elapsed / static_cast<double>(done) * static_cast<double>(total - done);
  int filled = static_cast<int>(30 * done / total);
  fmt::print(stderr, "\r  [{}{}] {}/{} {}, {:.0f} s left   ", std::string(static_cast<size_t>(filled), '='),
             std::string(static_cast<size_t>(30 - filled), ' '), done, total, what_, remaining);
  std::fflush(stderr);
}

} // namespace seqjit
