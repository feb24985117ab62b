// The consistency metrics against hand-worked cases: the k-mers of the selected stretches counted from the strings
// by hand, the relative entropy of a single-bin histogram (log 36 for a 6 x 6 neighbourhood), and the properties
// that make them metrics: invariance to a map's scale, concentrated maps above diffuse ones.
#include "stdlib/AttributionConsistency.h"
#include "ExpectError.h"
#include "runtime/Random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

namespace seqjit {
namespace {

HostArray<float> oneHot(const std::vector<std::string> &sequences) {
  const int64_t length = static_cast<int64_t>(sequences.at(0).size());
  HostArray<float> x({static_cast<int64_t>(sequences.size()), 4, length});
  for (size_t n = 0; n < sequences.size(); ++n)
    for (int64_t l = 0; l < length; ++l)
      x.data[(n * 4 + std::string("ACGT").find(sequences[n][l])) * length + l] = 1.0f;
  return x;
}

/// A map whose attribution at (n, l) is `strength` on base A (and 0 elsewhere): after correction its norm is
/// proportional to the strength.
HostArray<float> strengths(const std::vector<std::vector<float>> &perSequence) {
  const int64_t length = static_cast<int64_t>(perSequence.at(0).size());
  HostArray<float> map({static_cast<int64_t>(perSequence.size()), 4, length});
  for (size_t n = 0; n < perSequence.size(); ++n)
    for (int64_t l = 0; l < length; ++l)
      map.data[(n * 4) * length + l] = perSequence[n][l];
  return map;
}

/// sum p log(p / q) of the 3-mers of `selected` against those of `everywhere`, counted from the strings.
double expectedDivergence(const std::vector<std::string> &selected, const std::vector<std::string> &everywhere) {
  auto distribution = [](const std::vector<std::string> &strings) {
    std::map<std::string, double> counts;
    double total = 0;
    for (const std::string &s : strings)
      for (size_t i = 0; i + 3 <= s.size(); ++i, ++total)
        counts[s.substr(i, 3)] += 1;
    for (auto &[kmer, count] : counts)
      count /= total;
    return counts;
  };
  std::map<std::string, double> p = distribution(selected), q = distribution(everywhere);
  double divergence = 0;
  for (const auto &[kmer, probability] : p)
    divergence += probability * std::log(probability / q.at(kmer));
  return divergence;
}

TEST(KmerConsistency, CountsTheKmersOfTheStretchesAboveTheQuantile) {
  // One sequence: only position 5 is above the 0.9 quantile (norms a at 4 and 2a at 5: the quantile is 1.1 a);
  // extended by 2 it is CGT, which is 2 of the sequence's 8 3-mers: log 4.
  const std::vector<std::string> one = {"ACGTACGTAC"};
  std::vector<float> strength(10, 0.0f);
  strength[4] = 1.0f;
  strength[5] = 2.0f;
  EXPECT_NEAR(kmerConsistency(strengths({strength}), oneHot(one)), std::log(4.0), 1e-9);

  // Two sequences. In the first, positions 2 and 4 (norms 3a, 2a; quantile 1.8a) extend to 2-4 and 4-6, which touch
  // and merge into 2-6; a run ending at the last position is not extended past it. The second selects 9-11.
  const std::vector<std::string> two = {"AACGTTTACGTA", "GGGCATGCATCC"};
  std::vector<float> first(12, 0.0f), second(12, 0.0f);
  first[2] = 3.0f;
  first[4] = 2.0f;
  second[9] = 2.0f;
  second[11] = 3.0f;
  // Second sequence: 9 and 11 with the quantile 1.8a: runs 9-11 and 11-11 (clipped), merged into 9-11.
  EXPECT_NEAR(kmerConsistency(strengths({first, second}), oneHot(two)),
              expectedDivergence({two[0].substr(2, 5), two[1].substr(9, 3)}, two), 1e-9);
}

TEST(KmerConsistency, IgnoresTheMapsScaleAndRefusesBadInput) {
  Random random(3, 1);
  HostArray<float> map({4, 4, 50});
  for (float &v : map.data)
    v = random.normal();
  std::vector<std::string> sequences;
  for (int n = 0; n < 4; ++n) {
    std::string s;
    for (int l = 0; l < 50; ++l)
      s += "ACGT"[random.uniformInt(4)];
    sequences.push_back(s);
  }
  HostArray<float> x = oneHot(sequences), scaled = map;
  for (float &v : scaled.data)
    v *= 7.5f;
  EXPECT_NEAR(kmerConsistency(map, x), kmerConsistency(scaled, x), 1e-9);
  testing::expectError([&] { kmerConsistency(map, oneHot({"ACGT"})); }, {"must both be (N, 4, L)"});
  testing::expectError([&] { kmerConsistency(map, x, {.k = 3, .quantile = 1.0}); }, {"quantile 1"});
}

TEST(VectorConsistency, OneDirectionFillsOneBin) {
  // Every position's attribution points at T (with different lengths, so that the kept longest are well defined):
  // all kept vectors share a bin, whose density is 1 / area against a local average of 1 / (36 area) over its 6 x 6
  // neighbourhood: log 36.
  HostArray<float> map({2, 4, 40}), x({2, 4, 40});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t l = 0; l < 40; ++l) {
      map.data[(n * 4 + 3) * 40 + l] = 1.0f + static_cast<float>(l + 40 * n);
      x.data[(n * 4 + l % 4) * 40 + l] = 1.0f;
    }
  EXPECT_NEAR(attributionVectorConsistency(map, x), std::log(36.0), 1e-9);
}

TEST(VectorConsistency, ConcentratedMapsScoreAboveDiffuseOnesAtAnyScale) {
  Random random(5, 2);
  // Enough positions that the kept 4% of random vectors spread over the histogram's bins.
  const int64_t sequences = 200, length = 200;
  HostArray<float> x({sequences, 4, length}), diffuse({sequences, 4, length}), motifs({sequences, 4, length});
  for (int64_t n = 0; n < sequences; ++n)
    for (int64_t l = 0; l < length; ++l) {
      const int64_t base = random.uniformInt(4);
      x.data[(n * 4 + base) * length + l] = 1.0f;
      for (int64_t b = 0; b < 4; ++b) {
        diffuse.data[(n * 4 + b) * length + l] = random.normal();
        // Two recurring patterns (on A or on G) at every tenth position, faint noise elsewhere.
        const bool motif = l % 10 == 0 && b == ((l / 10) % 2 == 0 ? 0 : 2);
        motifs.data[(n * 4 + b) * length + l] = (motif ? 5.0f : 0.0f) + 0.05f * random.normal();
      }
    }
  const double concentrated = attributionVectorConsistency(motifs, x);
  EXPECT_GT(concentrated, attributionVectorConsistency(diffuse, x) + 0.5);
  HostArray<float> scaled = motifs;
  for (float &v : scaled.data)
    v *= 0.01f;
  EXPECT_NEAR(attributionVectorConsistency(scaled, x), concentrated, 1e-6);
  testing::expectError([&] { attributionVectorConsistency(motifs, x, {.window = 0}); }, {"window 0"});
}

} // namespace
} // namespace seqjit
