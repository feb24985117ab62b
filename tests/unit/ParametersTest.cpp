// Tests of parameter initialisation (determinism, per-parameter streams, distribution moments) and .npz exchange
// with PyTorch state_dicts.
#include "runtime/Parameters.h"

#include "ExpectError.h"
#include "PythonSupport.h"
#include "dsl/Error.h"
#include "dsl/Model.h"
#include "runtime/Npy.h"
#include "runtime/Random.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace seqjit;
using seqjit::testing::expectError;
using seqjit::testing::ScratchDirectory;

namespace {

/// input(50) -> conv 8x5 -> batch norm -> relu -> flatten -> dense 3 (optionally a second dense 2 on top).
void buildSmallModel(Model &m, bool extraLayer = false) {
  auto x = m.input(50);
  x = conv1d(x, {.filters = 8, .width = 5});
  x = batchNorm(x);
  x = relu(x);
  x = dense(flatten(x), 3);
  if (extraLayer)
    x = dense(x, 2);
  m.setOutput(x);
}

TEST(Parameters, NamesShapesAndConstantInitializers) {
  Model m("t");
  buildSmallModel(m);
  Parameters p = Parameters::initialize(m.graph(), 1);
  std::vector<std::string> names;
  for (const auto &[name, tensor] : p.tensors())
    names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"batch_norm_0.bias", "batch_norm_0.running_mean",
                                             "batch_norm_0.running_var", "batch_norm_0.weight", "conv1d_0.bias",
                                             "conv1d_0.weight", "dense_0.bias", "dense_0.weight"}));
  EXPECT_EQ(p.at("conv1d_0.weight").shape, (std::vector<int64_t>{8, 4, 5}));
  EXPECT_EQ(p.at("dense_0.weight").shape, (std::vector<int64_t>{3, 8 * 46}));
  EXPECT_EQ(p.at("batch_norm_0.weight").data, std::vector<float>(8, 1.0f));
  EXPECT_EQ(p.at("batch_norm_0.running_var").data, std::vector<float>(8, 1.0f));
  EXPECT_EQ(p.at("batch_norm_0.bias").data, std::vector<float>(8, 0.0f));
  EXPECT_EQ(p.at("batch_norm_0.running_mean").data, std::vector<float>(8, 0.0f));
  EXPECT_EQ(p.at("conv1d_0.bias").data, std::vector<float>(8, 0.0f));
  expectError([&] { p.at("conv1d_0.wieght"); }, {"conv1d_0.wieght", "conv1d_0.weight"});
}

TEST(Parameters, RandomizeBatchNormMovesOnlyBatchNormAwayFromIdentity) {
  Model m("t");
  buildSmallModel(m);
  Parameters initial = Parameters::initialize(m.graph(), 3);
  Parameters randomized = initial;
  randomized.randomizeBatchNorm(m.graph(), 4);
  for (const auto &[name, tensor] : initial.tensors()) {
    const std::vector<float> &after = randomized.at(name).data;
    bool batchNorm = name.rfind("batch_norm", 0) == 0;
    if (!batchNorm) {
      EXPECT_EQ(after, tensor.data) << name;
      continue;
    }
    EXPECT_NE(after, tensor.data) << name;
    bool positive = name.ends_with("weight") || name.ends_with("running_var");
    for (float v : after)
      if (positive)
        EXPECT_TRUE(v >= 0.5f && v < 1.5f) << name << " " << v;
  }
}

TEST(Parameters, SameSeedSameWeightsAndSeedMatters) {
  Model m("t");
  buildSmallModel(m);
  Parameters a = Parameters::initialize(m.graph(), 7);
  Parameters b = Parameters::initialize(m.graph(), 7);
  Parameters c = Parameters::initialize(m.graph(), 8);
  EXPECT_EQ(a.at("conv1d_0.weight").data, b.at("conv1d_0.weight").data);
  EXPECT_EQ(a.at("dense_0.weight").data, b.at("dense_0.weight").data);
  EXPECT_NE(a.at("conv1d_0.weight").data, c.at("conv1d_0.weight").data);
  // Two layers drawn from different streams must not share values.
  EXPECT_NE(a.at("conv1d_0.weight").data[0], a.at("dense_0.weight").data[0]);
}

