// The JIT's gradient programs equal the reference interpreter's (float64): for every stdlib model the loss gradient
// (BCE + L2, batch norm on batch statistics) and the input gradient; for CNN-dist the loss gradient with every
// other objective term too (label mask, the three attribution priors: forward, backward and double backward in
// one program; the spectral norm with its power vectors; the multinomial loss), and the diagnosis of NaN.
#include "ExpectError.h"
#include "LossGradientCloseness.h"
#include "ZooNames.h"
#include "runtime/GradientPrograms.h"
#include "runtime/OneHot.h"
#include "runtime/Random.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace seqjit {
namespace {

HostArray<float> randomLabels(int64_t examples, const Shape &outputShape, uint64_t seed) {
  std::vector<int64_t> shape{examples};
  shape.insert(shape.end(), outputShape.begin(), outputShape.end());
  HostArray<float> labels(shape);
  Random random(seed, 0);
  for (float &v : labels.data)
    v = random.uniform() < 0.4f ? 1.0f : 0.0f;
  labels.data[0] = 1.0f; // at least one positive example for the prior
  return labels;
}

/// BCE + L2, and with `everyTerm` a label mask, the three attribution priors and the spectral-norm penalty.
Objective testObjective(bool everyTerm) {
  Objective objective;
  objective.l2 = 1e-3;
  if (!everyTerm)
    return objective;
  objective.labelMask = true;
  // T = 20 puts the soft frequency limit inside the spectrum of a 200 nt input, so both weight branches count.
  objective.fourierPrior = parseFourierPrior("--fourier-prior", "T=20,s=0.2,sigma=3,lambda=0.5");
  objective.smoothnessPrior = SmoothnessPrior{parseAttributionPrior("--smoothness-prior", "lambda=0.3")};
  objective.sparsityPrior = SparsityPrior{parseAttributionPrior("--sparsity-prior", "lambda=0.2,all")};
  objective.spectralNorm = parseSpectralNorm("--spectral-norm", "lambda=0.01,iterations=2");
  return objective;
}

void checkLossGradient(const std::string &name, const Objective &objective) {
  auto model = buildZooModel(name, {});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 7);
  parameters.randomizeBatchNorm(graph, 11);
  // Batch-norm statistics of 3 sequences amplify float32 rounding in the double backward; 8 keep it near 1e-5.
  const bool doubleBackward = objective.fourierPrior || objective.smoothnessPrior || objective.sparsityPrior;
  const int64_t batch = doubleBackward ? 8 : 3;
  HostArray<float> input = randomOneHot(batch, graph.inputNode().shape[1], 3);
  HostArray<float> labels = randomLabels(batch, graph.outputNode().shape, 5);
  HostArray<float> mask = randomLabels(batch, graph.outputNode().shape, 6);
  auto vectors = initialPowerVectors<float>(graph, 2);
  std::map<std::string, HostArray<double>> vectorsAsDouble;
  for (const auto &[vector, u] : vectors)
    vectorsAsDouble[vector] = u.cast<double>();
  HostArray<double> maskAsDouble = mask.cast<double>();

  auto compiled = CompiledLossGradient::compile(graph, objective, {.batch = batch});
  LossGradients<float> actual =
      compiled.run(input, labels, parameters, {objective.labelMask ? &mask : nullptr, &vectors});
  LossGradients<double> expected =
      interpretLossGradient<double>(graph, objective, true, input.cast<double>(), labels.cast<double>(), parameters,
                                    {objective.labelMask ? &maskAsDouble : nullptr, &vectorsAsDouble});
  // The same gradient in float32 on the interpreter: how much float32 rounding moves this parameter's gradient on
  // this problem (see gradientTolerance).
  LossGradients<float> interpretedInFloat32 = interpretLossGradient<float>(
      graph, objective, true, input, labels, parameters, {objective.labelMask ? &mask : nullptr, &vectors});

  testing::expectLossGradientNear(actual, expected, interpretedInFloat32);
  for (const auto &[term, present] : {std::pair{"fourier_prior", objective.fourierPrior.has_value()},
                                      std::pair{"smoothness_prior", objective.smoothnessPrior.has_value()},
                                      std::pair{"sparsity_prior", objective.sparsityPrior.has_value()},
                                      std::pair{"spectral_penalty", objective.spectralNorm.has_value()}})
    if (present) {
      EXPECT_GT(expected.terms.at(term), 0.0) << term;
    }
}

class JitGradientTest : public ::testing::TestWithParam<std::string> {};

TEST_P(JitGradientTest, LossGradientEqualsInterpreter) { checkLossGradient(GetParam(), testObjective(false)); }

// One model: LLVM takes seconds on a double-backward program (see the README), and every op of the prior
// path is checked on its own in JitOpsTest.
TEST(JitGradient, LossGradientWithEveryTermEqualsInterpreter) { checkLossGradient("cnn-dist", testObjective(true)); }

// 12 outputs, so that the softmax has classes to spread over.
TEST(JitGradient, MultinomialLossGradientEqualsInterpreter) {
  Objective objective;
  objective.loss = LossKind::Multinomial;
  checkLossGradient("cnn-50-2", objective);
}

