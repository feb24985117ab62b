// Weights saved from an equivalent PyTorch model load into seqjit and give PyTorch's outputs (JIT and interpreter).
#include "Closeness.h"
#include "PythonSupport.h"

#include "runtime/Compile.h"
#include "runtime/Npy.h"
#include "runtime/ReferenceInterpreter.h"
#include "stdlib/Models.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace seqjit {
namespace {

struct Case {
  std::string model;
  std::string activation;
};

std::ostream &operator<<(std::ostream &os, const Case &c) {
  return os << c.model << " " << c.activation;
}

class TorchInteropTest : public ::testing::TestWithParam<Case> {};

TEST_P(TorchInteropTest, TorchWeightsGiveTorchOutputs) {
  SEQJIT_REQUIRE_PYTHON("numpy, torch");
  const Case &c = GetParam();
  testing::ScratchDirectory scratch;
  const ModelEntry &entry = findModel(c.model);
  int64_t examples = 5;
  testing::runPythonScript("torch_models.py",
                           fmt::format("export --model {} --length {} --outputs {} --activation {} --batch {} "
                                       "--seed 3 --out '{}'",
                                       c.model, entry.defaultLength, entry.defaultOutputs, c.activation, examples,
                                       scratch.path().string()));
  if (::testing::Test::HasFailure())
    return;
  ModelOptions options;
  options.activation = c.activation;
  auto model = buildZooModel(c.model, options);
  Parameters parameters = Parameters::loadNpz(model->graph(), scratch.file("weights.npz"));
  HostArray<float> input = readNpy<float>(scratch.file("input.npy"));
  HostArray<double> torchOutput = readNpy<double>(scratch.file("output64.npy"));

  CompiledModel compiled = compile(model->graph(), {.batch = 2});
  HostArray<float> jit = compiled.forward(input, parameters);
  ASSERT_EQ(jit.shape, torchOutput.shape);
  EXPECT_LE(testing::relativeError(jit.data, torchOutput.data), 1e-5) << "JIT vs PyTorch";

  HostArray<double> reference = interpretForward<double>(model->graph(), parameters.tensors(), input.cast<double>());
  std::vector<float> referenceAsFloat(reference.data.begin(), reference.data.end());
  EXPECT_LE(testing::relativeError(referenceAsFloat, torchOutput.data), 1e-6) << "interpreter vs PyTorch";
}

std::vector<Case> allCases() {
  std::vector<Case> cases;
  for (const ModelEntry &entry : modelZoo())
    cases.push_back({entry.name, "exp"});
  for (const char *activation : {"relu", "softplus", "sigmoid", "tanh", "elu", "linear", "log_relu"})
    cases.push_back({"cnn-deep", activation});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Zoo, TorchInteropTest, ::testing::ValuesIn(allCases()),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           std::string name = info.param.model + "_" + info.param.activation;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

} // namespace
} // namespace seqjit
