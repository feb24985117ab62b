// Tests of the model zoo: every entry builds, honours its options, and has the parameters of its PyTorch twin.
#include "stdlib/Models.h"

#include "PythonSupport.h"
#include "dsl/Error.h"

#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

using namespace seqjit;

using seqjit::testing::CommandResult;
using seqjit::testing::runCommand;

namespace {

/// The interpreter that has numpy and torch: $SEQJIT_PYTHON, else Debian's /usr/bin/python3 (a pyenv python3
/// earlier on PATH may lack them), else whatever python3 is on PATH.
std::string pythonExecutable() {
  if (const char *fromEnvironment = std::getenv("SEQJIT_PYTHON"))
    return fromEnvironment;
  if (std::filesystem::exists("/usr/bin/python3"))
    return "/usr/bin/python3";
  return "python3";
}

std::string twinScript() { return std::string(SEQJIT_SOURCE_DIR) + "/tests/python/torch_models.py"; }

bool torchAvailable() {
  static const bool available = runCommand(pythonExecutable() + " -c 'import numpy, torch'").status == 0;
  return available;
}

/// What the PyTorch twin reports for one model: its trainable count and its state_dict keys with shapes.
struct TwinSummary {
  int64_t parameterCount = -1;
  std::map<std::string, Shape> keys;
};

/// Runs `torch_models.py summary` once for the whole zoo at one length (0: each model's default length).
std::map<std::string, TwinSummary> twinSummaries(int64_t length) {
  CommandResult r = runCommand(pythonExecutable() + " " + twinScript() + " summary --length " + std::to_string(length));
  EXPECT_EQ(r.status, 0) << r.output;
  std::map<std::string, TwinSummary> summaries;
  std::istringstream lines(r.output);
  std::string line, current;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string first, second;
    words >> first >> second;
    if (first == "model") {
      current = second;
      words >> summaries[current].parameterCount;
      continue;
    }
    Shape shape;
    std::istringstream dims(second);
    std::string dim;
    while (std::getline(dims, dim, ','))
      shape.push_back(std::stoll(dim));
    summaries[current].keys[first] = shape;
  }
  return summaries;
}

std::map<std::string, Shape> parameterShapes(const Graph &graph) {
  std::map<std::string, Shape> shapes;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      shapes[Graph::parameterName(node, spec)] = spec.shape;
  return shapes;
}

const Node &nodeNamed(const Graph &graph, const std::string &name) {
  for (const Node &node : graph.nodes)
    if (node.name == name)
      return node;
  throw std::runtime_error("no node " + name);
}

bool isPythonIdentifier(const std::string &s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return true;
}

} // namespace

TEST(ModelZoo, NamesAreUniqueAndTheExpectedOnesExist) {
  std::set<std::string> names;
  for (const ModelEntry &entry : modelZoo())
    EXPECT_TRUE(names.insert(entry.name).second) << "duplicate " << entry.name;
  for (const char *expected :
       {"cnn-deep", "cnn-dist", "cnn-local", "cnn-2", "cnn-50", "cnn-50-2", "basset", "residualbind", "cnn-pool-1-100",
        "cnn-pool-2-50", "cnn-pool-4-25", "cnn-pool-10-10", "cnn-pool-25-4", "cnn-pool-50-2", "cnn-pool-100-1"})
    EXPECT_TRUE(names.count(expected)) << expected;
}

TEST(ModelZoo, EveryEntryBuildsAtItsDefaultsWithLogitsOut) {
  for (const ModelEntry &entry : modelZoo()) {
    SCOPED_TRACE(entry.name);
    auto model = entry.build({});
    const Graph &graph = model->graph();
    EXPECT_EQ(graph.name, entry.name);
    EXPECT_EQ(graph.inputNode().shape, (Shape{4, entry.defaultLength}));
    EXPECT_EQ(graph.outputNode().shape, (Shape{entry.defaultOutputs}));
    // The last layer is the dense "output" with a bias: logits, no sigmoid.
    EXPECT_EQ(graph.outputNode().name, "output");
    EXPECT_EQ(graph.outputNode().op.kind, OpKind::Dense);
    EXPECT_TRUE(std::get<DenseAttrs>(graph.outputNode().op.attributes).bias);
    // Parametric layers become PyTorch attributes: their names must be identifiers.
    for (const Node &node : graph.nodes) {
      if (!node.parameters.empty()) {
        EXPECT_TRUE(isPythonIdentifier(node.name)) << node.name;
      }
    }
  }
}

