// The compiled training step equals the reference interpreter's (float64) for Adam with clipping and dropout, and
// for SGD with Nesterov momentum, weight decay, a label mask and the spectral norm; its dropout masks are seeded and
// have the right rate; its errors leave the state untouched. (PyTorch's optimizers: TorchTrainStepTest.)
#include "runtime/TrainStep.h"
#include "Closeness.h"
#include "ExpectError.h"
#include "runtime/OneHot.h"
#include "runtime/Random.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <cmath>

namespace seqjit {
namespace {

HostArray<float> randomLabels(const Graph &graph, int64_t examples, uint64_t seed) {
  std::vector<int64_t> shape{examples};
  shape.insert(shape.end(), graph.outputNode().shape.begin(), graph.outputNode().shape.end());
  HostArray<float> labels(shape);
  Random random(seed, 0);
  for (float &v : labels.data)
    v = random.uniform() < 0.4f ? 1.0f : 0.0f;
  return labels;
}

/// ||a - b|| / ||b|| over the change of every tensor from `before`: the step, not the weights, is compared, so
/// that a small relative error of the update is not hidden by the size of the weights.
void expectSameSteps(const std::map<std::string, HostArray<float>> &before,
                     const std::map<std::string, HostArray<float>> &actual,
                     const std::map<std::string, HostArray<float>> &expected, double tolerance) {
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto &[name, reference] : expected) {
    const HostArray<float> &mine = actual.at(name);
    ASSERT_EQ(mine.shape, reference.shape) << name;
    auto start = before.find(name);
    std::vector<double> delta(mine.size()), expectedDelta(mine.size());
    for (int64_t i = 0; i < mine.size(); ++i) {
      double origin = start == before.end() ? 0.0 : start->second.data[i];
      delta[i] = mine.data[i] - origin;
      expectedDelta[i] = reference.data[i] - origin;
    }
    EXPECT_LE(testing::relativeError(delta, expectedDelta), tolerance) << name;
  }
}

/// Two steps compiled and interpreted (float64) from the same state; everything the state holds must agree.
void checkTwoSteps(const std::string &model, const Objective &objective, const Optimizer &optimizer, int64_t batchSize,
                   double tolerance) {
  auto built = buildZooModel(model, {.activation = "exp"});
  const Graph &graph = built->graph();
  Parameters parameters = Parameters::initialize(graph, 3);
  parameters.randomizeBatchNorm(graph, 4);
  TrainState compiledState = initialTrainState(graph, objective, optimizer, parameters, 5);
  TrainState interpretedState = compiledState;
  HostArray<float> input = randomOneHot(batchSize, graph.inputNode().shape[1], 6);
  HostArray<float> labels = randomLabels(graph, batchSize, 7);
  HostArray<float> mask = randomLabels(graph, batchSize, 8);
  TrainBatch batch{input, labels, objective.labelMask ? &mask : nullptr};

  auto compiled = CompiledTrainStep::compile(graph, objective, optimizer, {.batch = batchSize});
  for (int step = 1; step <= 2; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    TrainState before = compiledState;
    StepReport mine = compiled.run(compiledState, batch, optimizer.learningRate, 11);
    StepReport reference = interpretTrainStep<double>(graph, objective, optimizer, true, interpretedState, batch,
                                                      optimizer.learningRate, 11);
    for (const auto &[term, value] : reference.terms)
      EXPECT_NEAR(mine.terms.at(term), value, 1e-4 * std::max(1.0, std::abs(value))) << term;
    EXPECT_NEAR(mine.gradientNorm, reference.gradientNorm, 1e-4 * reference.gradientNorm);
    if (optimizer.clipNorm > 0.0)
      EXPECT_GT(reference.gradientNorm, optimizer.clipNorm) << "the test means clipping to be active";
    expectSameSteps(before.parameters.tensors(), compiledState.parameters.tensors(),
                    interpretedState.parameters.tensors(), tolerance);
    expectSameSteps(before.optimizerSlots, compiledState.optimizerSlots, interpretedState.optimizerSlots, tolerance);
    expectSameSteps(before.powerVectors, compiledState.powerVectors, interpretedState.powerVectors, tolerance);
    EXPECT_EQ(compiledState.step, step);
    // Both continue from the interpreter's state, so that differences do not compound.
    compiledState = interpretedState;
  }
}

// eps 1e-3: Adam's update lr * m / (sqrt(v) + eps) turns a gradient entry of 1e-8 into a step of lr / 2 at the
// default eps 1e-8, so float32 rounding of such tiny entries (the JIT) against float64 (the interpreter) would move
// the step by whole percents; a larger eps bounds that amplification. The update rule itself is checked in float64
// against torch.optim (TorchTrainStepTest) at the default eps.
TEST(TrainStep, AdamWithClippingAndDropoutEqualsInterpreter) {
  Objective objective;
  objective.l2 = 1e-3;
  Optimizer adam = parseOptimizer("adam,eps=1e-3,clip=0.05");
  checkTwoSteps("cnn-dist", objective, adam, 4, 1e-3);
}

TEST(TrainStep, SgdWithNesterovMaskAndSpectralNormEqualsInterpreter) {
  Objective objective;
  objective.labelMask = true;
  objective.spectralNorm = parseSpectralNorm("lambda=0.01");
  checkTwoSteps("cnn-50-2", objective, parseOptimizer("sgd,lr=0.05,momentum=0.9,nesterov,weight_decay=1e-3"), 4, 1e-4);
}

TEST(TrainStep, DropoutMasksAreSeededAndHaveTheirRate) {
  auto model = buildZooModel("cnn-deep", {});
  const Graph &graph = model->graph();
  std::vector<const Node *> nodes = dropoutNodes(graph);
  ASSERT_FALSE(nodes.empty());
  auto masks = dropoutMasks(graph, 50, 1, 1);
  ASSERT_EQ(masks.size(), nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    double rate = std::get<DropoutAttrs>(nodes[i]->op.attributes).rate;
    float kept = static_cast<float>(1.0 / (1.0 - rate));
    int64_t dropped = 0;
    for (float v : masks[i].data) {
      ASSERT_TRUE(v == 0.0f || v == kept) << v;
      dropped += v == 0.0f;
    }
    double fraction = static_cast<double>(dropped) / static_cast<double>(masks[i].size());
    // Binomial: 4 standard deviations.
    EXPECT_NEAR(fraction, rate, 4.0 * std::sqrt(rate * (1 - rate) / static_cast<double>(masks[i].size())))
        << nodes[i]->name;
  }
  EXPECT_EQ(dropoutMasks(graph, 50, 1, 1)[0].data, masks[0].data) << "same seed and step, same mask";
  EXPECT_NE(dropoutMasks(graph, 50, 1, 2)[0].data, masks[0].data) << "another step, another mask";
  EXPECT_NE(dropoutMasks(graph, 50, 2, 1)[0].data, masks[0].data) << "another seed, another mask";
}

TEST(TrainStep, BadBatchesAndStatesAreRefusedAndLeaveTheStateUntouched) {
  auto model = buildZooModel("cnn-dist", {.activation = "exp"});
  const Graph &graph = model->graph();
  Optimizer adam;
  TrainState state = initialTrainState(graph, {}, adam, Parameters::initialize(graph, 1), 1);
  auto compiled = CompiledTrainStep::compile(graph, {}, adam, {.batch = 2});
  HostArray<float> input = randomOneHot(2, 200, 1), labels = randomLabels(graph, 2, 1);
  HostArray<float> three = randomOneHot(3, 200, 1);
  testing::expectError([&] { compiled.run(state, {three, labels}, 1e-3, 1); }, {"compiled for batches of 2"});
  testing::expectError([&] { compiled.run(state, {input, labels, &labels}, 1e-3, 1); }, {"built without one"});
  testing::expectError([&] { compiled.run(state, {input, labels}, 0.0, 1); }, {"learning rate must be positive"});
  TrainState broken = state;
  broken.optimizerSlots.erase("conv1.weight.exp_avg");
  testing::expectError(
      [&] {
        compiled.run(broken, {input, labels}, 1e-3, 1);
      },
      {"no optimizer slot 'conv1.weight.exp_avg'"});
  // An exp layer after a batch-norm shift of 100 overflows: the error names the layer, the state stays as it was.
  for (float &shift : state.parameters.at("bn1.bias").data)
    shift = 100.0f;
  TrainState before = state;
  testing::expectError(
      [&] {
        compiled.run(state, {input, labels}, 1e-3, 1);
      },
      {"train step of model 'cnn-dist'", "reference interpreter", "act1", "produced inf"});
  EXPECT_EQ(state.step, 0);
  EXPECT_EQ(state.parameters.at("conv1.weight").data, before.parameters.at("conv1.weight").data);
}

} // namespace
} // namespace seqjit
