// The loss gradient a batch at a time: each batch's terms scaled by its share, the gradients summed.
#include "runtime/BatchedLossGradient.h"

#include "dsl/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace seqjit {
namespace {

/// What each batch's share of a term is counted in: how many examples, observed labels and positive examples of
/// each prior it holds.
struct BatchCounts {
  double examples = 0, observed = 0;
  std::array<double, 3> positives{}; ///< Fourier, smoothness, sparsity prior, as in kLossTermScales
};

/// The priors of `objective` in kLossTermScales order (null where absent).
std::array<const AttributionPrior *, 3> priorsOf(const Objective &objective) {
  auto pointer = [](const auto &prior) -> const AttributionPrior * { return prior ? &*prior : nullptr; };
  return {pointer(objective.fourierPrior), pointer(objective.smoothnessPrior), pointer(objective.sparsityPrior)};
}

/// Counts a batch as the loss program averages over it: observed labels are the mask's ones; an example is positive
/// when the sum of its observed labels is above 0 (the program's any-label-above-0 test).
BatchCounts countBatch(const Objective &objective, const HostArray<float> &labels, const HostArray<float> *mask) {
  BatchCounts counts;
  counts.examples = static_cast<double>(labels.shape[0]);
  int64_t perExample = labels.shape[0] == 0 ? 0 : labels.size() / labels.shape[0];
  double positives = 0;
  for (int64_t example = 0; example < labels.shape[0]; ++example) {
    double sum = 0;
    for (int64_t i = example * perExample; i < (example + 1) * perExample; ++i) {
      float observed = mask ? mask->data[i] : 1.0f;
      counts.observed += observed;
      sum += static_cast<double>(labels.data[i]) * observed;
    }
    positives += sum > 0;
  }
  std::array<const AttributionPrior *, 3> priors = priorsOf(objective);
  for (size_t k = 0; k < priors.size(); ++k)
    counts.positives[k] = priors[k] && !priors[k]->positivesOnly ? counts.examples : positives;
  return counts;
}

/// `part` / `whole`, 0 when the whole is 0 (the program's reciprocal(0) = 0: nothing to average, a term of 0).
double share(double part, double whole) { return whole > 0 ? part / whole : 0.0; }

} // namespace

BatchedLossGradient::BatchedLossGradient(const Graph &graph, const Objective &objective, int64_t count,
                                         const BatchedLossGradientOptions &options)
    : graph_(graph), objective_(objective), count_(count) {
  if (count < 1)
    throw Error(fmt::format("loss gradient of '{}': no examples to run on", graph.name));
  if (options.batchSize < 0)
    throw Error(fmt::format("loss gradient of '{}': the batch size must be positive (0 for all examples in one "
                            "batch), got {}",
                            graph.name, options.batchSize));
  batch_ = options.batchSize == 0 ? count : std::min(options.batchSize, count);
  ProgramOptions programOptions{
      .batch = batch_, .batchNormTraining = options.batchNormTraining, .scaledLossTerms = true};
  full_ = std::make_unique<CompiledLossGradient>(CompiledLossGradient::compile(graph, objective, programOptions));
  if (int64_t rest = count % batch_) {
    programOptions.batch = rest;
    rest_ = std::make_unique<CompiledLossGradient>(CompiledLossGradient::compile(graph, objective, programOptions));
  }
}

double BatchedLossGradient::compileSeconds() const {
  return full_->compileSeconds() + (rest_ ? rest_->compileSeconds() : 0.0);
}

