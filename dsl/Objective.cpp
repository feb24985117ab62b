// Names and the command-line syntax of losses and priors.
#include "dsl/Objective.h"

#include "dsl/Error.h"
#include "dsl/OptionSpec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>

namespace seqjit {

void checkObjective(const Objective &objective) {
  if (objective.loss != LossKind::Multinomial)
    return;
  if (objective.labelMask)
    throw Error("a label mask does not apply to the multinomial loss");
  if (!objective.classWeights.empty())
    throw Error("class weights do not apply to the multinomial loss (its classes are the profile positions)");
}

std::string_view lossKindName(LossKind kind) {
  switch (kind) {
  case LossKind::BinaryCrossEntropy:
    return "bce";
  case LossKind::MeanSquaredError:
    return "mse";
  case LossKind::Poisson:
    return "poisson";
  case LossKind::Multinomial:
    return "multinomial";
  }
  return "unknown";
}

LossKind parseLossKind(std::string_view name) {
  for (LossKind kind :
       {LossKind::BinaryCrossEntropy, LossKind::MeanSquaredError, LossKind::Poisson, LossKind::Multinomial})
    if (lossKindName(kind) == name)
      return kind;
  throw Error(fmt::format("unknown loss '{}'; expected bce, mse, poisson or multinomial", name));
}

namespace {

/// The keys every attribution prior has: lambda, all, outputs (task indices separated by ':').
bool parseCommonKey(std::string_view option, std::string_view key, std::string_view value, AttributionPrior &prior) {
  if (key == "all")
    prior.positivesOnly = false;
  else if (key == "lambda")
    prior.weight = parseNumber<double>(option, key, value);
  else if (key == "outputs")
    while (!value.empty()) {
      size_t colon = value.find(':');
      prior.outputs.push_back(parseNumber<int64_t>(option, key, value.substr(0, colon)));
      value = colon == std::string_view::npos ? std::string_view() : value.substr(colon + 1);
    }
  else
    return false;
  return true;
}

} // namespace

FourierPrior parseFourierPrior(std::string_view option, std::string_view spec) {
  FourierPrior prior;
  forEachOptionItem(option, spec, "T, s, sigma, lambda, outputs or all",
                    [&](std::string_view key, std::string_view value) {
                      if (key == "T")
                        prior.freqLimit = parseNumber<int64_t>(option, key, value);
                      else if (key == "s")
                        prior.softness = parseNumber<double>(option, key, value);
                      else if (key == "sigma")
                        prior.sigma = parseNumber<int64_t>(option, key, value);
                      else
                        return parseCommonKey(option, key, value, prior);
                      return true;
                    });
  if (prior.freqLimit < 0 || prior.sigma < 0 || prior.softness < 0)
    throw Error(fmt::format("{}: T, s and sigma must not be negative", option));
  return prior;
}

AttributionPrior parseAttributionPrior(std::string_view option, std::string_view spec) {
  AttributionPrior prior;
  forEachOptionItem(option, spec, "lambda, outputs or all", [&](std::string_view key, std::string_view value) {
    return parseCommonKey(option, key, value, prior);
  });
  return prior;
}

SpectralNormPenalty parseSpectralNorm(std::string_view option, std::string_view spec) {
  SpectralNormPenalty penalty;
  forEachOptionItem(option, spec, "lambda or iterations", [&](std::string_view key, std::string_view value) {
    if (key == "lambda")
      penalty.weight = parseNumber<double>(option, key, value);
    else if (key == "iterations")
      penalty.powerIterations = parseNumber<int64_t>(option, key, value);
    else
      return false;
    return true;
  });
  if (penalty.powerIterations < 1)
    throw Error(fmt::format("{}: iterations must be at least 1, got {}", option, penalty.powerIterations));
  return penalty;
}

namespace {

std::string describePrior(const AttributionPrior &prior) {
  std::string spec = fmt::format("lambda={}{}", prior.weight, prior.positivesOnly ? "" : ",all");
  for (size_t i = 0; i < prior.outputs.size(); ++i)
    spec += fmt::format("{}{}", i == 0 ? ",outputs=" : ":", prior.outputs[i]);
  return spec;
}

} // namespace

std::string describeObjective(const Objective &objective) {
  std::string text = fmt::format("loss={}", lossKindName(objective.loss));
  if (!objective.classWeights.empty())
    text += fmt::format(" class_weights={}", fmt::join(objective.classWeights, ":"));
  if (objective.labelMask)
    text += " mask";
  if (objective.l2 != 0.0)
    text += fmt::format(" l2={}", objective.l2);
  for (const auto &[layer, strength] : objective.l2PerLayer)
    text += fmt::format(" l2[{}]={}", layer, strength);
  if (const auto &prior = objective.fourierPrior)
    text += fmt::format(" fourier_prior=T={},s={},sigma={},{}", prior->freqLimit, prior->softness, prior->sigma,
                        describePrior(*prior));
  if (objective.smoothnessPrior)
    text += " smoothness_prior=" + describePrior(*objective.smoothnessPrior);
  if (objective.sparsityPrior)
    text += " sparsity_prior=" + describePrior(*objective.sparsityPrior);
  if (const auto &penalty = objective.spectralNorm)
    text += fmt::format(" spectral_norm=lambda={},iterations={}", penalty->weight, penalty->powerIterations);
  return text;
}

} // namespace seqjit
