// The loss-gradient programs equal PyTorch's autograd (float64) on the same .npz weights and inputs:
// - BCE + Fourier prior for CNN-deep and CNN-dist, batch norm in both modes, against double backprop
//   (tests/python/torch_fourier_prior.py);
// - every other objective term (label mask, smoothness and sparsity priors, spectral-norm penalty with its power
//   vectors, multinomial loss) against tests/python/torch_objectives.py.
#include "TorchTwin.h"

#include "runtime/GradientPrograms.h"
#include "runtime/Npy.h"
#include "runtime/Random.h"
#include "stdlib/Models.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

namespace seqjit {
namespace {

/// max |a - b| / max |b|, both in float64.
double relativeError(const std::vector<double> &actual, const std::vector<float> &expected) {
  double scale = 0, error = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(expected[i])));
    error = std::max(error, std::abs(actual.at(i) - static_cast<double>(expected[i])));
  }
  return error / std::max(scale, 1e-300);
}

/// Seeded power vectors for the twin, written to `path` in float32 for torch; returned as torch reads them.
std::map<std::string, HostArray<double>> writePowerVectors(const Graph &graph, uint64_t seed, const std::string &path) {
  std::map<std::string, HostArray<float>> file = initialPowerVectors<float>(graph, seed);
  writeNpz(path, file);
  std::map<std::string, HostArray<double>> vectors;
  for (const auto &[name, u] : file)
    vectors[name] = u.cast<double>();
  return vectors;
}

/// Compares every gradient (and the named terms) with torch's G.npz. PyTorch's float64 results are stored as
/// float32 by readNpz: agreement is bounded by float32 rounding.
void expectEqualsTorch(const LossGradients<double> &mine, const std::map<std::string, HostArray<float>> &torch,
                       const std::map<std::string, std::string> &terms) {
  for (const auto &[term, torchName] : terms)
    EXPECT_NEAR(mine.terms.at(term), torch.at(torchName).data.at(0),
                1e-6 * std::max(1.0, std::abs(mine.terms.at(term))))
        << term;
  auto compare = [&](const std::map<std::string, HostArray<double>> &arrays) {
    for (const auto &[name, array] : arrays) {
      auto found = torch.find(name);
      ASSERT_NE(found, torch.end()) << name << " is missing from PyTorch's results";
      ASSERT_EQ(found->second.shape, array.shape) << name;
      EXPECT_LE(relativeError(array.data, found->second.data), 1e-5) << name;
    }
  };
  compare(mine.gradients);
  compare(mine.powerVectors);
}

struct FourierCase {
  std::string model;
  bool batchNormTraining;
};

class TorchFourierPriorTest : public ::testing::TestWithParam<FourierCase> {};

TEST_P(TorchFourierPriorTest, GradientsEqualTorchDoubleBackprop) {
  SEQJIT_REQUIRE_PYTHON("numpy, torch");
  const FourierCase &c = GetParam();
  testing::ScratchDirectory scratch;
  testing::TwinData twin = testing::exportTwin(c.model, scratch);
  if (::testing::Test::HasFailure())
    return;
  // T = 20 of 100 frequencies, so both branches of the frequency weights count.
  testing::runPythonScript("torch_fourier_prior.py",
                           fmt::format("--model {} --activation exp --weights '{}' --inputs '{}' --labels '{}' "
                                       "--out '{}' --freq-limit 20 --softness 0.2 --sigma 3 --lambda 0.5{}",
                                       c.model, scratch.file("weights.npz"), scratch.file("input.npy"),
                                       scratch.file("labels.npy"), scratch.file("gradients.npz"),
                                       c.batchNormTraining ? " --train-bn" : ""));
  if (::testing::Test::HasFailure())
    return;
  Objective objective;
  objective.fourierPrior = parseFourierPrior("--fourier-prior", "T=20,s=0.2,sigma=3,lambda=0.5");
  LossGradients<double> mine = interpretLossGradient<double>(twin.model->graph(), objective, c.batchNormTraining,
                                                             twin.input, twin.labels, twin.parameters);
  EXPECT_GT(mine.terms.at("fourier_prior"), 0.0);
  expectEqualsTorch(mine, readNpz(scratch.file("gradients.npz")),
                    {{"data_loss", "bce"}, {"fourier_prior", "prior"}, {"loss", "loss"}});
}

