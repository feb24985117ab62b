// The subcommands of the seqjit driver: each registers its options on the CLI11 app and runs when chosen.
#pragma once

#include <CLI/CLI.hpp>

namespace seqjit {

/// seqjit models: the stdlib architectures with their default shapes and parameter counts.
void addModelsCommand(CLI::App &app);
/// seqjit forward: compiled inference on a .npy or HDF5 input, output written as .npy.
void addForwardCommand(CLI::App &app);
/// seqjit grad: gradients of a loss with its penalties and attribution priors for every trainable weight, as .npz.
void addGradCommand(CLI::App &app);

} // namespace seqjit
