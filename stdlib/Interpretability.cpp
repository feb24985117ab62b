// Interpretability AUROC / AUPR of attribution maps against the generating model's motif positions.
#include "stdlib/Interpretability.h"

#include "dsl/Error.h"
#include "runtime/Metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace seqjit {

std::vector<float> groundTruthPositions(const float *model, int64_t length) {
  std::vector<float> positions(static_cast<size_t>(length), 0.0f);
  for (int64_t l = 0; l < length; ++l) {
    double information = 2.0;
    for (int64_t b = 0; b < 4; ++b) {
      double p = model[b * length + l];
      information += p * std::log2(p + 1e-10);
    }
    positions[l] = information > kGroundTruthInformation ? 1.0f : 0.0f;
  }
  return positions;
}

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
  for (int64_t n = 0; n < sequences; ++n) {
    std::vector<float> truth = groundTruthPositions(models.data.data() + n * 4 * length, length);
    double motif = 0;
    for (float t : truth)
      motif += t;
    double roc = std::numeric_limits<double>::quiet_NaN(), pr = roc;
    if (motif > 0 && motif < static_cast<double>(length)) {
      std::span<const float> own(scores.data.data() + n * length, static_cast<size_t>(length));
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
  return result;
}

} // namespace seqjit
