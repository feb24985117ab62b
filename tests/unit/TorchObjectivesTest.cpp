// BCE + Fourier prior parameter gradients for CNN-deep and CNN-dist equal PyTorch's double backprop
// (tests/python/torch_fourier_prior.py, float64) on the same .npz weights and inputs, batch norm in both modes.
#include "PythonSupport.h"

#include "runtime/GradientPrograms.h"
#include "runtime/Npy.h"
#include "runtime/Random.h"
#include "stdlib/Models.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

namespace seqjit {
namespace {

struct Case {
  std::string model;
  bool batchNormTraining;
};

std::ostream &operator<<(std::ostream &os, const Case &c) {
  return os << c.model << (c.batchNormTraining ? " train" : " eval");
}

/// max |a - b| / max |b|, both in float64.
double relativeError(const std::vector<double> &actual, const std::vector<double> &expected) {
  double scale = 0, error = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    scale = std::max(scale, std::abs(expected[i]));
    error = std::max(error, std::abs(actual.at(i) - expected[i]));
  }
  return error / std::max(scale, 1e-300);
}

class TorchFourierPriorTest : public ::testing::TestWithParam<Case> {};

TEST_P(TorchFourierPriorTest, GradientsEqualTorchDoubleBackprop) {
  SEQJIT_REQUIRE_PYTHON("numpy, torch");
  const Case &c = GetParam();
  testing::ScratchDirectory scratch;
  const ModelEntry &entry = findModel(c.model);
  const int64_t examples = 4;
  testing::runPythonScript("torch_models.py",
                           fmt::format("export --model {} --length {} --outputs {} --activation exp --batch {} "
                                       "--seed 5 --out '{}'",
                                       c.model, entry.defaultLength, entry.defaultOutputs, examples,
                                       scratch.path().string()));
  if (::testing::Test::HasFailure())
    return;
  HostArray<double> labels({examples, entry.defaultOutputs});
  Random random(9, 0);
  for (double &v : labels.data)
    v = random.uniform() < 0.3f ? 1.0 : 0.0;
  labels.data[0] = 1.0; // example 0 is positive, so the prior is not empty
  writeNpy(scratch.file("labels.npy"), labels);

  // T = 20 of 100 frequencies, so both branches of the frequency weights count.
  testing::runPythonScript("torch_fourier_prior.py",
                           fmt::format("--model {} --activation exp --weights '{}' --inputs '{}' --labels '{}' "
                                       "--out '{}' --freq-limit 20 --softness 0.2 --sigma 3 --lambda 0.5{}",
                                       c.model, scratch.file("weights.npz"), scratch.file("input.npy"),
                                       scratch.file("labels.npy"), scratch.file("gradients.npz"),
                                       c.batchNormTraining ? " --train-bn" : ""));
  if (::testing::Test::HasFailure())
    return;

  auto model = buildZooModel(c.model, {.activation = "exp"});
  Parameters parameters = Parameters::loadNpz(model->graph(), scratch.file("weights.npz"));
  HostArray<double> input = readNpy<double>(scratch.file("input.npy"));
  Objective objective;
  objective.fourierPrior = FourierPrior{.freqLimit = 20, .softness = 0.2, .sigma = 3, .weight = 0.5, .outputs = {}};
  LossGradients<double> mine =
      interpretLossGradient<double>(model->graph(), objective, c.batchNormTraining, input, labels, parameters);

  std::map<std::string, HostArray<float>> torch = readNpz(scratch.file("gradients.npz"));
  EXPECT_NEAR(mine.terms.at("data_loss"), torch.at("bce").data.at(0), 1e-6);
  EXPECT_NEAR(mine.terms.at("fourier_prior"), torch.at("prior").data.at(0), 1e-6);
  EXPECT_GT(mine.terms.at("fourier_prior"), 0.0);
  for (const auto &[name, gradient] : mine.gradients) {
    auto found = torch.find(name);
    ASSERT_NE(found, torch.end()) << name << " is missing from PyTorch's gradients";
    ASSERT_EQ(found->second.shape, gradient.shape) << name;
    std::vector<double> expected(found->second.data.begin(), found->second.data.end());
    // PyTorch's float64 gradients are stored as float32 by readNpz: agreement is bounded by float32 rounding.
    EXPECT_LE(relativeError(gradient.data, expected), 1e-5) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, TorchFourierPriorTest,
                         ::testing::Values(Case{"cnn-deep", false}, Case{"cnn-deep", true}, Case{"cnn-dist", false},
                                           Case{"cnn-dist", true}),
                         [](const ::testing::TestParamInfo<Case> &info) {
                           std::string name = info.param.model + (info.param.batchNormTraining ? "_train" : "_eval");
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

} // namespace
} // namespace seqjit
