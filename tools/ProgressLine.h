// A progress line on stderr for work done a batch at a time: redrawn in place on a terminal, silent otherwise (so
// logs and pipes get the results, not a trail of redraws).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace seqjit {

class ProgressLine {
public:
  /// `what` names the units counted ("sequences").
  explicit ProgressLine(std::string what);
  /// `done` of `total` units are done; the line is cleared when they all are.
  void operator()(int64_t done, int64_t total);

private:
  std::string what_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_, drawn_;
};

} // namespace seqjit
