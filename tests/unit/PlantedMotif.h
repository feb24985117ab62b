// Test data a small model can learn in a few epochs: random sequences, half of them carrying a planted AP-1 site.
#pragma once

#include "runtime/HostArray.h"
#include "runtime/OneHot.h"
#include "runtime/Random.h"

#include <string>
#include <utility>

namespace seqjit::testing {

/// `count` random one-hot sequences of `length` (rows A, C, G, T) and labels (count, 1): label 1 for the half that
/// carries TGACTCA at a random position.
inline std::pair<HostArray<float>, HostArray<float>> plantedMotif(int64_t count, int64_t length, uint64_t seed) {
  const std::string motif = "TGACTCA";
  const auto width = static_cast<int64_t>(motif.size());
  HostArray<float> input = randomOneHot(count, length, seed);
  HostArray<float> labels({count, 1});
  Random random(seed, 1);
  for (int64_t i = 0; i < count; ++i) {
    if (random.uniform() < 0.5f)
      continue;
    labels.data[i] = 1.0f;
    auto start = static_cast<int64_t>(random.uniformInt(static_cast<uint64_t>(length - width)));
    for (int64_t j = 0; j < width; ++j)
      for (int64_t base = 0; base < 4; ++base)
        input.data[(i * 4 + base) * length + start + j] = std::string("ACGT")[base] == motif[j] ? 1.0f : 0.0f;
  }
  return {std::move(input), std::move(labels)};
}

} // namespace seqjit::testing
