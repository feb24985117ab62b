// Three training steps on the reference interpreter (float64) equal PyTorch's torch.optim on the twin
// (tests/python/torch_train_steps.py): Adam with clipping, AdamW, SGD with Nesterov momentum; batch norm in
// training mode (running statistics included) and seqjit's dropout masks applied on both sides.
#include "Closeness.h"
#include "TorchTwin.h"

#include "runtime/TrainStep.h"

#include <gtest/gtest.h>

namespace seqjit {
namespace {

struct Case {
  std::string model;
  std::string optimizer;  ///< parseOptimizer spec
  std::string torchFlags; ///< the same optimizer for torch_train_steps.py
};

std::ostream &operator<<(std::ostream &os, const Case &c) { return os << c.model << " " << c.optimizer; }

class TorchTrainStepTest : public ::testing::TestWithParam<Case> {};

TEST_P(TorchTrainStepTest, ThreeStepsEqualTorchOptim) {
  SEQJIT_REQUIRE_PYTHON("numpy, torch");
  const Case &c = GetParam();
  constexpr int steps = 3;
  constexpr uint64_t dropoutSeed = 11;
  testing::ScratchDirectory scratch;
  testing::TwinData twin = testing::exportTwin(c.model, scratch);
  if (::testing::Test::HasFailure())
    return;
  const Graph &graph = twin.model->graph();
  int64_t batchSize = twin.input.shape[0];
  std::map<std::string, HostArray<float>> masks;
  std::vector<const Node *> dropouts = dropoutNodes(graph);
  ASSERT_FALSE(dropouts.empty()) << "the case means dropout to be in play";
  for (int step = 1; step <= steps; ++step) {
    std::vector<HostArray<float>> drawn = dropoutMasks(graph, batchSize, dropoutSeed, step);
    for (size_t i = 0; i < dropouts.size(); ++i)
      masks[fmt::format("{}.mask.step{}", dropouts[i]->name, step)] = std::move(drawn[i]);
  }
  writeNpz(scratch.file("masks.npz"), masks);
  testing::runPythonScript(
      "torch_train_steps.py",
      fmt::format("--model {} --activation exp --weights '{}' --inputs '{}' --labels '{}' --dropout-masks '{}' "
                  "--steps {} --l2 1e-3 {} --out '{}'",
                  c.model, scratch.file("weights.npz"), scratch.file("input.npy"), scratch.file("labels.npy"),
                  scratch.file("masks.npz"), steps, c.torchFlags, scratch.file("state.npz")));
  if (::testing::Test::HasFailure())
    return;

  Objective objective;
  objective.l2 = 1e-3;
  Optimizer optimizer = parseOptimizer("--optimizer", c.optimizer);
  TrainState state = initialTrainState(graph, objective, optimizer, twin.parameters, 1);
  TrainState initial = state;
  HostArray<float> input = twin.input.cast<float>(), labels = twin.labels.cast<float>();
  std::map<std::string, HostArray<float>> torch = readNpz(scratch.file("state.npz"));
  for (int step = 1; step <= steps; ++step) {
    StepReport report = interpretTrainStep<double>(graph, objective, optimizer, true, state, {input, labels},
                                                   optimizer.learningRate, dropoutSeed);
    // Bounded by the float32 storage of the state between steps and of torch's npz.
    EXPECT_NEAR(report.terms.at("loss"), torch.at(fmt::format("loss.step{}", step)).data.at(0), 5e-6) << step;
    EXPECT_NEAR(report.gradientNorm, torch.at(fmt::format("gradient_norm.step{}", step)).data.at(0),
                5e-6 * report.gradientNorm)
        << step;
  }
  // The change over three steps, tensor by tensor: weights, running statistics and optimizer slots.
  auto compare = [&](const std::map<std::string, HostArray<float>> &mine,
                     const std::map<std::string, HostArray<float>> &start) {
    for (const auto &[name, value] : mine) {
      auto found = torch.find(name);
      ASSERT_NE(found, torch.end()) << name << " is missing from PyTorch's state";
      ASSERT_EQ(found->second.shape, value.shape) << name;
      auto origin = start.find(name);
      std::vector<double> delta(value.size()), expected(value.size());
      for (int64_t i = 0; i < value.size(); ++i) {
        double from = origin == start.end() ? 0.0 : origin->second.data[i];
        delta[i] = value.data[i] - from;
        expected[i] = found->second.data[i] - from;
      }
      EXPECT_LE(testing::relativeError(delta, expected), 1e-4) << name;
    }
  };
  compare(state.parameters.tensors(), initial.parameters.tensors());
  compare(state.optimizerSlots, initial.optimizerSlots);
}

INSTANTIATE_TEST_SUITE_P(
    Optimizers, TorchTrainStepTest,
    ::testing::Values(Case{"cnn-deep", "adam,clip=0.05", "--optimizer adam --clip 0.05"},
                      Case{"cnn-dist", "adamw,lr=0.01,weight_decay=0.1",
                           "--optimizer adamw --lr 0.01 --weight-decay 0.1"},
                      Case{"cnn-dist", "sgd,lr=0.05,momentum=0.9,nesterov,weight_decay=1e-3",
                           "--optimizer sgd --lr 0.05 --momentum 0.9 --nesterov --weight-decay 1e-3"}),
    [](const ::testing::TestParamInfo<Case> &info) {
      std::string name = info.param.model + "_" + info.param.optimizer.substr(0, info.param.optimizer.find(','));
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

} // namespace
} // namespace seqjit
