// The Fourier prior's smoothing kernel and frequency weights: see the header.
#include "dsl/FourierPriorTerms.h"

#include <cmath>

namespace seqjit {

std::vector<double> fourierSmoothingKernel(int64_t sigma) {
  if (sigma <= 0)
    return {};
  std::vector<double> kernel(2 * sigma + 1);
  double total = 0.0;
  for (int64_t i = 0; i < static_cast<int64_t>(kernel.size()); ++i) {
    double x = static_cast<double>(i - sigma) / static_cast<double>(sigma);
    total += kernel[i] = std::exp(-0.5 * x * x);
  }
  for (double &tap : kernel)
    tap /= total;
  return kernel;
}

double fourierFrequencyWeight(int64_t k, int64_t freqLimit, double softness) {
  if (k <= 0)
    return 0.0;
  if (k <= freqLimit)
    return 1.0;
  return 1.0 / (1.0 + std::pow(static_cast<double>(k - freqLimit), softness));
}

} // namespace seqjit
