// Tests of the Philox4x32-10 generator: Random123 known-answer vectors, stream layout and distribution moments.
#include "runtime/Random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

using namespace seqjit;

namespace {

// Known-answer vectors from Random123's kat_vectors file (philox4x32 with 10 rounds).
TEST(Philox, KnownAnswerZero) {
  Philox4x32::Counter expected = {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u};
  EXPECT_EQ(Philox4x32::block({0, 0, 0, 0}, {0, 0}), expected);
}

TEST(Philox, KnownAnswerAllOnes) {
  Philox4x32::Counter expected = {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu};
  EXPECT_EQ(Philox4x32::block({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu}),
            expected);
}

TEST(Philox, KnownAnswerPi) {
  Philox4x32::Counter expected = {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u};
  EXPECT_EQ(Philox4x32::block({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, {0xa4093822u, 0x299f31d0u}),
            expected);
}

TEST(Random, StreamLayoutIsSeedKeyAndStreamCounter) {
  // Documented layout: key = seed (low, high), counter = (block low, block high, stream low, stream high).
  uint64_t seed = 0x0123456789abcdefull;
  uint64_t stream = 0xfedcba9876543210ull;
  Random random(seed, stream);
  Philox4x32::Key key = {0x89abcdefu, 0x01234567u};
  for (uint32_t block = 0; block < 3; ++block) {
    Philox4x32::Counter words = Philox4x32::block({block, 0, 0x76543210u, 0xfedcba98u}, key);
    for (uint32_t word : words)
      EXPECT_EQ(random.nextUint32(), word) << "block " << block;
  }
}

TEST(Random, SameSeedAndStreamGiveSameNumbers) {
  Random a(42, 7), b(42, 7);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(a.uniform(), b.uniform());
    ASSERT_EQ(a.normal(), b.normal());
    ASSERT_EQ(a.uniformInt(1000), b.uniformInt(1000));
  }
}

TEST(Random, DifferentSeedsOrStreamsDiffer) {
  Random base(42, 7), otherStream(42, 8), otherSeed(43, 7);
  int sameStream = 0, sameSeed = 0;
  for (int i = 0; i < 100; ++i) {
    uint32_t value = base.nextUint32();
    sameStream += value == otherStream.nextUint32();
    sameSeed += value == otherSeed.nextUint32();
  }
  EXPECT_LT(sameStream, 2);
  EXPECT_LT(sameSeed, 2);
}

TEST(Random, UniformIsTheTop24BitsScaled) {
  Random raw(5, 9), random(5, 9);
  for (int i = 0; i < 100; ++i) {
    uint32_t word = raw.nextUint32();
    EXPECT_EQ(random.uniform(), static_cast<float>(word >> 8) / 16777216.0f);
  }
}

TEST(Random, UniformMoments) {
  Random random(1, 0);
  const int n = 1000000;
  double sum = 0, sumSquares = 0;
  float lowest = 1, highest = 0;
  for (int i = 0; i < n; ++i) {
    float u = random.uniform();
    sum += u;
    sumSquares += static_cast<double>(u) * u;
    lowest = std::min(lowest, u);
    highest = std::max(highest, u);
  }
  double mean = sum / n, variance = sumSquares / n - mean * mean;
  EXPECT_GE(lowest, 0.0f);
  EXPECT_LT(highest, 1.0f);
  // Standard error of the mean: sqrt(1/12 / n) ~ 2.9e-4; allow 5 of them.
  EXPECT_NEAR(mean, 0.5, 1.5e-3);
  EXPECT_NEAR(variance, 1.0 / 12.0, 1e-3);
}

TEST(Random, UniformDoubleInUnitInterval) {
  Random random(2, 0);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    double u = random.uniformDouble();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 5e-3);
}

// A mask element is dropped exactly where the stream's draw at its position, drawn one by one, is below the rate
// (cutoff = rate * 2^53): from any pair on, for any length (the last block cut short, an odd length).
TEST(Random, BernoulliMaskDropsWhereThePositionedDrawIsBelowTheRate) {
  const uint64_t seed = 0x0123456789abcdefULL, stream = 77;
  const double rate = 0.3;
  const uint64_t cutoff = static_cast<uint64_t>(std::ceil(std::ldexp(rate, 53)));
  std::vector<double> draws;
  Random sequential(seed, stream);
  for (int i = 0; i < 200; ++i)
    draws.push_back(sequential.uniformDouble());
  for (auto [firstPair, length] : {std::pair<uint64_t, size_t>{0, 200}, {0, 1}, {3, 37}, {5, 16}, {9, 0}}) {
    std::vector<float> mask(length, -1.0f);
    Random::bernoulliMask(seed, stream, firstPair, mask, cutoff, 2.0f);
    int dropped = 0;
    for (size_t i = 0; i < length; ++i) {
      EXPECT_EQ(mask[i], draws[2 * firstPair + i] < rate ? 0.0f : 2.0f) << "draw " << 2 * firstPair + i;
      dropped += mask[i] == 0.0f;
    }
    if (length == 200)
      EXPECT_NEAR(dropped, 60, 25);
  }
}

