// seqjit models: lists the stdlib model zoo.
#include "stdlib/Models.h"
#include "tools/Commands.h"

#include <fmt/format.h>

namespace seqjit {

void addModelsCommand(CLI::App &app) {
  CLI::App *command = app.add_subcommand("models", "List the stdlib architectures with their parameter counts");
  command->callback([] {
    fmt::print("{:<16} {:>7} {:>7} {:>12}  {}\n", "name", "length", "outputs", "parameters", "description");
    for (const ModelEntry &entry : modelZoo()) {
      auto model = entry.build({});
      fmt::print("{:<16} {:>7} {:>7} {:>12}  {}\n", entry.name, entry.defaultLength, entry.defaultOutputs,
                 model->graph().trainableParameterCount(), entry.description);
    }
    fmt::print("\n(length: default input length in nucleotides; parameters: trainable scalars at that length. "
               "seqjit forward builds a model at its input's length; --activation and --outputs change the "
               "first-layer activation and the number of outputs)\n");
  });
}

} // namespace seqjit
