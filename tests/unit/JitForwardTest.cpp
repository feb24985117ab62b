// The JIT's forward pass equals the float64 reference interpreter for every stdlib model, batch and length.
#include "Closeness.h"
#include "dsl/Error.h"
#include "runtime/Compile.h"
#include "runtime/OneHot.h"
#include "runtime/ReferenceInterpreter.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace seqjit {
namespace {

struct Case {
  std::string model;
  int64_t length; // 0: the model's default
  int64_t compiledBatch;
  int64_t examples;
};

std::ostream &operator<<(std::ostream &os, const Case &c) {
  return os << c.model << " length " << c.length << " batch " << c.compiledBatch;
}

class JitForwardTest : public ::testing::TestWithParam<Case> {};

TEST_P(JitForwardTest, EqualsReferenceInterpreter) {
  const Case &c = GetParam();
  ModelOptions options;
  options.length = c.length;
  auto model = buildZooModel(c.model, options);
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 7);
  parameters.randomizeBatchNorm(graph, 11);
  HostArray<float> input = randomOneHot(c.examples, graph.inputNode().shape[1], 3);

  CompiledModel compiled = compile(graph, {.batch = c.compiledBatch});
  HostArray<float> actual = compiled.forward(input, parameters);
  HostArray<double> expected = interpretForward<double>(graph, parameters.tensors(), input.cast<double>());
  ASSERT_EQ(actual.shape, expected.shape);
  bool finite = std::all_of(actual.data.begin(), actual.data.end(), [](float v) { return std::isfinite(v); });
  EXPECT_TRUE(finite);
  EXPECT_LE(testing::relativeError(actual.data, expected.data), 1e-5) << c.model << " length " << graph.inputNode().shape[1];
}

std::vector<Case> allCases() {
  std::vector<Case> cases;
  for (const ModelEntry &entry : modelZoo()) {
    // A partial last chunk (5 = 2 + 2 + 1) and an exact one, at the default length and another one.
    cases.push_back({entry.name, 0, 2, 5});
    cases.push_back({entry.name, entry.defaultLength == 600 ? 400 : 1000, 3, 3});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Zoo, JitForwardTest, ::testing::ValuesIn(allCases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           std::string name = info.param.model + "_L" + std::to_string(info.param.length) + "_B" +
                                              std::to_string(info.param.compiledBatch);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(JitForward, EveryOpAndActivationOnASmallModel) {
  for (const char *act : {"relu", "exp", "softplus", "sigmoid", "tanh", "elu", "linear", "log_relu"}) {
    Model m(std::string("ops_") + act);
    auto x = m.input(24);
    auto rc = reverseComplement(x);
    auto both = concat({x, rc});
    auto y = conv1d(both, {.filters = 6, .width = 4, .stride = 1, .dilation = 2, .padding = Padding::Same});
    ActivationAttrs a = activationByName(act);
    a.scale = 0.7;
    a.shift = 0.1;
    y = activation(batchNorm(y), a);
    auto z = conv1d(y, {.filters = 6, .width = 3, .stride = 2, .padding = Padding::Valid, .bias = false});
    auto p = avgPool1d(z, 3, 2);
    auto g = add({globalMaxPool(p), globalAvgPool(z)});
    auto q = maxPool1d(y, 5, 3);
    auto out = concat({g, flatten(dropout(q, 0.3))});
    auto w = add({out, out});
    m.setOutput(dense(w, 3));
    Parameters parameters = Parameters::initialize(m.graph(), 5);
    parameters.randomizeBatchNorm(m.graph(), 9);
    HostArray<float> input = randomOneHot(4, 24, 1);
    CompiledModel compiled = compile(m, {.batch = 4});
    HostArray<double> expected = interpretForward<double>(m.graph(), parameters.tensors(), input.cast<double>());
    EXPECT_LE(testing::relativeError(compiled.forward(input, parameters).data, expected.data), 1e-5) << act;
  }
}

TEST(JitForward, RejectsInputOfTheWrongShape) {
  auto model = buildZooModel("cnn-deep", {});
  CompiledModel compiled = compile(model->graph(), {.batch = 2});
  Parameters parameters = Parameters::initialize(model->graph(), 1);
  HostArray<float> wrong = randomOneHot(2, 100, 1);
  try {
    compiled.forward(wrong, parameters);
    FAIL() << "expected seqjit::Error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("expects input of shape (N, 4, 200)"), std::string::npos) << e.what();
  }
}

} // namespace
} // namespace seqjit
