// Host-side data losses in double, one loop per loss kind; the multinomial loss works on rows of the last axis.
#include "runtime/HostLosses.h"

#include "dsl/Error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

namespace seqjit {

namespace {

void checkSameShape(const HostArray<float> &outputs, const HostArray<float> &labels) {
  if (outputs.shape != labels.shape)
    throw Error(fmt::format("the labels have shape ({}) but the model's outputs ({})", fmt::join(labels.shape, ", "),
                            fmt::join(outputs.shape, ", ")));
}

int64_t lastAxis(const HostArray<float> &array) { return array.shape.empty() ? 1 : array.shape.back(); }

/// Calls visit(row offset) for every row of the last axis.
template <typename Visit> void forEachRow(const HostArray<float> &array, Visit visit) {
  int64_t width = lastAxis(array);
  for (int64_t offset = 0; offset < array.size(); offset += width)
    visit(offset, width);
}

/// log-sum-exp of one row, and the row's softmax into `probabilities`.
double softmaxRow(const float *z, int64_t width, float *probabilities) {
  double maximum = *std::max_element(z, z + width), sum = 0.0;
  for (int64_t i = 0; i < width; ++i)
    sum += std::exp(static_cast<double>(z[i]) - maximum);
  if (probabilities)
    for (int64_t i = 0; i < width; ++i)
      probabilities[i] = static_cast<float>(std::exp(static_cast<double>(z[i]) - maximum) / sum);
  return maximum + std::log(sum);
}

} // namespace

HostArray<float> outputPredictions(const HostArray<float> &outputs, LossKind loss) {
  HostArray<float> predictions = outputs;
  switch (loss) {
  case LossKind::BinaryCrossEntropy:
    for (float &value : predictions.data)
      value = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(value))));
    break;
  case LossKind::Poisson:
    for (float &value : predictions.data)
      value = std::exp(value);
    break;
  case LossKind::Multinomial:
    forEachRow(outputs, [&](int64_t offset, int64_t width) {
      softmaxRow(outputs.data.data() + offset, width, predictions.data.data() + offset);
    });
    break;
  case LossKind::MeanSquaredError:
    break;
  }
  return predictions;
}

double dataLoss(const HostArray<float> &outputs, const HostArray<float> &labels, LossKind loss) {
  checkSameShape(outputs, labels);
  double sum = 0.0;
  int64_t terms = outputs.size();
  if (loss == LossKind::Multinomial) {
    forEachRow(outputs, [&](int64_t offset, int64_t width) {
      double logSum = softmaxRow(outputs.data.data() + offset, width, nullptr);
      for (int64_t i = 0; i < width; ++i)
        sum -= labels.data[offset + i] * (outputs.data[offset + i] - logSum);
    });
    terms = outputs.size() / lastAxis(outputs);
  } else {
    for (int64_t i = 0; i < outputs.size(); ++i) {
      double z = outputs.data[i], y = labels.data[i];
      switch (loss) {
      case LossKind::BinaryCrossEntropy:
        sum += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));
        break;
      case LossKind::MeanSquaredError:
        sum += (z - y) * (z - y);
        break;
      case LossKind::Poisson:
        sum += std::exp(z) - y * z;
        break;
      case LossKind::Multinomial:
        break;
      }
    }
  }
  return terms == 0 ? 0.0 : sum / static_cast<double>(terms);
}

HostArray<float> dataLossGradient(const HostArray<float> &outputs, const HostArray<float> &labels, LossKind loss) {
  checkSameShape(outputs, labels);
  HostArray<float> predictions = outputPredictions(outputs, loss);
  HostArray<float> gradient(outputs.shape);
  if (loss == LossKind::Multinomial) {
    // d/dz of -sum y log softmax(z) is softmax(z) * sum(y) - y.
    forEachRow(outputs, [&](int64_t offset, int64_t width) {
      double total = 0.0;
      for (int64_t i = 0; i < width; ++i)
        total += labels.data[offset + i];
      for (int64_t i = 0; i < width; ++i)
        gradient.data[offset + i] = static_cast<float>(predictions.data[offset + i] * total - labels.data[offset + i]);
    });
    return gradient;
  }
  double scale = loss == LossKind::MeanSquaredError ? 2.0 : 1.0;
  for (int64_t i = 0; i < outputs.size(); ++i)
    gradient.data[i] = static_cast<float>(scale * (predictions.data[i] - labels.data[i]));
  return gradient;
}

} // namespace seqjit
