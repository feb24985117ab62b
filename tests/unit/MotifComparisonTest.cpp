// The Tomtom-style comparison: p-values equal a brute-force enumeration of the null for a small database, a JASPAR
// motif finds itself (and its reverse complement finds it on the other strand), random motifs rarely match, and
// the fraction of filters matching named motifs counts lists.
#include "stdlib/MotifComparison.h"
#include "ExpectError.h"
#include "runtime/Random.h"

#include <gtest/gtest.h>

#include <cmath>

namespace seqjit {
namespace {

const std::string kJasparFile =
    std::string(SEQJIT_SOURCE_DIR) + "/data/motifs/JASPAR_CORE_2016_vertebrates.meme";

const std::vector<Motif> &jaspar() {
  static const std::vector<Motif> motifs = readMemeFile(kJasparFile);
  return motifs;
}

/// A motif of `width` columns, each a normalised draw of 4 exponentials (Dirichlet(1, 1, 1, 1)).
Motif randomMotif(int64_t width, Random &random, const std::string &id) {
  Motif motif;
  motif.id = id;
  motif.probabilities = HostArray<float>({width, 4});
  for (int64_t j = 0; j < width; ++j) {
    double draws[4], sum = 0;
    for (double &d : draws)
      sum += d = -std::log(1.0 - random.uniformDouble());
    for (int b = 0; b < 4; ++b)
      motif.probabilities.data[j * 4 + b] = static_cast<float>(draws[b] / sum);
  }
  return motif;
}

int64_t discretise(double correlation) { return std::lround((correlation + 1.0) / kColumnScoreResolution); }

TEST(MotifComparison, PValuesEqualABruteForceEnumerationOfTheNull) {
  Random random(3, 1);
  std::vector<Motif> database = {randomMotif(2, random, "t0"), randomMotif(3, random, "t1"),
                                 randomMotif(2, random, "t2")};
  Motif query = randomMotif(2, random, "q");
  // Every database column on both strands.
  std::vector<std::vector<float>> pool;
  for (const Motif &motif : database)
    for (const HostArray<float> &m : {motif.probabilities, reverseComplementMatrix(motif.probabilities)})
      for (int64_t j = 0; j < m.shape[0]; ++j)
        pool.push_back({m.data.begin() + j * 4, m.data.begin() + j * 4 + 4});
  const float *q0 = query.probabilities.data.data(), *q1 = q0 + 4;
  // P(sum >= s) for the query columns in range, by enumerating every draw of pool columns.
  auto tail = [&](int64_t first, int64_t last, int64_t sum) {
    double hits = 0, total = 0;
    if (first == last) {
      for (const auto &c : pool) {
        total += 1;
        hits += discretise(columnCorrelation(first == 0 ? q0 : q1, c.data())) >= sum;
      }
    } else {
      for (const auto &c0 : pool)
        for (const auto &c1 : pool) {
          total += 1;
          hits += discretise(columnCorrelation(q0, c0.data())) + discretise(columnCorrelation(q1, c1.data())) >= sum;
        }
    }
    return hits / total;
  };
  std::vector<MotifMatch> matches = compareMotifs({query}, database, {.minOverlap = 1, .eValueThreshold = 1e9})[0];
  ASSERT_EQ(matches.size(), database.size());
  for (const MotifMatch &match : matches) {
    double lowest = 2;
    int64_t tests = 0;
    for (const HostArray<float> &m :
         {database[match.target].probabilities, reverseComplementMatrix(database[match.target].probabilities)}) {
      const int64_t width = m.shape[0];
      for (int64_t offset = -1; offset <= width - 1; ++offset) {
        int64_t first = std::max<int64_t>(0, -offset), last = std::min<int64_t>(1, width - 1 - offset), sum = 0;
        for (int64_t i = first; i <= last; ++i)
          sum += discretise(columnCorrelation(i == 0 ? q0 : q1, m.data.data() + (i + offset) * 4));
        lowest = std::min(lowest, tail(first, last, sum));
        ++tests;
      }
    }
    double expected = 1 - std::pow(1 - lowest, static_cast<double>(tests));
    EXPECT_NEAR(match.pValue, expected, 1e-9 + 1e-9 * expected) << database[match.target].id;
    EXPECT_NEAR(match.eValue, 3 * match.pValue, 1e-12);
  }
}

TEST(MotifComparison, AJasparMotifFindsItselfOnEitherStrand) {
  for (std::string id : {"MA0058.3", "MA0139.1", "MA0079.3"}) {
    const Motif &motif = findMotif(jaspar(), id);
    Motif reversed = motif;
    reversed.probabilities = reverseComplementMatrix(motif.probabilities);
    std::vector<std::vector<MotifMatch>> matches = compareMotifs({motif, reversed}, jaspar());
    for (int strand = 0; strand < 2; ++strand) {
      ASSERT_FALSE(matches[strand].empty()) << id;
      const MotifMatch &top = matches[strand][0];
      EXPECT_EQ(jaspar()[top.target].id, id);
      EXPECT_EQ(top.offset, 0) << id;
      EXPECT_EQ(top.reverse, strand == 1) << id;
      EXPECT_EQ(top.overlap, motif.width()) << id;
      EXPECT_NEAR(top.score, static_cast<double>(motif.width()), 1e-4) << id;
      EXPECT_LT(top.eValue, 1e-4) << id;
      EXPECT_LE(top.qValue, top.pValue * static_cast<double>(jaspar().size()) + 1e-15) << id;
    }
  }
}

TEST(MotifComparison, RandomMotifsRarelyMatch) {
  // E <= 0.1 means at most 0.1 false matches per query expected: over 150 random queries of width 10, at most
  // 0.1 + 3 binomial standard errors of them may have any match.
  Random random(9, 2);
  std::vector<Motif> queries;
  for (int k = 0; k < 150; ++k)
    queries.push_back(randomMotif(10, random, "random" + std::to_string(k)));
  std::vector<std::vector<MotifMatch>> matches = compareMotifs(queries, jaspar());
  int64_t matched = 0;
  for (const auto &list : matches)
    matched += !list.empty();
  EXPECT_LE(static_cast<double>(matched) / 150.0, 0.1 + 3 * std::sqrt(0.1 * 0.9 / 150.0)) << matched << " matched";
}

TEST(MotifComparison, FractionMatchingCountsFiltersWithANamedMatch) {
  std::vector<Motif> database(3);
  database[0].name = "MAX";
  database[1].name = "CTCF";
  database[2].name = "SP1";
  std::vector<std::vector<MotifMatch>> matches(4);
  matches[0] = {MotifMatch{.target = 1}, MotifMatch{.target = 0}};
  matches[1] = {MotifMatch{.target = 1}};
  matches[3] = {MotifMatch{.target = 2}};
  EXPECT_DOUBLE_EQ(fractionMatching(matches, database, {"max", "Sp1"}), 0.5);
  EXPECT_DOUBLE_EQ(fractionMatching(matches, database, {"YY1"}), 0.0);
}

TEST(MotifComparison, RefusesAnEmptyDatabaseAndMalformedMatrices) {
  Motif bad;
  bad.id = "bad";
  bad.probabilities = HostArray<float>({3, 5});
  testing::expectError([&] { compareMotifs({bad}, jaspar()); }, {"query motif 'bad' is not a (W, 4) matrix"});
  testing::expectError([&] { compareMotifs({findMotif(jaspar(), "MA0058.3")}, {}); }, {"database has no motifs"});
}

} // namespace
} // namespace seqjit
