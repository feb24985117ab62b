// DeepLIFT against its defining property and independent computations: for every stdlib model the multipliers
// times (input - reference) sum to output - reference output (the float64 interpreter to rounding, the JIT within
// 1e-4 of it); the JIT's multipliers equal the interpreter's; the max-pool and activation rules against values
// worked out by hand; a model without nonlinearity gets its exact gradient.
#include "Closeness.h"
#include "ExpectError.h"
#include "ZooNames.h"
#include "runtime/DinucleotideShuffle.h"
#include "runtime/GradientPrograms.h"
#include "runtime/OneHot.h"
#include "runtime/Random.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace seqjit {
namespace {

HostArray<float> randomSeed(int64_t examples, const Shape &outputShape, uint64_t stream) {
  std::vector<int64_t> shape = batchedShape(examples, outputShape);
  HostArray<float> seed(shape);
  Random random(17, stream);
  for (float &v : seed.data)
    v = random.uniform() - 0.5f;
  return seed;
}

/// Per example: sum over the input of multipliers * (input - reference), and <seed, output - reference output>.
template <typename T>
std::pair<std::vector<double>, std::vector<double>>
summation(const DeepLiftResult<T> &result, const HostArray<float> &input, const HostArray<float> &reference,
          const HostArray<float> &seed) {
  const int64_t examples = input.shape[0], row = input.size() / examples, outputs = seed.size() / examples;
  std::vector<double> contributions(examples), differences(examples);
  for (int64_t n = 0; n < examples; ++n) {
    for (int64_t i = n * row; i < (n + 1) * row; ++i)
      contributions[n] += static_cast<double>(result.multipliers.data[i]) *
                          (static_cast<double>(input.data[i]) - static_cast<double>(reference.data[i]));
    for (int64_t j = n * outputs; j < (n + 1) * outputs; ++j)
      differences[n] += static_cast<double>(seed.data[j]) * (static_cast<double>(result.output.data[j]) -
                                                             static_cast<double>(result.referenceOutput.data[j]));
  }
  return {contributions, differences};
}

class DeepLiftZooTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DeepLiftZooTest, ContributionsSumToTheOutputDifference) {
  auto model = buildZooModel(GetParam(), {});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 3);
  parameters.randomizeBatchNorm(graph, 4);
  const int64_t batch = 2;
  HostArray<float> input = randomOneHot(batch, graph.inputNode().shape[1], 8);
  HostArray<float> reference = dinucleotideShuffles(input, 1, 5, 0);
  HostArray<float> seed = randomSeed(batch, graph.outputNode().shape, 1);

  DeepLiftResult<double> exact =
      interpretDeepLift<double>(graph, input.cast<double>(), reference.cast<double>(), seed.cast<double>(), parameters);
  auto [exactSums, exactDifferences] = summation(exact, input, reference, seed);
  auto compiled = CompiledDeepLift::compile(graph, {.batch = batch});
  DeepLiftResult<float> actual = compiled.run(input, reference, seed, parameters);
  auto [sums, differences] = summation(actual, input, reference, seed);
  for (int64_t n = 0; n < batch; ++n) {
    SCOPED_TRACE("example " + std::to_string(n));
    EXPECT_GT(std::abs(exactDifferences[n]), 1e-5); // the checks below are not between two zeros
    EXPECT_NEAR(exactSums[n], exactDifferences[n], 1e-9 * std::max(1.0, std::abs(exactDifferences[n])));
    EXPECT_NEAR(sums[n], differences[n], 1e-4 * std::max(1.0, std::abs(differences[n])));
    EXPECT_NEAR(differences[n], exactDifferences[n], 1e-4 * std::max(1.0, std::abs(exactDifferences[n])));
  }
  EXPECT_LE(testing::relativeError(actual.multipliers.data, exact.multipliers.data), 1e-3);
}

/// One-hot (1, 4, L) of an ACGT string.
HostArray<float> sequence(const std::string &bases) {
  const int64_t length = static_cast<int64_t>(bases.size());
  HostArray<float> x({1, 4, length});
  for (int64_t l = 0; l < length; ++l)
    x.data[std::string("ACGT").find(bases[l]) * length + l] = 1.0f;
  return x;
}

/// conv (1 filter, width 1, weights 1 2 3 4 for A C G T), exp, max pool 2, dense with weights 1 and 2.
struct ExpMaxPoolModel {
  std::unique_ptr<Model> model = [] {
    auto m = std::make_unique<Model>("deeplift_rules");
    Tensor x = m->input(4);
    x = maxPool1d(exp(conv1d(x, {.filters = 1, .width = 1, .bias = false}, "conv")), 2);
    m->setOutput(dense(flatten(x), 1, false, "out"));
    return m;
  }();
  Parameters parameters = Parameters::fromArrays(
      model->graph(),
      {{"conv.weight", HostArray<float>({1, 4, 1}, {1, 2, 3, 4})}, {"out.weight", HostArray<float>({1, 2}, {1, 2})}},
      "the test's weights");
};

