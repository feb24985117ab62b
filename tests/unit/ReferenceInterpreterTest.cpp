// Checks the reference interpreter against hand-derived values and against PyTorch (tests/python/torch_op_oracle.py).
#include "runtime/ReferenceInterpreter.h"

#include "dsl/Error.h"
#include "dsl/Model.h"
#include "runtime/Npy.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

namespace seqjit {
namespace {

using ParameterMap = std::map<std::string, HostArray<float>>;

// ---- hand-derived examples ------------------------------------------------------------------------------

/// A (1, channels, length) batch from rows given channel by channel.
HostArray<double> batchOfOne(const std::vector<std::vector<double>> &rows) {
  HostArray<double> x({1, static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())});
  size_t i = 0;
  for (const auto &row : rows)
    for (double v : row)
      x.data[i++] = v;
  return x;
}

void expectValues(const HostArray<double> &actual, const std::vector<int64_t> &shape,
                  const std::vector<double> &expected) {
  ASSERT_EQ(actual.shape, shape);
  ASSERT_EQ(actual.data.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual.data[i], expected[i], 1e-12) << "at flat index " << i;
}

TEST(ReferenceInterpreterHand, ConvValidOddWidthWithBias) {
  Model m("conv");
  auto x = m.input(5, 1);
  m.setOutput(conv1d(x, {.filters = 1, .width = 3}, "conv"));
  ParameterMap p{{"conv.weight", HostArray<float>({1, 1, 3}, {1, 2, 3})}, {"conv.bias", HostArray<float>({1}, {0.5})}};
  // Cross-correlation (not convolution): y[o] = x[o] + 2 x[o+1] + 3 x[o+2] + 0.5.
  expectValues(interpretForward(m.graph(), p, batchOfOne({{1, 2, 3, 4, 5}})), {1, 1, 3}, {14.5, 20.5, 26.5});
}

TEST(ReferenceInterpreterHand, ConvSameEvenWidthPutsExtraPadOnTheRight) {
  Model m("conv");
  auto x = m.input(5, 1);
  m.setOutput(conv1d(x, {.filters = 1, .width = 4, .padding = Padding::Same, .bias = false}, "conv"));
  ParameterMap p{{"conv.weight", HostArray<float>({1, 1, 4}, {1, 2, 3, 4})}};
  // Total pad 3: one zero on the left, two on the right: [0 1 2 3 4 5 0 0].
  // (Two on the left would give 11 first.)
  expectValues(interpretForward(m.graph(), p, batchOfOne({{1, 2, 3, 4, 5}})), {1, 1, 5}, {20, 30, 40, 26, 14});
}

TEST(ReferenceInterpreterHand, ConvStrideAndDilation) {
  Model m("conv");
  auto x = m.input(7, 1);
  m.setOutput(conv1d(x, {.filters = 1, .width = 2, .stride = 2, .dilation = 2, .bias = false}, "conv"));
  ParameterMap p{{"conv.weight", HostArray<float>({1, 1, 2}, {1, 10})}};
  // Taps 2 apart, outputs every 2: y[o] = x[2o] + 10 x[2o + 2].
  expectValues(interpretForward(m.graph(), p, batchOfOne({{1, 2, 3, 4, 5, 6, 7}})), {1, 1, 3}, {31, 53, 75});
}

TEST(ReferenceInterpreterHand, ConvSumsChannelsPerFilter) {
  Model m("conv");
  auto x = m.input(3, 2);
  m.setOutput(conv1d(x, {.filters = 2, .width = 2, .bias = false}, "conv"));
  // weight[f][c][k]: filter 0 takes x0[o] + x1[o+1]; filter 1 takes x1[o].
  ParameterMap p{{"conv.weight", HostArray<float>({2, 2, 2}, {1, 0, 0, 1, /*filter 1*/ 0, 0, 1, 0})}};
  expectValues(interpretForward(m.graph(), p, batchOfOne({{1, 2, 3}, {10, 20, 30}})), {1, 2, 2}, {21, 32, 10, 20});
}

TEST(ReferenceInterpreterHand, BatchNormInferenceUsesRunningStatistics) {
  Model m("bn");
  auto x = m.input(3, 1);
  m.setOutput(batchNorm(x, {.eps = 0.25}, "bn"));
  ParameterMap p{{"bn.weight", HostArray<float>({1}, {3})},
                 {"bn.bias", HostArray<float>({1}, {1})},
                 {"bn.running_mean", HostArray<float>({1}, {2})},
                 {"bn.running_var", HostArray<float>({1}, {3.75})}};
  // (x - 2) / sqrt(3.75 + 0.25) * 3 + 1.
  expectValues(interpretForward(m.graph(), p, batchOfOne({{0, 2, 6}})), {1, 1, 3}, {-2, 1, 7});
}

TEST(ReferenceInterpreterHand, BatchNormTrainingUsesBiasedBatchStatistics) {
  // 3-D: channel 0 holds {0, 2 | 4, 6} over two examples: mean 3, biased variance 5 (unbiased would be 20/3).
  // Channel 1 is constant 5: variance 0, so the output is beta.
  Model m("bn");
  auto x = m.input(2, 2);
  m.setOutput(batchNorm(x, {.eps = 4, .training = true}, "bn"));
  ParameterMap p{{"bn.weight", HostArray<float>({2}, {1, 2})},
                 {"bn.bias", HostArray<float>({2}, {0, 7})},
                 {"bn.running_mean", HostArray<float>({2}, {100, 100})},
                 {"bn.running_var", HostArray<float>({2}, {100, 100})}};
  HostArray<double> input({2, 2, 2}, {0, 2, 5, 5, 4, 6, 5, 5});
  expectValues(interpretForward(m.graph(), p, input), {2, 2, 2}, {-1, -1.0 / 3, 7, 7, 1.0 / 3, 1, 7, 7});

  // 2-D: features {1, 3, 5, 7} over four examples: mean 4, biased variance 5.
  Model m2("bn2d");
  auto y = flatten(m2.input(1, 1), "flat");
  m2.setOutput(batchNorm(y, {.eps = 4, .training = true}, "bn"));
  ParameterMap p2{{"bn.weight", HostArray<float>({1}, {1})},
                  {"bn.bias", HostArray<float>({1}, {0})},
                  {"bn.running_mean", HostArray<float>({1}, {0})},
                  {"bn.running_var", HostArray<float>({1}, {1})}};
  expectValues(interpretForward(m2.graph(), p2, HostArray<double>({4, 1, 1}, {1, 3, 5, 7})), {4, 1},
               {-1, -1.0 / 3, 1.0 / 3, 1});
}

double activationAt(ActivationAttrs attrs, double x) {
  Model m("act");
  m.setOutput(activation(m.input(1, 1), attrs, "act"));
  return interpretForward(m.graph(), {}, HostArray<double>({1, 1, 1}, {x})).data[0];
}

TEST(ReferenceInterpreterHand, Activations) {
  using K = ActivationKind;
  EXPECT_EQ(activationAt({K::Relu}, -1), 0);
  EXPECT_EQ(activationAt({K::Relu}, 2), 2);
  EXPECT_NEAR(activationAt({K::Exp}, std::log(2.0)), 2, 1e-15);
  EXPECT_NEAR(activationAt({.kind = K::Exp, .scale = 2, .shift = -1}, 0.5), 1, 1e-15); // exp(2 * 0.5 - 1)
  EXPECT_NEAR(activationAt({K::Softplus}, 0), std::log(2.0), 1e-15);
  EXPECT_NEAR(activationAt({K::Softplus}, std::log(3.0)), std::log(4.0), 1e-15);
  EXPECT_EQ(activationAt({K::Softplus}, 1000), 1000); // stable: no overflow
  EXPECT_GE(activationAt({K::Softplus}, -1000), 0);
  EXPECT_NEAR(activationAt({K::Sigmoid}, 0), 0.5, 1e-15);
  EXPECT_NEAR(activationAt({K::Sigmoid}, std::log(3.0)), 0.75, 1e-15);
  EXPECT_NEAR(activationAt({K::Sigmoid}, -std::log(3.0)), 0.25, 1e-15);
  EXPECT_EQ(activationAt({K::Sigmoid}, -1000), 0); // stable: not NaN
  EXPECT_EQ(activationAt({K::Sigmoid}, 1000), 1);
  EXPECT_NEAR(activationAt({K::Tanh}, std::log(2.0)), 0.6, 1e-15);                    // (4 - 1) / (4 + 1)
  EXPECT_NEAR(activationAt({.kind = K::Elu, .alpha = 2}, -std::log(2.0)), -1, 1e-15); // 2 (1/2 - 1)
  EXPECT_EQ(activationAt({.kind = K::Elu, .alpha = 2}, 3), 3);
  EXPECT_EQ(activationAt({.kind = K::Linear, .scale = 2, .shift = 1}, 3), 7);
  EXPECT_NEAR(activationAt({K::LogRelu}, std::exp(1.0) - 1), 1, 1e-15);
  EXPECT_EQ(activationAt({K::LogRelu}, -5), 0);
  EXPECT_EQ(activationAt({.kind = K::Relu, .scale = -1, .shift = 0.5}, 2), 0); // relu(-2 + 0.5)
  EXPECT_EQ(activationAt({.kind = K::Relu, .scale = -1, .shift = 0.5}, -2), 2.5);
}

TEST(ReferenceInterpreterHand, PoolsWithStrideDifferentFromSize) {
  auto pool = [](bool isMax, int64_t size, int64_t stride) {
    Model m("pool");
    auto x = m.input(7, 1);
    m.setOutput(isMax ? maxPool1d(x, size, stride, "pool") : avgPool1d(x, size, stride, "pool"));
    return interpretForward(m.graph(), {}, batchOfOne({{1, 5, 2, 4, 3, 0, 7}}));
  };
  // Windows [1 5 2] [2 4 3] [3 0 7].
  expectValues(pool(true, 3, 2), {1, 1, 3}, {5, 4, 7});
  expectValues(pool(false, 3, 2), {1, 1, 3}, {8.0 / 3, 3, 10.0 / 3});
  // Stride 0 means stride = size; the trailing 7 does not fill a window (floor).
  expectValues(pool(true, 2, 0), {1, 1, 3}, {5, 4, 3});
  expectValues(pool(false, 2, 0), {1, 1, 3}, {3, 3, 1.5});
}

TEST(ReferenceInterpreterHand, GlobalPools) {
  Model m("global");
  auto x = m.input(3, 2);
  auto maxed = globalMaxPool(x, "max");
  m.setOutput(globalAvgPool(x, "avg"));
  auto values = interpretAll(m.graph(), {}, batchOfOne({{1, 5, 2}, {-3, -1, -2}}));
  expectValues(values[maxed.node()], {1, 2}, {5, -1}); // all-negative channel: the max is negative
  expectValues(values[m.graph().output], {1, 2}, {8.0 / 3, -2});
}

TEST(ReferenceInterpreterHand, FlattenIsChannelMajorAndDenseIsXTimesWTransposed) {
  Model m("dense");
  auto flat = flatten(m.input(3, 2), "flat");
  m.setOutput(dense(flat, 2, true, "dense"));
  // Row 0 picks flat[0] = x[c0, l0] = 1; row 1 picks flat[3] = x[c1, l0] = 4 (length-major would give 5).
  ParameterMap p{{"dense.weight", HostArray<float>({2, 6}, {1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0})},
                 {"dense.bias", HostArray<float>({2}, {0.5, -1})}};
  auto values = interpretAll(m.graph(), p, batchOfOne({{1, 2, 3}, {4, 5, 6}}));
  expectValues(values[flat.node()], {1, 6}, {1, 2, 3, 4, 5, 6});
  expectValues(values[m.graph().output], {1, 2}, {1.5, 3});
}

TEST(ReferenceInterpreterHand, ReverseComplementAddConcatDropout) {
  Model m("rc");
  auto x = m.input(4);
  auto rc = reverseComplement(x, "rc");
  auto sum = add({x, rc, x}, "sum");
  auto joined = concat({x, rc}, "joined");
  m.setOutput(dropout(joined, 0.5, "drop"));
  // AACG (rows A C G T) reverse-complements to CGTT.
  HostArray<double> aacg = batchOfOne({{1, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {0, 0, 0, 0}});
  std::vector<double> cgtt = {0, 0, 0, 0, /*C*/ 1, 0, 0, 0, /*G*/ 0, 1, 0, 0, /*T*/ 0, 0, 1, 1};
  auto values = interpretAll(m.graph(), {}, aacg);
  expectValues(values[rc.node()], {1, 4, 4}, cgtt);
  std::vector<double> expectedSum(16), expectedJoined(aacg.data);
  for (int i = 0; i < 16; ++i)
    expectedSum[i] = 2 * aacg.data[i] + cgtt[i];
  expectedJoined.insert(expectedJoined.end(), cgtt.begin(), cgtt.end());
  expectValues(values[sum.node()], {1, 4, 4}, expectedSum);
  expectValues(values[joined.node()], {1, 8, 4}, expectedJoined);
  expectValues(values[m.graph().output], {1, 8, 4}, expectedJoined); // dropout: identity in inference
}

// ---- errors ---------------------------------------------------------------------------------------------

TEST(ReferenceInterpreterErrors, WrongInputShapeSaysExpectedAndFound) {
  Model m("cnn");
  m.setOutput(relu(m.input(10), "act"));
  for (const auto &shape : std::vector<std::vector<int64_t>>{{2, 5, 10}, {2, 4, 9}, {4, 10}, {0, 4, 10}}) {
    try {
      interpretForward(m.graph(), {}, HostArray<double>(shape));
      ADD_FAILURE() << "no error for shape " << shape.size();
    } catch (const Error &error) {
      std::string message = error.what();
      EXPECT_NE(message.find("(N, 4, 10)"), std::string::npos) << message;
      EXPECT_NE(message.find("found"), std::string::npos) << message;
    }
  }
}

TEST(ReferenceInterpreterErrors, MissingOrMisshapenParameterIsNamed) {
  Model m("cnn");
  m.setOutput(conv1d(m.input(10), {.filters = 3, .width = 5}, "conv"));
  HostArray<float> input({1, 4, 10});
  ParameterMap onlyBias{{"conv.bias", HostArray<float>({3})}};
  try {
    interpretForward(m.graph(), onlyBias, input);
    ADD_FAILURE() << "no error for a missing weight";
  } catch (const Error &error) {
    EXPECT_NE(std::string(error.what()).find("'conv.weight'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("missing"), std::string::npos) << error.what();
  }
  ParameterMap transposed{{"conv.weight", HostArray<float>({3, 5, 4})}, {"conv.bias", HostArray<float>({3})}};
  try {
    interpretForward(m.graph(), transposed, input);
    ADD_FAILURE() << "no error for a misshapen weight";
  } catch (const Error &error) {
    EXPECT_NE(std::string(error.what()).find("(3, 4, 5)"), std::string::npos) << error.what();
  }
}

// ---- PyTorch oracle -------------------------------------------------------------------------------------

bool torchAvailable() {
  static const bool available = std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") == 0;
  return available;
}

std::string attributesJson(const OpSpec &op) {
  switch (op.kind) {
  case OpKind::Conv1d: {
    const auto &a = std::get<Conv1dAttrs>(op.attributes);
    return fmt::format(R"({{"stride": {}, "dilation": {}, "padding": "{}"}})", a.stride, a.dilation,
                       paddingName(a.padding));
  }
  case OpKind::BatchNorm: {
    const auto &a = std::get<BatchNormAttrs>(op.attributes);
    return fmt::format(R"({{"eps": {:.17g}, "momentum": {:.17g}, "training": {}}})", a.eps, a.momentum,
                       a.training ? "true" : "false");
  }
  case OpKind::Activation: {
    const auto &a = std::get<ActivationAttrs>(op.attributes);
    return fmt::format(R"({{"kind": "{}", "scale": {:.17g}, "shift": {:.17g}, "alpha": {:.17g}}})",
                       activationKindName(a.kind), a.scale, a.shift, a.alpha);
  }
  case OpKind::MaxPool1d:
  case OpKind::AvgPool1d: {
    const auto &a = std::get<PoolAttrs>(op.attributes);
    return fmt::format(R"({{"size": {}, "stride": {}}})", a.size, a.stride);
  }
  case OpKind::Dropout:
    return fmt::format(R"({{"rate": {:.17g}}})", std::get<DropoutAttrs>(op.attributes).rate);
  default:
    return "{}";
  }
}

/// Random parameters for every node of `graph`: batch-norm scales and variances kept positive.
ParameterMap randomParameters(const Graph &graph, std::mt19937 &generator) {
  std::uniform_real_distribution<float> symmetric(-1, 1), positive(0.5f, 2.0f);
  ParameterMap parameters;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      HostArray<float> value(spec.shape);
      bool isPositive = node.op.kind == OpKind::BatchNorm && (spec.suffix == "weight" || spec.suffix == "running_var");
      for (float &v : value.data)
        v = isPositive ? positive(generator) : symmetric(generator);
      parameters[Graph::parameterName(node, spec)] = value;
    }
  return parameters;
}

HostArray<double> randomInput(const Graph &graph, int64_t batch, std::mt19937 &generator) {
  std::normal_distribution<double> normal(0, 1);
  std::vector<int64_t> shape{batch};
  shape.insert(shape.end(), graph.inputNode().shape.begin(), graph.inputNode().shape.end());
  HostArray<double> input(shape);
  for (double &v : input.data)
    v = normal(generator);
  return input;
}

/// Runs the interpreter in float64 on random inputs and parameters, then has PyTorch recompute every node from
/// the interpreter's values of that node's inputs, so each op is checked on its own: |ours - torch| <=
/// 1e-10 max(1, |torch|).
void checkEveryNodeAgainstTorch(const Graph &graph, int64_t batch = 3, uint32_t seed = 17) {
  std::mt19937 generator(seed);
  ParameterMap parameters = randomParameters(graph, generator);
  HostArray<double> input = randomInput(graph, batch, generator);
  std::vector<HostArray<double>> values = interpretAll(graph, parameters, input);

  const auto *test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path directory = std::filesystem::temp_directory_path() /
                                    fmt::format("seqjit_oracle_{}_{}_{}", ::getpid(), test->name(), graph.name);
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  auto file = [&](const std::string &stem) { return (directory / (stem + ".npy")).string(); };

  for (size_t id = 0; id < values.size(); ++id)
    writeNpy(file(fmt::format("value_{}", id)), values[id]);
  std::string nodesJson;
  for (const Node &node : graph.nodes) {
    if (node.op.kind == OpKind::Input)
      continue;
    std::vector<std::string> inputs, params;
    for (int inputId : node.inputs)
      inputs.push_back(fmt::format("\"{}\"", file(fmt::format("value_{}", inputId))));
    for (const ParameterSpec &spec : node.parameters) {
      std::string path = file(Graph::parameterName(node, spec));
      writeNpy(path, parameters.at(Graph::parameterName(node, spec)).cast<double>());
      params.push_back(fmt::format("\"{}\": \"{}\"", spec.suffix, path));
    }
    nodesJson += fmt::format(R"({}{{"op": "{}", "attrs": {}, "inputs": [{}], "parameters": {{{}}}, "output": "{}"}})",
                             nodesJson.empty() ? "" : ",\n", opKindName(node.op.kind), attributesJson(node.op),
                             fmt::join(inputs, ", "), fmt::join(params, ", "), file(fmt::format("torch_{}", node.id)));
  }
  std::string specPath = (directory / "spec.json").string();
  std::ofstream(specPath) << "{\"nodes\": [" << nodesJson << "]}\n";

  std::string command =
      fmt::format("/usr/bin/python3 {}/tests/python/torch_op_oracle.py {}", SEQJIT_SOURCE_DIR, specPath);
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  for (const Node &node : graph.nodes) {
    if (node.op.kind == OpKind::Input)
      continue;
    SCOPED_TRACE(fmt::format("node {} '{}' ({})", node.id, node.name, opKindName(node.op.kind)));
    HostArray<double> expected = readNpy<double>(file(fmt::format("torch_{}", node.id)));
    const HostArray<double> &actual = values[node.id];
    ASSERT_EQ(actual.shape, expected.shape);
    int failures = 0;
    for (int64_t i = 0; i < expected.size() && failures < 5; ++i)
      if (!(std::abs(actual.data[i] - expected.data[i]) <= 1e-10 * std::max(1.0, std::abs(expected.data[i])))) {
        ADD_FAILURE() << "flat index " << i << ": interpreter " << actual.data[i] << ", torch " << expected.data[i];
        ++failures;
      }
  }
  std::filesystem::remove_all(directory);
}

#define SKIP_WITHOUT_TORCH()                                                                                           \
  if (!torchAvailable())                                                                                               \
  GTEST_SKIP() << "/usr/bin/python3 with torch and numpy is not available"

TEST(ReferenceInterpreterTorch, Conv1d) {
  SKIP_WITHOUT_TORCH();
  Model m("conv");
  auto x = m.input(23, 4);
  std::vector<Tensor> outputs;
  for (Padding padding : {Padding::Valid, Padding::Same})
    for (int64_t width : {3, 4, 1})
      for (int64_t stride : {1, 2})
        for (int64_t dilation : {1, 2})
          for (bool bias : {true, false})
            outputs.push_back(conv1d(x,
                                     {.filters = 3,
                                      .width = width,
                                      .stride = stride,
                                      .dilation = dilation,
                                      .padding = padding,
                                      .bias = bias},
                                     fmt::format("conv_{}_w{}_s{}_d{}_{}", paddingName(padding), width, stride,
                                                 dilation, bias ? "bias" : "nobias")));
  // An even-length input with stride 2 and an even width, where 'same' padding is odd in total.
  m.setOutput(conv1d(outputs.back(), {.filters = 2, .width = 6, .stride = 3, .padding = Padding::Same}, "strided"));
  checkEveryNodeAgainstTorch(m.graph());
}

TEST(ReferenceInterpreterTorch, BatchNorm) {
  SKIP_WITHOUT_TORCH();
  Model m("bn");
  auto x = m.input(9, 5);
  auto evaluation = batchNorm(x, {.eps = 1e-3}, "bn_eval");
  auto training = batchNorm(evaluation, {.training = true}, "bn_train");
  auto flat = flatten(training, "flat");
  auto evaluation2d = batchNorm(flat, {}, "bn_eval_2d");
  m.setOutput(batchNorm(evaluation2d, {.eps = 1e-2, .training = true}, "bn_train_2d"));
  checkEveryNodeAgainstTorch(m.graph(), 4);
}

TEST(ReferenceInterpreterTorch, Activations) {
  SKIP_WITHOUT_TORCH();
  Model m("act");
  auto x = m.input(16, 4);
  Tensor last = x;
  for (ActivationKind kind :
       {ActivationKind::Relu, ActivationKind::Exp, ActivationKind::Softplus, ActivationKind::Sigmoid,
        ActivationKind::Tanh, ActivationKind::Elu, ActivationKind::Linear, ActivationKind::LogRelu}) {
    std::string name(activationKindName(kind));
    last = activation(x, {.kind = kind}, name);
    last = activation(x, {.kind = kind, .scale = 1.7, .shift = -0.3, .alpha = 0.6}, name + "_scaled");
    last = activation(x, {.kind = kind, .scale = -3, .shift = 2.5, .alpha = 1.5}, name + "_negated");
  }
  m.setOutput(last);
  checkEveryNodeAgainstTorch(m.graph(), 4);
}

TEST(ReferenceInterpreterTorch, PoolsFlattenDense) {
  SKIP_WITHOUT_TORCH();
  Model m("pool");
  auto x = m.input(20, 3);
  maxPool1d(x, 3, 2, "max_3_2");
  avgPool1d(x, 3, 2, "avg_3_2");
  maxPool1d(x, 2, 5, "max_2_5");
  avgPool1d(x, 4, 0, "avg_4");
  auto pooled = maxPool1d(x, 6, 0, "max_6");
  globalMaxPool(x, "global_max");
  auto averaged = globalAvgPool(x, "global_avg");
  dense(averaged, 4, false, "dense_nobias");
  auto flat = flatten(pooled, "flat");
  auto hidden = dense(flat, 7, true, "dense");
  m.setOutput(dropout(hidden, 0.3, "drop"));
  checkEveryNodeAgainstTorch(m.graph());
}

TEST(ReferenceInterpreterTorch, AddConcatReverseComplement) {
  SKIP_WITHOUT_TORCH();
  Model m("merge");
  auto x = m.input(11, 4);
  auto rc = reverseComplement(x, "rc");
  auto sum = add({x, rc, x}, "sum");
  auto joined = concat({sum, x, rc}, "joined");
  auto feature = globalMaxPool(joined, "pool");
  m.setOutput(concat({feature, globalAvgPool(x, "avg")}, "features"));
  checkEveryNodeAgainstTorch(m.graph());
}

// ---- float32 versus float64 -----------------------------------------------------------------------------

TEST(ReferenceInterpreterPrecision, Float32AgreesWithFloat64OnASmallModel) {
  Model m("small");
  auto x = m.input(40);
  x = conv1d(x, {.filters = 8, .width = 7, .padding = Padding::Same}, "conv1");
  x = exp(batchNorm(x, {}, "bn1"), "act1");
  x = maxPool1d(x, 4, 0, "pool1");
  auto residual = conv1d(x, {.filters = 8, .width = 3, .padding = Padding::Same}, "conv2");
  x = relu(add({x, residual}, "residual"), "act2");
  x = flatten(x, "flat");
  x = dense(x, 16, true, "dense1");
  x = sigmoid(batchNorm(x, {.training = true}, "bn2"), "act3");
  m.setOutput(dense(x, 3, true, "output"));

  std::mt19937 generator(5);
  ParameterMap parameters;
  std::uniform_real_distribution<float> weight(-0.3f, 0.3f), positive(0.5f, 2.0f);
  for (const Node &node : m.graph().nodes)
    for (const ParameterSpec &spec : node.parameters) {
      HostArray<float> value(spec.shape);
      bool isPositive = node.op.kind == OpKind::BatchNorm && (spec.suffix == "weight" || spec.suffix == "running_var");
      for (float &v : value.data)
        v = isPositive ? positive(generator) : weight(generator);
      parameters[Graph::parameterName(node, spec)] = value;
    }
  // One-hot DNA, as the models see it.
  HostArray<float> input({6, 4, 40});
  std::uniform_int_distribution<int> base(0, 3);
  for (int64_t n = 0; n < 6; ++n)
    for (int64_t l = 0; l < 40; ++l)
      input.data[(n * 4 + base(generator)) * 40 + l] = 1;

  HostArray<float> single = interpretForward(m.graph(), parameters, input);
  HostArray<double> twice = interpretForward(m.graph(), parameters, input.cast<double>());
  ASSERT_EQ(single.shape, (std::vector<int64_t>{6, 3}));
  ASSERT_EQ(single.shape, twice.shape);
  double largest = 0;
  for (double v : twice.data)
    largest = std::max(largest, std::abs(v));
  ASSERT_GT(largest, 0.1); // the comparison below means something only if the outputs are not all tiny
  for (int64_t i = 0; i < single.size(); ++i)
    EXPECT_LE(std::abs(single.data[i] - twice.data[i]), 1e-5 * std::max(std::abs(twice.data[i]), 1e-2 * largest))
        << "at flat index " << i << ": float " << single.data[i] << ", double " << twice.data[i];
}

} // namespace
} // namespace seqjit
