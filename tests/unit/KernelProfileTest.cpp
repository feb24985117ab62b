// The kernel profile: a program compiled for it computes what the plain one does, bit for bit, and times every loop
// nest of every call; its counts of floating-point operations and bytes agree with what the layers do, worked out
// here from their shapes; its descriptors survive the trip through the program; the table shows every nest.
#include "runtime/core/KernelProfile.h"
#include "ExpectError.h"
#include "runtime/Compile.h"
#include "runtime/OneHot.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>

namespace seqjit {
namespace {

TEST(KernelProfile, TimesEveryNestAndCountsWhatTheFirstConvolutionDoes) {
  auto model = buildZooModel("cnn-dist", {});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 7);
  parameters.randomizeBatchNorm(graph, 11);
  const int64_t batch = 4, length = graph.inputNode().shape[1];
  HostArray<float> input = randomOneHot(batch, length, 3);
  HostArray<float> plain = compile(graph, {.batch = batch, .threads = 1}).forward(input, parameters);

  enableKernelProfile();
  CompiledModel timed = compile(graph, {.batch = batch, .threads = 1});
  resetKernelProfile();
  const int calls = 3;
  for (int call = 0; call < calls; ++call)
    EXPECT_EQ(timed.forward(input, parameters).data, plain.data); // the same code, timed

  std::vector<KernelTime> times = kernelTimes();
  double entrySeconds = 0, nestSeconds = 0, conv1Flops = 0, conv1Bytes = 0;
  int entries = 0, nests = 0;
  for (const KernelTime &time : times) {
    EXPECT_EQ(time.calls, static_cast<uint64_t>(calls)) << time.cost.function << " #" << time.cost.nest;
    if (time.cost.nest < 0) {
      ++entries;
      entrySeconds += time.seconds;
      continue;
    }
    ++nests;
    nestSeconds += time.seconds;
    EXPECT_FALSE(time.cost.layers.empty()) << "nest #" << time.cost.nest << " names no layer";
    if (time.cost.kind == "kernel" && time.cost.layers.rfind("conv1", 0) == 0) {
      conv1Flops += time.cost.flops;
      conv1Bytes = std::max(conv1Bytes, time.cost.bytes);
    }
  }
  EXPECT_EQ(entries, 1);
  EXPECT_GT(nests, 10);
  EXPECT_LE(nestSeconds, entrySeconds); // the nests run inside the entry point's timed region

  // conv1: 24 filters of width 19 over 4 channels, 'same' padding: 24 x 4 x 19 multiply-adds per output position.
  // Its kernels also apply batch norm and the activation to each of the 24 x L outputs (a few operations each). The
  // edge block along the positions may overlap the last whole block: fewer than one block of positions (two vectors,
  // at most 2 x 16 lanes) per row computed twice.
  ASSERT_EQ(parameters.at("conv1.weight").shape, (std::vector<int64_t>{24, 4, 19}));
  const double outputs = static_cast<double>(batch) * 24 * static_cast<double>(length);
  const double multiplyAdds = outputs * 4 * 19;
  const double recomputed = static_cast<double>(batch) * 24 * 31;
  EXPECT_GE(conv1Flops, 2 * multiplyAdds);
  EXPECT_LE(conv1Flops, (2 * 4 * 19 + 8) * (outputs + recomputed));
  // It reads the (padded) input and the weights, and writes the outputs: at least their bytes.
  EXPECT_GE(conv1Bytes, 4.0 * (static_cast<double>(batch) * 4 * static_cast<double>(length) + 24 * 4 * 19 + outputs));

  std::string table = formatKernelProfile(times, FmaPeak{"AVX2", 256, 1, 100});
  EXPECT_NE(table.find(fmt::format("kernel profile: {} loop nests of 1 entry points", nests)), std::string::npos)
      << table;
  EXPECT_NE(table.find("forward #"), std::string::npos) << table;
  EXPECT_NE(table.find("kernel: conv1"), std::string::npos) << table;
}

TEST(KernelProfile, DescriptorsRoundTripAndMalformedOnesAreRefused) {
  KernelCost cost{"loss_gradient", 12, "kernel", "conv2.grad + bn2.grad", 1.5e9, 3.25e6};
  KernelCost back = decodeKernelCost(encodeKernelCost(cost));
  EXPECT_EQ(back.function, cost.function);
  EXPECT_EQ(back.nest, cost.nest);
  EXPECT_EQ(back.kind, cost.kind);
  EXPECT_EQ(back.layers, cost.layers);
  EXPECT_EQ(back.flops, cost.flops);
  EXPECT_EQ(back.bytes, cost.bytes);
  testing::expectError([] { decodeKernelCost("forward\t1\tkernel"); }, {"has 3 fields, not 6"});
  testing::expectError([] { decodeKernelCost("forward\tone\tkernel\tconv1\t1\t2"); }, {"malformed number"});
}

TEST(KernelProfile, HoldsANestOnTwoThreadsToTwiceOneThreadsPeak) {
  KernelTime nest{{"forward", 0, "kernel", "conv1", 50e9, 1e6}, 1, 1.0, {{2, 1.0}}};
  KernelTime entry{{"forward", -1, "", "", 50e9, 1e6}, 1, 1.0, {{1, 1.0}}};
  std::string table = formatKernelProfile({nest, entry}, FmaPeak{"AVX2", 256, 1, 100});
  EXPECT_NE(table.find("50.00   25.0%"), std::string::npos) << table; // 50 GFLOP/s of 2 x 100
}

} // namespace
} // namespace seqjit
