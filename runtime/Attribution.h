// Attribution maps from the compiled graph: saliency, gradient x input, SmoothGrad, integrated gradients and
// in-silico mutagenesis of one chosen output, for any model (eval mode: batch norm on running statistics).
#pragma once

#include "runtime/Compile.h"
#include "runtime/GradientPrograms.h"

#include <cstdint>
#include <functional>

namespace seqjit {

/// SmoothGrad's samples: the mean saliency over `samples` copies of the input with N(0, sigma^2) noise added to every
/// element (sigma relative to the input's range, which is 1 for one-hot sequence). Noise of sample s of sequence n is
/// drawn from Random(seed, n * samples + s), so a map does not depend on the batch it was computed in.
struct SmoothGradOptions {
  int64_t samples = 25;
  double sigma = 0.1;
  uint64_t seed = 0;
};

/// The compiled programs an attribution needs, for one model and its weights.
class Attributor {
public:
  /// Compiles the forward pass and the input gradient for `batch` sequences at a time, split over `threads` threads
  /// (0: as seqjit::compile chooses) in chunks of ceil(batch / threads). `output` is the flat index, within one
  /// example's output, of the value to explain (the task for a (tasks) output). Throws seqjit::Error if `output` is out
  /// of range.
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
  /// Naive in-silico mutagenesis of one-hot (N, 4, L) input: result[n, b, l] = f(x with base b at position l) -
  /// f(x), 0 at the sequence's own base; an all-zero (N) column has no own base, so all four are mutations.
  HostArray<float> mutagenesis(const HostArray<float> &input) const;

  /// The explained output f of every sequence (N).
  HostArray<float> outputs(const HostArray<float> &input) const;

private:
  /// Gradients of `rows` inputs made by fill(row, destination of C*L floats), each handed to
  /// consume(row, gradient of C*L floats), run in chunks of the compiled batch on the threads. `fill` is called
  /// concurrently (it must only write its destination); `consume` one chunk at a time, in row order.
  void gradients(int64_t rows, const std::function<void(int64_t, float *)> &fill,
                 const std::function<void(int64_t, const float *)> &consume) const;

  Graph graph_;
  Parameters parameters_;
  int64_t output_;
  int threads_;
  int64_t batch_; ///< Sequences per call of the compiled input gradient.
  CompiledModel forward_;
  CompiledInputGradient gradient_;
};

/// Gradient correction (Majdandzic et al. 2023): subtracts, at every position, the mean over the channels, so that
/// a map's off-simplex component (which a one-hot input cannot express) is removed. In place, (N, C, L).
void correctGradient(HostArray<float> &map);

} // namespace seqjit
