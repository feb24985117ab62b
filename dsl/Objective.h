// What a model is trained to minimise: a data loss plus optional weight penalties and attribution priors.
//
//   seqjit::Objective objective;                       // binary cross-entropy on the logits, mean over N x T
//   objective.l2 = 1e-6;                               // + 1e-6 * sum of squared conv and dense weights
//   objective.fourierPrior = seqjit::FourierPrior{};   // + Tseng et al.'s Fourier attribution prior (lambda = 1)
//   objective.sparsityPrior = seqjit::SparsityPrior{}; // + Erion et al.'s Gini prior on the same attributions
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
  /// Profile outputs (BPNet): -sum over the last axis of y log softmax(z), mean over the other axes. The
  /// multinomial coefficient is left out: it does not depend on the model.
  Multinomial,
};

/// What every attribution prior shares. The attribution track is a = sum over bases of |g * x| (B, L), g the
/// input gradient of the summed logits of `outputs` (empty: all), differentiated again in training (double
/// backprop). A prior is the mean of its per-example value over the positive examples (any label > 0, masked
/// labels excluded; 0 if there are none), or over all examples; it enters the loss as weight * prior.
struct AttributionPrior {
  double weight = 1.0;          ///< lambda
  bool positivesOnly = true;    ///< average over positive examples only, as Tseng et al.
  std::vector<int64_t> outputs; ///< tasks whose logits are summed before the input gradient; empty: all
};

/// Tseng et al.'s Fourier attribution prior. a is smoothed by a Gaussian (sd `sigma` positions, truncated at
/// 1 sigma, zero padding); m = |rfft(a)| is normalised by its sum (DC included; a zero row stays zero), DC is
/// dropped, and frequency i (0-based after the drop) gets weight 1 below `freqLimit` and
/// 1 / (1 + (i - freqLimit + 1)^softness) from it on. Per example: 1 - sum(w m).
struct FourierPrior : AttributionPrior {
  int64_t freqLimit = 150; ///< T: the paper uses 150 for 1000 bp
  double softness = 0.2;   ///< s
  int64_t sigma = 3;       ///< smoothing sd in positions; 0 disables smoothing
};

/// Erion et al.'s attribution priors, on the unsmoothed track a, as Tseng et al. compare them:
/// smoothness (total variation), per example sum over i of |a[i+1] - a[i]|; sparsity, per example 1 - Gini(a),
/// Gini(a) = sum over i, j of |a_i - a_j| / (2 L sum a) (0 for a zero row): Erion's -Gini plus a constant.
struct SmoothnessPrior : AttributionPrior {};
struct SparsityPrior : AttributionPrior {};

/// Yoshida & Miyato's spectral-norm penalty: (weight / 2) * sum over conv and dense weights W of sigma(W)^2,
/// W viewed as a matrix (out, in * width). sigma is estimated by `powerIterations` steps of power iteration
/// (v = W^T u / |W^T u|, u = W v / |W v|, sigma = u^T W v) from persistent vectors u, one per layer, that the
/// program takes and returns updated; u and v are constants to the gradient, as in PyTorch's spectral_norm.
struct SpectralNormPenalty {
  double weight = 1.0; ///< lambda
  int64_t powerIterations = 1;
};

struct Objective {
  LossKind loss = LossKind::BinaryCrossEntropy;
  std::vector<double> classWeights; ///< per task (multiplies its loss terms); empty: all 1
  /// Labels come with a mask of their shape (1 = observed, 0 = missing): the data loss is the mean over the
  /// observed entries (0 if none), and masked labels count as negatives for the priors.
  bool labelMask = false;
  double l2 = 0.0;                          ///< strength on every conv and dense weight: l2 * sum(w^2)
  std::map<std::string, double> l2PerLayer; ///< overrides `l2` for the named layers
  std::optional<FourierPrior> fourierPrior;
  std::optional<SmoothnessPrior> smoothnessPrior;
  std::optional<SparsityPrior> sparsityPrior;
  std::optional<SpectralNormPenalty> spectralNorm;
};

/// Throws seqjit::Error on terms that do not go together, whatever the model: a label mask or class weights with
/// the multinomial loss (its classes are the profile positions).
void checkObjective(const Objective &objective);

std::string_view lossKindName(LossKind kind);
/// "bce", "mse", "poisson" or "multinomial"; throws seqjit::Error naming the accepted names otherwise.
LossKind parseLossKind(std::string_view name);

/// Parses "T=150,s=0.2,sigma=3,lambda=1,all,outputs=0:2" (every key optional; "all" averages over all examples).
/// Throws seqjit::Error naming the bad key or value, and `option` (where the spec comes from: a command-line option,
/// a file), as the parsers below do.
FourierPrior parseFourierPrior(std::string_view option, std::string_view spec);
/// Parses "lambda=1,all,outputs=0:2" for the smoothness and sparsity priors.
AttributionPrior parseAttributionPrior(std::string_view option, std::string_view spec);
/// Parses "lambda=0.01,iterations=1".
SpectralNormPenalty parseSpectralNorm(std::string_view option, std::string_view spec);

/// Every term of `objective` with its settings, one word per term ("loss=bce l2=1e-06 fourier_prior=T=150,..."):
/// for logs and checkpoints.
std::string describeObjective(const Objective &objective);

} // namespace seqjit
