// The kernel threads (runtime/core/ParallelFor.h) and the buffer copies compiled programs import
// (runtime/core/BufferCopies.h): every iteration runs once whatever the pool's size, a copy equals an element-by-element
// one, and a compiled train-step gradient gives the same bits on one thread as on several, having split its nests.
#include "runtime/GradientPrograms.h"
#include "runtime/OneHot.h"
#include "runtime/ParallelChunks.h"
#include "runtime/core/BufferCopies.h"
#include "runtime/core/ParallelFor.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

namespace seqjit {
namespace {

/// Restores the pool's size when a test ends.
struct KernelThreadsFor {
  int saved = kernelThreads();
  explicit KernelThreadsFor(int threads) { setKernelThreads(threads); }
  ~KernelThreadsFor() { setKernelThreads(saved); }
};

struct Visits {
  int64_t begin, step;
  std::vector<std::atomic<int>> counts;
  std::atomic<int> misaligned{0}, calls{0};
  Visits(int64_t begin, int64_t end, int64_t step) : begin(begin), step(step), counts(end - begin) {}
};

void visit(void *context, int64_t first, int64_t last) {
  auto *visits = static_cast<Visits *>(context);
  ++visits->calls;
  if ((first - visits->begin) % visits->step != 0)
    ++visits->misaligned;
  for (int64_t i = first; i < last; i += visits->step)
    ++visits->counts[i - visits->begin];
}

TEST(KernelThreads, RunEveryIterationOnceWhateverThePoolsSize) {
  for (int threads : {1, 2, 3, 5}) {
    KernelThreadsFor pool(threads);
    EXPECT_EQ(kernelThreads(), threads);
    for (auto [begin, end, step] : {std::array<int64_t, 3>{0, 48, 4}, {3, 103, 7}, {-5, 6, 1}, {0, 1, 1}, {0, 2, 1},
                                    {10, 13, 4}, {0, 1000, 3}}) {
      Visits visits(begin, end, step);
      seqjit_parallel_for(visit, &visits, begin, end, step);
      for (int64_t i = begin; i < end; ++i)
        EXPECT_EQ(visits.counts[i - begin], (i - begin) % step == 0 ? 1 : 0)
            << threads << " threads, " << begin << ".." << end << " step " << step << ", iteration " << i;
      EXPECT_EQ(visits.misaligned, 0);
      EXPECT_LE(visits.calls, threads);
    }
  }
}

TEST(KernelThreads, SplitALoopAcrossThePoolAndNotInsideSerialKernels) {
  KernelThreadsFor pool(2);
  Visits visits(0, 100, 1);
  uint64_t before = parallelNestsDispatched();
  seqjit_parallel_for(visit, &visits, 0, 100, 1);
  EXPECT_EQ(visits.calls, 2);
  EXPECT_EQ(parallelNestsDispatched(), before + 1);
  {
    SerialKernels serial;
    Visits alone(0, 100, 1);
    seqjit_parallel_for(visit, &alone, 0, 100, 1);
    EXPECT_EQ(alone.calls, 1);
  }
  EXPECT_EQ(parallelNestsDispatched(), before + 1);
}

TEST(KernelThreads, CallersOnSeveralThreadsEachGetTheirLoopsDone) {
  KernelThreadsFor pool(2);
  std::vector<std::unique_ptr<Visits>> visits;
  for (int t = 0; t < 4; ++t)
    visits.push_back(std::make_unique<Visits>(0, 5000, 1));
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      for (int repeat = 0; repeat < 50; ++repeat)
        seqjit_parallel_for(visit, visits[t].get(), 0, 5000, 1);
    });
  for (std::thread &caller : callers)
    caller.join();
  for (const auto &v : visits)
    for (const std::atomic<int> &count : v->counts)
      ASSERT_EQ(count, 50);
}

/// A rank-3 MLIR descriptor {allocated, aligned, offset, sizes[3], strides[3]}.
struct Descriptor3 {
  float *allocated, *aligned;
  int64_t offset, sizes[3], strides[3];
};

