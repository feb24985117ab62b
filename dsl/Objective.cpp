// Names and the command-line syntax of losses and priors.
#include "dsl/Objective.h"

#include "dsl/Error.h"

#include <fmt/format.h>

#include <charconv>

namespace seqjit {

std::string_view lossKindName(LossKind kind) {
  switch (kind) {
  case LossKind::BinaryCrossEntropy: return "bce";
  case LossKind::MeanSquaredError: return "mse";
  case LossKind::Poisson: return "poisson";
  }
  return "unknown";
}

LossKind parseLossKind(std::string_view name) {
  for (LossKind kind : {LossKind::BinaryCrossEntropy, LossKind::MeanSquaredError, LossKind::Poisson})
    if (lossKindName(kind) == name)
      return kind;
  throw Error(fmt::format("unknown loss '{}'; expected bce, mse or poisson", name));
}

namespace {

template <typename Number> Number parseNumber(std::string_view key, std::string_view text) {
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size())
    throw Error(fmt::format("--fourier-prior: '{}' needs a number, got '{}'", key, text));
  return value;
}

} // namespace

FourierPrior parseFourierPrior(std::string_view spec) {
  FourierPrior prior;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (item.empty())
      continue;
    if (item == "all") {
      prior.positivesOnly = false;
      continue;
    }
    size_t equals = item.find('=');
    if (equals == std::string_view::npos)
      throw Error(fmt::format("--fourier-prior: expected key=value or 'all', got '{}'", item));
    std::string_view key = item.substr(0, equals), value = item.substr(equals + 1);
    if (key == "T")
      prior.freqLimit = parseNumber<int64_t>(key, value);
    else if (key == "s")
      prior.softness = parseNumber<double>(key, value);
    else if (key == "sigma")
      prior.sigma = parseNumber<int64_t>(key, value);
    else if (key == "lambda")
      prior.weight = parseNumber<double>(key, value);
    else if (key == "outputs") {
      // A list of task indices separated by ':'.
      while (!value.empty()) {
        size_t colon = value.find(':');
        prior.outputs.push_back(parseNumber<int64_t>(key, value.substr(0, colon)));
        value = colon == std::string_view::npos ? std::string_view() : value.substr(colon + 1);
      }
    } else
      throw Error(fmt::format("--fourier-prior: unknown key '{}'; expected T, s, sigma, lambda, outputs or all", key));
  }
  if (prior.freqLimit < 0 || prior.sigma < 0 || prior.softness < 0)
    throw Error("--fourier-prior: T, s and sigma must not be negative");
  return prior;
}

} // namespace seqjit
