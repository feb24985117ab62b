// bench_gradient: one training step's gradient of zoo models at a fixed batch — the BCE loss gradient for every
// trainable parameter ("grad") and the same with Tseng et al.'s Fourier attribution prior ("grad_fourier", by
// double backprop inside the one compiled program) — with the weights, input and labels written out so that
// bench/torch_train_step.py runs PyTorch on exactly the same numbers and its loss can be checked against ours.
#include "BenchSupport.h"
#include "runtime/GradientPrograms.h"
#include "runtime/OneHot.h"
#include "runtime/Parameters.h"
#include "runtime/Random.h"
#include "runtime/core/ParallelFor.h"
#include "stdlib/Models.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using namespace seqjit;
using namespace seqjit::bench;

constexpr const char *kTool = "bench_gradient";
constexpr const char *kUsage =
    "usage: bench_gradient [--model NAME]... [--task grad|grad_fourier]... [--batch N] [--reps R] [--warmup W]\n"
    "                      [--seed S] [--fourier-prior SPEC] [--out-dir DIR] [--json FILE]\n"
    "  Times the compiled loss gradient of each model (default cnn-deep, cnn-dist, cnn-50; each at its zoo\n"
    "  length) for each task (default both):\n"
    "    grad          BCE on the logits (mean), gradient for every trainable parameter\n"
    "    grad_fourier  the same + the Fourier attribution prior SPEC (default T=30,s=0.2,sigma=3,lambda=1:\n"
    "                  the paper's T=150 for 1000 nt scaled to 200 nt)\n"
    "  Batch norm on batch statistics, dropout off, float32, random weights / one-hot input / Bernoulli(0.5)\n"
    "  labels. Writes DIR/<model>/{weights.npz,input.npy,labels.npy} for bench/torch_train_step.py --data and,\n"
    "  with --json, appends one JSON object per model and task to FILE.\n";

const std::vector<std::string> kTasks = {"grad", "grad_fourier"};

struct GradientArguments {
  BenchArguments common;
  std::vector<std::string> tasks = kTasks;
  std::string priorSpec = "T=30,s=0.2,sigma=3,lambda=1";
};

GradientArguments parseArguments(int argc, char **argv) {
  GradientArguments args;
  args.common.models = {"cnn-deep", "cnn-dist", "cnn-50"};
  args.common.outputDirectory = "bench/results/train-step-data";
  bool tasksGiven = false;
  parseBenchArguments(argc, argv, kTool, kUsage, args.common, [&](const std::string &option, const std::string &value) {
    if (option == "--task") {
      if (std::find(kTasks.begin(), kTasks.end(), value) == kTasks.end())
        throw Error(fmt::format("{}: unknown task '{}'; expected grad or grad_fourier", kTool, value));
      if (!tasksGiven)
        args.tasks.clear();
      tasksGiven = true;
      args.tasks.push_back(value);
      return true;
    }
    if (option == "--fourier-prior") {
      parseFourierPrior("--fourier-prior", value); // Refuses a bad spec now rather than after the first model.
      args.priorSpec = value;
      return true;
    }
    return false;
  });
  return args;
}

/// Bernoulli(0.5) 0/1 labels (examples, outputs...), as torch_train_step.py draws its own.
HostArray<float> bernoulliLabels(int64_t examples, const Shape &outputShape, uint64_t seed) {
  std::vector<int64_t> shape{examples};
  shape.insert(shape.end(), outputShape.begin(), outputShape.end());
  HostArray<float> labels(shape);
  Random random(seed, /*stream=*/0x1abe1); // Apart from the input's and the parameters' streams.
  std::generate(labels.data.begin(), labels.data.end(), [&] { return random.uniform() < 0.5f ? 1.0f : 0.0f; });
  return labels;
}