TEST(ModelZoo, EveryEntryBuildsAtAnotherLengthAndOutputCount) {
  for (const ModelEntry &entry : modelZoo()) {
    SCOPED_TRACE(entry.name);
    auto model = entry.build({.length = 1000, .outputs = 3});
    EXPECT_EQ(model->graph().inputNode().shape, (Shape{4, 1000}));
    EXPECT_EQ(model->graph().outputNode().shape, (Shape{3}));
  }
}

TEST(ModelZoo, TooShortALengthIsAUserErrorNamingTheLayer) {
  // Basset's three pools and two valid convolutions need far more than 50 positions.
  try {
    findModel("basset").build({.length = 50});
    FAIL() << "expected seqjit::Error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("basset"), std::string::npos) << e.what();
  }
}

TEST(ModelZoo, FirstLayerActivationAndBatchNormSettingsAreApplied) {
  auto model = findModel("cnn-deep").build({.activation = "exp"});
  const Graph &graph = model->graph();
  EXPECT_EQ(std::get<ActivationAttrs>(nodeNamed(graph, "act1").op.attributes).kind, ActivationKind::Exp);
  EXPECT_EQ(std::get<ActivationAttrs>(nodeNamed(graph, "act2").op.attributes).kind, ActivationKind::Relu);
  // Defaults: Keras eps 1e-3 and momentum 0.99, i.e. 0.01 in PyTorch's convention.
  int batchNorms = 0;
  for (const Node &node : graph.nodes) {
    if (node.op.kind == OpKind::BatchNorm) {
      const auto &bn = std::get<BatchNormAttrs>(node.op.attributes);
      EXPECT_DOUBLE_EQ(bn.eps, 1e-3) << node.name;
      EXPECT_DOUBLE_EQ(bn.momentum, 0.01) << node.name;
      ++batchNorms;
    }
  }
  EXPECT_EQ(batchNorms, 5); // four convolutions and one hidden dense layer
  auto custom = findModel("residualbind").build({.activation = "log_relu", .bnEps = 1e-5, .bnMomentum = 0.1});
  EXPECT_EQ(std::get<ActivationAttrs>(nodeNamed(custom->graph(), "act1").op.attributes).kind, ActivationKind::LogRelu);
  const auto &bn = std::get<BatchNormAttrs>(nodeNamed(custom->graph(), "residual_bn2").op.attributes);
  EXPECT_DOUBLE_EQ(bn.eps, 1e-5);
  EXPECT_DOUBLE_EQ(bn.momentum, 0.1);
}

TEST(ModelZoo, UnknownActivationIsAUserError) {
  EXPECT_THROW(findModel("cnn-dist").build({.activation = "swish"}), Error);
}

TEST(ModelZoo, UnknownModelNameIsAUserErrorListingTheZoo) {
  try {
    findModel("cnn-deeper");
    FAIL() << "expected seqjit::Error";
  } catch (const Error &e) {
    std::string message = e.what();
    EXPECT_NE(message.find("cnn-deeper"), std::string::npos) << message;
    EXPECT_NE(message.find("cnn-deep"), std::string::npos) << message;
    EXPECT_NE(message.find("residualbind"), std::string::npos) << message;
  }
  EXPECT_THROW(buildZooModel("nope"), Error);
}

