// The papers' interpretability metrics of attribution maps against synthetic ground truth (Koo & Ploenzke 2021):
// per sequence, how well the positions' attribution scores separate the positions of embedded motifs from the
// background, as AUROC and AUPR.
#pragma once

#include "runtime/HostArray.h"

#include <vector>

namespace seqjit {

/// Information content, in bits, above which a position of a generating model counts as part of a motif (the
/// papers' 0.01).
inline constexpr double kGroundTruthInformation = 0.01;

/// 1 where the generating model's column carries information, log2(4) + sum_b p_b log2(p_b + 1e-10) >
/// kGroundTruthInformation, else 0, for a (4, L) model of probabilities (row-major). The result has L entries.
std::vector<float> groundTruthPositions(const float *model, int64_t length);

/// Per-position scores of an (N, 4, L) map: the sum over the bases (the papers sum gradient x input this way).
HostArray<float> positionScores(const HostArray<float> &map);

/// Interpretability AUROC and AUPR of every sequence: its position scores (N, L) against the ground-truth positions
/// of its generating model (N, 4, L). A sequence whose model has no motif position (or only motif positions) has
/// NaN for both, and is left out of the means.
struct InterpretabilityScores {
  std::vector<double> auroc, aupr;
  double meanAuroc = 0, meanAupr = 0;
  int64_t scored = 0; ///< Sequences with both classes of positions, over which the means are taken.
};
InterpretabilityScores interpretability(const HostArray<float> &scores, const HostArray<float> &models);

} // namespace seqjit
