// The papers' metrics of attribution maps against synthetic ground truth (Koo & Ploenzke 2021 and the Koo lab):
// per sequence, how well the positions' attribution scores separate the positions of embedded motifs from the
// background (AUROC, AUPR), the signal-to-noise ratio of the scores, and whether each motif instance stands out.
#pragma once

#include "runtime/HostArray.h"

#include <vector>

namespace seqjit {

/// Information content, in bits, above which a position of a generating model counts as part of a motif (the
/// papers' 0.01).
inline constexpr double kGroundTruthInformation = 0.01;

/// Information content of each column of a (4, L) generating model, in bits: log2(4) + sum_b p_b log2(p_b + 1e-10).
std::vector<double> positionInformation(const float *model, int64_t length);

/// 1 where the generating model's column carries information, log2(4) + sum_b p_b log2(p_b + 1e-10) >
/// kGroundTruthInformation, else 0, for a (4, L) model of probabilities (row-major). The result has L entries.
std::vector<float> groundTruthPositions(const float *model, int64_t length);

/// Per-position scores of an (N, 4, L) map: the sum over the bases (the papers sum gradient x input this way).
HostArray<float> positionScores(const HostArray<float> &map);

/// The ground-truth metrics of every sequence: its position scores (N, L) against the ground-truth positions of its
/// generating model (N, 4, L).
/// - Interpretability AUROC and AUPR (Koo & Ploenzke): motif positions against all others. A sequence whose model has
///   no motif position (or only motif positions) has NaN for both, and is left out of the means.
/// - Attribution SNR (tfomics' signal_noise_stats, Koo lab): the mean score over motif positions divided by the mean
///   of the positive scores over background positions (those at the sequence's lowest information, i.e. uniform
///   columns); NaN without motif positions or positive background scores, left out of the mean.
/// - Motif localisation AUROC: for each motif instance (a maximal run of motif positions), the AUROC of its positions
///   against the sequence's non-motif positions, averaged over every instance of every sequence: whether each motif,
///   not only the motifs together, stands out of the background.
struct InterpretabilityScores {
  std::vector<double> auroc, aupr, snr;
  double meanAuroc = 0, meanAupr = 0, meanSnr = 0;
  int64_t scored = 0;    ///< Sequences with both classes of positions, over which the AUROC and AUPR means are taken.
  int64_t snrScored = 0; ///< Sequences with a finite SNR.
  double localisationAuroc = 0;
  int64_t motifInstances = 0;
};
InterpretabilityScores interpretability(const HostArray<float> &scores, const HostArray<float> &models);

} // namespace seqjit
