// How consistent a model's attribution maps are across a population of sequences, without ground truth
// (Majdandzic et al. 2022, "Selecting deep neural networks that yield consistent attribution-based interpretations
// for genomics"; their code: github.com/crajesh6/acme). Both metrics first apply gradient correction (the mean over
// the bases is removed at each position) and normalise each sequence's map; larger values mean attributions that
// concentrate on fewer, recurring patterns.
#pragma once

#include "runtime/HostArray.h"

#include <cstdint>

namespace seqjit {

/// KLD k-mer consistency (their method 1).
struct KmerConsistencyOptions {
  int64_t k = 3;         ///< k-mer length
  double quantile = 0.9; ///< per sequence, positions whose attribution norm exceeds this quantile are kept
  int64_t extension = 2; ///< each run of kept positions is extended by this many positions to the right
};

/// Each (N, 4, L) map normalised to unit L2 norm; per sequence the positions whose attribution vector's norm exceeds
/// the `quantile` of that sequence's norms (linear interpolation, numpy's default), taken as runs of consecutive
/// positions, each run extended by `extension` positions to the right (clipped at the end), overlapping runs merged;
/// the k-mers of those stretches (at least k long) of the one-hot `sequences` (N, 4, L) counted together. The result
/// is the Kullback-Leibler divergence, in nats, of that k-mer distribution from the k-mer distribution of the whole
/// sequences. k-mers over a column that is not one-hot (N) are not counted. Throws seqjit::Error on mismatched shapes
/// or options out of range.
double kmerConsistency(const HostArray<float> &map, const HostArray<float> &sequences,
                       const KmerConsistencyOptions &options = {});

/// k-attr-mean consistency (their method 2).
struct VectorConsistencyOptions {
  int64_t window = 3;        ///< attribution vectors summed over this many consecutive positions
  double kept = 0.04;        ///< fraction of all positions whose summed vectors are kept, the longest
  double bin = 0.1;          ///< width, in radians, of the angle histogram's bins
  int64_t neighbourhood = 3; ///< the local prior averages the bins i-3 .. i+2 (and j alike)
};

/// Each map divided by the sum over positions of its attribution vectors' norms; at each position the sum of the
/// vectors at it and the next window - 1 positions (wrapping around the end, as their code's np.roll does), written
/// in an orthonormal basis of the plane the corrected vectors live in, (-1, 1, 0, 0)/sqrt 2, (-1, -1, 2, 0)/sqrt 6,
/// (-1, -1, -1, 3)/sqrt 12 (their code's second axis omits the G term, which makes it not orthogonal; here it is).
/// Of those at one-hot positions, the vectors longer than the (kept * N * L)-th longest of all are kept, as two
/// angles: the azimuth in the (e2, e3) plane halved into [0, pi] and the polar angle from the e1 axis. The
/// result is the relative entropy of their r^2-weighted histogram (bins of `bin` radians) against its own local
/// average over the neighbourhood, summed over the interior bins: a distribution concentrated in a few directions
/// scores high, a diffuse one low. Throws seqjit::Error on mismatched shapes or options out of range.
double attributionVectorConsistency(const HostArray<float> &map, const HostArray<float> &sequences,
                                    const VectorConsistencyOptions &options = {});

} // namespace seqjit
