// Host-side augmentations against hand-computed expectations: the reverse complement of a known sequence, shifts
// with zero fill, mixup's convex combinations of inputs and labels, noise of the right size, the Beta sampler's
// moments, and the option syntax.
#include "runtime/Augmentation.h"
#include "ExpectError.h"
#include "runtime/OneHot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace seqjit {
namespace {

/// One-hot (1, 4, L) of `sequence` (rows A, C, G, T).
HostArray<float> encode(const std::string &sequence) {
  auto length = static_cast<int64_t>(sequence.size());
  HostArray<float> x({1, 4, length});
  for (int64_t i = 0; i < length; ++i)
    x.data[std::string("ACGT").find(sequence[i]) * length + i] = 1.0f;
  return x;
}

std::string decode(const HostArray<float> &x, int64_t example = 0) {
  int64_t length = x.shape[2];
  std::string sequence;
  for (int64_t i = 0; i < length; ++i) {
    char letter = 'N';
    for (int64_t base = 0; base < 4; ++base)
      if (x.data[(example * 4 + base) * length + i] == 1.0f)
        letter = "ACGT"[base];
    sequence += letter;
  }
  return sequence;
}

TEST(Augmentation, ReverseComplementIsTheReverseComplement) {
  Augmentations augmentations;
  augmentations.reverseComplement = true;
  // Over many draws each example is flipped about half of the time, and a flip gives exactly the reverse complement.
  int flipped = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Examples batch{encode("AACGTTTG"), HostArray<float>({1, 1}, 1.0f)};
    Random random(seed, 0);
    augmentBatch(batch, augmentations, random);
    std::string result = decode(batch.input);
    ASSERT_TRUE(result == "AACGTTTG" || result == "CAAACGTT") << result;
    flipped += result == "CAAACGTT";
    EXPECT_EQ(batch.labels.data[0], 1.0f);
  }
  EXPECT_GT(flipped, 70);
  EXPECT_LT(flipped, 130);
}

TEST(Augmentation, ShiftMovesTheSequenceAndFillsWithZeros) {
  Augmentations augmentations;
  augmentations.maxShift = 2;
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    Examples batch{encode("ACGTAC"), HostArray<float>({1, 1})};
    Random random(seed, 0);
    augmentBatch(batch, augmentations, random);
    seen.insert(decode(batch.input));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"GTACNN", "CGTACN", "ACGTAC", "NACGTA", "NNACGT"}));
}

TEST(Augmentation, MixupMixesInputsAndLabelsWithOneLambda) {
  Augmentations augmentations;
  augmentations.mixupAlpha = 0.4;
  const int64_t count = 6, size = 4 * 10;
  HostArray<float> input = randomOneHot(count, 10, 3);
  // Label row i is the unit vector e_i, so that a mixed row lambda e_i + (1 - lambda) e_p shows lambda and p.
  HostArray<float> labels({count, count});
  for (int64_t i = 0; i < count; ++i)
    labels.data[i * count + i] = 1.0f;
  Examples batch{input, labels};
  Random random(5, 0);
  augmentBatch(batch, augmentations, random);
  std::vector<int64_t> partners;
  double lambda = std::nan("");
  for (int64_t i = 0; i < count; ++i) {
    const float *row = batch.labels.data.data() + i * count;
    int64_t partner = i;
    for (int64_t p = 0; p < count; ++p)
      if (p != i && row[p] > 0.0f)
        partner = p;
    partners.push_back(partner);
    if (partner == i) {
      EXPECT_FLOAT_EQ(row[i], 1.0f);
      continue;
    }
    if (std::isnan(lambda))
      lambda = row[i];
    EXPECT_NEAR(row[i], lambda, 1e-6) << "one lambda for the whole batch";
    EXPECT_NEAR(row[partner], 1.0 - lambda, 1e-6);
    for (int64_t j = 0; j < size; ++j)
      EXPECT_NEAR(batch.input.data[i * size + j],
                  lambda * input.data[i * size + j] + (1.0 - lambda) * input.data[partner * size + j], 1e-6);
  }
  std::sort(partners.begin(), partners.end());
  EXPECT_EQ(partners, (std::vector<int64_t>{0, 1, 2, 3, 4, 5})) << "the partners form a permutation";
  EXPECT_FALSE(std::isnan(lambda)) << "some example was mixed";
}

