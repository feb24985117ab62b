// bench_compile: how long each program takes to become callable, compiled from scratch (cold) or served by the
// compiled-program cache (warm). bench/run_compile.sh runs it twice on one fresh cache directory and tabulates both.
#include "BenchSupport.h"
#include "compiler/ArtifactBuilder.h"
#include "runtime/Compile.h"
#include "runtime/GradientPrograms.h"
#include "runtime/IncrementalMutagenesis.h"
#include "runtime/TrainStep.h"
#include "stdlib/Models.h"

#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <string>

namespace {

using namespace seqjit;
using namespace seqjit::bench;

constexpr const char *kUsage =
    "usage: bench_compile [--model NAME]... [--batch N] [--json FILE]\n"
    "  Compiles, for each model (default cnn-deep, cnn-dist, basset) and batch (default 100), the programs the\n"
    "  commands run: forward, train_step (BCE, Adam), train_step_fourier (with the Fourier prior), saliency,\n"
    "  deeplift and ism (incremental mutagenesis's windows), and prints the seconds each took to become callable\n"
    "  and whether the compiled-program cache ($SEQJIT_CACHE_DIR) served it; --json appends one object per program.\n";

/// A program the commands compile, and how to compile it for a model and a batch.
struct BenchedProgram {
  std::string name;
  std::function<void(const Graph &, int64_t batch)> compile;
};

std::vector<BenchedProgram> programs() {
  // Tseng et al.'s T = 150 for 1000 nt, scaled to the model's length as the demo does.
  auto prior = [](const Graph &graph) {
    Objective objective;
    objective.fourierPrior = parseFourierPrior(
        "the Fourier prior", fmt::format("T={},s=0.2,sigma=3,lambda=1", graph.inputNode().shape[1] * 150 / 1000));
    return objective;
  };
  return {
      {"forward", [](const Graph &g, int64_t batch) { compile(g, {.batch = batch}); }},
      {"train_step",
       [](const Graph &g, int64_t batch) { CompiledTrainStep::compile(g, {}, Optimizer{}, {.batch = batch}); }},
      {"train_step_fourier",
       [prior](const Graph &g, int64_t batch) {
         CompiledTrainStep::compile(g, prior(g), Optimizer{}, {.batch = batch});
       }},
      {"saliency",
       [](const Graph &g, int64_t batch) {
         CompiledInputGradient::compile(g, {.batch = batch, .float64 = false, .batchNormTraining = false});
       }},
      {"deeplift", [](const Graph &g, int64_t batch) { CompiledDeepLift::compile(g, {.batch = batch}); }},
      {"ism", [](const Graph &g, int64_t batch) { CompiledMutationWindows::compile(g, batch); }},
  };
}

} // namespace

int main(int argc, char **argv) {
  try {
    BenchArguments args;
    args.models = {"cnn-deep", "cnn-dist", "basset"};
    parseBenchArguments(argc, argv, "bench_compile", kUsage, args);
    JsonLines json("bench_compile", args.jsonPath);
    for (const std::string &name : args.models) {
      std::unique_ptr<Model> model = buildZooModel(name, {});
      for (const BenchedProgram &program : programs()) {
        CompileTally before = compileTally();
        auto start = std::chrono::steady_clock::now();
        program.compile(model->graph(), args.batch);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        CompileTally after = compileTally();
        bool cached = after.compiled == before.compiled;
        double lowering = after.loweringSeconds - before.loweringSeconds;
        double codegen = after.codegenSeconds - before.codegenSeconds;
        fmt::print("{:<10} {:<20} {:>8.3f} s  {}\n", name, program.name, seconds,
                   cached ? "from the cache"
                          : fmt::format("compiled (MLIR {:.2f} s, LLVM {:.2f} s)", lowering, codegen));
        std::fflush(stdout);
        json.append(fmt::format(R"({{"model": "{}", "program": "{}", "batch": {}, "seconds": {:.4f}, "cached": {}, )"
                                R"("mlir_s": {:.4f}, "llvm_s": {:.4f}}})",
                                name, program.name, args.batch, seconds, cached ? "true" : "false", lowering, codegen));
      }
    }
  } catch (const Error &error) {
    fmt::print(stderr, "bench_compile: error: {}\n", error.what());
    return 1;
  }
  return 0;
}