// Past 2^32 pairs and on a stream above 2^32, where every word of the Philox counter is non-zero: mask element i
// comes from Philox4x32-10's block firstPair + i / 2 itself, its words 0 and 1 for an even i, 2 and 3 for an odd.
TEST(Random, BernoulliMaskUsesEveryWordOfTheCounter) {
  const uint64_t seed = 0xfedcba9876543210ULL, stream = (uint64_t{5} << 32) | 9, firstPair = (uint64_t{1} << 32) - 5;
  const uint64_t cutoff = uint64_t{1} << 52; // a rate of 1/2
  std::vector<float> mask(37);
  Random::bernoulliMask(seed, stream, firstPair, mask, cutoff, 3.0f);
  const Philox4x32::Key key{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  for (size_t i = 0; i < mask.size(); ++i) {
    const uint64_t pair = firstPair + i / 2;
    const Philox4x32::Counter block =
        Philox4x32::block({static_cast<uint32_t>(pair), static_cast<uint32_t>(pair >> 32),
                           static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)},
                          key);
    const uint32_t first = block[i % 2 == 0 ? 0 : 2], second = block[i % 2 == 0 ? 1 : 3];
    const uint64_t bits = (uint64_t{first >> 5} << 26) | (second >> 6); // uniformDouble's 53 bits
    EXPECT_EQ(mask[i], bits < cutoff ? 0.0f : 3.0f) << "element " << i;
  }
}

TEST(Random, NormalMomentsAndShape) {
  Random random(3, 11);
  const int n = 1000000;
  double sum = 0, sumSquares = 0, sumFourth = 0;
  int withinOne = 0, withinTwo = 0;
  for (int i = 0; i < n; ++i) {
    double z = random.normal();
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sumSquares += z * z;
    sumFourth += z * z * z * z;
    withinOne += std::abs(z) < 1;
    withinTwo += std::abs(z) < 2;
  }
  double mean = sum / n, variance = sumSquares / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5e-3);
  EXPECT_NEAR(variance, 1.0, 5e-3);
  EXPECT_NEAR(sumFourth / n, 3.0, 0.05); // kurtosis of a normal
  EXPECT_NEAR(static_cast<double>(withinOne) / n, 0.682689, 2.5e-3);
  EXPECT_NEAR(static_cast<double>(withinTwo) / n, 0.954500, 1.5e-3);
}

TEST(Random, UniformIntIsUniformBelowBound) {
  Random random(4, 2);
  const int bound = 7, draws = 700000;
  std::vector<int> counts(bound, 0);
  for (int i = 0; i < draws; ++i) {
    uint64_t value = random.uniformInt(bound);
    ASSERT_LT(value, static_cast<uint64_t>(bound));
    ++counts[value];
  }
  // Chi-square with 6 degrees of freedom: the 99.99th percentile is about 27.9.
  double chiSquare = 0, expected = static_cast<double>(draws) / bound;
  for (int count : counts)
    chiSquare += (count - expected) * (count - expected) / expected;
  EXPECT_LT(chiSquare, 27.9);
}

TEST(Random, UniformIntEdgeBounds) {
  Random random(6, 0);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(random.uniformInt(1), 0u);
  uint64_t huge = (uint64_t{1} << 40) + 12345;
  std::set<uint64_t> seen;
  bool anyAbove32Bits = false;
  for (int i = 0; i < 1000; ++i) {
    uint64_t value = random.uniformInt(huge);
    ASSERT_LT(value, huge);
    anyAbove32Bits |= value >= (uint64_t{1} << 32);
    seen.insert(value);
  }
  EXPECT_TRUE(anyAbove32Bits);
  EXPECT_GT(seen.size(), 990u);
  // A bound of exactly 2^32 uses every 32-bit word unchanged.
  Random raw(8, 1), bounded(8, 1);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(bounded.uniformInt(uint64_t{1} << 32), raw.nextUint32());
}

} // namespace
