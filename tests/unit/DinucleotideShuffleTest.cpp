// Tests of the dinucleotide shuffle: preserved counts and ends, uniformity against brute-force enumeration,
// determinism of the batch form, and the one-hot conversions.
#include "runtime/DinucleotideShuffle.h"

#include "ExpectError.h"
#include "runtime/OneHot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <string>

using namespace seqjit;
using seqjit::testing::expectError;

namespace {

using Counts = std::array<std::array<int64_t, 5>, 5>;

std::vector<uint8_t> symbolsOf(const std::string &text) {
  std::vector<uint8_t> symbols;
  for (char c : text)
    symbols.push_back(static_cast<uint8_t>(std::string("ACGTN").find(c)));
  return symbols;
}

std::string textOf(const std::vector<uint8_t> &symbols) {
  std::string text;
  for (uint8_t s : symbols)
    text += "ACGTN"[s];
  return text;
}

Counts dinucleotideCounts(const std::vector<uint8_t> &symbols) {
  Counts counts{};
  for (size_t i = 0; i + 1 < symbols.size(); ++i)
    ++counts[symbols[i]][symbols[i + 1]];
  return counts;
}

/// Expects `shuffled` to be a valid dinucleotide shuffle of `original`: same length, ends and 5x5 counts.
void expectValidShuffle(const std::vector<uint8_t> &original, const std::vector<uint8_t> &shuffled) {
  ASSERT_EQ(shuffled.size(), original.size()) << textOf(original);
  if (original.empty())
    return;
  EXPECT_EQ(shuffled.front(), original.front()) << textOf(original) << " -> " << textOf(shuffled);
  EXPECT_EQ(shuffled.back(), original.back()) << textOf(original) << " -> " << textOf(shuffled);
  EXPECT_EQ(dinucleotideCounts(shuffled), dinucleotideCounts(original))
      << textOf(original) << " -> " << textOf(shuffled);
}

TEST(DinucleotideShuffle, PreservesCountsAndEndsOfRandomSequences) {
  Random generator(2024, 0);
  int longSequences = 0, changedLongSequences = 0;
  for (int i = 0; i < 2000; ++i) {
    const int64_t length = static_cast<int64_t>(generator.uniformInt(301));
    std::vector<uint8_t> symbols(length);
    for (uint8_t &s : symbols) {
      switch (i % 4) {
      case 0:
        s = static_cast<uint8_t>(generator.uniformInt(4));
        break; // ACGT
      case 1:
        s = static_cast<uint8_t>(generator.uniformInt(5));
        break; // ACGTN
      case 2:
        s = static_cast<uint8_t>(generator.uniformDouble() < 0.9 ? 0 : generator.uniformInt(5));
        break; // mostly A
      default:
        s = static_cast<uint8_t>(1 + 2 * generator.uniformInt(2));
        break; // C and T only
      }
    }
    Random random(7, i);
    std::vector<uint8_t> shuffled = dinucleotideShuffle(symbols, random);
    expectValidShuffle(symbols, shuffled);
    if (length >= 50 && i % 4 != 2) {
      ++longSequences;
      changedLongSequences += shuffled != symbols;
    }
  }
  // Shuffles of long random sequences almost never reproduce the original.
  EXPECT_GE(changedLongSequences, longSequences * 99 / 100) << changedLongSequences << " of " << longSequences;
}

TEST(DinucleotideShuffle, PreservesCountsOfSkewedAndShortSequences) {
  std::vector<std::string> texts = {"",        "A",         "AT",        "TA",         "ANA",        "AAAAAAT",
                                    "TAAAAAA", "ACACACAC",  "ACACACACA", "AAAAAAAA",   "NNNN",       "NANA",
                                    "GATTACA", "ANNNNNNNT", "ACGTN",     "NACGTNACGT", "TTTTTCTTTTT"};
  texts.push_back(std::string(1000, 'A') + "T");
  texts.push_back("C" + std::string(1000, 'G'));
  std::string alternating;
  for (int i = 0; i < 500; ++i)
    alternating += "AC";
  texts.push_back(alternating);
  for (const std::string &text : texts)
    for (uint64_t stream = 0; stream < 20; ++stream) {
      Random random(3, stream);
      expectValidShuffle(symbolsOf(text), dinucleotideShuffle(symbolsOf(text), random));
    }
  // Sequences of length at most 2 come back unchanged.
  for (const char *text : {"", "G", "GN", "TT"}) {
    Random random(3, 0);
    EXPECT_EQ(textOf(dinucleotideShuffle(symbolsOf(text), random)), text);
  }
}

/// Every arrangement of the letters of `text` with its first and last letter and its dinucleotide counts.
std::set<std::string> validArrangements(const std::string &text) {
  std::string letters = text;
  std::sort(letters.begin(), letters.end());
  std::set<std::string> valid;
  const Counts counts = dinucleotideCounts(symbolsOf(text));
  do {
    if (letters.front() == text.front() && letters.back() == text.back() &&
        dinucleotideCounts(symbolsOf(letters)) == counts)
      valid.insert(letters);
  } while (std::next_permutation(letters.begin(), letters.end()));
  return valid;
}

TEST(DinucleotideShuffle, UniformOverAllValidArrangements) {
  // Expected counts from enumeration: AATACAGAT 24, AGACATAGA 12, CAACGAACGTC 18, NANCNGNAN 12, TTATGTCTAT 60,
  // ACNACGNCGA 8 arrangements (self-loops, repeated edges, N, and roots reached through other vertices).
  const std::vector<std::string> texts = {"AATACAGAT", "AGACATAGA",  "CAACGAACGTC",
                                          "NANCNGNAN", "TTATGTCTAT", "ACNACGNCGA"};
  const int draws = 20000;
  for (size_t t = 0; t < texts.size(); ++t) {
    const std::string &text = texts[t];
    const std::set<std::string> valid = validArrangements(text);
    ASSERT_GE(valid.size(), 8u) << text;
    std::map<std::string, int> seen;
    for (int draw = 0; draw < draws; ++draw) {
      Random random(99 + t, draw);
      ++seen[textOf(dinucleotideShuffle(symbolsOf(text), random))];
    }
    const double p = 1.0 / valid.size();
    const double expected = draws * p;
    const double standardError = std::sqrt(draws * p * (1 - p));
    double chiSquare = 0;
    for (const std::string &arrangement : valid) {
      const int observed = seen.count(arrangement) ? seen[arrangement] : 0;
      EXPECT_LT(std::abs(observed - expected), 5 * standardError)
          << text << ": " << arrangement << " drawn " << observed << " times, expected " << expected;
      chiSquare += (observed - expected) * (observed - expected) / expected;
    }
    for (const auto &[arrangement, observed] : seen)
      EXPECT_TRUE(valid.count(arrangement)) << text << ": invalid arrangement " << arrangement << " drawn";
    const double degrees = static_cast<double>(valid.size() - 1);
    EXPECT_LT(chiSquare, degrees + 6 * std::sqrt(2 * degrees)) << text << " over " << valid.size();
  }
}

TEST(DinucleotideShuffle, SameStreamSameShuffle) {
  std::vector<uint8_t> symbols = symbolsOf("ACGTTGCANNACGGGTACCATGACGATTTACGACGCCGATNAGCTAGCATCG");
  Random first(5, 17), second(5, 17), other(5, 18);
  std::vector<uint8_t> a = dinucleotideShuffle(symbols, first);
  EXPECT_EQ(a, dinucleotideShuffle(symbols, second));
  EXPECT_NE(a, dinucleotideShuffle(symbols, other));
}

TEST(DinucleotideShuffle, BatchRowsAreSingleShufflesOfTheirOwnStreams) {
  const int64_t examples = 3, length = 40, count = 4;
  const uint64_t seed = 11;
  HostArray<float> batch = randomOneHot(examples, length, 1);
  for (int64_t position : {0, 5, 6, 39}) // N columns in example 1.
    for (int channel = 0; channel < 4; ++channel)
      batch.data[(1 * 4 + channel) * length + position] = 0.0f;
  HostArray<float> shuffles = dinucleotideShuffles(batch, count, seed);
  ASSERT_EQ(shuffles.shape, (std::vector<int64_t>{examples * count, 4, length}));
  for (int64_t n = 0; n < examples; ++n) {
    std::vector<uint8_t> symbols = symbolsOfOneHot(batch.data.data() + n * 4 * length, length);
    for (int64_t j = 0; j < count; ++j) {
      Random random(seed, n * count + j);
      std::vector<float> expected(4 * length);
      oneHotOfSymbols(dinucleotideShuffle(symbols, random), expected.data());
      const float *row = shuffles.data.data() + (n * count + j) * 4 * length;
      EXPECT_EQ(std::vector<float>(row, row + 4 * length), expected) << "example " << n << ", shuffle " << j;
    }
  }
  // Another sequence 0 leaves the shuffles of sequences 1 and 2 as they were.
  HostArray<float> changed = batch;
  std::fill(changed.data.begin(), changed.data.begin() + 4 * length, 0.0f);
  HostArray<float> changedShuffles = dinucleotideShuffles(changed, count, seed);
  EXPECT_TRUE(std::equal(shuffles.data.begin() + count * 4 * length, shuffles.data.end(),
                         changedShuffles.data.begin() + count * 4 * length));
  EXPECT_EQ(dinucleotideShuffles(batch, 0, seed).shape, (std::vector<int64_t>{0, 4, length}));
  // Shuffled in two pieces, each given the index of its first sequence, the batch gets the same shuffles.
  HostArray<float> tail({2, 4, length}, std::vector<float>(batch.data.begin() + 4 * length, batch.data.end()));
  HostArray<float> tailShuffles = dinucleotideShuffles(tail, count, seed, 1);
  EXPECT_TRUE(
      std::equal(tailShuffles.data.begin(), tailShuffles.data.end(), shuffles.data.begin() + count * 4 * length));
}

TEST(DinucleotideShuffle, OneHotRoundTrip) {
  std::vector<uint8_t> symbols = symbolsOf("ACGTNNTGCAAN");
  std::vector<float> oneHot(4 * symbols.size(), 7.0f);
  oneHotOfSymbols(symbols, oneHot.data());
  // Column 4 (N) is all zeros, column 1 (C) has its one in row 1.
  for (int channel = 0; channel < 4; ++channel) {
    EXPECT_EQ(oneHot[channel * symbols.size() + 4], 0.0f);
    EXPECT_EQ(oneHot[channel * symbols.size() + 1], channel == 1 ? 1.0f : 0.0f);
  }
  EXPECT_EQ(symbolsOfOneHot(oneHot.data(), static_cast<int64_t>(symbols.size())), symbols);
}

TEST(DinucleotideShuffle, RefusesWhatIsNotOneHot) {
  std::vector<float> oneHot(4 * 6, 0.0f);
  oneHotOfSymbols(symbolsOf("ACGTAC"), oneHot.data());
  std::vector<float> twoOnes = oneHot;
  twoOnes[0 * 6 + 3] = 1.0f; // Position 3 is T and now also A.
  expectError([&] { symbolsOfOneHot(twoOnes.data(), 6); }, {"position 3", "2 ones"});
  std::vector<float> half = oneHot;
  half[2 * 6 + 2] = 0.5f; // Position 2 is G at 0.5.
  expectError([&] { symbolsOfOneHot(half.data(), 6); }, {"position 2", "0.5"});

  HostArray<float> batch({2, 4, 6});
  std::copy(oneHot.begin(), oneHot.end(), batch.data.begin());
  std::copy(half.begin(), half.end(), batch.data.begin() + 24);
  expectError([&] { dinucleotideShuffles(batch, 2, 1); }, {"example 1", "position 2"});
  expectError([&] { dinucleotideShuffles(HostArray<float>({2, 5, 6}), 2, 1); }, {"(N, 4, L)"});

  std::vector<uint8_t> badSymbols = {0, 1, 7, 2};
  std::vector<float> out(16);
  expectError([&] { oneHotOfSymbols(badSymbols, out.data()); }, {"position 2", "symbol 7"});
  Random random(1, 1);
  expectError([&] { dinucleotideShuffle(badSymbols, random); }, {"position 2", "symbol 7"});
}

} // namespace
