// seqjit: the command-line driver. Every user error ends as one clear line on stderr and exit status 1; every
// command that compiled programs ends by saying what compiling cost and what the cache served.
#include "compiler/ArtifactBuilder.h"
#include "compiler/FusionLevel.h"
#include "dsl/Error.h"
#include "runtime/core/KernelProfile.h"
#include "tools/Commands.h"

#include <fmt/format.h>

#include <exception>

int main(int argc, char **argv) {
  CLI::App app{"seqjit: compiled genomic CNNs (forward, gradients, training and attribution from one graph)"};
  app.require_subcommand(1);
  // The options below belong to every command, given before or after its name (commands inherit this setting).
  app.fallthrough();
  seqjit::addModelsCommand(app);
  seqjit::addForwardCommand(app);
  seqjit::addGradCommand(app);
  seqjit::addTrainCommand(app);
  seqjit::addEvaluateCommand(app);
  seqjit::addPredictCommand(app);
  seqjit::addAttributeCommand(app);
  seqjit::addFiltersCommand(app);
  seqjit::addReportCommand(app);
  seqjit::addGenerateDataCommand(app);
  seqjit::addCacheCommand(app);
  app.add_flag_callback(
      "--profile", [] { seqjit::enableKernelProfile(); },
      "time every loop nest of the compiled CPU programs and print each one's time, share, GFLOP/s, bytes moved and "
      "% of the FMA peak on stderr at the end (also SEQJIT_PROFILE=1)");
  app.add_option_function<std::string>(
         "--fusion",
         [](const std::string &level) { seqjit::setFusionLevel(seqjit::parseFusionLevel(level, "--fusion")); },
         "how much the compiled programs fuse: none, epilogue or full (default: SEQJIT_FUSION, else full); every "
         "level computes the same results")
      ->type_name("LEVEL");
  try {
    app.parse(argc, argv);
    if (seqjit::CompileTally tally = seqjit::compileTally(); tally.compiled + tally.cached > 0)
      fmt::print("  {}\n", seqjit::describeCompileTally());
    if (seqjit::kernelProfileEnabled()) {
      std::fflush(stdout);
      fmt::print(stderr, "{}", seqjit::kernelProfileReport());
    }
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  } catch (const seqjit::Error &e) {
    fmt::print(stderr, "seqjit: error: {}\n", e.what());
    return 1;
  } catch (const std::exception &e) {
    // Not a diagnosed user error (a file system or allocation failure): still one line and status 1, never an
    // abort from an uncaught exception.
    fmt::print(stderr, "seqjit: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
