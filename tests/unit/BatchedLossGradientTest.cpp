// The loss gradient a batch at a time equals the float64 reference interpreter's gradient of all the examples in
// one batch: with every objective term (a label mask, the three attribution priors, L2, the spectral norm), batches
// without positive examples or observed labels, and a last batch smaller than the others; rows streamed from .npy.
#include "runtime/BatchedLossGradient.h"
#include "ExpectError.h"
#include "LossGradientCloseness.h"
#include "PythonSupport.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/Random.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <cmath>

namespace seqjit {
namespace {

using testing::expectError;

HostArray<float> randomBits(std::vector<int64_t> shape, uint64_t seed) {
  HostArray<float> bits(std::move(shape));
  Random random(seed, 0);
  for (float &v : bits.data)
    v = random.uniform() < 0.4f ? 1.0f : 0.0f;
  return bits;
}

TEST(BatchedLossGradient, BatchesAddUpToTheGradientOfAllExamplesWithEveryTerm) {
  auto model = buildZooModel("cnn-dist", {});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 7);
  parameters.randomizeBatchNorm(graph, 11);
  Objective objective;
  objective.l2 = 1e-3;
  objective.labelMask = true;
  objective.fourierPrior = parseFourierPrior("--fourier-prior", "T=20,s=0.2,sigma=3,lambda=0.5");
  objective.smoothnessPrior = SmoothnessPrior{parseAttributionPrior("--smoothness-prior", "lambda=0.3")};
  objective.sparsityPrior = SparsityPrior{parseAttributionPrior("--sparsity-prior", "lambda=0.2,all")};
  objective.spectralNorm = parseSpectralNorm("--spectral-norm", "lambda=0.01,iterations=2");

  // 21 examples in batches of 8, 8 and 5: the second batch has no positive example, the third no observed label.
  const int64_t count = 21, batch = 8;
  HostArray<float> input = randomOneHot(count, graph.inputNode().shape[1], 3);
  std::vector<int64_t> labelShape{count};
  labelShape.insert(labelShape.end(), graph.outputNode().shape.begin(), graph.outputNode().shape.end());
  HostArray<float> labels = randomBits(labelShape, 5), mask = randomBits(labelShape, 6);
  int64_t perExample = labels.size() / count;
  labels.data[0] = mask.data[0] = 1.0f;
  std::fill(labels.data.begin() + 8 * perExample, labels.data.begin() + 16 * perExample, 0.0f);
  std::fill(mask.data.begin() + 16 * perExample, mask.data.end(), 0.0f);
  auto vectors = initialPowerVectors<float>(graph, 2);

  testing::ScratchDirectory dir;
  writeNpy(dir.file("x.npy"), input);
  writeNpy(dir.file("y.npy"), labels);
  writeNpy(dir.file("mask.npy"), mask);
  NpyRows inputRows(dir.file("x.npy")), labelRows(dir.file("y.npy")), maskRows(dir.file("mask.npy"));

  BatchedLossGradient batched(graph, objective, count, {.batchSize = batch, .batchNormTraining = false});
  EXPECT_EQ(batched.batchSize(), batch);
  std::vector<int64_t> progress;
  LossGradients<float> actual =
      batched.run({&inputRows, &labelRows, &maskRows}, parameters, &vectors, [&](int64_t done, int64_t total) {
        EXPECT_EQ(total, count);
        progress.push_back(done);
      });
  EXPECT_EQ(progress, (std::vector<int64_t>{8, 16, 21}));

  std::map<std::string, HostArray<double>> vectorsAsDouble;
  for (const auto &[vector, u] : vectors)
    vectorsAsDouble[vector] = u.cast<double>();
  HostArray<double> maskAsDouble = mask.cast<double>();
  LossGradients<double> expected =
      interpretLossGradient<double>(graph, objective, false, input.cast<double>(), labels.cast<double>(), parameters,
                                    {&maskAsDouble, &vectorsAsDouble});
  for (const char *term : {"fourier_prior", "smoothness_prior", "sparsity_prior", "spectral_penalty", "l2_penalty"})
    EXPECT_GT(expected.terms.at(term), 0.0) << term;
  testing::expectLossGradientNear(
      actual, expected,
      interpretLossGradient<float>(graph, objective, false, input, labels, parameters, {&mask, &vectors}));