// An exponential first layer after a batch norm shifted by 100 overflows float32 (e^100 > 3.4e38): the compiled
// program's infinity is traced back, on the reference interpreter, to the op and layer that produced it.
TEST(JitGradient, NamesTheLayerWhereNanOrInfinityAppears) {
  auto model = buildZooModel("cnn-dist", {.activation = "exp"});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 7);
  for (float &shift : parameters.at("bn1.bias").data)
    shift = 100.0f;
  HostArray<float> input = randomOneHot(2, graph.inputNode().shape[1], 3);
  HostArray<float> labels = randomLabels(2, graph.outputNode().shape, 5);
  auto compiled = CompiledLossGradient::compile(graph, {}, {.batch = 2});
  testing::expectError([&] { compiled.run(input, labels, parameters); },
                       {"loss gradient of model 'cnn-dist'", "NaN or infinity from finite arguments",
                        "reference interpreter", "seq.activation", "act1", "produced inf"});
  parameters.at("conv1.weight").data[0] = NAN;
  testing::expectError([&] { compiled.run(input, labels, parameters); },
                       {"NaN or infinity", "so does parameter 'conv1.weight'"});
}

TEST(JitGradient, RefusesAMissingOrUnexpectedMaskAndMissingPowerVectors) {
  auto model = buildZooModel("cnn-dist", {});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 1);
  HostArray<float> input = randomOneHot(2, 200, 1);
  HostArray<float> labels = randomLabels(2, graph.outputNode().shape, 1);
  Objective masked;
  masked.labelMask = true;
  testing::expectError([&] { interpretLossGradient<float>(graph, masked, true, input, labels, parameters); },
                       {"takes a label mask", "none was given"});
  HostArray<float> mask({2, 3});
  testing::expectError([&] { interpretLossGradient<float>(graph, masked, true, input, labels, parameters, {&mask}); },
                       {"the label mask has shape (2, 3)"});
  testing::expectError([&] { interpretLossGradient<float>(graph, {}, true, input, labels, parameters, {&labels}); },
                       {"built without one"});
  Objective spectral;
  spectral.spectralNorm = SpectralNormPenalty{};
  testing::expectError([&] { interpretLossGradient<float>(graph, spectral, true, input, labels, parameters); },
                       {"needs its power vectors"});
  auto vectors = initialPowerVectors<float>(graph, 1);
  vectors.erase(vectors.begin());
  testing::expectError(
      [&] {
        interpretLossGradient<float>(graph, spectral, true, input, labels, parameters, {nullptr, &vectors});
      },
      {"power vector 'conv1.weight_u' is missing"});
}

TEST_P(JitGradientTest, InputGradientEqualsInterpreter) {
  auto model = buildZooModel(GetParam(), {});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 3);
  parameters.randomizeBatchNorm(graph, 4);
  const int64_t batch = 2;
  HostArray<float> input = randomOneHot(batch, graph.inputNode().shape[1], 8);
  HostArray<float> seed = randomLabels(batch, graph.outputNode().shape, 9);

  auto compiled = CompiledInputGradient::compile(graph, {.batch = batch, .batchNormTraining = false});
  HostArray<float> actual = compiled.run(input, seed, parameters);
  HostArray<double> expected =
      interpretInputGradient<double>(graph, false, input.cast<double>(), seed.cast<double>(), parameters);
  ASSERT_EQ(actual.shape, expected.shape);
  EXPECT_LE(testing::relativeError(actual.data, expected.data), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Zoo, JitGradientTest, ::testing::ValuesIn(testing::zooNames()), testing::zooTestName);

TEST(JitGradient, RefusesABatchOfAnotherSize) {
  auto model = buildZooModel("cnn-dist", {});
  Parameters parameters = Parameters::initialize(model->graph(), 1);
  auto compiled = CompiledLossGradient::compile(model->graph(), {}, {.batch = 2});
  HostArray<float> input = randomOneHot(3, 200, 1);
  HostArray<float> labels = randomLabels(3, model->graph().outputNode().shape, 1);
  testing::expectError([&] { compiled.run(input, labels, parameters); }, {"compiled for batches of 2"});
}

TEST(JitGradient, RefusesClassWeightsThatDoNotFitTheOutputs) {
  auto model = buildZooModel("cnn-dist", {});
  Objective objective;
  objective.classWeights = {1.0, 2.0};
  testing::expectError([&] { CompiledLossGradient::compile(model->graph(), objective, {.batch = 2}); },
                       {"2 class weights given for an output of shape"});
  objective.loss = LossKind::Multinomial;
  testing::expectError([&] { CompiledLossGradient::compile(model->graph(), objective, {.batch = 2}); },
                       {"class weights do not apply to the multinomial loss"});
  objective.classWeights.clear();
  objective.labelMask = true;
  testing::expectError([&] { CompiledLossGradient::compile(model->graph(), objective, {.batch = 2}); },
                       {"a label mask does not apply to the multinomial loss"});
}

} // namespace
} // namespace seqjit
