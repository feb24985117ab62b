// Attribution maps against independent computations: saliency and SmoothGrad against the reference interpreter's
// input gradient (float64), integrated gradients against completeness (exact on a linear model, converging on a
// nonlinear one), DeepSHAP against the interpreter's DeepLIFT and (on a linear model) exact Shapley values by
// enumeration, mutagenesis against the interpreter's forward pass on each mutant, gradient correction by its
// definition.
#include "runtime/Attribution.h"
#include "Closeness.h"
#include "ExpectError.h"
#include "runtime/DinucleotideShuffle.h"
#include "runtime/OneHot.h"
#include "runtime/Random.h"
#include "runtime/ReferenceInterpreter.h"

#include <gtest/gtest.h>

#include <cmath>

namespace seqjit {
namespace {

constexpr int64_t kLength = 40;
constexpr int64_t kOutputs = 3;
constexpr int64_t kExplained = 1;

/// conv + batch norm + exp, max pool, conv + relu, dense: every kind of nonlinearity attribution meets.
std::unique_ptr<Model> nonlinearModel() {
  auto model = std::make_unique<Model>("attribution_test");
  Tensor x = model->input(kLength);
  x = exp(batchNorm(conv1d(x, {.filters = 6, .width = 5, .bias = false}, "conv1"), {}, "bn1"));
  x = maxPool1d(x, 2);
  x = relu(conv1d(x, {.filters = 4, .width = 3}, "conv2"));
  x = dense(flatten(x), kOutputs, true, "output");
  model->setOutput(x);
  return model;
}

/// conv + dense without nonlinearity: integrated gradients are exactly complete at any number of steps.
std::unique_ptr<Model> linearModel() {
  auto model = std::make_unique<Model>("attribution_linear");
  Tensor x = model->input(kLength);
  x = conv1d(x, {.filters = 3, .width = 7}, "conv1");
  x = dense(flatten(x), kOutputs, true, "output");
  model->setOutput(x);
  return model;
}

struct Fixture {
  std::unique_ptr<Model> model = nonlinearModel();
  Parameters parameters = [this] {
    Parameters p = Parameters::initialize(model->graph(), 3);
    p.randomizeBatchNorm(model->graph(), 4);
    return p;
  }();
  // A batch of 4 that the 5 sequences below do not fill evenly: the last chunk is padded.
  Attributor attributor{model->graph(), parameters, kExplained, 4, 1};
  HostArray<float> input = randomOneHot(5, kLength, 8);
};

const Fixture &fixture() {
  // Never destroyed: its programs compile on first use, after LLVM's own statics, which would be torn down first.
  static const Fixture *f = new Fixture;
  return *f;
}

/// The interpreter's d output[kExplained] / d input of `input`, in double.
HostArray<double> interpretedSaliency(const Graph &graph, const Parameters &parameters,
                                      const HostArray<double> &input) {
  HostArray<double> seed({input.shape[0], kOutputs});
  for (int64_t n = 0; n < input.shape[0]; ++n)
    seed.data[n * kOutputs + kExplained] = 1.0;
  return interpretInputGradient<double>(graph, false, input, seed, parameters);
}

TEST(Attribution, SaliencyAndGradientTimesInputEqualTheInterpreter) {
  const Fixture &f = fixture();
  HostArray<double> expected = interpretedSaliency(f.model->graph(), f.parameters, f.input.cast<double>());
  HostArray<float> saliency = f.attributor.saliency(f.input);
  ASSERT_EQ(saliency.shape, f.input.shape);
  EXPECT_LE(testing::relativeError(saliency.data, expected.data), 1e-4);
  HostArray<float> product = f.attributor.gradientTimesInput(f.input);
  for (int64_t i = 0; i < product.size(); ++i)
    expected.data[i] *= f.input.data[i];
  EXPECT_LE(testing::relativeError(product.data, expected.data), 1e-4);
}

TEST(Attribution, SmoothGradIsTheMeanSaliencyOfItsNoisyCopies) {
  const Fixture &f = fixture();
  SmoothGradOptions options{.samples = 3, .sigma = 0.2, .seed = 5};
  HostArray<float> actual = f.attributor.smoothGrad(f.input, options);
  // The noisy copies rebuilt from the documented streams, their gradients from the interpreter.
  const int64_t row = 4 * kLength, sequences = f.input.shape[0];
  HostArray<double> noisy({sequences * options.samples, 4, kLength});
  for (int64_t r = 0; r < noisy.shape[0]; ++r) {
    Random noise(options.seed, static_cast<uint64_t>(r));
    for (int64_t i = 0; i < row; ++i)
      noisy.data[r * row + i] = f.input.data[(r / options.samples) * row + i] + options.sigma * noise.normal();
  }
  HostArray<double> gradients = interpretedSaliency(f.model->graph(), f.parameters, noisy);
  HostArray<double> expected(f.input.shape);
  for (int64_t r = 0; r < noisy.shape[0]; ++r)
    for (int64_t i = 0; i < row; ++i)
      expected.data[(r / options.samples) * row + i] += gradients.data[r * row + i] / options.samples;
  EXPECT_LE(testing::relativeError(actual.data, expected.data), 1e-3);

  // Attributed in two pieces, each told where it starts, the maps are those of the whole set, bit for bit.
  const int64_t half = sequences / 2;
  auto rows = [&](const HostArray<float> &array, int64_t first, int64_t count) {
    return HostArray<float>({count, 4, kLength}, std::vector<float>(array.data.begin() + first * row,
                                                                    array.data.begin() + (first + count) * row));
  };
  SmoothGradOptions secondPiece = options;
  secondPiece.firstSequence = half;
  EXPECT_EQ(f.attributor.smoothGrad(rows(f.input, 0, half), options).data, rows(actual, 0, half).data);
  EXPECT_EQ(f.attributor.smoothGrad(rows(f.input, half, sequences - half), secondPiece).data,
            rows(actual, half, sequences - half).data);

  // Without noise it is the saliency.
  HostArray<float> clean = f.attributor.smoothGrad(f.input, {.samples = 2, .sigma = 0.0});
  HostArray<float> saliency = f.attributor.saliency(f.input);
  EXPECT_LE(testing::relativeError(clean.data, saliency.cast<double>().data), 1e-6);
}

/// Per sequence: sum of the map minus (f(x) - mean over its references of f(r)).
std::vector<double> completenessGaps(const Attributor &attributor, const HostArray<float> &map,
                                     const HostArray<float> &input, const HostArray<float> &references) {
  HostArray<float> fx = attributor.outputs(input), fr = attributor.outputs(references);
  const int64_t sequences = input.shape[0], perSequence = references.shape[0] / sequences;
  const int64_t row = input.shape[1] * input.shape[2];
  std::vector<double> gaps;
  for (int64_t n = 0; n < sequences; ++n) {
    double sum = 0, reference = 0;
    for (int64_t i = 0; i < row; ++i)
      sum += map.data[n * row + i];
    for (int64_t r = 0; r < perSequence; ++r)
      reference += fr.data[n * perSequence + r] / perSequence;
    gaps.push_back(sum - (fx.data[n] - reference));
  }
  return gaps;
}

TEST(Attribution, IntegratedGradientsAreCompleteExactlyOnALinearModelAndInTheLimitOtherwise) {
  const Fixture &f = fixture();
  HostArray<float> references = randomOneHot(f.input.shape[0] * 2, kLength, 21);

  auto linear = linearModel();
  Parameters linearParameters = Parameters::initialize(linear->graph(), 9);
  Attributor linearAttributor(linear->graph(), linearParameters, kExplained, 4, 1);
  HostArray<float> exact = linearAttributor.integratedGradients(f.input, references, 1);
  for (double gap : completenessGaps(linearAttributor, exact, f.input, references))
    EXPECT_LE(std::abs(gap), 1e-4);

  // The Riemann sum's error shrinks with the steps: at 256 steps it is small against the output change.
  HostArray<float> fine = f.attributor.integratedGradients(f.input, references, 256);
  HostArray<float> coarse = f.attributor.integratedGradients(f.input, references, 4);
  std::vector<double> fineGaps = completenessGaps(f.attributor, fine, f.input, references);
  std::vector<double> coarseGaps = completenessGaps(f.attributor, coarse, f.input, references);
  HostArray<float> fx = f.attributor.outputs(f.input);
  double fineTotal = 0, coarseTotal = 0, scale = 0;
  for (size_t n = 0; n < fineGaps.size(); ++n) {
    fineTotal += std::abs(fineGaps[n]);
    coarseTotal += std::abs(coarseGaps[n]);
    scale += std::abs(fx.data[n]);
  }
  EXPECT_LE(fineTotal, 0.02 * scale);
  EXPECT_LT(fineTotal, coarseTotal);
}

TEST(Attribution, IntegratedGradientsUseTheRightRiemannPoints) {
  // Two steps: (x - r) * (g(r + (x - r) / 2) + g(x)) / 2, with the gradients from the interpreter.
  const Fixture &f = fixture();
  HostArray<float> references = randomOneHot(f.input.shape[0], kLength, 31);
  HostArray<double> halfway(f.input.shape), at(f.input.shape);
  for (int64_t i = 0; i < f.input.size(); ++i) {
    halfway.data[i] = references.data[i] + 0.5 * (f.input.data[i] - references.data[i]);
    at.data[i] = f.input.data[i];
  }
  HostArray<double> g1 = interpretedSaliency(f.model->graph(), f.parameters, halfway);
  HostArray<double> g2 = interpretedSaliency(f.model->graph(), f.parameters, at);
  HostArray<double> expected(f.input.shape);
  for (int64_t i = 0; i < f.input.size(); ++i)
    expected.data[i] = (f.input.data[i] - references.data[i]) * (g1.data[i] + g2.data[i]) / 2;
  HostArray<float> actual = f.attributor.integratedGradients(f.input, references, 2);
  EXPECT_LE(testing::relativeError(actual.data, expected.data), 1e-4);
}

TEST(Attribution, DeepShapAveragesTheInterpretersDeepLiftOverTheReferences) {
  const Fixture &f = fixture();
  const int64_t perSequence = 3, sequences = f.input.shape[0], row = 4 * kLength;
  HostArray<float> references = dinucleotideShuffles(f.input, perSequence, 2, 0);
  DeepShapMaps maps = f.attributor.deepShap(f.input, references);
  ASSERT_EQ(maps.contributions.shape, f.input.shape);
  ASSERT_EQ(maps.hypothetical.shape, f.input.shape);

  // Each sequence repeated against each of its references, on the interpreter in double.
  HostArray<double> repeated(references.shape), seed({references.shape[0], kOutputs});
  for (int64_t i = 0; i < references.shape[0]; ++i) {
    std::copy_n(f.input.data.begin() + (i / perSequence) * row, row, repeated.data.begin() + i * row);
    seed.data[i * kOutputs + kExplained] = 1.0;
  }
  DeepLiftResult<double> exact =
      interpretDeepLift<double>(f.model->graph(), repeated, references.cast<double>(), seed, f.parameters);
  HostArray<double> contributions(f.input.shape), hypothetical(f.input.shape);
  for (int64_t i = 0; i < references.shape[0]; ++i)
    for (int64_t l = 0; l < kLength; ++l) {
      double fromReference = 0;
      for (int64_t c = 0; c < 4; ++c)
        fromReference += exact.multipliers.data[i * row + c * kLength + l] * references.data[i * row + c * kLength + l];
      for (int64_t c = 0; c < 4; ++c) {
        const int64_t at = c * kLength + l, to = (i / perSequence) * row + at;
        const double m = exact.multipliers.data[i * row + at];
        contributions.data[to] += m * (repeated.data[i * row + at] - references.data[i * row + at]) / perSequence;
        hypothetical.data[to] += (m - fromReference) / perSequence;
      }
    }
  EXPECT_LE(testing::relativeError(maps.contributions.data, contributions.data), 1e-4);
  // A multiplier alone is a ratio of two nearly equal float32 differences where x is close to its reference; only
  // its product with that small difference (the contribution) is as precise as the output.
  EXPECT_LE(testing::relativeError(maps.hypothetical.data, hypothetical.data), 1e-3);

  // Complete: a sequence's contributions sum to f(x) - mean f(r); and on one-hot input, hypothetical * x holds each
  // position's contributions at its own base.
  for (double gap : completenessGaps(f.attributor, maps.contributions, f.input, references))
    EXPECT_LE(std::abs(gap), 1e-4);
  for (int64_t n = 0; n < sequences; ++n)
    for (int64_t l = 0; l < kLength; ++l) {
      double position = 0, ownBase = 0;
      for (int64_t c = 0; c < 4; ++c) {
        position += maps.contributions.data[n * row + c * kLength + l];
        ownBase += maps.hypothetical.data[n * row + c * kLength + l] * f.input.data[n * row + c * kLength + l];
      }
      EXPECT_NEAR(ownBase, position, 1e-5) << n << " " << l;
    }
}

TEST(Attribution, DeepShapOfALinearModelIsTheExactShapleyValue) {
  // Shapley values by enumeration of every coalition S of the 4L input elements, the value of S being the mean
  // over the references of f(x on S, the reference elsewhere) (the interventional value DeepSHAP approximates).
  constexpr int64_t length = 3, features = 4 * length, perSequence = 3;
  auto model = std::make_unique<Model>("shapley_linear");
  Tensor x = model->input(length);
  x = batchNorm(conv1d(x, {.filters = 2, .width = 2, .padding = Padding::Same}, "conv"), {}, "bn");
  x = dense(flatten(avgPool1d(x, 1)), 2, true, "out");
  model->setOutput(x);
  Parameters parameters = Parameters::initialize(model->graph(), 4);
  parameters.randomizeBatchNorm(model->graph(), 5);
  Attributor attributor(model->graph(), parameters, 1, 64, 1);
  HostArray<float> input = randomOneHot(1, length, 3), references = randomOneHot(perSequence, length, 4);

  const int64_t coalitions = int64_t{1} << features;
  HostArray<float> hybrids({coalitions * perSequence, 4, length});
  for (int64_t set = 0; set < coalitions; ++set)
    for (int64_t r = 0; r < perSequence; ++r)
      for (int64_t i = 0; i < features; ++i)
        hybrids.data[(set * perSequence + r) * features + i] =
            (set >> i) & 1 ? input.data[i] : references.data[r * features + i];
  HostArray<float> outputs = attributor.outputs(hybrids);
  std::vector<double> value(coalitions);
  for (int64_t set = 0; set < coalitions; ++set)
    for (int64_t r = 0; r < perSequence; ++r)
      value[set] += outputs.data[set * perSequence + r] / perSequence;
  std::vector<double> factorial(features + 1, 1.0);
  for (int64_t k = 1; k <= features; ++k)
    factorial[k] = factorial[k - 1] * static_cast<double>(k);
  std::vector<double> shapley(features);
  for (int64_t i = 0; i < features; ++i)
    for (int64_t set = 0; set < coalitions; ++set) {
      if ((set >> i) & 1)
        continue;
      const int64_t size = __builtin_popcountll(set);
      shapley[i] += factorial[size] * factorial[features - size - 1] / factorial[features] *
                    (value[set | (int64_t{1} << i)] - value[set]);
    }
  DeepShapMaps maps = attributor.deepShap(input, references);
  EXPECT_LE(testing::relativeError(maps.contributions.data, shapley), 1e-5);
}

TEST(Attribution, MapsDoNotDependOnTheThreadCount) {
  // Rows of one sequence's integrated gradients and SmoothGrad fall into different chunks (of 2 rows with two
  // threads, of 4 with one); the maps come out the same. (The sums are in double, so this checks the chunking and the
  // hand-over of rows, not the summation order.)
  const Fixture &f = fixture();
  Attributor twoThreads(f.model->graph(), f.parameters, kExplained, 4, 2);
  HostArray<float> references = randomOneHot(f.input.shape[0] * 3, kLength, 22);
  EXPECT_EQ(twoThreads.integratedGradients(f.input, references, 5).data,
            f.attributor.integratedGradients(f.input, references, 5).data);
  SmoothGradOptions options{.samples = 7, .sigma = 0.1, .seed = 1};
  EXPECT_EQ(twoThreads.smoothGrad(f.input, options).data, f.attributor.smoothGrad(f.input, options).data);
  EXPECT_EQ(twoThreads.deepShap(f.input, references).hypothetical.data,
            f.attributor.deepShap(f.input, references).hypothetical.data);
}

TEST(Attribution, AShortChunkRunsOnASmallerBatchWithTheSameMaps) {
  // A batch of 40 compiles programs for 40, 20 and 10 rows as they are needed: integrated gradients' 45 rows run as
  // 40 + 5 (the 5 on the program for 10), DeepSHAP's 15 rows on the program for 20. Each row's map is computed
  // alone, so the maps equal the fixture's, whose batch of 4 has no smaller programs.
  const Fixture &f = fixture();
  Attributor ladder(f.model->graph(), f.parameters, kExplained, 40, 1);
  HostArray<float> references = randomOneHot(f.input.shape[0] * 3, kLength, 23);
  EXPECT_LE(testing::relativeError(ladder.integratedGradients(f.input, references, 3).data,
                                   f.attributor.integratedGradients(f.input, references, 3).cast<double>().data),
            1e-6);
  DeepShapMaps maps = ladder.deepShap(f.input, references), expected = f.attributor.deepShap(f.input, references);
  EXPECT_LE(testing::relativeError(maps.contributions.data, expected.contributions.cast<double>().data), 1e-6);
  EXPECT_LE(testing::relativeError(maps.hypothetical.data, expected.hypothetical.cast<double>().data), 1e-6);
}

TEST(Attribution, MutagenesisEqualsTheInterpreterOnEveryMutant) {
  const Fixture &f = fixture();
  HostArray<float> input = f.input;
  // Make one column an N: all four bases are then mutations.
  for (int64_t b = 0; b < 4; ++b)
    input.data[(0 * 4 + b) * kLength + 7] = 0.0f;
  HostArray<float> actual = f.attributor.mutagenesis(input);
  ASSERT_EQ(actual.shape, input.shape);
  const int64_t row = 4 * kLength;
  const std::map<std::string, HostArray<float>> &weights = f.parameters.tensors();
  for (int64_t n = 0; n < input.shape[0]; ++n) {
    HostArray<double> one({1, 4, kLength},
                          std::vector<double>(input.data.begin() + n * row, input.data.begin() + (n + 1) * row));
    double wildType = interpretForward<double>(f.model->graph(), weights, one).data[kExplained];
    for (int64_t l = 0; l < kLength; ++l)
      for (int64_t b = 0; b < 4; ++b) {
        float value = actual.data[n * row + b * kLength + l];
        if (input.data[n * row + b * kLength + l] == 1.0f) {
          EXPECT_EQ(value, 0.0f) << "own base of sequence " << n << " at " << l;
          continue;
        }
        HostArray<double> mutant = one;
        for (int64_t c = 0; c < 4; ++c)
          mutant.data[c * kLength + l] = c == b ? 1.0 : 0.0;
        double expected = interpretForward<double>(f.model->graph(), weights, mutant).data[kExplained] - wildType;
        EXPECT_NEAR(value, expected, 1e-4 * (1 + std::abs(wildType))) << n << " " << b << " " << l;
      }
  }
}

TEST(Attribution, GradientCorrectionRemovesTheMeanOverBasesAtEveryPosition) {
  HostArray<float> map({2, 4, 3});
  Random random(1, 2);
  for (float &v : map.data)
    v = random.normal();
  HostArray<float> corrected = map;
  correctGradient(corrected);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t l = 0; l < 3; ++l) {
      double sum = 0, shift = corrected.data[(n * 4) * 3 + l] - map.data[(n * 4) * 3 + l];
      for (int64_t b = 0; b < 4; ++b) {
        sum += corrected.data[(n * 4 + b) * 3 + l];
        EXPECT_NEAR(corrected.data[(n * 4 + b) * 3 + l] - map.data[(n * 4 + b) * 3 + l], shift, 1e-6);
      }
      EXPECT_NEAR(sum, 0.0, 1e-5);
    }
}

TEST(Attribution, RefusesAnOutputOutOfRangeAndMismatchedReferences) {
  const Fixture &f = fixture();
  testing::expectError([&] { Attributor(f.model->graph(), f.parameters, 3, 4, 1); },
                       {"output 3 to explain is out of range", "3 output values (0 to 2)"});
  testing::expectError([&] { f.attributor.integratedGradients(f.input, randomOneHot(7, kLength, 1), 10); },
                       {"7 references for 5 sequences"});
  testing::expectError([&] { f.attributor.integratedGradients(f.input, f.input, 0); }, {"0 steps"});
  testing::expectError([&] { f.attributor.deepShap(f.input, randomOneHot(6, kLength, 1)); },
                       {"DeepSHAP: 6 references for 5 sequences"});
}

} // namespace
} // namespace seqjit