TEST(DeepLift, MaxPoolAndExpRulesGiveTheHandWorkedMultipliers) {
  // Input ACGT scores z = 1 2 3 4, reference TGCA 4 3 2 1; y = e^z. Window 1: the input's maximum e^2 (at 1) is
  // below the reference's e^4 (at 0), so the change e^2 - e^4 goes to position 0; window 2: e^4 (at 3) against
  // e^2, to position 3. Through exp's rescale (e^z - e^zr) / (z - zr), position 0's score multiplier is
  // (e^2 - e^4) / (1 - 4) and position 3's is 2 (e^4 - e^2) / 3; an input multiplier is that times the base's
  // weight, and none reaches positions 1 and 2.
  ExpMaxPoolModel m;
  HostArray<float> input = sequence("ACGT"), reference = sequence("TGCA"), seed({1, 1}, {1.0f});
  const double e2 = std::exp(2.0), e4 = std::exp(4.0);
  const std::vector<double> score = {(e4 - e2) / 3.0, 0.0, 0.0, 2.0 * (e4 - e2) / 3.0};
  std::vector<double> expected(16);
  for (int64_t c = 0; c < 4; ++c)
    for (int64_t l = 0; l < 4; ++l)
      expected[c * 4 + l] = static_cast<double>(c + 1) * score[l];
  DeepLiftResult<double> exact = interpretDeepLift<double>(m.model->graph(), input.cast<double>(),
                                                           reference.cast<double>(), seed.cast<double>(), m.parameters);
  EXPECT_LE(testing::relativeError(exact.multipliers.data, expected), 1e-12);
  EXPECT_NEAR(exact.output.data[0] - exact.referenceOutput.data[0], e4 - e2, 1e-9);
  DeepLiftResult<float> compiled =
      CompiledDeepLift::compile(m.model->graph(), {.batch = 1}).run(input, reference, seed, m.parameters);
  EXPECT_LE(testing::relativeError(compiled.multipliers.data, expected), 1e-6);
}

TEST(DeepLift, OverlappingMaxPoolWindowsRouteEachChangeOnce) {
  // conv (weights 1 2 3 4), max pool 2 every 1, dense 1 1. Input ACG scores 1 2 3, reference GCA 3 2 1. Window 1:
  // y = 2 < y_ref = 3, the change -1 goes to the reference's maximum (position 0); window 2: 3 > 2, +1 to the
  // input's maximum (position 2). Position 0: -1 / (1 - 3) = 1/2; position 2: 1 / (3 - 1) = 1/2; position 1 has no
  // difference, so its multiplier is the gradient, 1 (it is the input's maximum of window 1).
  auto model = std::make_unique<Model>("overlapping_pools");
  Tensor x = model->input(3);
  x = maxPool1d(conv1d(x, {.filters = 1, .width = 1, .bias = false}, "conv"), 2, 1);
  model->setOutput(dense(flatten(x), 1, false, "out"));
  Parameters parameters = Parameters::fromArrays(
      model->graph(),
      {{"conv.weight", HostArray<float>({1, 4, 1}, {1, 2, 3, 4})}, {"out.weight", HostArray<float>({1, 2}, {1, 1})}},
      "the test's weights");
  const std::vector<double> score = {0.5, 1.0, 0.5};
  std::vector<double> expected(12);
  for (int64_t c = 0; c < 4; ++c)
    for (int64_t l = 0; l < 3; ++l)
      expected[c * 3 + l] = static_cast<double>(c + 1) * score[l];
  DeepLiftResult<double> exact =
      interpretDeepLift<double>(model->graph(), sequence("ACG").cast<double>(), sequence("GCA").cast<double>(),
                                HostArray<double>({1, 1}, {1.0}), parameters);
  EXPECT_LE(testing::relativeError(exact.multipliers.data, expected), 1e-12);
}

TEST(DeepLift, WithTheInputAsItsOwnReferenceTheMultipliersAreTheGradient) {
  // Every difference is zero, so every rule falls back on the derivative: DeepLIFT becomes the input gradient.
  auto model = buildZooModel("cnn-deep", {.activation = "exp"});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 5);
  parameters.randomizeBatchNorm(graph, 6);
  HostArray<double> input = randomOneHot(2, 200, 4).cast<double>();
  HostArray<double> seed = randomSeed(2, graph.outputNode().shape, 2).cast<double>();
  DeepLiftResult<double> result = interpretDeepLift<double>(graph, input, input, seed, parameters);
  HostArray<double> gradient = interpretInputGradient<double>(graph, false, input, seed, parameters);
  EXPECT_LE(testing::relativeError(result.multipliers.data, gradient.data), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Zoo, DeepLiftZooTest, ::testing::ValuesIn(testing::zooNames()), testing::zooTestName);

} // namespace
} // namespace seqjit
