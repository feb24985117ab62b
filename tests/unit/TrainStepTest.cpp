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
  Optimizer adam = parseOptimizer("--optimizer", "adam,eps=1e-3,clip=0.05");
  checkTwoSteps("cnn-dist", objective, adam, 4, 1e-3);
}

TEST(TrainStep, SgdWithNesterovMaskAndSpectralNormEqualsInterpreter) {
  Objective objective;
  objective.labelMask = true;
  objective.spectralNorm = parseSpectralNorm("--spectral-norm", "lambda=0.01");
  checkTwoSteps("cnn-50-2", objective, parseOptimizer("--optimizer", "sgd,lr=0.05,momentum=0.9,nesterov,weight_decay=1e-3"), 4, 1e-4);
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
    // Exactly the draws of layer i's stream (step * 1024 + i), one uniformDouble() per element in order, whatever
    // the chunks and threads that fill the mask.
    Random stream(1, 1 * 1024 + i);
    for (size_t j = 0; j < masks[i].data.size(); ++j)
      ASSERT_EQ(masks[i].data[j], stream.uniformDouble() < rate ? 0.0f : kept) << nodes[i]->name << " element " << j;
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

/// `graph` with every dropout rate set to 0: steps then depend only on the batch, not on where examples sit in it.
Graph withoutDropout(Graph graph) {
  for (Node &node : graph.nodes)
    if (node.op.kind == OpKind::Dropout)
      std::get<DropoutAttrs>(node.op.attributes).rate = 0.0;
  return graph;
}

/// A seeded random permutation p of 0..n-1 as the matrix P with (P h)_i = h_p(i), and p.
std::pair<HostArray<float>, std::vector<int64_t>> permutationMatrix(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    p[i] = i;
  Random random(seed, 0);
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(p[i], p[random.uniformInt(static_cast<uint64_t>(i + 1))]);
  HostArray<float> matrix({n, n});
  for (int64_t i = 0; i < n; ++i)
    matrix.data[i * n + p[i]] = 1.0f;
  return {matrix, p};
}

/// The first activation node after the input: a hidden layer to mix at.
int firstActivation(const Graph &graph) {
  for (const Node &node : graph.nodes)
    if (node.op.kind == OpKind::Activation)
      return node.id;
  return -1;
}

TEST(TrainStep, ManifoldMixupWithAPermutationOnlyReordersTheBatch) {
  // Mixing a hidden layer by a permutation P (lambda = 0) while the labels are permuted the same way changes
  // nothing the loss sees: batch norm is permutation-equivariant and the loss a mean over examples. So the step
  // must equal the unmixed step exactly (up to rounding).
  auto built = buildZooModel("cnn-dist", {.activation = "exp"});
  Graph graph = withoutDropout(built->graph());
  const int64_t batch = 6;
  Objective objective;
  Optimizer optimizer;
  Parameters parameters = Parameters::initialize(graph, 3);
  HostArray<float> input = randomOneHot(batch, 200, 4);
  HostArray<float> labels = randomLabels(graph, batch, 5);
  auto [matrix, p] = permutationMatrix(batch, 6);
  HostArray<float> permutedLabels = labels;
  for (int64_t i = 0; i < batch; ++i)
    permutedLabels.data[i] = labels.data[p[i]];
  BatchMix mix{firstActivation(graph), matrix};
  ASSERT_GT(mix.node, 0);

  TrainState plain = initialTrainState(graph, objective, optimizer, parameters, 1), mixed = plain;
  StepReport reference = interpretTrainStep<double>(graph, objective, optimizer, true, plain, {input, labels}, 1e-3, 7);
  StepReport report = interpretTrainStep<double>(graph, objective, optimizer, true, mixed,
                                                 {input, permutedLabels, nullptr, &mix}, 1e-3, 7);
  EXPECT_NEAR(report.terms.at("loss"), reference.terms.at("loss"), 1e-6);
  expectSameSteps(parameters.tensors(), mixed.parameters.tensors(), plain.parameters.tensors(), 1e-6);
}

TEST(TrainStep, ManifoldMixupAtTheInputEqualsMixingTheInputs) {
  auto built = buildZooModel("cnn-local", {.activation = "exp"});
  const Graph &graph = built->graph();
  const int64_t batch = 5;
  Objective objective;
  // SGD: Adam's step divides by sqrt(v) + 1e-8 and turns float32 rounding of tiny gradients into large relative
  // differences, which would hide what this test compares.
  Optimizer optimizer = parseOptimizer("--optimizer", "sgd,lr=0.1,momentum=0.9");
  Parameters parameters = Parameters::initialize(graph, 8);
  HostArray<float> input = randomOneHot(batch, 200, 9);
  HostArray<float> labels = randomLabels(graph, batch, 10);
  auto [permutation, p] = permutationMatrix(batch, 11);
  const double lambda = 0.3;
  BatchMix mix{0, HostArray<float>({batch, batch})};
  HostArray<float> mixedInput = input;
  int64_t size = input.size() / batch;
  for (int64_t i = 0; i < batch; ++i) {
    mix.matrix.data[i * batch + i] += static_cast<float>(lambda);
    mix.matrix.data[i * batch + p[i]] += static_cast<float>(1.0 - lambda);
    for (int64_t j = 0; j < size; ++j)
      mixedInput.data[i * size + j] =
          static_cast<float>(lambda * input.data[i * size + j] + (1.0 - lambda) * input.data[p[i] * size + j]);
  }
  TrainState plain = initialTrainState(graph, objective, optimizer, parameters, 1), mixed = plain;
  interpretTrainStep<double>(graph, objective, optimizer, true, plain, {mixedInput, labels}, 0.1, 12);
  // The compiled program with the mixing matrix, against the interpreter fed the mixed input (dropout on: the masks
  // are the same, drawn from the same step and seed).
  auto compiled = CompiledTrainStep::compile(graph, objective, optimizer, {.batch = batch}, 0);
  compiled.run(mixed, {input, labels, nullptr, &mix}, 0.1, 12);
  expectSameSteps(parameters.tensors(), mixed.parameters.tensors(), plain.parameters.tensors(), 1e-3);
  testing::expectError([&] { compiled.run(mixed, {input, labels}, 1e-3, 12); }, {"mixes the batch at node 0"});

  // The same matrix at a hidden layer: compiled against the interpreter (float64).
  mix.node = firstActivation(graph);
  TrainState interpreted = initialTrainState(graph, objective, optimizer, parameters, 1), jit = interpreted;
  interpretTrainStep<double>(graph, objective, optimizer, true, interpreted, {input, labels, nullptr, &mix}, 0.1, 13);
  CompiledTrainStep::compile(graph, objective, optimizer, {.batch = batch}, mix.node)
      .run(jit, {input, labels, nullptr, &mix}, 0.1, 13);
  expectSameSteps(parameters.tensors(), jit.parameters.tensors(), interpreted.parameters.tensors(), 1e-3);
}

} // namespace
} // namespace seqjit
