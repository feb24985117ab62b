// What a model is trained to minimise: a data loss plus optional weight penalties and attribution priors.
//
//   seqjit::Objective objective;                       // binary cross-entropy on the logits, mean over N x T
//   objective.l2 = 1e-6;                               // + 1e-6 * sum of squared conv and dense weights
//   objective.fourierPrior = seqjit::FourierPrior{};   // + Tseng et al.'s Fourier attribution prior (lambda = 1)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seqjit {

enum class LossKind {
  BinaryCrossEntropy, ///< on logits: max(z, 0) - z y + log1p(exp(-|z|)), mean over every example and task
  MeanSquaredError,   ///< (z - y)^2, mean
  Poisson,            ///< PyTorch's PoissonNLLLoss(log_input=True): exp(z) - y z, mean
};

/// Tseng et al.'s Fourier attribution prior. With g the input gradient of the summed logits, a = sum over bases
/// of |g * x| is smoothed by a Gaussian (sd `sigma` positions, truncated at 1 sigma, zero padding); m = |rfft(a)|
/// is normalised by its sum (DC included; a zero row stays zero), DC is dropped, and frequency i (0-based after
/// the drop) gets weight 1 below `freqLimit` and 1 / (1 + (i - freqLimit + 1)^softness) from it on. The prior
/// is the mean of 1 - sum(w m) over positive examples (any label > 0; 0 if there are none), or over all.
struct FourierPrior {
  int64_t freqLimit = 150;   ///< T: the paper uses 150 for 1000 bp
  double softness = 0.2;     ///< s
  int64_t sigma = 3;         ///< smoothing sd in positions; 0 disables smoothing
  double weight = 1.0;       ///< lambda
  bool positivesOnly = true; ///< average over positive examples only, as the paper
  std::vector<int64_t> outputs; ///< tasks whose logits are summed before the input gradient; empty: all
};

struct Objective {
  LossKind loss = LossKind::BinaryCrossEntropy;
  std::vector<double> classWeights;         ///< per task (multiplies its loss terms); empty: all 1
  double l2 = 0.0;                          ///< strength on every conv and dense weight: l2 * sum(w^2)
  std::map<std::string, double> l2PerLayer; ///< overrides `l2` for the named layers
  std::optional<FourierPrior> fourierPrior;
};

std::string_view lossKindName(LossKind kind);
/// "bce", "mse" or "poisson"; throws seqjit::Error naming the accepted names otherwise.
LossKind parseLossKind(std::string_view name);

/// Parses "T=150,s=0.2,sigma=3,lambda=1,all,outputs=0:2" (every key optional; "all" averages over all examples).
/// Throws seqjit::Error naming the bad key or value.
FourierPrior parseFourierPrior(std::string_view spec);

} // namespace seqjit
