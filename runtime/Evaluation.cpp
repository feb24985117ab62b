// Chunked forward passes over datasets and their summary values.
#include "runtime/Evaluation.h"

#include "runtime/HostLosses.h"
#include "runtime/Metrics.h"

#include <algorithm>

namespace seqjit {

namespace {

/// Sequences per chunk: bounds the memory a streamed dataset needs.
constexpr int64_t kChunk = 2048;

void append(HostArray<float> &all, const HostArray<float> &chunk) {
  if (all.shape.empty()) {
    all.shape = chunk.shape;
    all.shape[0] = 0;
  }
  all.shape[0] += chunk.shape[0];
  all.data.insert(all.data.end(), chunk.data.begin(), chunk.data.end());
}

} // namespace

void forwardInChunks(const CompiledModel &model, const Dataset &data, const Parameters &parameters,
                     const std::function<void(int64_t first, Examples &examples, HostArray<float> &outputs)> &consume) {
  for (int64_t begin = 0; begin < data.size(); begin += kChunk) {
    std::vector<int64_t> indices;
    for (int64_t i = begin; i < std::min(data.size(), begin + kChunk); ++i)
      indices.push_back(i);
    Examples examples = data.read(indices);
    HostArray<float> outputs = model.forward(examples.input, parameters);
    consume(begin, examples, outputs);
  }
}

DatasetOutputs forwardDataset(const CompiledModel &model, const Dataset &data, const Parameters &parameters,
                              const std::function<void(int64_t, int64_t)> &progress) {
  DatasetOutputs result;
  forwardInChunks(model, data, parameters, [&](int64_t first, Examples &examples, HostArray<float> &outputs) {
    append(result.outputs, outputs);
    append(result.labels, examples.labels);
    if (progress)
      progress(first + outputs.shape.at(0), data.size());
  });
  return result;
}

std::map<std::string, double> lossAndMetrics(const DatasetOutputs &result, LossKind loss) {
  std::map<std::string, double> values{{"loss", dataLoss(result.outputs, result.labels, loss)}};
  // The metrics are per task of (N, T) outputs; profile outputs (N, T, L) have the loss only.
  if (result.outputs.rank() <= 2)
    for (const auto &[metric, perTask] : evaluateTasks(outputPredictions(result.outputs, loss), result.labels))
      values[metric] = perTask.back();
  return values;
}

} // namespace seqjit
