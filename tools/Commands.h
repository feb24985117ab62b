// The subcommands of the seqjit driver: each registers its options on the CLI11 app and runs when chosen.
#pragma once

#include <CLI/CLI.hpp>

namespace seqjit {

/// --device cpu|cuda on `command`: sets the device its compiled programs run on (runtime/core/Device.h).
void addDeviceOption(CLI::App &command);

/// seqjit models: the stdlib architectures with their default shapes and parameter counts.
void addModelsCommand(CLI::App &app);
/// seqjit forward: compiled inference on a .npy or HDF5 input, output written as .npy.
void addForwardCommand(CLI::App &app);
/// seqjit grad: gradients of a loss with its penalties and attribution priors for every trainable weight, as .npz.
void addGradCommand(CLI::App &app);
/// seqjit train: training with checkpoints, validation, early stopping and a JSON history.
void addTrainCommand(CLI::App &app);
/// seqjit evaluate: the loss and metrics of trained weights on a data split.
void addEvaluateCommand(CLI::App &app);
/// seqjit predict: a model's predictions for FASTA, BED, HDF5 or .npy sequences, as TSV or .npy.
void addPredictCommand(CLI::App &app);
/// seqjit attribute: attribution maps (saliency, gradient x input, SmoothGrad, integrated gradients, mutagenesis).
void addAttributeCommand(CLI::App &app);
/// seqjit filters: first-layer filters as motifs (activation-aligned PWMs) in MEME text.
void addFiltersCommand(CLI::App &app);
/// seqjit report: one HTML page about a trained model (metrics, filter logos and matches, attribution logos).
void addReportCommand(CLI::App &app);
/// seqjit cache: the compiled-program cache's place and size, and --clear.
void addCacheCommand(CLI::App &app);
/// seqjit generate-data: the papers' synthetic motif tasks (Task 1, Task 3) with their ground truth, as HDF5.
void addGenerateDataCommand(CLI::App &app);

} // namespace seqjit
