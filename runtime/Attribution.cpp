// Attribution maps on the compiled forward pass and input gradient, in chunks of the compiled batch.
#include "runtime/Attribution.h"

#include "dsl/Error.h"
#include "runtime/ParallelChunks.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>

namespace seqjit {

namespace {

int64_t perExample(const Shape &shape) { return HostArray<float>::elementCount(shape); }

/// The size of one example of (N, C, L) `input`.
int64_t rowSize(const HostArray<float> &input) { return input.shape[1] * input.shape[2]; }

/// `output` if it indexes one example's output of `graph`; checked before anything is compiled.
int64_t checkedOutput(const Graph &graph, int64_t output) {
  int64_t outputs = perExample(graph.outputNode().shape);
  if (output < 0 || output >= outputs)
    throw Error(fmt::format("model '{}': output {} to explain is out of range: an example has {} output value{} "
                            "(0 to {})",
                            graph.name, output, outputs, outputs == 1 ? "" : "s", outputs - 1));
  return output;
}

/// Sequences per call of the compiled programs: `batch` split over the threads, as compile() splits it.
int64_t chunkSize(int64_t batch, int threads) {
  if (batch <= 0)
    throw Error(fmt::format("attribution: batch must be positive, got {}", batch));
  const int64_t workers = std::min<int64_t>(threads, batch);
  return (batch + workers - 1) / workers;
}

/// The number of references per sequence: `references` must hold the same positive number for each.
int64_t referencesPerSequence(const Graph &graph, const HostArray<float> &input, const HostArray<float> &references,
                              const std::string &method) {
  checkInputShape(graph, input.shape, "attribution input");
  checkInputShape(graph, references.shape, method + " references");
  const int64_t sequences = input.shape[0];
  if (sequences == 0 || references.shape[0] % sequences != 0 || references.shape[0] == 0)
    throw Error(fmt::format("{}: {} references for {} sequences; expected the same positive number of references for "
                            "every sequence",
                            method, references.shape[0], sequences));
  return references.shape[0] / sequences;
}

/// batch, then halving (rounded up) while at least kSmallestRung rows.
std::vector<int64_t> batchLadder(int64_t batch) {
  constexpr int64_t kSmallestRung = 8;
  std::vector<int64_t> ladder{batch};
  while ((ladder.back() + 1) / 2 >= kSmallestRung)
    ladder.push_back((ladder.back() + 1) / 2);
  return ladder;
}

} // namespace

Attributor::Attributor(const Graph &graph, Parameters parameters, int64_t output, int64_t batch, int threads)
    : graph_(graph), parameters_(std::move(parameters)), output_(checkedOutput(graph, output)),
      threads_(programThreads(threads)), batch_(chunkSize(batch, threads_)), ladder_(batchLadder(batch_)),
      forward_([this, batch, threads] { return compile(graph_, {.batch = batch, .threads = threads}); }),
      mutationWindows_([this] { return CompiledMutationWindows::compile(graph_, batch_); }) {
  for (int64_t rows : ladder_) {
    gradients_.push_back(std::make_unique<Lazy<CompiledInputGradient>>([this, rows] {
      return CompiledInputGradient::compile(graph_, {.batch = rows, .float64 = false, .batchNormTraining = false});
    }));
    deepLifts_.push_back(std::make_unique<Lazy<CompiledDeepLift>>(
        [this, rows] { return CompiledDeepLift::compile(graph_, {.batch = rows}); }));
  }
}

size_t Attributor::rungFor(int64_t count) const {
  size_t rung = 0;
  while (rung + 1 < ladder_.size() && ladder_[rung + 1] >= count)
    ++rung;
  return rung;
}

HostArray<float> Attributor::seed(int64_t rows) const {
  const int64_t outputs = perExample(graph_.outputNode().shape);
  HostArray<float> seed(batchedShape(rows, graph_.outputNode().shape));
  for (int64_t n = 0; n < rows; ++n)
    seed.data[n * outputs + output_] = 1.0f;
  return seed;
}

HostArray<float> Attributor::chunkOf(size_t rung, int64_t first, int64_t count,
                                     const std::function<void(int64_t, float *)> &fill) const {
  HostArray<float> chunk(batchedShape(ladder_[rung], graph_.inputNode().shape));
  const int64_t row = chunk.size() / ladder_[rung];
  for (int64_t i = 0; i < count; ++i)
    fill(first + i, chunk.data.data() + i * row);
  return chunk;
}

void Attributor::inChunks(int64_t rows, const std::function<HostArray<float>(int64_t, int64_t)> &compute,
                          const std::function<void(int64_t, const float *)> &consume) const {
  const int64_t row = perExample(graph_.inputNode().shape);
  // Chunks run side by side; their results are handed over one chunk at a time and in order, since rows of
  // different chunks may add into the same sequence's map: the sums are then the same whatever the threads.
  std::mutex consumeMutex;
  std::condition_variable turn;
  int64_t nextToConsume = 0;
  runChunksInParallel((rows + batch_ - 1) / batch_, threads_, [&](int64_t index) {
    const int64_t first = index * batch_, count = std::min(batch_, rows - first);
    HostArray<float> results;
    std::exception_ptr failure; // A failed chunk still takes its turn, so that later chunks are not kept waiting.
    try {
      results = compute(first, count);
    } catch (...) {
      failure = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(consumeMutex);
    turn.wait(lock, [&] { return nextToConsume == index; });
    try {
      for (int64_t i = 0; i < count && !failure; ++i)
        consume(first + i, results.data.data() + i * row);
    } catch (...) {
      failure = std::current_exception();
    }
    ++nextToConsume;
    turn.notify_all();
    if (failure)
      std::rethrow_exception(failure);
  });
}

void Attributor::gradients(int64_t rows, const std::function<void(int64_t, float *)> &fill,
                           const std::function<void(int64_t, const float *)> &consume) const {
  inChunks(
      rows,
      [&](int64_t first, int64_t count) {
        const size_t rung = rungFor(count);
        return gradients_[rung]->get().run(chunkOf(rung, first, count, fill), seed(ladder_[rung]), parameters_);
      },
      consume);
}

HostArray<float> Attributor::saliency(const HostArray<float> &input) const {
  checkInputShape(graph_, input.shape, "attribution input");
  const int64_t row = rowSize(input);
  HostArray<float> result(input.shape);
  gradients(
      input.shape[0], [&](int64_t n, float *x) { std::copy_n(input.data.data() + n * row, row, x); },
      [&](int64_t n, const float *g) { std::copy_n(g, row, result.data.data() + n * row); });
  return result;
}

HostArray<float> Attributor::gradientTimesInput(const HostArray<float> &input) const {
  HostArray<float> result = saliency(input);
  for (int64_t i = 0; i < result.size(); ++i)
    result.data[i] *= input.data[i];
  return result;
}

HostArray<float> Attributor::smoothGrad(const HostArray<float> &input, const SmoothGradOptions &options) const {
  checkInputShape(graph_, input.shape, "attribution input");
  if (options.samples < 1 || !(options.sigma >= 0))
    throw Error(fmt::format("SmoothGrad: {} samples with noise sigma {}; expected at least 1 sample and sigma >= 0",
                            options.samples, options.sigma));
  const int64_t row = rowSize(input), samples = options.samples;
  HostArray<double> sums(input.shape); // many terms: accumulated in double, rounded once

  gradients(
      input.shape[0] * samples,
      [&](int64_t r, float *x) {
        const float *clean = input.data.data() + (r / samples) * row;
        Random noise(options.seed, static_cast<uint64_t>(options.firstSequence * samples + r));
        for (int64_t i = 0; i < row; ++i)
          x[i] = clean[i] + static_cast<float>(options.sigma) * noise.normal();
      },
      [&](int64_t r, const float *g) {
        double *sum = sums.data.data() + (r / samples) * row;
        for (int64_t i = 0; i < row; ++i)
          sum[i] += g[i];
      });
  HostArray<float> result(input.shape);
  for (int64_t i = 0; i < result.size(); ++i)
    result.data[i] = static_cast<float>(sums.data[i] / static_cast<double>(samples));
  return result;
}

HostArray<float> Attributor::integratedGradients(const HostArray<float> &input, const HostArray<float> &references,
                                                 int64_t steps) const {
  const int64_t perSequence = referencesPerSequence(graph_, input, references, "integrated gradients");
  if (steps < 1)
    throw Error(fmt::format("integrated gradients: {} steps; expected at least 1", steps));
  const int64_t sequences = input.shape[0], row = rowSize(input);
  HostArray<double> sums(input.shape); // many terms: accumulated in double, rounded once
  // Row (n * R + r) * steps + (k - 1) is the point k/steps of the way from reference r of sequence n to it.
  gradients(
      sequences * perSequence * steps,
      [&](int64_t i, float *x) {
        const int64_t pair = i / steps;
        const float alpha = static_cast<float>(i % steps + 1) / static_cast<float>(steps);
        const float *target = input.data.data() + (pair / perSequence) * row;
        const float *reference = references.data.data() + pair * row;
        for (int64_t j = 0; j < row; ++j)
          x[j] = reference[j] + alpha * (target[j] - reference[j]);
      },
      [&](int64_t i, const float *g) {
        const int64_t pair = i / steps;
        const float *target = input.data.data() + (pair / perSequence) * row;
        const float *reference = references.data.data() + pair * row;
        double *sum = sums.data.data() + (pair / perSequence) * row;
        for (int64_t j = 0; j < row; ++j)
          sum[j] += static_cast<double>(target[j] - reference[j]) * g[j];
      });
  HostArray<float> result(input.shape);
  for (int64_t i = 0; i < result.size(); ++i)
    result.data[i] = static_cast<float>(sums.data[i] / static_cast<double>(steps * perSequence));
  return result;
}

DeepShapMaps Attributor::deepShap(const HostArray<float> &input, const HostArray<float> &references) const {
  const int64_t perSequence = referencesPerSequence(graph_, input, references, "DeepSHAP");
  const int64_t row = rowSize(input), channels = input.shape[1], length = input.shape[2];
  // Many terms: accumulated in double, rounded once.
  HostArray<double> contributions(input.shape), hypothetical(input.shape);
  // Row i pairs sequence i / R with its reference i.
  auto copyRow = [&](const HostArray<float> &from, int64_t index, float *to) {
    std::copy_n(from.data.data() + index * row, row, to);
  };
  inChunks(
      references.shape[0],
      [&](int64_t first, int64_t count) {
        const size_t rung = rungFor(count);
        HostArray<float> x =
            chunkOf(rung, first, count, [&](int64_t i, float *to) { copyRow(input, i / perSequence, to); });
        HostArray<float> r = chunkOf(rung, first, count, [&](int64_t i, float *to) { copyRow(references, i, to); });
        return deepLifts_[rung]->get().run(x, r, seed(ladder_[rung]), parameters_).multipliers;
      },
      [&](int64_t i, const float *m) {
        const int64_t n = i / perSequence;
        const float *x = input.data.data() + n * row, *r = references.data.data() + i * row;
        double *contribution = contributions.data.data() + n * row, *hypothesis = hypothetical.data.data() + n * row;
        for (int64_t l = 0; l < length; ++l) {
          double fromReference = 0; // sum_c m[c, l] r[c, l]
          for (int64_t c = 0; c < channels; ++c) {
            const int64_t at = c * length + l;
            contribution[at] += static_cast<double>(m[at]) * (static_cast<double>(x[at]) - r[at]);
            fromReference += static_cast<double>(m[at]) * r[at];
          }
          for (int64_t c = 0; c < channels; ++c)
            hypothesis[c * length + l] += static_cast<double>(m[c * length + l]) - fromReference;
        }
      });
  DeepShapMaps maps{HostArray<float>(input.shape), HostArray<float>(input.shape)};
  for (int64_t i = 0; i < input.size(); ++i) {
    maps.contributions.data[i] = static_cast<float>(contributions.data[i] / static_cast<double>(perSequence));
    maps.hypothetical.data[i] = static_cast<float>(hypothetical.data[i] / static_cast<double>(perSequence));
  }
  return maps;
}

HostArray<float> Attributor::outputs(const HostArray<float> &input) const {
  checkInputShape(graph_, input.shape, "attribution input");
  HostArray<float> all = forward_.get().forward(input, parameters_);
  const int64_t outputs = perExample(graph_.outputNode().shape);
  HostArray<float> picked({input.shape[0]});
  for (int64_t n = 0; n < input.shape[0]; ++n)
    picked.data[n] = all.data[n * outputs + output_];
  return picked;
}

HostArray<float> Attributor::mutagenesis(const HostArray<float> &input) const {
  checkInputShape(graph_, input.shape, "mutagenesis input");
  if (input.shape[1] != 4)
    throw Error(fmt::format("mutagenesis needs one-hot DNA input (N, 4, L); model '{}' takes {} channels", graph_.name,
                            input.shape[1]));
  const int64_t length = input.shape[2], row = 4 * length;
  HostArray<float> wildType = outputs(input);
  HostArray<float> result(input.shape);
  // Mutants of one sequence at a time (at most 4L of them), each a copy with one column set to a base.
  for (int64_t n = 0; n < input.shape[0]; ++n) {
    const float *x = input.data.data() + n * row;
    std::vector<int64_t> slots; // b * L + l of each mutant, in order
    for (int64_t l = 0; l < length; ++l)
      for (int64_t b = 0; b < 4; ++b)
        if (x[b * length + l] != 1.0f)
          slots.push_back(b * length + l);
    HostArray<float> mutants({static_cast<int64_t>(slots.size()), 4, length});
    for (size_t m = 0; m < slots.size(); ++m) {
      float *y = mutants.data.data() + m * row;
      std::copy_n(x, row, y);
      int64_t l = slots[m] % length;
      for (int64_t b = 0; b < 4; ++b)
        y[b * length + l] = b * length + l == slots[m] ? 1.0f : 0.0f;
    }
    HostArray<float> mutated = outputs(mutants);
    for (size_t m = 0; m < slots.size(); ++m)
      result.data[n * row + slots[m]] = mutated.data[m] - wildType.data[n];
  }
  return result;
}

HostArray<float> Attributor::incrementalMutagenesis(const HostArray<float> &input) const {
  return mutationWindows_.get().run(input, parameters_, output_, threads_);
}

void correctGradient(HostArray<float> &map) {
  if (map.rank() != 3)
    throw Error("gradient correction needs an (N, C, L) map");
  const int64_t channels = map.shape[1], length = map.shape[2];
  for (int64_t n = 0; n < map.shape[0]; ++n)
    for (int64_t l = 0; l < length; ++l) {
      float *first = map.data.data() + n * channels * length + l;
      double mean = 0;
      for (int64_t c = 0; c < channels; ++c)
        mean += first[c * length];
      mean /= static_cast<double>(channels);
      for (int64_t c = 0; c < channels; ++c)
        first[c * length] -= static_cast<float>(mean);
    }
}

} // namespace seqjit
