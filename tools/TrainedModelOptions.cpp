// The trained-model options, registered once for every command that takes them.
#include "tools/TrainedModelOptions.h"

#include "runtime/core/ParallelFor.h"

namespace seqjit {

void addTrainedModelOptions(CLI::App *command, TrainedModelArguments &args, bool withOutputs) {
  command->add_option("model", args.model, "stdlib model name or model file (.cpp), as trained")->required();
  command->add_option("--weights", args.weights, "trained weights (.npz, e.g. a run's weights.npz)")->required();
  command->add_option("--activation", args.activation, "first-layer activation the model was trained with");
  if (withOutputs)
    command->add_option("--outputs", args.outputs, "number of outputs the model was trained with (default: its own)");
  addThreadsOption(command, args.threads);
}

void addThreadsOption(CLI::App *command, int &threads) {
  command->add_option("--threads", threads, "threads of the compiled programs (default: SEQJIT_NUM_THREADS, or all)")
      ->check(CLI::Range(1, 1024))
      ->each([](const std::string &value) { setKernelThreads(std::stoi(value)); });
}

} // namespace seqjit
