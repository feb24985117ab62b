// A compiled forward pass over a whole dataset, read in chunks so that data larger than memory is evaluated, and
// the loss and metrics of its outputs.
#pragma once

#include "dsl/Objective.h"
#include "runtime/Compile.h"
#include "runtime/Dataset.h"

#include <functional>
#include <map>
#include <string>

namespace seqjit {

/// The model's outputs and the labels for every example of `data`, in order.
struct DatasetOutputs {
  HostArray<float> outputs;
  HostArray<float> labels;
};

/// Runs `model` (eval mode) over `data` in chunks of a few thousand sequences, handing each chunk's examples and
/// outputs to `consume` in order (memory of one chunk, whatever the size of the data).
void forwardInChunks(const CompiledModel &model, const Dataset &data, const Parameters &parameters,
                     const std::function<void(int64_t first, Examples &examples, HostArray<float> &outputs)> &consume);

/// Every example's outputs and labels, by forwardInChunks; `progress` (if given) is told the examples done and their
/// number after each chunk.
DatasetOutputs forwardDataset(const CompiledModel &model, const Dataset &data, const Parameters &parameters,
                              const std::function<void(int64_t done, int64_t total)> &progress = {});

/// "loss" (the data loss under `loss`) and, for (N, tasks) outputs, the task means of evaluateTasks' metrics on
/// the outputs' predictions.
std::map<std::string, double> lossAndMetrics(const DatasetOutputs &result, LossKind loss);

} // namespace seqjit
