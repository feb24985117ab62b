// The metrics against values published in the scikit-learn and scipy documentation, and against brute-force
// recomputations by their definitions (all positive-negative pairs; every threshold counted from scratch).
#include "runtime/Metrics.h"
#include "ExpectError.h"
#include "runtime/Random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace seqjit {
namespace {

TEST(Metrics, MatchTheScikitLearnAndScipyDocumentationExamples) {
  std::vector<float> labels{0, 0, 1, 1}, scores{0.1f, 0.4f, 0.35f, 0.8f};
  EXPECT_NEAR(auroc(scores, labels), 0.75, 1e-12);     // sklearn roc_auc_score docstring
  EXPECT_NEAR(aupr(scores, labels), 0.83333333, 1e-7); // sklearn average_precision_score docstring
  std::vector<float> x{1, 2, 3, 4, 5}, y{5, 6, 7, 8, 7};
  EXPECT_NEAR(spearman(x, y), 0.8207826816681233, 1e-12); // scipy.stats.spearmanr docstring
  EXPECT_NEAR(pearson(std::vector<float>{1, 2, 3}, std::vector<float>{1, 2, 4}), 0.9819805060619657, 1e-12);
  EXPECT_DOUBLE_EQ(accuracy(std::vector<float>{0.9f, 0.2f, 0.6f, 0.4f}, std::vector<float>{1, 0, 0, 0}), 0.75);
}

/// Random scores on a coarse grid (so that ties occur) and random labels.
std::pair<std::vector<float>, std::vector<float>> randomCase(uint64_t seed, int n) {
  Random random(seed, 0);
  std::vector<float> scores(n), labels(n);
  for (int i = 0; i < n; ++i) {
    labels[i] = random.uniform() < 0.3f ? 1.0f : 0.0f;
    scores[i] = std::floor((random.uniform() + 0.5f * labels[i]) * 8.0f) / 8.0f;
  }
  return {scores, labels};
}

TEST(Metrics, AurocEqualsTheFractionOfOrderedPairs) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto [scores, labels] = randomCase(seed, 57);
    double pairs = 0, wins = 0;
    for (size_t i = 0; i < scores.size(); ++i)
      for (size_t j = 0; j < scores.size(); ++j)
        if (labels[i] == 1 && labels[j] == 0) {
          ++pairs;
          wins += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
        }
    EXPECT_NEAR(auroc(scores, labels), wins / pairs, 1e-12) << seed;
  }
}

TEST(Metrics, AuprEqualsAveragePrecisionOverEveryThreshold) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto [scores, labels] = randomCase(seed, 57);
    double positives = 0;
    for (float l : labels)
      positives += l;
    std::set<float, std::greater<>> thresholds(scores.begin(), scores.end());
    double expected = 0, previousRecall = 0;
    for (float t : thresholds) {
      double predicted = 0, hits = 0;
      for (size_t i = 0; i < scores.size(); ++i)
        if (scores[i] >= t) {
          ++predicted;
          hits += labels[i];
        }
      expected += (hits / positives - previousRecall) * (hits / predicted);
      previousRecall = hits / positives;
    }
    EXPECT_NEAR(aupr(scores, labels), expected, 1e-12) << seed;
  }
}

TEST(Metrics, PerfectReversedAndUndefinedCases) {
  std::vector<float> labels{0, 1, 0, 1}, scores{0.1f, 0.9f, 0.2f, 0.8f}, reversed{0.9f, 0.1f, 0.8f, 0.2f};
  EXPECT_DOUBLE_EQ(auroc(scores, labels), 1.0);
  EXPECT_DOUBLE_EQ(auroc(reversed, labels), 0.0);
  EXPECT_DOUBLE_EQ(aupr(scores, labels), 1.0);
  EXPECT_TRUE(std::isnan(auroc(scores, std::vector<float>{1, 1, 1, 1})));
  EXPECT_TRUE(std::isnan(aupr(scores, std::vector<float>{0, 0, 0, 0})));
  EXPECT_TRUE(std::isnan(pearson(scores, std::vector<float>{2, 2, 2, 2})));
  EXPECT_DOUBLE_EQ(spearman(scores, std::vector<float>{1, 4, 2, 3}), 1.0);
}

TEST(Metrics, EvaluateTasksAveragesTheDefinedTasks) {
  HostArray<float> probabilities({4, 2}), labels({4, 2});
  probabilities.data = {0.1f, 0.5f, 0.9f, 0.5f, 0.2f, 0.5f, 0.8f, 0.5f};
  labels.data = {0, 1, 1, 1, 0, 1, 1, 1}; // task 1 has no negatives: its AUROC is undefined
  auto result = evaluateTasks(probabilities, labels);
  ASSERT_EQ(result.at("auroc").size(), 3u);
  EXPECT_DOUBLE_EQ(result.at("auroc")[0], 1.0);
  EXPECT_TRUE(std::isnan(result.at("auroc")[1]));
  EXPECT_DOUBLE_EQ(result.at("auroc")[2], 1.0) << "the mean skips the undefined task";
  EXPECT_DOUBLE_EQ(result.at("accuracy")[1], 0.0) << "0.5 is not above the threshold";
  EXPECT_EQ(result.size(), 5u);
  testing::expectError(
      [&] {
        evaluateTasks(probabilities, HostArray<float>({4, 3}));
      },
      {"one shape", "(4, 2)", "(4, 3)"});
}

} // namespace
} // namespace seqjit
