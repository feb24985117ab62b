// Interpretability AUROC / AUPR of attribution maps against the generating model's motif positions.
#include "stdlib/Interpretability.h"

#include "dsl/Error.h"
#include "runtime/Metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace seqjit {

std::vector<double> positionInformation(const float *model, int64_t length) {
  std::vector<double> information(static_cast<size_t>(length), 2.0);
  for (int64_t l = 0; l < length; ++l)
    for (int64_t b = 0; b < 4; ++b) {
      double p = model[b * length + l];
      information[l] += p * std::log2(p + 1e-10);
    }
  return information;
}

std::vector<float> groundTruthPositions(const float *model, int64_t length) {
  std::vector<float> positions;
  for (double information : positionInformation(model, length))
    positions.push_back(information > kGroundTruthInformation ? 1.0f : 0.0f);
  return positions;
}

namespace {

/// The mean score over motif positions over the mean positive score at the lowest-information positions.
double signalToNoise(const float *scores, const std::vector<double> &information) {
  const double background = *std::min_element(information.begin(), information.end());
  double signal = 0, noise = 0;
  int64_t signalCount = 0, noiseCount = 0;
  for (size_t l = 0; l < information.size(); ++l) {
    if (information[l] > kGroundTruthInformation) {
      signal += scores[l];
      ++signalCount;
    } else if (information[l] == background && scores[l] > 0) {
      noise += scores[l];
      ++noiseCount;
    }
  }
  if (signalCount == 0 || noiseCount == 0)
    return std::numeric_limits<double>::quiet_NaN();
  return (signal / static_cast<double>(signalCount)) / (noise / static_cast<double>(noiseCount));
}

/// The AUROC of each run of motif positions against the non-motif positions.
std::vector<double> instanceAurocs(std::span<const float> scores, const std::vector<float> &truth) {
  std::vector<double> result;
  std::vector<float> background;
  for (size_t l = 0; l < truth.size(); ++l)
    if (truth[l] == 0.0f)
      background.push_back(scores[l]);
  if (background.empty())
    return result;
  for (size_t l = 0; l < truth.size();) {
    if (truth[l] == 0.0f) {
      ++l;
      continue;
    }
    std::vector<float> values = background, labels(background.size(), 0.0f);
    for (; l < truth.size() && truth[l] != 0.0f; ++l) {
      values.push_back(scores[l]);
      labels.push_back(1.0f);
    }
    result.push_back(auroc(values, labels));
  }
  return result;
}

} // namespace

HostArray<float> positionScores(const HostArray<float> &map) {
  if (map.rank() != 3)
    throw Error(fmt::format("position scores need an (N, C, L) map, got rank {}", map.rank()));
  const int64_t channels = map.shape[1], length = map.shape[2];
  HostArray<float> scores({map.shape[0], length});
  for (int64_t n = 0; n < map.shape[0]; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t l = 0; l < length; ++l)
        scores.data[n * length + l] += map.data[(n * channels + c) * length + l];
  return scores;
}

InterpretabilityScores interpretability(const HostArray<float> &scores, const HostArray<float> &models) {
  if (scores.rank() != 2 || models.rank() != 3 || models.shape[1] != 4 || scores.shape[0] != models.shape[0] ||
      scores.shape[1] != models.shape[2])
    throw Error(fmt::format("interpretability: position scores ({}) and generating models ({}) do not match: "
                            "expected (N, L) and (N, 4, L)",
                            fmt::join(scores.shape, ", "), fmt::join(models.shape, ", ")));
  const int64_t sequences = scores.shape[0], length = scores.shape[1];
  InterpretabilityScores result;
  double aurocSum = 0, auprSum = 0;
  double snrSum = 0, localisationSum = 0;
  for (int64_t n = 0; n < sequences; ++n) {
    const float *model = models.data.data() + n * 4 * length;
    std::vector<float> truth = groundTruthPositions(model, length);
    std::span<const float> own(scores.data.data() + n * length, static_cast<size_t>(length));
    const double snr = signalToNoise(own.data(), positionInformation(model, length));
    result.snr.push_back(snr);
    if (std::isfinite(snr)) {
      snrSum += snr;
      ++result.snrScored;
    }
    for (double instance : instanceAurocs(own, truth)) {
      localisationSum += instance;
      ++result.motifInstances;
    }
    double motif = 0;
    for (float t : truth)
      motif += t;
    double roc = std::numeric_limits<double>::quiet_NaN(), pr = roc;
    if (motif > 0 && motif < static_cast<double>(length)) {
      roc = auroc(own, truth);
      pr = aupr(own, truth);
      aurocSum += roc;
      auprSum += pr;
      ++result.scored;
    }
    result.auroc.push_back(roc);
    result.aupr.push_back(pr);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  result.meanAuroc = result.scored > 0 ? aurocSum / static_cast<double>(result.scored) : nan;
  result.meanAupr = result.scored > 0 ? auprSum / static_cast<double>(result.scored) : nan;
  result.meanSnr = result.snrScored > 0 ? snrSum / static_cast<double>(result.snrScored) : nan;
  result.localisationAuroc =
      result.motifInstances > 0 ? localisationSum / static_cast<double>(result.motifInstances) : nan;
  return result;
}

} // namespace seqjit