TEST(Augmentation, MixingMatrixMixesRowsAsMixRowsDoes) {
  Random random(9, 0);
  MixupDraw draw = drawMixup(random, 0.5, 4);
  HostArray<float> h = randomOneHot(4, 3, 2), mixed = h;
  mixRows(mixed, draw);
  HostArray<float> matrix = mixingMatrix(draw);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 12; ++j) {
      double product = 0.0;
      for (int64_t k = 0; k < 4; ++k)
        product += matrix.data[i * 4 + k] * h.data[k * 12 + j];
      EXPECT_NEAR(mixed.data[i * 12 + j], product, 1e-6);
    }
}

TEST(Augmentation, NoiseHasTheRequestedStandardDeviation) {
  Augmentations augmentations;
  augmentations.inputNoise = 0.1;
  HostArray<float> input = randomOneHot(50, 200, 1);
  Examples batch{input, HostArray<float>({50, 1})};
  Random random(2, 0);
  augmentBatch(batch, augmentations, random);
  double sum = 0.0, squares = 0.0;
  for (int64_t i = 0; i < input.size(); ++i) {
    double noise = batch.input.data[i] - input.data[i];
    sum += noise, squares += noise * noise;
  }
  double n = static_cast<double>(input.size());
  EXPECT_NEAR(sum / n, 0.0, 0.003);
  EXPECT_NEAR(std::sqrt(squares / n), 0.1, 0.003);
}

TEST(Augmentation, SymmetricBetaHasTheRightMoments) {
  for (double alpha : {0.2, 1.0, 4.0}) {
    Random random(7, static_cast<uint64_t>(alpha * 10));
    double sum = 0.0, squares = 0.0;
    const int n = 40000;
    for (int i = 0; i < n; ++i) {
      double x = sampleSymmetricBeta(random, alpha);
      ASSERT_GE(x, 0.0);
      ASSERT_LE(x, 1.0);
      sum += x, squares += x * x;
    }
    double mean = sum / n, variance = squares / n - mean * mean;
    EXPECT_NEAR(mean, 0.5, 0.01) << alpha;
    EXPECT_NEAR(variance, 1.0 / (4.0 * (2.0 * alpha + 1.0)), 0.005) << alpha;
  }
}

TEST(Augmentation, ParsesAndDescribesSpecs) {
  Augmentations parsed = parseAugmentations("--augment", "rc,shift=3,noise=0.1,mixup=0.2,pgd,pgd_steps=7");
  EXPECT_TRUE(parsed.reverseComplement);
  EXPECT_EQ(parsed.maxShift, 3);
  EXPECT_DOUBLE_EQ(parsed.inputNoise, 0.1);
  EXPECT_DOUBLE_EQ(parsed.mixupAlpha, 0.2);
  ASSERT_TRUE(parsed.adversarial);
  EXPECT_EQ(parsed.adversarial->steps, 7);
  EXPECT_DOUBLE_EQ(parsed.adversarial->epsilon, 0.05);
  EXPECT_DOUBLE_EQ(parsed.adversarial->stepSize, 0.005);
  Augmentations again = parseAugmentations("--augment", describeAugmentations(parsed));
  EXPECT_EQ(describeAugmentations(again), describeAugmentations(parsed));
  EXPECT_FALSE(parseAugmentations("--augment", "none").any());
  EXPECT_EQ(describeAugmentations(Augmentations{}), "none");
  testing::expectError([] { parseAugmentations("--augment", "rc,flip"); }, {"--augment", "flip"});
  testing::expectError([] { parseAugmentations("--augment", "shift=-1"); }, {"must not be negative"});
  testing::expectError([] { parseAugmentations("--augment", "pgd_steps=3"); }, {"need 'pgd'"});
  testing::expectError([] { parseAugmentations("--augment", "noise=abc"); }, {"noise", "number"});
  EXPECT_DOUBLE_EQ(parseAugmentations("--augment", "manifold_mixup=0.3").manifoldMixupAlpha, 0.3);
  testing::expectError([] { parseAugmentations("--augment", "mixup=0.2,manifold_mixup=0.2"); }, {"choose mixup or manifold"});
}

} // namespace
} // namespace seqjit
