// seqjit forward: load weights and sequences, JIT-compile the model, run it, write the outputs as .npy.
#include "dsl/Error.h"
#include "runtime/Compile.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/Stopwatch.h"
#include "runtime/core/Device.h"
#include "tools/Commands.h"
#include "tools/ModelResolver.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <filesystem>
#include <memory>

namespace seqjit {

namespace {

struct ForwardArguments {
  std::string model;
  std::string weights;
  std::string input;
  std::string key;
  std::string output;
  std::string activation;
  int64_t outputs = 0;
  int64_t batch = 100;
  uint64_t seed = 0;
};

void runForward(const ForwardArguments &args) {
  auto start = std::chrono::steady_clock::now();
  // Said up front, naming the option: the readers' own "cannot open" does not say which file was meant.
  if (!std::filesystem::exists(args.input))
    throw Error(fmt::format("--input file '{}' does not exist", args.input));
  if (!args.weights.empty() && !std::filesystem::exists(args.weights))
    throw Error(fmt::format("--weights file '{}' does not exist", args.weights));
  HostArray<float> input = loadSequenceInput(args.input, args.key);
  if (input.shape[0] == 0)
    throw Error(fmt::format("--input '{}' holds no sequences (shape ({})); expected at least one", args.input,
                            fmt::join(input.shape, ", ")));
  ModelFileOptions options{args.activation, input.shape[2], args.outputs};
  ResolvedModel resolved = resolveModel(args.model, options);
  const Graph &graph = resolved.model->graph();
  Parameters parameters =
      args.weights.empty() ? Parameters::initialize(graph, args.seed) : Parameters::loadNpz(graph, args.weights);
  checkInputShape(graph, input.shape, args.input);
  double loadSeconds = secondsSince(start);

  start = std::chrono::steady_clock::now();
  CompiledModel compiled = compile(graph, {.batch = std::min<int64_t>(args.batch, input.shape[0])});
  double compileSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  HostArray<float> output = compiled.forward(input, parameters);
  double runSeconds = secondsSince(start);
  writeNpy(args.output, output);

  fmt::print("seqjit forward: model {} ({}, {} parameters)\n", graph.name, resolved.origin,
             graph.trainableParameterCount());
  if (args.weights.empty())
    fmt::print("  weights: none given, seeded initialisation (seed {}) -- outputs are untrained\n", args.seed);
  else
    fmt::print("  weights: {}\n", args.weights);
  fmt::print("  input:   {} ({} sequences x {} nt)\n", args.input, input.shape[0], input.shape[2]);
  fmt::print("  device:  {}\n", describeDevice(defaultDevice()));
  fmt::print("  output:  {} shape ({})\n", args.output, fmt::join(output.shape, ", "));
  fmt::print("  time:    load {:.2f} s, compile {:.2f} s, run {:.3f} s ({:.0f} sequences/s; {} thread(s) x {} "
             "sequences per call)\n",
             loadSeconds, compileSeconds, runSeconds, input.shape[0] / std::max(runSeconds, 1e-9), compiled.threads(),
             compiled.chunk());
}

} // namespace

void addForwardCommand(CLI::App &app) {
  auto args = std::make_shared<ForwardArguments>();
  CLI::App *command = app.add_subcommand("forward", "Run a model's compiled forward pass (inference) on sequences");
  addDeviceOption(*command);
  command->add_option("--model", args->model, "stdlib model name (see `seqjit models`) or a model file (.cpp)")
      ->required();
  command->add_option("--weights", args->weights, "weights as .npz with PyTorch state_dict names");
  command->add_option("--input", args->input, "one-hot input (N, 4, L): .npy, or .h5 with --key")->required();
  command->add_option("--key", args->key, "HDF5 dataset holding the input (default X_test)");
  command->add_option("--out", args->output, "where to write the outputs (.npy, float32)")->required();
  command->add_option("--activation", args->activation, "first-layer activation (exp, relu, ...)");
  command->add_option("--outputs", args->outputs, "number of outputs (default: the model's)");
  command->add_option("--batch", args->batch, "batch size the code is compiled for")
      ->check(CLI::Validator(
          [](std::string &value) -> std::string {
            // CLI::PositiveNumber would print its range up to DBL_MAX; say it plainly instead.
            try {
              size_t used = 0;
              if (std::stoll(value, &used) >= 1 && used == value.size())
                return {};
            } catch (const std::exception &) {
            }
            return fmt::format("expected a positive whole number of sequences, got '{}'", value);
          },
          "POSITIVE"));
  command->add_option("--seed", args->seed, "initialisation seed when no --weights are given");
  command->callback([args] { runForward(*args); });
}

} // namespace seqjit
