// The trained-model options, registered once for every command that takes them.
#include "tools/TrainedModelOptions.h"

namespace seqjit {

void addTrainedModelOptions(CLI::App *command, TrainedModelArguments &args, bool withOutputs) {
  command->add_option("model", args.model, "stdlib model name or model file (.cpp), as trained")->required();
  command->add_option("--weights", args.weights, "trained weights (.npz, e.g. a run's weights.npz)")->required();
  command->add_option("--activation", args.activation, "first-layer activation the model was trained with");
  if (withOutputs)
    command->add_option("--outputs", args.outputs, "number of outputs the model was trained with (default: its own)");
  command->add_option("--threads", args.threads, "worker threads (default: all)");
}

} // namespace seqjit
