// Attribution maps from the compiled graph: saliency, gradient x input, SmoothGrad, integrated gradients, DeepSHAP
// and in-silico mutagenesis of one chosen output, for any model (eval mode: batch norm on running statistics).
#pragma once

#include "runtime/Compile.h"
#include "runtime/GradientPrograms.h"
#include "runtime/IncrementalMutagenesis.h"
#include "runtime/Lazy.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace seqjit {

/// SmoothGrad's samples: the mean saliency over `samples` copies of the input with N(0, sigma^2) noise added to every
/// element (sigma relative to the input's range, which is 1 for one-hot sequence). Noise of sample s of sequence n is
/// drawn from Random(seed, n * samples + s), so a map does not depend on the batch it was computed in.
struct SmoothGradOptions {
  int64_t samples = 25;
  double sigma = 0.1;
  uint64_t seed = 0;
  /// The index of the input's first sequence among all attributed: the noise of a sequence depends on its index,
  /// so that a set attributed in pieces gets the maps it gets whole.
  int64_t firstSequence = 0;
};

/// DeepSHAP's maps of a sequence: DeepLIFT's multipliers m_r against each of its references r, averaged.
struct DeepShapMaps {
  /// The mean over r of m_r * (x - r), element by element: summed over a sequence, f(x) - mean_r f(r).
  HostArray<float> contributions;
  /// hypothetical[n, b, l] = the mean over r of sum_c m_r[c, l] (e_b[c] - r[c, l]): what position l would contribute
  /// holding base b (Shrikumar's hypothetical contributions). For one-hot x, hypothetical * x puts each position's
  /// contribution on its own base.
  HostArray<float> hypothetical;
};

/// The compiled programs an attribution needs, for one model and its weights.
class Attributor {
public:
  /// Runs `batch` sequences at a time, split over `threads` threads (0: as seqjit::compile chooses) in chunks of
  /// ceil(batch / threads). Each program (forward pass, input gradient, DeepLIFT, mutation windows) is compiled on
  /// first use. `output` is
  /// the flat index, within one example's output, of the value to explain (the task for a (tasks) output). Throws
  /// seqjit::Error if `output` is out of range.
  Attributor(const Graph &graph, Parameters parameters, int64_t output, int64_t batch = 100, int threads = 0);

  /// d output / d input, (N, C, L) like `input`.
  HostArray<float> saliency(const HostArray<float> &input) const;
  /// saliency * input.
  HostArray<float> gradientTimesInput(const HostArray<float> &input) const;
  /// The mean saliency over noisy copies of the input.
  HostArray<float> smoothGrad(const HostArray<float> &input, const SmoothGradOptions &options) const;
  /// Integrated gradients (Sundararajan et al.) of each sequence against each of its references, averaged over the
  /// references: (x - r) * (1/steps) * sum_{k=1..steps} grad f(r + k/steps (x - r)). `references` is
  /// (N * R, C, L), the R references of sequence n at rows n*R .. n*R+R-1. Summed over every element, a sequence's map
  /// approaches f(x) - mean_r f(r) as steps grows (completeness).
  HostArray<float> integratedGradients(const HostArray<float> &input, const HostArray<float> &references,
                                       int64_t steps) const;
  /// DeepSHAP (Lundberg & Lee 2017): DeepLIFT with the rescale rule (compiler/DeepLiftRules.h) against each reference,
  /// averaged; `references` as for integratedGradients.
  DeepShapMaps deepShap(const HostArray<float> &input, const HostArray<float> &references) const;
  /// Naive in-silico mutagenesis of one-hot (N, 4, L) input: result[n, b, l] = f(x with base b at position l) -
  /// f(x), 0 at the sequence's own base; an all-zero (N) column has no own base, so all four are mutations.
  HostArray<float> mutagenesis(const HostArray<float> &input) const;
  /// The same map by incremental mutagenesis (runtime/IncrementalMutagenesis.h): each layer computed only on the
  /// positions a mutation changes. Throws seqjit::Error for a model in which a layer that reads the whole sequence at
  /// once (dense, flatten, a global pool, reverse complement) takes the input itself.
  HostArray<float> incrementalMutagenesis(const HostArray<float> &input) const;

  /// The explained output f of every sequence (N).
  HostArray<float> outputs(const HostArray<float> &input) const;

private:
  /// Runs `rows` rows in chunks of the compiled batch on the threads: compute(first row, row count) returns the chunk's
  /// results, C*L floats per row, each handed to consume(row, its C*L floats). `compute` runs concurrently; `consume`
  /// one chunk at a time, in row order.
  void inChunks(int64_t rows, const std::function<HostArray<float>(int64_t, int64_t)> &compute,
                const std::function<void(int64_t, const float *)> &consume) const;
  /// Gradients of `rows` inputs made by fill(row, destination of C*L floats), each handed to
  /// consume(row, gradient of C*L floats). `fill` is called concurrently (it must only write its destination).
  void gradients(int64_t rows, const std::function<void(int64_t, float *)> &fill,
                 const std::function<void(int64_t, const float *)> &consume) const;
  /// Which of ladder_ runs a chunk of `count` rows: the smallest batch that holds them.
  size_t rungFor(int64_t count) const;
  /// A batch of ladder_[rung] rows whose first `count` hold fill(first + i, row i).
  HostArray<float> chunkOf(size_t rung, int64_t first, int64_t count,
                           const std::function<void(int64_t, float *)> &fill) const;
  /// The seed selecting output_ for every row of a batch of `rows`.
  HostArray<float> seed(int64_t rows) const;

  Graph graph_;
  Parameters parameters_;
  int64_t output_;
  int threads_;
  int64_t batch_; ///< Sequences per call of the compiled programs.
  /// The batches the input gradient and DeepLIFT programs are compiled for, each on first use: batch_, then halving
  /// (rounded up) while at least 8. The last chunk of a call, or a call with fewer rows than batch_, runs on the
  /// smallest that holds it, so that it computes at most about twice its rows (20 DeepSHAP pairs are not padded to
  /// a batch of 50).
  std::vector<int64_t> ladder_;
  Lazy<CompiledModel> forward_;
  std::vector<std::unique_ptr<Lazy<CompiledInputGradient>>> gradients_; ///< one per rung of ladder_
  std::vector<std::unique_ptr<Lazy<CompiledDeepLift>>> deepLifts_;      ///< one per rung of ladder_
  Lazy<CompiledMutationWindows> mutationWindows_;
};

/// Gradient correction (Majdandzic et al. 2023): subtracts, at every position, the mean over the channels, so that
/// a map's off-simplex component (which a one-hot input cannot express) is removed. In place, (N, C, L).
void correctGradient(HostArray<float> &map);

} // namespace seqjit
