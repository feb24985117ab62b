// The interpretability metrics: ground-truth positions by information content, position scores, and per-sequence
// AUROC / AUPR checked against a pairwise count and a hand-computed average precision.
#include "stdlib/Interpretability.h"
#include "ExpectError.h"
#include "runtime/Random.h"

#include <gtest/gtest.h>

#include <cmath>

namespace seqjit {
namespace {

TEST(Interpretability, GroundTruthIsWhereTheGeneratingModelCarriesInformation) {
  // Columns: uniform (0 bits), a certain base (2 bits), a near-uniform column just under 0.01 bits and one above.
  const int64_t length = 4;
  HostArray<float> model({4, length}, 0.25f);
  for (int64_t b = 0; b < 4; ++b)
    model.data[b * length + 1] = b == 2 ? 1.0f : 0.0f;
  // 0.01 bits is reached near p = (0.31, 0.23, 0.23, 0.23): 0.28 stays below, 0.35 goes above.
  const float low[4] = {0.28f, 0.24f, 0.24f, 0.24f}, high[4] = {0.35f, 0.2166667f, 0.2166667f, 0.2166666f};
  for (int64_t b = 0; b < 4; ++b) {
    model.data[b * length + 2] = low[b];
    model.data[b * length + 3] = high[b];
  }
  EXPECT_EQ(groundTruthPositions(model.data.data(), length), (std::vector<float>{0, 1, 0, 1}));
}

TEST(Interpretability, PositionScoresSumTheBases) {
  HostArray<float> map({1, 4, 2}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});
  HostArray<float> scores = positionScores(map);
  EXPECT_EQ(scores.shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(scores.data, (std::vector<float>{16, 20}));
}

/// The fraction of (motif, background) position pairs the scores order correctly, ties counting one half.
double pairwiseAuroc(const std::vector<float> &scores, const std::vector<float> &truth) {
  double correct = 0, pairs = 0;
  for (size_t i = 0; i < scores.size(); ++i)
    for (size_t j = 0; j < scores.size(); ++j)
      if (truth[i] == 1 && truth[j] == 0) {
        pairs += 1;
        correct += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
      }
  return correct / pairs;
}

TEST(Interpretability, PerSequenceScoresAgainstIndependentCounts) {
  // Sequence 0: a motif at positions 3..5 of 10; sequence 1: no motif (left out); sequence 2: motif at 0 and 9.
  const int64_t length = 10;
  HostArray<float> models({3, 4, length}, 0.25f);
  auto plant = [&](int64_t n, int64_t l) {
    for (int64_t b = 0; b < 4; ++b)
      models.data[(n * 4 + b) * length + l] = b == 0 ? 1.0f : 0.0f;
  };
  for (int64_t l : {3, 4, 5})
    plant(0, l);
  plant(2, 0);
  plant(2, 9);
  HostArray<float> scores({3, length});
  Random random(4, 1);
  for (float &v : scores.data)
    v = std::round(random.uniform() * 8.0f); // coarse values: ties happen
  InterpretabilityScores result = interpretability(scores, models);
  ASSERT_EQ(result.auroc.size(), 3u);
  EXPECT_EQ(result.scored, 2);
  EXPECT_TRUE(std::isnan(result.auroc[1]) && std::isnan(result.aupr[1]));
  for (int64_t n : {0, 2}) {
    std::vector<float> own(scores.data.begin() + n * length, scores.data.begin() + (n + 1) * length);
    std::vector<float> truth = groundTruthPositions(models.data.data() + n * 4 * length, length);
    EXPECT_NEAR(result.auroc[n], pairwiseAuroc(own, truth), 1e-12) << n;
  }
  EXPECT_NEAR(result.meanAuroc, (result.auroc[0] + result.auroc[2]) / 2, 1e-12);

  // Motif positions scored strictly above the rest: both metrics are 1; strictly below: AUROC 0.
  HostArray<float> perfect({3, length}), reversed({3, length});
  for (int64_t n = 0; n < 3; ++n) {
    std::vector<float> truth = groundTruthPositions(models.data.data() + n * 4 * length, length);
    for (int64_t l = 0; l < length; ++l) {
      perfect.data[n * length + l] = truth[l] + 0.01f * static_cast<float>(l);
      reversed.data[n * length + l] = -perfect.data[n * length + l];
    }
  }
  InterpretabilityScores best = interpretability(perfect, models), worst = interpretability(reversed, models);
  EXPECT_DOUBLE_EQ(best.meanAuroc, 1.0);
  EXPECT_DOUBLE_EQ(best.meanAupr, 1.0);
  EXPECT_DOUBLE_EQ(worst.meanAuroc, 0.0);
  // Sequence 2 reversed: its 2 motif positions rank last of 10: precision 1/9 at the first, 2/10 at the second.
  EXPECT_NEAR(worst.aupr[2], 0.5 * (1.0 / 9.0 + 2.0 / 10.0), 1e-12);
}

/// A (1, 4, L) generating model: the positions in `motif` certain of base A, the others uniform.
HostArray<float> modelWithMotifAt(int64_t length, const std::vector<int64_t> &motif) {
  HostArray<float> model({1, 4, length}, 0.25f);
  for (int64_t l : motif)
    for (int64_t b = 0; b < 4; ++b)
      model.data[b * length + l] = b == 0 ? 1.0f : 0.0f;
  return model;
}

TEST(Interpretability, SignalToNoiseIsTheMotifMeanOverThePositiveBackgroundMean) {
  // Motif at 2 and 3: signal (2.0 + 1.0) / 2 = 1.5; background scores 0.1, -0.2, 0.3, 0.0 of which the positive
  // ones average 0.2: SNR 7.5.
  HostArray<float> scores({1, 6}, {0.1f, -0.2f, 2.0f, 1.0f, 0.3f, 0.0f});
  InterpretabilityScores result = interpretability(scores, modelWithMotifAt(6, {2, 3}));
  ASSERT_EQ(result.snr.size(), 1u);
  EXPECT_NEAR(result.snr[0], 7.5, 1e-6);
  EXPECT_NEAR(result.meanSnr, 7.5, 1e-6);
  // No positive background score: no SNR, left out of the mean.
  HostArray<float> negative({1, 6}, {-0.1f, -0.2f, 2.0f, 1.0f, -0.3f, 0.0f});
  InterpretabilityScores none = interpretability(negative, modelWithMotifAt(6, {2, 3}));
  EXPECT_TRUE(std::isnan(none.snr[0]));
  EXPECT_EQ(none.snrScored, 0);
}

TEST(Interpretability, LocalisationScoresEachMotifInstanceAgainstTheBackground) {
  // Instances at 1-2 (both above every background score: AUROC 1) and 6-7 (0.45 beats 5 of the 6 background
  // scores, 0.05 beats 1: 6 of 12 pairs, AUROC 0.5): localisation 0.75, where the per-sequence AUROC is 18 / 24.
  HostArray<float> scores({1, 10}, {0.0f, 0.9f, 0.8f, 0.5f, 0.1f, 0.2f, 0.45f, 0.05f, 0.3f, 0.4f});
  InterpretabilityScores result = interpretability(scores, modelWithMotifAt(10, {1, 2, 6, 7}));
  EXPECT_EQ(result.motifInstances, 2);
  EXPECT_NEAR(result.localisationAuroc, 0.75, 1e-9);
  EXPECT_NEAR(result.meanAuroc, 18.0 / 24.0, 1e-9);
}

TEST(Interpretability, RefusesMismatchedShapes) {
  testing::expectError(
      [] {
        interpretability(HostArray<float>({2, 10}), HostArray<float>({2, 4, 9}));
      },
      {"position scores (2, 10) and generating models (2, 4, 9) do not match"});
}

} // namespace
} // namespace seqjit
