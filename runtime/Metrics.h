// The evaluation metrics of the papers, per task: AUROC, AUPR (average precision), accuracy, Pearson and
// Spearman correlation, with scikit-learn's and scipy's definitions so that numbers compare with published ones.
#pragma once

#include "runtime/HostArray.h"

#include <map>
#include <span>
#include <string>
#include <vector>

namespace seqjit {

/// Area under the ROC curve of `scores` for binary `labels` (> 0.5 is positive): the probability that a random
/// positive scores above a random negative, ties counting one half (= sklearn's roc_auc_score). NaN when the
/// labels hold only one class.
double auroc(std::span<const float> scores, std::span<const float> labels);

/// Average precision, sum over distinct score thresholds of (recall increase) * precision, ties grouped
/// (= sklearn's average_precision_score). NaN without positives. The papers' code reports
/// sklearn.metrics.auc(recall, precision), a trapezoid under the precision-recall curve, which can read higher.
double aupr(std::span<const float> scores, std::span<const float> labels);

/// The fraction of examples with (score > 0.5) == (label > 0.5): scores are probabilities.
double accuracy(std::span<const float> scores, std::span<const float> labels);

/// Pearson's r; NaN when either side is constant.
double pearson(std::span<const float> x, std::span<const float> y);

/// Spearman's rho: Pearson's r of the ranks, ties given their average rank (= scipy.stats.spearmanr).
double spearman(std::span<const float> x, std::span<const float> y);

/// The names of evaluateTasks' metrics.
inline const std::vector<std::string> kMetricNames = {"auroc", "aupr", "accuracy", "pearson", "spearman"};

/// Every metric for every task of (N, T) probabilities and labels, plus the mean over the tasks where it is
/// defined (NaN if none): result[metric] = {per task..., mean}. The metrics are "auroc", "aupr", "accuracy",
/// "pearson" and "spearman". Throws seqjit::Error if the shapes differ or are not (N, T) / (N).
std::map<std::string, std::vector<double>> evaluateTasks(const HostArray<float> &probabilities,
                                                         const HostArray<float> &labels);

} // namespace seqjit