INSTANTIATE_TEST_SUITE_P(Models, TorchFourierPriorTest,
                         ::testing::Values(FourierCase{"cnn-deep", false}, FourierCase{"cnn-deep", true},
                                           FourierCase{"cnn-dist", false}, FourierCase{"cnn-dist", true}),
                         [](const ::testing::TestParamInfo<FourierCase> &info) {
                           std::string name = info.param.model + (info.param.batchNormTraining ? "_train" : "_eval");
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

const std::map<std::string, std::string> kEveryTerm = {{"loss", "loss"},
                                                       {"data_loss", "data_loss"},
                                                       {"smoothness_prior", "smoothness_prior"},
                                                       {"sparsity_prior", "sparsity_prior"},
                                                       {"spectral_penalty", "spectral_penalty"}};

/// BCE on masked labels + smoothness + sparsity priors + spectral norm (one power iteration from seeded vectors),
/// batch norm on batch statistics, CNN-deep.
TEST(TorchObjectivesTest, MaskedBceWithSmoothnessSparsityAndSpectralNormEqualsTorch) {
  SEQJIT_REQUIRE_PYTHON("numpy, torch");
  testing::ScratchDirectory scratch;
  testing::TwinData twin = testing::exportTwin("cnn-deep", scratch);
  if (::testing::Test::HasFailure())
    return;
  HostArray<double> mask(twin.labels.shape);
  Random random(11, 0);
  for (double &v : mask.data)
    v = random.uniform() < 0.7f ? 1.0 : 0.0;
  mask.data[0] = 1.0; // example 0 stays positive
  writeNpy(scratch.file("mask.npy"), mask);
  auto vectors = writePowerVectors(twin.model->graph(), 3, scratch.file("u.npz"));
  testing::runPythonScript("torch_objectives.py",
                           fmt::format("--model cnn-deep --activation exp --weights '{}' --inputs '{}' --labels '{}' "
                                       "--mask '{}' --out '{}' --train-bn --smoothness 0.3 --sparsity 0.2 "
                                       "--spectral-norm 0.01 --power-vectors '{}'",
                                       scratch.file("weights.npz"), scratch.file("input.npy"),
                                       scratch.file("labels.npy"), scratch.file("mask.npy"),
                                       scratch.file("gradients.npz"), scratch.file("u.npz")));
  if (::testing::Test::HasFailure())
    return;
  Objective objective;
  objective.labelMask = true;
  objective.smoothnessPrior = SmoothnessPrior{parseAttributionPrior("--smoothness-prior", "lambda=0.3")};
  objective.sparsityPrior = SparsityPrior{parseAttributionPrior("--sparsity-prior", "lambda=0.2")};
  objective.spectralNorm = parseSpectralNorm("--spectral-norm", "lambda=0.01");
  LossGradients<double> mine = interpretLossGradient<double>(twin.model->graph(), objective, true, twin.input,
                                                             twin.labels, twin.parameters, {&mask, &vectors});
  for (const char *term : {"smoothness_prior", "sparsity_prior", "spectral_penalty"})
    EXPECT_GT(mine.terms.at(term), 0.0) << term;
  EXPECT_EQ(mine.powerVectors.size(), powerVectors(twin.model->graph()).size());
  expectEqualsTorch(mine, readNpz(scratch.file("gradients.npz")), kEveryTerm);
}

/// The multinomial loss over the 12 tasks with the sparsity prior on all examples and three power iterations,
/// batch norm on running statistics, CNN-50-2.
TEST(TorchObjectivesTest, MultinomialWithSparsityAndSpectralNormEqualsTorch) {
  SEQJIT_REQUIRE_PYTHON("numpy, torch");
  testing::ScratchDirectory scratch;
  testing::TwinData twin = testing::exportTwin("cnn-50-2", scratch);
  if (::testing::Test::HasFailure())
    return;
  auto vectors = writePowerVectors(twin.model->graph(), 4, scratch.file("u.npz"));
  testing::runPythonScript("torch_objectives.py",
                           fmt::format("--model cnn-50-2 --activation exp --weights '{}' --inputs '{}' --labels '{}' "
                                       "--out '{}' --loss multinomial --sparsity 0.5 --all-examples "
                                       "--spectral-norm 0.1 --power-iterations 3 --power-vectors '{}'",
                                       scratch.file("weights.npz"), scratch.file("input.npy"),
                                       scratch.file("labels.npy"), scratch.file("gradients.npz"),
                                       scratch.file("u.npz")));
  if (::testing::Test::HasFailure())
    return;
  Objective objective;
  objective.loss = LossKind::Multinomial;
  objective.sparsityPrior = SparsityPrior{parseAttributionPrior("--sparsity-prior", "lambda=0.5,all")};
  objective.spectralNorm = parseSpectralNorm("--spectral-norm", "lambda=0.1,iterations=3");
  LossGradients<double> mine = interpretLossGradient<double>(twin.model->graph(), objective, false, twin.input,
                                                             twin.labels, twin.parameters, {nullptr, &vectors});
  expectEqualsTorch(mine, readNpz(scratch.file("gradients.npz")), kEveryTerm);
}

} // namespace
} // namespace seqjit
