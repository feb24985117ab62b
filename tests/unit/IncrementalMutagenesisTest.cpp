// Incremental ISM equals naive ISM (the forward pass of every mutant) for every stdlib model, at every position
// including both ends, with an N column; and the plan's windows are those the receptive field gives.
#include "Closeness.h"
#include "ExpectError.h"
#include "ZooNames.h"
#include "runtime/Attribution.h"
#include "runtime/OneHot.h"
#include "runtime/ReferenceInterpreter.h"

#include <gtest/gtest.h>

#include <map>

namespace seqjit {
namespace {

class IncrementalMutagenesisZooTest : public ::testing::TestWithParam<std::string> {};

TEST_P(IncrementalMutagenesisZooTest, EqualsNaiveMutagenesis) {
  auto model = buildZooModel(GetParam(), {});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 3);
  parameters.randomizeBatchNorm(graph, 4);
  const int64_t length = graph.inputNode().shape[1];
  HostArray<float> input = randomOneHot(1, length, 6);
  for (int64_t b = 0; b < 4; ++b) // an N column: all four bases are mutations there
    input.data[b * length + length / 3] = 0.0f;
  Attributor attributor(graph, parameters, 0, 64, 2);
  HostArray<float> naive = attributor.mutagenesis(input);
  HostArray<float> incremental = attributor.incrementalMutagenesis(input);
  ASSERT_EQ(incremental.shape, naive.shape);
  EXPECT_LE(testing::relativeError(incremental.data, naive.cast<double>().data), 1e-4);
}

TEST_P(IncrementalMutagenesisZooTest, WindowsHoldEveryChangedValue) {
  // The interval arithmetic against the interpreter: every value of every trunk node that a mutation changes lies
  // in the node's planned window for that position (ends, middle and a few others).
  auto model = buildZooModel(GetParam(), {});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 5);
  parameters.randomizeBatchNorm(graph, 6);
  const MutationWindowPlan plan = planMutationWindows(graph);
  const int64_t length = graph.inputNode().shape[1];
  HostArray<double> input = randomOneHot(1, length, 7).cast<double>();
  std::vector<HostArray<double>> wildType = interpretAll<double>(graph, parameters.tensors(), input);
  int64_t changes = 0;
  for (int64_t l : {int64_t{0}, int64_t{1}, length / 2, length / 2 + 1, length - 2, length - 1}) {
    HostArray<double> mutant = input;
    const int64_t base = mutant.data[l] == 1.0 ? 1 : 0; // any base but the sequence's own
    for (int64_t b = 0; b < 4; ++b)
      mutant.data[b * length + l] = b == base ? 1.0 : 0.0;
    std::vector<HostArray<double>> changed = interpretAll<double>(graph, parameters.tensors(), mutant);
    for (const Node &node : graph.nodes) {
      if (!plan.trunk[node.id])
        continue;
      const int64_t channels = node.shape[0], positions = node.shape[1];
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t p = 0; p < positions; ++p)
          if (changed[node.id].data[c * positions + p] != wildType[node.id].data[c * positions + p]) {
            ++changes;
            EXPECT_GE(p, plan.start[node.id][l]) << node.name << " mutated at " << l;
            EXPECT_LT(p, plan.start[node.id][l] + plan.width[node.id]) << node.name << " mutated at " << l;
          }
    }
  }
  EXPECT_GT(changes, 0);
}

/// What the zoo lacks: dilated convs (on the sequence, and computed from a change), a pool with stride above its
/// size + 1 (windows that start past the end), an average pool, concat, a strided conv and a global max pool.
std::unique_ptr<Model> unusualGeometry() {
  auto model = std::make_unique<Model>("unusual_geometry");
  Tensor x = model->input(23);
  x = relu(conv1d(x, {.filters = 3, .width = 3, .dilation = 2, .padding = Padding::Same}, "dilated"));
  x = relu(conv1d(x, {.filters = 3, .width = 2, .dilation = 3, .padding = Padding::Same}, "dilated_again"));
  Tensor a = maxPool1d(x, 1, 3, "sparse_max");
  Tensor b = avgPool1d(x, 2, 3, "sparse_avg");
  x = exp(conv1d(concat({a, b}, "both"), {.filters = 4, .width = 2, .stride = 2}, "strided"));
  model->setOutput(dense(globalMaxPool(x, "global"), 2, true, "out"));
  return model;
}

/// A model whose output is a trunk node (per-position values) that a dangling activation also reads.
std::unique_ptr<Model> outputInTheTrunk() {
  auto model = std::make_unique<Model>("profile");
  Tensor x = model->input(30);
  x = relu(conv1d(x, {.filters = 3, .width = 5, .padding = Padding::Same}, "conv1"));
  Tensor profile = conv1d(x, {.filters = 2, .width = 3, .padding = Padding::Same}, "conv2");
  relu(profile, "unused");
  model->setOutput(profile);
  return model;
}