TEST(Parameters, AddingALayerKeepsEarlierWeights) {
  Model small("t"), large("t");
  buildSmallModel(small);
  buildSmallModel(large, /*extraLayer=*/true);
  Parameters a = Parameters::initialize(small.graph(), 3);
  Parameters b = Parameters::initialize(large.graph(), 3);
  for (const auto &[name, tensor] : a.tensors())
    EXPECT_EQ(tensor.data, b.at(name).data) << name;
  EXPECT_EQ(b.at("dense_1.weight").shape, (std::vector<int64_t>{2, 3}));
}

TEST(Parameters, WeightsUseTheDocumentedPhiloxStream) {
  // The conv weight is parameter 0 in graph order, so stream 0; Glorot: (2u - 1) * sqrt(6 / (fanIn + fanOut)).
  Model m("t");
  buildSmallModel(m);
  Parameters p = Parameters::initialize(m.graph(), 99);
  seqjit::Random random(99, 0);
  float limit = static_cast<float>(std::sqrt(6.0 / (4 * 5 + 8 * 5)));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(p.at("conv1d_0.weight").data[i], (2.0f * random.uniform() - 1.0f) * limit);
}

struct Moments {
  double mean = 0, variance = 0, maxAbs = 0, withinOneDeviation = 0;
};

Moments momentsOf(const std::vector<float> &values) {
  Moments m;
  for (float v : values)
    m.mean += v;
  m.mean /= values.size();
  for (float v : values) {
    m.variance += (v - m.mean) * (v - m.mean);
    m.maxAbs = std::max(m.maxAbs, static_cast<double>(std::abs(v)));
  }
  m.variance /= values.size();
  for (float v : values)
    m.withinOneDeviation += std::abs(v - m.mean) < std::sqrt(m.variance);
  m.withinOneDeviation /= values.size();
  return m;
}

TEST(Parameters, GlorotUniformMoments) {
  Model m("glorot");
  auto x = m.input(500); // flatten: 2000 features
  m.setOutput(dense(flatten(x), 1000));
  Parameters p = Parameters::initialize(m.graph(), 5);
  const std::vector<float> &w = p.at("dense_0.weight").data;
  ASSERT_EQ(w.size(), 2000000u);
  double limit = std::sqrt(6.0 / (2000 + 1000));
  Moments moments = momentsOf(w);
  // Uniform(-a, a): variance a^2 / 3 = 2 / (fanIn + fanOut); standard error of the mean a / sqrt(3n).
  EXPECT_NEAR(moments.mean, 0.0, 5 * limit / std::sqrt(3.0 * w.size()));
  EXPECT_NEAR(moments.variance / (limit * limit / 3), 1.0, 0.01);
  EXPECT_LE(moments.maxAbs, limit);
  EXPECT_GT(moments.maxAbs, 0.999 * limit);
  EXPECT_NEAR(moments.withinOneDeviation, 1.0 / std::sqrt(3.0), 0.002); // P(|U| < a/sqrt(3)) for a uniform
}

TEST(Parameters, HeNormalMoments) {
  Model m("he", Initializer::HeNormal);
  auto x = m.input(500);
  x = conv1d(x, {.filters = 400, .width = 25}); // fan-in 100, 400 * 4 * 25 = 40000 values
  m.setOutput(dense(globalAvgPool(x), 5000));   // fan-in 400, 2 000 000 values
  Parameters p = Parameters::initialize(m.graph(), 6);
  for (auto [name, fanIn] : {std::pair<std::string, double>{"conv1d_0.weight", 100.0},
                             std::pair<std::string, double>{"dense_0.weight", 400.0}}) {
    SCOPED_TRACE(name);
    const std::vector<float> &w = p.at(name).data;
    double deviation = std::sqrt(2.0 / fanIn);
    Moments moments = momentsOf(w);
    double n = static_cast<double>(w.size());
    EXPECT_NEAR(moments.mean, 0.0, 5 * deviation / std::sqrt(n));
    // The sample variance of a normal has relative standard error sqrt(2 / n).
    EXPECT_NEAR(moments.variance / (deviation * deviation), 1.0, 5 * std::sqrt(2.0 / n));
    EXPECT_NEAR(moments.withinOneDeviation, 0.682689, 5 * std::sqrt(0.2166 / n));
  }
}

