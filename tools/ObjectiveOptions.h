// The command-line options that define an Objective (--loss, --l2 and the priors and penalties), shared by the
// commands that compute or train on a loss.
#pragma once

#include "dsl/Objective.h"

#include <CLI/CLI.hpp>

#include <string>

namespace seqjit {

struct ObjectiveArguments {
  std::string loss = "bce";
  double l2 = 0.0;
  std::string fourierPrior;
  std::string smoothnessPrior;
  std::string sparsityPrior;
  std::string spectralNorm;
};

/// Registers --loss, --l2, --fourier-prior, --smoothness-prior, --sparsity-prior and --spectral-norm on `command`.
void addObjectiveOptions(CLI::App *command, ObjectiveArguments &arguments);

/// The Objective those options describe (without a label mask); throws seqjit::Error naming a bad option.
Objective buildObjective(const ObjectiveArguments &arguments);

/// " + L2 1e-06 + Fourier prior ...": the extra terms, for a command's first line.
std::string describeExtraTerms(const ObjectiveArguments &arguments);

} // namespace seqjit
