// bench_forward: forward (inference) throughput of zoo models at a fixed batch, with the weights, input and output
// written out so that bench/torch_forward.py can run PyTorch on exactly the same numbers and check the result.
#include "BenchSupport.h"
#include "runtime/Compile.h"
#include "runtime/OneHot.h"
#include "runtime/Parameters.h"
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

constexpr const char *kUsage =
    "usage: bench_forward [--model NAME]... [--batch N] [--reps R] [--warmup W] [--seed S]\n"
    "                     [--out-dir DIR] [--json FILE]\n"
    "  Times the compiled forward pass of each model (default cnn-deep, cnn-dist, basset) on a random\n"
    "  one-hot batch; writes DIR/<model>/{weights.npz,input.npy,output.npy} for bench/torch_forward.py\n"
    "  and, with --json, appends one JSON object per model to FILE.\n";

void benchmarkModel(const std::string &name, const BenchArguments &args, JsonLines &json) {
  std::unique_ptr<Model> model = buildZooModel(name, {});
  const Graph &graph = model->graph();
  const ModelEntry &entry = findModel(name);
  int64_t length = graph.inputNode().shape[1];

  Parameters parameters = Parameters::initialize(graph, args.seed);
  parameters.randomizeBatchNorm(graph, args.seed);
  HostArray<float> input = randomOneHot(args.batch, length, args.seed);

  fmt::print("bench_forward: {} (L={}, batch {}), compiling...\n", name, length, args.batch);
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  CompiledModel compiled = compile(graph, {.batch = args.batch});
  double compileWallSeconds = secondsSince(start);

  HostArray<float> output;
  std::vector<double> seconds =
      timeRepetitions(args.warmup, args.reps, [&] { output = compiled.forward(input, parameters); });
  double medianSeconds = median(seconds);
  double peakMegabytes = peakResidentMegabytes();

  std::filesystem::path directory =
      writeBenchData(args.outputDirectory, name, parameters, {{"input", &input}, {"output", &output}});

  fmt::print("  {}: median {:.2f} ms/batch ({:.0f} sequences/s) over {} reps (min {:.2f} ms); compile {:.2f} s "
             "(MLIR+codegen {:.2f} s); peak RSS {:.0f} MB; data in {}\n",
             name, medianSeconds * 1e3, args.batch / medianSeconds, args.reps,
             *std::min_element(seconds.begin(), seconds.end()) * 1e3, compileWallSeconds, compiled.compileSeconds(),
             peakMegabytes, directory.string());
  json.append(fmt::format(
      "{{\"side\": \"seqjit\", \"model\": \"{}\", \"length\": {}, \"outputs\": {}, \"activation\": \"{}\", "
      "\"batch\": {}, \"reps\": {}, \"median_s\": {:.6g}, \"min_s\": {:.6g}, \"sequences_per_s\": {:.6g}, "
      "\"compile_s\": {:.6g}, \"compile_wall_s\": {:.6g}, \"peak_rss_mb\": {:.6g}, \"data_dir\": \"{}\", "
      "\"threads\": {}{}}}",
      name, length, graph.outputNode().shape[0], entry.defaultActivation, args.batch, args.reps, medianSeconds,
      *std::min_element(seconds.begin(), seconds.end()), args.batch / medianSeconds, compiled.compileSeconds(),
      compileWallSeconds, peakMegabytes, directory.string(), compiled.threads(),
      workFields(multiplyAddsPerExample(graph), args.batch, 1)));
}

} // namespace

int main(int argc, char **argv) {
  return runBench([&] {
    BenchArguments args;
    args.models = {"cnn-deep", "cnn-dist", "basset"};
    args.outputDirectory = "bench/results/forward-data";
    parseBenchArguments(argc, argv, "bench_forward", kUsage, args);
    JsonLines json("bench_forward", args.jsonPath);
    for (const std::string &name : args.models)
      benchmarkModel(name, args, json);
  });
}