void expectCopyEqualsElementByElement(const std::array<int64_t, 3> &sizes, const std::array<int64_t, 3> &sourceStrides,
                                      int64_t sourceOffset, const std::array<int64_t, 3> &targetStrides,
                                      int64_t targetOffset) {
  auto span = [&](const std::array<int64_t, 3> &strides, int64_t offset) {
    int64_t last = offset;
    for (int d = 0; d < 3; ++d)
      last += (sizes[d] - 1) * strides[d];
    return static_cast<size_t>(last + 1);
  };
  std::vector<float> source(span(sourceStrides, sourceOffset));
  std::iota(source.begin(), source.end(), 1.0f);
  std::vector<float> target(span(targetStrides, targetOffset), -1.0f), expected = target;
  for (int64_t i = 0; i < sizes[0]; ++i)
    for (int64_t j = 0; j < sizes[1]; ++j)
      for (int64_t k = 0; k < sizes[2]; ++k)
        expected[targetOffset + i * targetStrides[0] + j * targetStrides[1] + k * targetStrides[2]] =
            source[sourceOffset + i * sourceStrides[0] + j * sourceStrides[1] + k * sourceStrides[2]];
  Descriptor3 from{source.data(), source.data(), sourceOffset, {sizes[0], sizes[1], sizes[2]},
                   {sourceStrides[0], sourceStrides[1], sourceStrides[2]}};
  Descriptor3 to{target.data(), target.data(), targetOffset, {sizes[0], sizes[1], sizes[2]},
                 {targetStrides[0], targetStrides[1], targetStrides[2]}};
  UnrankedDescriptor unrankedFrom{3, &from}, unrankedTo{3, &to};
  seqjit_memref_copy(sizeof(float), &unrankedFrom, &unrankedTo);
  EXPECT_EQ(target, expected);
}

TEST(BufferCopies, AStridedCopyEqualsAnElementByElementOne) {
  for (int threads : {1, 3}) {
    KernelThreadsFor pool(threads);
    // A batch of sequences into the middle of their padded buffer (rows of 200 of 206), small and large (> 1 MiB).
    expectCopyEqualsElementByElement({4, 8, 200}, {1600, 200, 1}, 0, {1648, 206, 1}, 3);
    expectCopyEqualsElementByElement({100, 32, 200}, {6400, 200, 1}, 0, {6592, 206, 1}, 3);
    // Contiguous on both sides; a dimension of one; a transposing copy (no contiguous row at all).
    expectCopyEqualsElementByElement({3, 5, 7}, {35, 7, 1}, 2, {35, 7, 1}, 0);
    expectCopyEqualsElementByElement({3, 1, 7}, {7, 99, 1}, 0, {10, 1, 1}, 1);
    expectCopyEqualsElementByElement({50, 60, 70}, {1, 50, 3000}, 0, {4200, 70, 1}, 0);
    expectCopyEqualsElementByElement({2, 0, 3}, {0, 3, 1}, 0, {0, 3, 1}, 0);
  }
}

TEST(BufferCopies, ALargeContiguousCopyEqualsMemcpy) {
  KernelThreadsFor pool(3);
  for (int64_t bytes : {int64_t{0}, int64_t{100}, kParallelCopyBytes, 5 * kParallelCopyBytes + 13}) {
    std::vector<char> source(static_cast<size_t>(bytes)), target(source.size() + 8, 'x');
    for (size_t i = 0; i < source.size(); ++i)
      source[i] = static_cast<char>(i * 7 + 1);
    seqjit_copy_bytes(target.data() + 4, source.data(), bytes);
    EXPECT_EQ(std::memcmp(target.data() + 4, source.data(), source.size()), 0) << bytes;
    EXPECT_EQ(std::string(target.data(), 4), "xxxx");
    EXPECT_EQ(std::string(target.data() + 4 + bytes, 4), "xxxx");
  }
}

// Every iteration of a parallel nest writes its own outputs, so the split cannot change a bit: a loss gradient with
// batch norm on batch statistics and the Fourier prior (forward, backward and double backward) on 1 and 3 threads.
TEST(KernelThreads, AGradientHasTheSameBitsOnOneThreadAsOnSeveral) {
  auto model = buildZooModel("cnn-dist", {});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 7);
  Objective objective;
  objective.fourierPrior = parseFourierPrior("--fourier-prior", "T=20,s=0.2,sigma=3,lambda=0.5");
  const int64_t batch = 16;
  HostArray<float> input = randomOneHot(batch, graph.inputNode().shape[1], 3);
  HostArray<float> labels(batchedShape(batch, graph.outputNode().shape));
  for (size_t i = 0; i < labels.data.size(); i += 3)
    labels.data[i] = 1.0f;
  auto compiled = CompiledLossGradient::compile(graph, objective, {.batch = batch});
  auto gradientsOn = [&](int threads) {
    KernelThreadsFor pool(threads);
    return compiled.run(input, labels, parameters);
  };
  LossGradients<float> one = gradientsOn(1);
  uint64_t before = parallelNestsDispatched();
  LossGradients<float> three = gradientsOn(3);
  EXPECT_GT(parallelNestsDispatched(), before + 10) << "the program split few of its loop nests across threads";
  EXPECT_EQ(one.terms, three.terms);
  for (const auto &[name, gradient] : one.gradients)
    EXPECT_EQ(gradient.data, three.gradients.at(name).data) << name;
}

} // namespace
} // namespace seqjit