TEST(ModelZoo, ParameterCountsMatchHandDerivedValues) {
  // cnn-deep at 200 nt: 200 -> pool 4 -> 50 -> valid 7 -> 44 -> pool 4 -> 11 -> valid 3 -> 9 -> pool 3 -> 3.
  // Convolutions have no bias (batch norm follows); batch norm trains 2 vectors; the output has a bias.
  const int64_t cnnDeep = 32 * 4 * 19 + 2 * 32 + 48 * 32 * 7 + 2 * 48 + 96 * 48 * 7 + 2 * 96 + 128 * 96 * 3 + 2 * 128 +
                          (128 * 3) * 512 + 2 * 512 + 512 * 12 + 12;
  EXPECT_EQ(findModel("cnn-deep").build({})->graph().trainableParameterCount(), cnnDeep);
  // basset at 600 nt: 600 -> pool 3 -> 200 -> valid 11 -> 190 -> pool 4 -> 47 -> valid 7 -> 41 -> pool 4 -> 10.
  const int64_t basset = 300 * 4 * 19 + 600 + 200 * 300 * 11 + 400 + 200 * 200 * 7 + 400 + 2000 * 1000 + 2000 +
                         1000 * 1000 + 2000 + 1000 * 164 + 164;
  EXPECT_EQ(findModel("basset").build({})->graph().trainableParameterCount(), basset);
  // residualbind at 400 nt: 400 -> pool 10 -> 40 -> pool 5 -> 8 -> valid 3 -> 6 -> pool 4 -> 1.
  const int64_t residualBind =
      24 * 4 * 19 + 48 + 2 * (24 * 24 * 5 + 48) + 48 * 24 * 7 + 96 + 64 * 48 * 3 + 128 + 64 * 96 + 192 + 96 + 1;
  EXPECT_EQ(findModel("residualbind").build({})->graph().trainableParameterCount(), residualBind);
}

TEST(ModelZoo, ParameterCountMatchesTheTorchTwinThroughTheCountCommand) {
  if (!torchAvailable())
    GTEST_SKIP() << "numpy/torch not importable by " << pythonExecutable();
  for (const char *name : {"cnn-deep", "basset"}) {
    CommandResult r = runCommand(pythonExecutable() + " " + twinScript() + " count --model " + name);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(std::stoll(r.output), findModel(name).build({})->graph().trainableParameterCount()) << name;
  }
}

class ModelZooTwin : public ::testing::TestWithParam<int64_t> {};

TEST_P(ModelZooTwin, ParametersAndStateDictKeysMatchTheTorchTwin) {
  if (!torchAvailable())
    GTEST_SKIP() << "numpy/torch not importable by " << pythonExecutable();
  const int64_t length = GetParam();
  std::map<std::string, TwinSummary> twins = twinSummaries(length);
  EXPECT_EQ(twins.size(), modelZoo().size()) << "the twin and the registry list different models";
  for (const ModelEntry &entry : modelZoo()) {
    SCOPED_TRACE(entry.name + " at length " + std::to_string(length));
    auto twin = twins.find(entry.name);
    ASSERT_NE(twin, twins.end()) << "no PyTorch twin";
    auto model = entry.build({.length = length});
    const Graph &graph = model->graph();
    EXPECT_EQ(graph.trainableParameterCount(), twin->second.parameterCount);
    EXPECT_EQ(parameterShapes(graph), twin->second.keys);
  }
}

INSTANTIATE_TEST_SUITE_P(DefaultAndInVivoLengths, ModelZooTwin, ::testing::Values(int64_t{0}, int64_t{1000}));

TEST(ModelZoo, TwinExportWritesWeightsInputAndOutputs) {
  if (!torchAvailable())
    GTEST_SKIP() << "numpy/torch not importable by " << pythonExecutable();
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "seqjit_model_zoo_export";
  std::filesystem::remove_all(dir);
  CommandResult r = runCommand(pythonExecutable() + " " + twinScript() +
                               " export --model cnn-local --length 200 --outputs 1 --activation exp --batch 2"
                               " --seed 3 --out " +
                               dir.string());
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char *file : {"weights.npz", "input.npy", "output.npy", "output64.npy"})
    EXPECT_TRUE(std::filesystem::exists(dir / file)) << file;
  // The exported weights carry exactly the graph's parameter names (no num_batches_tracked).
  CommandResult keys = runCommand(pythonExecutable() +
                                  " -c \"import numpy as np; "
                                  "print(' '.join(sorted(np.load('" +
                                  (dir / "weights.npz").string() + "').keys())))\"");
  ASSERT_EQ(keys.status, 0) << keys.output;
  std::string expected;
  for (const auto &[name, shape] : parameterShapes(findModel("cnn-local").build({})->graph()))
    expected += (expected.empty() ? "" : " ") + name;
  EXPECT_EQ(keys.output, expected + "\n");
  std::filesystem::remove_all(dir);
}
