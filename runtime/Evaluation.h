// A compiled forward pass over a whole dataset, read in chunks so that data larger than memory is evaluated, and
// the loss and metrics of its outputs.
#pragma once

#include "dsl/Objective.h"
#include "runtime/Compile.h"
#include "runtime/Dataset.h"

#include <map>
#include <string>

namespace seqjit {

/// The model's outputs and the labels for every example of `data`, in order.
struct DatasetOutputs {
  HostArray<float> outputs;
  HostArray<float> labels;
};

/// Runs `model` (eval mode) over `data` in chunks of a few thousand sequences.
DatasetOutputs forwardDataset(const CompiledModel &model, const Dataset &data, const Parameters &parameters);

/// "loss" (the data loss under `loss`) and, for (N, tasks) outputs, the task means of evaluateTasks' metrics on
/// the outputs' predictions.
std::map<std::string, double> lossAndMetrics(const DatasetOutputs &result, LossKind loss);

} // namespace seqjit