  // Data that does not fit what was compiled, or what the objective needs.
  HostArray<float> shorter = readRowRange(inputRows, 0, 20);
  writeNpy(dir.file("x20.npy"), shorter);
  NpyRows shorterRows(dir.file("x20.npy"));
  expectError(
      [&] {
        batched.run({&shorterRows, &labelRows, &maskRows}, parameters, &vectors);
      },
      {"x20.npy", "compiled for 21 examples"});
  expectError([&] { batched.run({&inputRows, &labelRows, nullptr}, parameters, &vectors); }, {"takes a label mask"});
}

/// CNN-dist's gradient of `objective` on `count` random examples (no mask), streamed from .npy in batches of
/// `batchSize`, against the interpreter's on all of them in one batch.
void expectBatchesEqualOneBatch(const Objective &objective, int64_t count, int64_t batchSize, bool batchNormTraining) {
  auto model = buildZooModel("cnn-dist", {});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 7);
  HostArray<float> input = randomOneHot(count, graph.inputNode().shape[1], 3);
  std::vector<int64_t> labelShape{count};
  labelShape.insert(labelShape.end(), graph.outputNode().shape.begin(), graph.outputNode().shape.end());
  HostArray<float> labels = randomBits(labelShape, 5);
  testing::ScratchDirectory dir;
  writeNpy(dir.file("x.npy"), input);
  writeNpy(dir.file("y.npy"), labels);
  NpyRows inputRows(dir.file("x.npy")), labelRows(dir.file("y.npy"));

  BatchedLossGradient batched(graph, objective, count,
                              {.batchSize = batchSize, .batchNormTraining = batchNormTraining});
  LossGradients<float> actual = batched.run({&inputRows, &labelRows}, parameters, nullptr);
  LossGradients<double> expected = interpretLossGradient<double>(
      graph, objective, batchNormTraining, input.cast<double>(), labels.cast<double>(), parameters);
  for (const auto &[term, value] :
       {std::pair{"sparsity_prior", objective.sparsityPrior.has_value()}, std::pair{"l2_penalty", objective.l2 > 0}})
    if (value) {
      EXPECT_GT(expected.terms.at(term), 0.0) << term;
    }
  testing::expectLossGradientNear(
      actual, expected, interpretLossGradient<float>(graph, objective, batchNormTraining, input, labels, parameters));
}

// Without a mask or a prior over positive examples, each batch's share of a prior over all examples is its
// share of the examples: batches of 4, 4 and 2.
TEST(BatchedLossGradient, APriorOverAllExamplesIsSharedByExamplesWithoutAMask) {
  Objective objective;
  objective.sparsityPrior = SparsityPrior{parseAttributionPrior("--sparsity-prior", "lambda=0.2,all")};
  expectBatchesEqualOneBatch(objective, 10, 4, false);
}

TEST(BatchedLossGradient, OneBatchOfAllExamplesNormalisesWithTheirBatchStatistics) {
  Objective objective;
  objective.l2 = 1e-3;
  expectBatchesEqualOneBatch(objective, 6, 0, true);
}

TEST(BatchedLossGradient, RefusesNoExamplesAndANegativeBatchSize) {
  auto model = buildZooModel("cnn-dist", {});
  expectError([&] { BatchedLossGradient(model->graph(), {}, 0, {}); }, {"cnn-dist", "no examples"});
  expectError([&] { BatchedLossGradient(model->graph(), {}, 5, {.batchSize = -1}); },
              {"batch size must be positive", "-1"});
}

} // namespace
} // namespace seqjit