TEST(Parameters, AnInitializerOverrideDrawsWhatTheModelWouldHaveDeclared) {
  auto build = [](Model &m) {
    auto x = m.input(50);
    x = relu(batchNorm(conv1d(x, {.filters = 8, .width = 5})));
    m.setOutput(dense(flatten(x), 3));
  };
  Model glorot("net"), he("net", Initializer::HeNormal);
  build(glorot);
  build(he);
  Parameters overridden = Parameters::initialize(glorot.graph(), 9, Initializer::HeNormal);
  Parameters declared = Parameters::initialize(he.graph(), 9);
  Parameters kept = Parameters::initialize(glorot.graph(), 9);
  for (const std::string &name : {"conv1d_0.weight", "conv1d_0.bias", "batch_norm_0.weight", "dense_0.weight"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(overridden.at(name).data, declared.at(name).data);
  }
  EXPECT_NE(overridden.at("conv1d_0.weight").data, kept.at("conv1d_0.weight").data);
  EXPECT_EQ(overridden.at("batch_norm_0.weight").data, std::vector<float>(8, 1.0f)); // ones stay ones
}

TEST(Parameters, LoadsATorchStateDict) {
  SEQJIT_REQUIRE_PYTHON("numpy, torch");
  ScratchDirectory dir;
  std::string path = dir.file("torch.npz");
  seqjit::testing::runPythonScript("torch_state_dict.py", "write '" + path + "'");
  Model m("t");
  buildSmallModel(m);
  Parameters p = Parameters::loadNpz(m.graph(), path);
  // torch_state_dict.py: element i of the k-th key (sorted, num_batches_tracked included) is i * 0.001 + k.
  std::vector<std::string> keys;
  for (const auto &[key, array] : readNpz(path))
    keys.push_back(key);
  ASSERT_EQ(keys.size(), 9u);
  EXPECT_EQ(p.tensors().size(), 8u) << "num_batches_tracked must be ignored";
  for (size_t k = 0; k < keys.size(); ++k) {
    if (keys[k].ends_with("num_batches_tracked"))
      continue;
    const HostArray<float> &tensor = p.at(keys[k]);
    for (int64_t i = 0; i < tensor.size(); ++i)
      ASSERT_EQ(tensor.data[i], static_cast<float>(i * 0.001 + k)) << keys[k] << " element " << i;
  }
}

TEST(Parameters, SavedFileLoadsIntoTorch) {
  SEQJIT_REQUIRE_PYTHON("numpy, torch");
  ScratchDirectory dir;
  Model m("t");
  buildSmallModel(m);
  Parameters p = Parameters::initialize(m.graph(), 2);
  // Recognisable values: element i of the k-th name (sorted) is i * 0.01 - k; torch_state_dict.py checks them.
  size_t k = 0;
  for (const auto &[name, tensor] : p.tensors()) {
    HostArray<float> &target = p.at(name);
    for (int64_t i = 0; i < target.size(); ++i)
      target.data[i] = static_cast<float>(i * 0.01 - static_cast<double>(k));
    ++k;
  }
  std::string path = dir.file("ours.npz");
  p.saveNpz(path);
  seqjit::testing::runPythonScript("torch_state_dict.py", "check '" + path + "'");
  // And our own loader reads back exactly what was saved.
  Parameters back = Parameters::loadNpz(m.graph(), path);
  for (const auto &[name, tensor] : p.tensors())
    EXPECT_EQ(back.at(name).data, tensor.data) << name;
}

TEST(Parameters, MissingKeyAndWrongShapeErrors) {
  ScratchDirectory dir;
  Model m("t");
  buildSmallModel(m);
  std::map<std::string, HostArray<float>> tensors = Parameters::initialize(m.graph(), 1).tensors();

  auto renamed = tensors;
  renamed["conv_0.weight"] = renamed.at("conv1d_0.weight");
  renamed.erase("conv1d_0.weight");
  writeNpz(dir.file("renamed.npz"), renamed);
  expectError([&] { Parameters::loadNpz(m.graph(), dir.file("renamed.npz")); },
              {"renamed.npz", "'conv1d_0.weight'", "(8, 4, 5)", "similar keys present", "conv_0.weight",
               "conv1d_0.bias"});

  auto reshaped = tensors;
  reshaped["dense_0.weight"] = HostArray<float>({8 * 46, 3});
  writeNpz(dir.file("reshaped.npz"), reshaped);
  expectError([&] { Parameters::loadNpz(m.graph(), dir.file("reshaped.npz")); },
              {"reshaped.npz", "'dense_0.weight'", "has shape (368, 3)", "expects (3, 368)"});

  expectError([&] { Parameters::loadNpz(m.graph(), dir.file("absent.npz")); }, {"absent.npz"});
}

} // namespace
