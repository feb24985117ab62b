// Metrics by sorting once per task: ranks with ties averaged serve AUROC and Spearman; a descending sweep with
// ties grouped serves average precision.
#include "runtime/Metrics.h"

#include "dsl/Error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace seqjit {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool positive(float label) { return label > 0.5f; }

/// 1-based ranks of `values` in ascending order, tied values sharing their average rank.
std::vector<double> averageRanks(std::span<const float> values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t start = 0; start < order.size();) {
    size_t end = start;
    while (end < order.size() && values[order[end]] == values[order[start]])
      ++end;
    double rank = 0.5 * static_cast<double>(start + 1 + end); // the mean of start + 1 ... end
    for (size_t i = start; i < end; ++i)
      ranks[order[i]] = rank;
    start = end;
  }
  return ranks;
}

void checkSameSize(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size())
    throw Error(fmt::format("metric of {} scores against {} labels", a.size(), b.size()));
}

} // namespace

double auroc(std::span<const float> scores, std::span<const float> labels) {
  checkSameSize(scores, labels);
  std::vector<double> ranks = averageRanks(scores);
  double positives = 0, rankSum = 0;
  for (size_t i = 0; i < labels.size(); ++i)
    if (positive(labels[i])) {
      ++positives;
      rankSum += ranks[i];
    }
  double negatives = static_cast<double>(labels.size()) - positives;
  if (positives == 0 || negatives == 0)
    return kNaN;
  // Mann-Whitney: the positives' rank sum beyond the smallest possible one, over all positive-negative pairs.
  return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
}

double aupr(std::span<const float> scores, std::span<const float> labels) {
  checkSameSize(scores, labels);
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  double positives = static_cast<double>(std::count_if(labels.begin(), labels.end(), positive));
  if (positives == 0)
    return kNaN;
  double truePositives = 0, seen = 0, precisionSum = 0, previousRecall = 0;
  for (size_t start = 0; start < order.size();) {
    size_t end = start;
    for (; end < order.size() && scores[order[end]] == scores[order[start]]; ++end) {
      truePositives += positive(labels[order[end]]);
      ++seen;
    }
    double recall = truePositives / positives;
    precisionSum += (recall - previousRecall) * (truePositives / seen);
    previousRecall = recall;
    start = end;
  }
  return precisionSum;
}

double accuracy(std::span<const float> scores, std::span<const float> labels) {
  checkSameSize(scores, labels);
  if (scores.empty())
    return kNaN;
  size_t right = 0;
  for (size_t i = 0; i < scores.size(); ++i)
    right += (scores[i] > 0.5f) == positive(labels[i]);
  return static_cast<double>(right) / static_cast<double>(scores.size());
}

namespace {

double pearsonOf(std::span<const double> x, std::span<const double> y) {
  double n = static_cast<double>(x.size());
  if (x.size() < 2)
    return kNaN;
  double meanX = std::accumulate(x.begin(), x.end(), 0.0) / n, meanY = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double xy = 0, xx = 0, yy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    xy += (x[i] - meanX) * (y[i] - meanY);
    xx += (x[i] - meanX) * (x[i] - meanX);
    yy += (y[i] - meanY) * (y[i] - meanY);
  }
  if (xx == 0 || yy == 0)
    return kNaN;
  return xy / std::sqrt(xx * yy);
}

} // namespace

double pearson(std::span<const float> x, std::span<const float> y) {
  checkSameSize(x, y);
  std::vector<double> a(x.begin(), x.end()), b(y.begin(), y.end());
  return pearsonOf(a, b);
}

double spearman(std::span<const float> x, std::span<const float> y) {
  checkSameSize(x, y);
  std::vector<double> a = averageRanks(x), b = averageRanks(y);
  return pearsonOf(a, b);
}

std::map<std::string, std::vector<double>> evaluateTasks(const HostArray<float> &probabilities,
                                                         const HostArray<float> &labels) {
  if (probabilities.shape != labels.shape || probabilities.shape.empty() || probabilities.shape.size() > 2)
    throw Error(fmt::format("metrics need predictions and labels of one shape (N, tasks) or (N); got ({}) and ({})",
                            fmt::join(probabilities.shape, ", "), fmt::join(labels.shape, ", ")));
  int64_t examples = probabilities.shape[0], tasks = probabilities.shape.size() == 2 ? probabilities.shape[1] : 1;
  using Metric = double (*)(std::span<const float>, std::span<const float>);
  const std::vector<Metric> metrics = {auroc, aupr, accuracy, pearson, spearman}; // in kMetricNames' order
  std::map<std::string, std::vector<double>> result;
  std::vector<float> score(examples), label(examples);
  for (int64_t t = 0; t < tasks; ++t) {
    for (int64_t n = 0; n < examples; ++n) {
      score[n] = probabilities.data[n * tasks + t];
      label[n] = labels.data[n * tasks + t];
    }
    for (size_t m = 0; m < metrics.size(); ++m)
      result[kMetricNames[m]].push_back(metrics[m](score, label));
  }
  for (auto &[name, values] : result) {
    double sum = 0;
    int defined = 0;
    for (double v : values)
      if (!std::isnan(v)) {
        sum += v;
        ++defined;
      }
    values.push_back(defined ? sum / defined : kNaN);
  }
  return result;
}

} // namespace seqjit
