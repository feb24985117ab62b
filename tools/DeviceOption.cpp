// --device cpu|cuda, shared by every command that runs compiled programs.
#include "runtime/core/Device.h"
#include "tools/Commands.h"

namespace seqjit {

void addDeviceOption(CLI::App &command) {
  command
      .add_option_function<std::string>(
          "--device", [](const std::string &name) { setDefaultDevice(parseDevice(name, "--device")); },
          "Where compiled programs run: cpu, or cuda (falls back to the CPU, saying why, without a usable GPU); "
          "default $SEQJIT_DEVICE, else cpu")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->trigger_on_parse();
}

} // namespace seqjit
