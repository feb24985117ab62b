// relativeError: how far a computed output is from a reference, relative to the reference's scale.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace seqjit::testing {

/// max |actual - expected| / max |expected|: an error measured against the output's scale, so that entries near
/// zero (where an elementwise relative error means nothing) neither hide nor invent a difference.
template <typename Actual>
double relativeError(const std::vector<Actual> &actual, const std::vector<double> &expected) {
  double scale = 0, error = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    scale = std::max(scale, std::abs(expected[i]));
    error = std::max(error, std::abs(static_cast<double>(actual.at(i)) - expected[i]));
  }
  return error / std::max(scale, 1e-30);
}

} // namespace seqjit::testing
