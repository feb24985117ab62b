// Objective options: registration, parsing and a one-line summary.
#include "tools/ObjectiveOptions.h"

#include <fmt/format.h>

#include <utility>

namespace seqjit {

void addObjectiveOptions(CLI::App *command, ObjectiveArguments &arguments) {
  command->add_option("--loss", arguments.loss,
                      "bce (on logits), mse, poisson (log-rate outputs) or multinomial (profile counts, softmax over "
                      "the last output axis)");
  command->add_option("--l2", arguments.l2, "L2 strength on conv and dense weights: l2 * sum(w^2)");
  command->add_option("--fourier-prior", arguments.fourierPrior,
                      "Fourier attribution prior, e.g. T=150,s=0.2,sigma=3,lambda=1 (add ',all' to average over all "
                      "examples, ',outputs=0:3' to pick tasks)");
  command->add_option("--smoothness-prior", arguments.smoothnessPrior,
                      "total-variation attribution prior, e.g. lambda=0.1 (',all', ',outputs=0:3' as above)");
  command->add_option("--sparsity-prior", arguments.sparsityPrior,
                      "Gini attribution prior, e.g. lambda=0.1 (',all', ',outputs=0:3' as above)");
  command->add_option("--spectral-norm", arguments.spectralNorm,
                      "spectral-norm penalty (lambda/2) sum sigma(W)^2, e.g. lambda=0.01,iterations=1");
}

Objective buildObjective(const ObjectiveArguments &arguments) {
  Objective objective;
  objective.loss = parseLossKind(arguments.loss);
  objective.l2 = arguments.l2;
  if (!arguments.fourierPrior.empty())
    objective.fourierPrior = parseFourierPrior("--fourier-prior", arguments.fourierPrior);
  if (!arguments.smoothnessPrior.empty())
    objective.smoothnessPrior = SmoothnessPrior{parseAttributionPrior("--smoothness-prior", arguments.smoothnessPrior)};
  if (!arguments.sparsityPrior.empty())
    objective.sparsityPrior = SparsityPrior{parseAttributionPrior("--sparsity-prior", arguments.sparsityPrior)};
  if (!arguments.spectralNorm.empty())
    objective.spectralNorm = parseSpectralNorm("--spectral-norm", arguments.spectralNorm);
  checkObjective(objective);
  return objective;
}

std::string describeExtraTerms(const ObjectiveArguments &arguments) {
  std::string terms;
  for (const auto &[present, name] : {std::pair{arguments.l2 != 0.0, fmt::format("L2 {}", arguments.l2)},
                                      std::pair{!arguments.fourierPrior.empty(), std::string("Fourier prior")},
                                      std::pair{!arguments.smoothnessPrior.empty(), std::string("smoothness prior")},
                                      std::pair{!arguments.sparsityPrior.empty(), std::string("sparsity prior")},
                                      std::pair{!arguments.spectralNorm.empty(), std::string("spectral norm")}})
    if (present)
      terms += " + " + name;
  return terms;
}

} // namespace seqjit
