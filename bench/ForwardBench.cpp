// bench_forward: forward (inference) throughput of zoo models at a fixed batch, with the weights, input and output
// written out so that bench/torch_forward.py can run PyTorch on exactly the same numbers and check the result.
#include "dsl/Error.h"
#include "runtime/Compile.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/Parameters.h"
#include "stdlib/Models.h"

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace seqjit;

struct BenchArguments {
  std::vector<std::string> models{"cnn-deep", "cnn-dist", "basset"};
  int64_t batch = 100;
  int reps = 10;
  int warmup = 1;
  uint64_t seed = 1;
  std::string outputDirectory = "bench/results/forward-data";
  std::string jsonPath; ///< Empty: no JSON lines.
};

void printUsage() {
  fmt::print("usage: bench_forward [--model NAME]... [--batch N] [--reps R] [--warmup W] [--seed S]\n"
             "                     [--out-dir DIR] [--json FILE]\n"
             "  Times the compiled forward pass of each model (default cnn-deep, cnn-dist, basset) on a random\n"
             "  one-hot batch; writes DIR/<model>/{{weights.npz,input.npy,output.npy}} for bench/torch_forward.py\n"
             "  and, with --json, appends one JSON object per model to FILE.\n");
}

int64_t parseInteger(const std::string &option, const std::string &text, int64_t minimum) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used != text.size() || value < minimum)
    throw Error(fmt::format("bench_forward: {} expects an integer >= {}, got '{}'", option, minimum, text));
  return value;
}

BenchArguments parseArguments(int argc, char **argv) {
  BenchArguments args;
  bool modelsGiven = false;
  for (int i = 1; i < argc; ++i) {
    std::string option = argv[i];
    if (option == "-h" || option == "--help") {
      printUsage();
      std::exit(0);
    }
    if (i + 1 >= argc)
      throw Error(fmt::format("bench_forward: option '{}' needs a value (see --help)", option));
    std::string value = argv[++i];
    if (option == "--model") {
      if (!modelsGiven)
        args.models.clear();
      modelsGiven = true;
      args.models.push_back(value);
    } else if (option == "--batch") {
      args.batch = parseInteger(option, value, 1);
    } else if (option == "--reps") {
      args.reps = static_cast<int>(parseInteger(option, value, 1));
    } else if (option == "--warmup") {
      args.warmup = static_cast<int>(parseInteger(option, value, 0));
    } else if (option == "--seed") {
      args.seed = static_cast<uint64_t>(parseInteger(option, value, 0));
    } else if (option == "--out-dir") {
      args.outputDirectory = value;
    } else if (option == "--json") {
      args.jsonPath = value;
    } else {
      throw Error(fmt::format("bench_forward: unknown option '{}' (see --help)", option));
    }
  }
  return args;
}

double peakResidentMegabytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0; // Linux reports kilobytes.
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

void benchmarkModel(const std::string &name, const BenchArguments &args, std::FILE *json) {
  using Clock = std::chrono::steady_clock;
  std::unique_ptr<Model> model = buildZooModel(name, {});
  const Graph &graph = model->graph();
  const ModelEntry &entry = findModel(name);
  int64_t length = graph.inputNode().shape[1];

  Parameters parameters = Parameters::initialize(graph, args.seed);
  parameters.randomizeBatchNorm(graph, args.seed);
  HostArray<float> input = randomOneHot(args.batch, length, args.seed);

  fmt::print("bench_forward: {} (L={}, batch {}), compiling...\n", name, length, args.batch);
  std::fflush(stdout);
  auto start = Clock::now();
  CompiledModel compiled = compile(graph, {.batch = args.batch});
  double compileWallSeconds = std::chrono::duration<double>(Clock::now() - start).count();

  HostArray<float> output;
  for (int i = 0; i < args.warmup; ++i)
    output = compiled.forward(input, parameters);
  std::vector<double> seconds;
  for (int i = 0; i < args.reps; ++i) {
    start = Clock::now();
    output = compiled.forward(input, parameters);
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    fmt::print("  rep {}/{}: {:.1f} ms\n", i + 1, args.reps, seconds.back() * 1e3);
    std::fflush(stdout);
  }
  double medianSeconds = median(seconds);
  double peakMegabytes = peakResidentMegabytes();

  std::filesystem::path directory = std::filesystem::path(args.outputDirectory) / name;
  std::filesystem::create_directories(directory);
  parameters.saveNpz((directory / "weights.npz").string());
  writeNpy((directory / "input.npy").string(), input);
  writeNpy((directory / "output.npy").string(), output);

  fmt::print("  {}: median {:.2f} ms/batch ({:.0f} sequences/s) over {} reps (min {:.2f} ms); compile {:.2f} s "
             "(MLIR+codegen {:.2f} s); peak RSS {:.0f} MB; data in {}\n",
             name, medianSeconds * 1e3, args.batch / medianSeconds, args.reps,
             *std::min_element(seconds.begin(), seconds.end()) * 1e3, compileWallSeconds, compiled.compileSeconds(),
             peakMegabytes, directory.string());
  if (json) {
    fmt::print(json,
               "{{\"side\": \"seqjit\", \"model\": \"{}\", \"length\": {}, \"outputs\": {}, \"activation\": \"{}\", "
               "\"batch\": {}, \"reps\": {}, \"median_s\": {:.6g}, \"min_s\": {:.6g}, \"sequences_per_s\": {:.6g}, "
               "\"compile_s\": {:.6g}, \"compile_wall_s\": {:.6g}, \"peak_rss_mb\": {:.6g}, \"data_dir\": \"{}\", "
               "\"threads\": {}}}\n",
               name, length, graph.outputNode().shape[0], entry.defaultActivation, args.batch, args.reps,
               medianSeconds, *std::min_element(seconds.begin(), seconds.end()), args.batch / medianSeconds,
               compiled.compileSeconds(), compileWallSeconds, peakMegabytes, directory.string(), compiled.threads());
    std::fflush(json);
  }
}

} // namespace

int main(int argc, char **argv) {
  try {
    BenchArguments args = parseArguments(argc, argv);
    std::FILE *json = nullptr;
    if (!args.jsonPath.empty()) {
      json = std::fopen(args.jsonPath.c_str(), "a");
      if (!json)
        throw Error(fmt::format("bench_forward: cannot open '{}' for appending", args.jsonPath));
    }
    for (const std::string &name : args.models)
      benchmarkModel(name, args, json);
    if (json)
      std::fclose(json);
    return 0;
  } catch (const std::exception &error) {
    fmt::print(stderr, "error: {}\n", error.what());
    return 1;
  }
}