LossGradients<float> BatchedLossGradient::run(const LossGradientData &data, const Parameters &parameters,
                                              const std::map<std::string, HostArray<float>> *powerVectors,
                                              const std::function<void(int64_t, int64_t)> &progress) const {
  if (!data.input || !data.labels)
    throw Error("a loss gradient needs its input and labels");
  if (objective_.labelMask != (data.mask != nullptr))
    throw Error(objective_.labelMask ? "this loss takes a label mask (objective.labelMask), but none was given"
                                     : "a label mask was given, but this loss was built without one");
  checkShape(
      data.input->shape(), batchedShape(count_, graph_.inputNode().shape),
      fmt::format("the input {} (the loss gradient was compiled for {} examples)", data.input->describe(), count_));
  std::vector<int64_t> labelShape = batchedShape(count_, graph_.outputNode().shape);
  checkShape(data.labels->shape(), labelShape, "the labels " + data.labels->describe());
  if (data.mask)
    checkShape(data.mask->shape(), labelShape, "the label mask " + data.mask->describe());

  // The wholes each batch's share is taken of; they need a pass over the labels only where a term averages over
  // observed labels or positive examples.
  std::array<const AttributionPrior *, 3> priors = priorsOf(objective_);
  bool countsLabels = data.mask || std::any_of(priors.begin(), priors.end(), [](const AttributionPrior *prior) {
                        return prior && prior->positivesOnly;
                      });
  BatchCounts total{.examples = static_cast<double>(count_)};
  total.positives.fill(total.examples); // without a mask or a positives-only prior, every share is of the examples
  if (countsLabels && batch_ < count_) {
    total = {};
    for (int64_t first = 0; first < count_; first += batch_) {
      int64_t size = std::min(batch_, count_ - first);
      HostArray<float> mask = data.mask ? readRowRange(*data.mask, first, size) : HostArray<float>();
      BatchCounts counts = countBatch(objective_, readRowRange(*data.labels, first, size), data.mask ? &mask : nullptr);
      total.examples += counts.examples;
      total.observed += counts.observed;
      for (size_t k = 0; k < priors.size(); ++k)
        total.positives[k] += counts.positives[k];
    }
  }

  LossGradients<float> out;
  for (const std::string &term : kLossTerms)
    out.terms[term] = 0.0;
  std::map<std::string, std::vector<double>> sums;
  for (int64_t first = 0; first < count_; first += batch_) {
    int64_t size = std::min(batch_, count_ - first);
    HostArray<float> input = readRowRange(*data.input, first, size);
    HostArray<float> labels = readRowRange(*data.labels, first, size);
    HostArray<float> mask = data.mask ? readRowRange(*data.mask, first, size) : HostArray<float>();
    std::vector<float> scales(kLossTermScales.size(), 1.0f);
    if (batch_ < count_) {
      BatchCounts counts = countBatch(objective_, labels, data.mask ? &mask : nullptr);
      scales[0] = static_cast<float>(data.mask ? share(counts.observed, total.observed)
                                               : share(counts.examples, total.examples));
      for (size_t k = 0; k < priors.size(); ++k)
        scales[1 + k] = static_cast<float>(share(counts.positives[k], total.positives[k]));
      scales.back() = first == 0 ? 1.0f : 0.0f;
    }
    const CompiledLossGradient &program = size == batch_ ? *full_ : *rest_;
    LossGradients<float> part =
        program.run(input, labels, parameters, {data.mask ? &mask : nullptr, powerVectors, &scales});

    // loss is the scaled sum already; the data loss and the priors are reported unscaled, the penalties whole.
    out.terms["loss"] += part.terms.at("loss");
    out.terms["data_loss"] += scales[0] * part.terms.at("data_loss");
    for (size_t k = 0; k < priors.size(); ++k)
      out.terms[kLossTerms[2 + k]] += scales[1 + k] * part.terms.at(kLossTerms[2 + k]);
    if (first == 0) {
      out.terms["l2_penalty"] = part.terms.at("l2_penalty");
      out.terms["spectral_penalty"] = part.terms.at("spectral_penalty");
      out.powerVectors = std::move(part.powerVectors);
    }
    for (auto &[name, gradient] : part.gradients) {
      std::vector<double> &sum = sums[name];
      sum.resize(gradient.data.size());
      for (size_t i = 0; i < sum.size(); ++i)
        sum[i] += gradient.data[i];
      if (first == 0)
        out.gradients[name] = std::move(gradient);
    }
    if (progress)
      progress(first + size, count_);
  }
  for (auto &[name, gradient] : out.gradients)
    std::transform(sums[name].begin(), sums[name].end(), gradient.data.begin(),
                   [](double v) { return static_cast<float>(v); });
  return out;
}

} // namespace seqjit