TEST(IncrementalMutagenesis, EqualsNaiveMutagenesisOnStridesDilationConcatAndTrunkOutputs) {
  for (auto build : {unusualGeometry, outputInTheTrunk}) {
    auto model = build();
    const Graph &graph = model->graph();
    SCOPED_TRACE(graph.name);
    Parameters parameters = Parameters::initialize(graph, 11);
    HostArray<float> input = randomOneHot(3, graph.inputNode().shape[1], 12);
    for (int64_t output : {int64_t{0}, int64_t{1}, int64_t{37}}) {
      if (output >= HostArray<float>::elementCount(graph.outputNode().shape))
        continue;
      Attributor attributor(graph, parameters, output, 8, 2);
      EXPECT_LE(testing::relativeError(attributor.incrementalMutagenesis(input).data,
                                       attributor.mutagenesis(input).cast<double>().data),
                1e-4)
          << "output " << output;
    }
  }
}

TEST(IncrementalMutagenesis, SequencesInSeveralBlocksAndOutputsOtherThanTheFirst) {
  // Blocks of 2 sequences (the compiled batch) for 5 sequences, the third output of CNN-local with 3 outputs.
  auto model = buildZooModel("cnn-local", {.outputs = 3});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 8);
  parameters.randomizeBatchNorm(graph, 9);
  HostArray<float> input = randomOneHot(5, graph.inputNode().shape[1], 10);
  Attributor attributor(graph, parameters, 2, 2, 1);
  EXPECT_LE(testing::relativeError(attributor.incrementalMutagenesis(input).data,
                                   attributor.mutagenesis(input).cast<double>().data),
            1e-4);
}

TEST(IncrementalMutagenesis, ConvWindowsAreTheFilterWidth) {
  // CNN-deep: a mutation changes 19 positions of the 19-wide first conv, 19 + 6 of the 7-wide second ('same'), and
  // the second conv is computed from the 19 changed columns of the first layer.
  auto model = buildZooModel("cnn-deep", {});
  const MutationWindowPlan plan = planMutationWindows(model->graph());
  auto node = [&](const std::string &name) {
    for (const Node &n : model->graph().nodes)
      if (n.name == name)
        return n.id;
    ADD_FAILURE() << name;
    return 0;
  };
  EXPECT_EQ(plan.width[node("conv1")], 19);
  EXPECT_EQ(plan.width[node("conv2")], 25);
  EXPECT_EQ(plan.start[node("conv1")][100], 100 - 9);
  ASSERT_GE(plan.segments.size(), 3u);
  EXPECT_TRUE(plan.segments[0].onHost);
  EXPECT_TRUE(plan.segments[2].fromChange);
  EXPECT_EQ(plan.segments[2].nodes.front(), node("conv2"));
  EXPECT_EQ(plan.width[node("act1")], 19);
  EXPECT_EQ(plan.frontier, std::vector<int>{node("pool4")});
}

TEST(IncrementalMutagenesis, OnlyConvolutionsOfStrideOneAreComputedFromTheChange) {
  // A strided conv has fewer outputs in its window than changed input columns: it stays a window program.
  auto model = unusualGeometry();
  const MutationWindowPlan plan = planMutationWindows(model->graph());
  std::map<std::string, const MutationWindowPlan::Segment *> byHead;
  for (const MutationWindowPlan::Segment &segment : plan.segments)
    byHead[model->graph().nodes.at(segment.nodes.front()).name] = &segment;
  ASSERT_TRUE(byHead.count("dilated") && byHead.count("dilated_again") && byHead.count("strided"));
  EXPECT_TRUE(byHead["dilated"]->onHost);
  EXPECT_TRUE(byHead["dilated_again"]->fromChange);
  EXPECT_FALSE(byHead["strided"]->fromChange);
  EXPECT_GT(byHead["strided"]->inputWidth, 0);
}

TEST(IncrementalMutagenesis, AModelReadingTheWholeSequenceFirstIsRefused) {
  Model model("rc_first");
  Tensor x = model.input(20);
  x = reverseComplement(x);
  x = conv1d(x, {.filters = 2, .width = 3}, "conv");
  model.setOutput(dense(flatten(x), 1, true, "out"));
  testing::expectError(
      [&] { planMutationWindows(model.graph()); },
      {"incremental mutagenesis needs every layer that reads the sequence to be position-local", "use naive mutagenesis"});
}

INSTANTIATE_TEST_SUITE_P(Zoo, IncrementalMutagenesisZooTest, ::testing::ValuesIn(testing::zooNames()),
                         testing::zooTestName);

} // namespace
} // namespace seqjit