void benchmarkTask(const std::string &name, const std::string &task, const GradientArguments &gradientArgs,
                   JsonLines &json) {
  const BenchArguments &args = gradientArgs.common;
  std::unique_ptr<Model> model = buildZooModel(name, {});
  const Graph &graph = model->graph();
  int64_t length = graph.inputNode().shape[1];

  Parameters parameters = Parameters::initialize(graph, args.seed);
  parameters.randomizeBatchNorm(graph, args.seed);
  HostArray<float> input = randomOneHot(args.batch, length, args.seed);
  HostArray<float> labels = bernoulliLabels(args.batch, graph.outputNode().shape, args.seed);
  Objective objective; // BCE on the logits, mean; no L2.
  if (task == "grad_fourier")
    objective.fourierPrior = parseFourierPrior("--fourier-prior", gradientArgs.priorSpec);

  fmt::print("{}: {} {} (L={}, batch {}{}), compiling the gradient program (the prior's double backward can take "
             "a minute)...\n",
             kTool, name, task, length, args.batch,
             objective.fourierPrior ? ", prior " + gradientArgs.priorSpec : std::string());
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  auto compiled =
      CompiledLossGradient::compile(graph, objective, {.batch = args.batch, .float64 = false, .batchNormTraining = true});
  double compileWallSeconds = secondsSince(start);
  fmt::print("  compiled in {:.1f} s (MLIR+codegen {:.1f} s)\n", compileWallSeconds, compiled.compileSeconds());
  std::fflush(stdout);

  LossGradients<float> result;
  std::vector<double> seconds =
      timeRepetitions(args.warmup, args.reps, [&] { result = compiled.run(input, labels, parameters); });
  double medianSeconds = median(seconds);
  double peakMegabytes = peakResidentMegabytes();
  std::filesystem::path directory =
      writeBenchData(args.outputDirectory, name, parameters, {{"input", &input}, {"labels", &labels}});

  std::string terms;
  for (const std::string &term : kLossTerms)
    terms += fmt::format(", \"{}\": {:.9g}", term, result.terms.at(term));
  std::string prior;
  if (objective.fourierPrior)
    prior = fmt::format(", \"freq_limit\": {}, \"softness\": {}, \"sigma\": {}, \"lambda\": {}",
                        objective.fourierPrior->freqLimit, objective.fourierPrior->softness,
                        objective.fourierPrior->sigma, objective.fourierPrior->weight);
  fmt::print("  {} {}: median {:.2f} ms/step over {} reps (min {:.2f} ms); loss {:.8g} (bce {:.8g}, prior {:.8g}); "
             "peak RSS {:.0f} MB; data in {}\n",
             name, task, medianSeconds * 1e3, args.reps, *std::min_element(seconds.begin(), seconds.end()) * 1e3,
             result.terms.at("loss"), result.terms.at("data_loss"), result.terms.at("fourier_prior"), peakMegabytes,
             directory.string());
  // One program for the whole batch (batch-norm statistics couple it), its loop nests on the kernel threads.
  json.append(fmt::format(
      "{{\"side\": \"seqjit\", \"model\": \"{}\", \"task\": \"{}\", \"length\": {}, \"outputs\": {}, \"batch\": {}, "
      "\"batch_norm\": \"batch\", \"reps\": {}, \"warmup\": {}, \"threads\": {}, \"median_s\": {:.6g}, "
      "\"median_ms\": {:.6g}, \"min_s\": {:.6g}, \"sequences_per_s\": {:.6g}, \"compile_s\": {:.6g}, "
      "\"compile_codegen_s\": {:.6g}, \"peak_rss_mb\": {:.6g}, \"data_dir\": \"{}\"{}{}{}}}",
      name, task, length, graph.outputNode().shape[0], args.batch, args.reps, args.warmup, kernelThreads(), medianSeconds,
      medianSeconds * 1e3, *std::min_element(seconds.begin(), seconds.end()), args.batch / medianSeconds,
      compileWallSeconds, compiled.compileSeconds(), peakMegabytes, directory.string(), terms, prior,
      workFields(multiplyAddsPerExample(graph), args.batch, 3)));
}

} // namespace

int main(int argc, char **argv) {
  return runBench([&] {
    GradientArguments args = parseArguments(argc, argv);
    JsonLines json(kTool, args.common.jsonPath);
    for (const std::string &name : args.common.models)
      for (const std::string &task : args.tasks)
        benchmarkTask(name, task, args, json);
  });
}
