// The command-line options of every command that uses a trained model (attribute, evaluate, filters, predict,
// report): the model, its weights, how it was built, and the worker threads.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace seqjit {

struct TrainedModelArguments {
  std::string model;      ///< stdlib name or model file (.cpp)
  std::string weights;    ///< .npz
  std::string activation; ///< first-layer activation it was trained with ("" = the model's default)
  int64_t outputs = 0;    ///< its number of outputs (0 = the model's own, or the data's tasks)
  int threads = 0;        ///< 0 = all cores
};

/// Registers the model (positional, required), --weights (required), --activation and --threads (addThreadsOption)
/// on `command`, and --outputs when `withOutputs` (commands that take the outputs from the data's labels leave it
/// out).
void addTrainedModelOptions(CLI::App *command, TrainedModelArguments &args, bool withOutputs);

/// --threads N (1 to 1024) into `threads`: the threads compiled programs use, both those that run side by
/// side on chunks of a batch and the kernel threads that share a program's loop nests (runtime/core/ParallelFor.h).
void addThreadsOption(CLI::App *command, int &threads);

} // namespace seqjit
