// The Fourier prior's fixed terms (Tseng et al. 2020): its smoothing kernel and its frequency weights, one
// definition for the reference kernel, the CPU decomposition and the GPU kernel of seq.fourier_score.
#pragma once

#include <cstdint>
#include <vector>

namespace seqjit {

/// The Gaussian of standard deviation `sigma` positions truncated at 1 sigma, normalised to sum 1: 2 sigma + 1
/// taps, symmetric. Empty for sigma 0 (no smoothing).
std::vector<double> fourierSmoothingKernel(int64_t sigma);

/// The weight of rfft frequency `k` (0 = DC): 0 for DC, 1 for 1 <= k <= freqLimit, 1 / (1 + (k - freqLimit)^softness)
/// above.
double fourierFrequencyWeight(int64_t k, int64_t freqLimit, double softness);

} // namespace seqjit
