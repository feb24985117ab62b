// The loss gradient of any number of examples, a batch at a time: the batches' gradients, each with its share of
// the examples as the scale of its terms, add up to the gradient of the whole set, so time grows linearly with the
// examples and memory stays that of one batch.
#pragma once

#include "runtime/ArrayRows.h"
#include "runtime/GradientPrograms.h"

#include <functional>
#include <memory>

namespace seqjit {

/// What `seqjit grad` and its callers run on by default: a batch whose activations of the stdlib models stay in the
/// caches of a core, yet large enough for every core to take part in each kernel.
inline constexpr int64_t kDefaultGradientBatch = 128;

/// The examples of a loss gradient, read a batch at a time: input (N, C, L), labels (N, outputs...), and with
/// objective.labelMask the labels' 0/1 mask.
struct LossGradientData {
  const ArrayRows *input = nullptr;
  const ArrayRows *labels = nullptr;
  const ArrayRows *mask = nullptr;
};

struct BatchedLossGradientOptions {
  /// Examples per batch; 0 or at least N: one batch of all of them. Batch norm in training mode normalises each
  /// batch with its own statistics, as training with that batch size does.
  int64_t batchSize = kDefaultGradientBatch;
  bool batchNormTraining = true;
};

class BatchedLossGradient {
public:
  /// Compiles the programs for `count` examples: one for full batches and, when the batch does not divide
  /// `count`, one for the rest. Throws seqjit::Error for a count below 1 or a negative batch size.
  BatchedLossGradient(const Graph &graph, const Objective &objective, int64_t count,
                      const BatchedLossGradientOptions &options);

  /// The loss terms (as one program on all the examples reports them), the gradients and the power vectors, over
  /// the `count` examples of `data`. The data loss and each prior are weighted means over the batches (by examples,
  /// observed labels or positive examples, as each averages), the penalties counted once. `progress` (if given) is
  /// told the examples done after each batch. Throws seqjit::Error for data of another count or shape, with the
  /// errors of CompiledLossGradient::run.
  LossGradients<float> run(const LossGradientData &data, const Parameters &parameters,
                           const std::map<std::string, HostArray<float>> *powerVectors,
                           const std::function<void(int64_t done, int64_t total)> &progress = {}) const;

  int64_t batchSize() const { return batch_; }
  int64_t count() const { return count_; }
  /// Seconds spent compiling the programs (compiling or loading them from the cache).
  double compileSeconds() const;

private:
  Graph graph_;
  Objective objective_;
  int64_t count_, batch_;
  std::unique_ptr<CompiledLossGradient> full_, rest_;
};

} // namespace seqjit
