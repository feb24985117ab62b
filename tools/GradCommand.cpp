// seqjit grad: the gradient of a loss (with optional L2 and Fourier attribution prior) for every trainable weight.
#include "dsl/Error.h"
#include "runtime/GradientPrograms.h"
#include "runtime/Hdf5.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/Stopwatch.h"
#include "tools/Commands.h"
#include "tools/ModelResolver.h"
#include "tools/ObjectiveOptions.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

namespace seqjit {

namespace {

struct GradArguments {
  std::string model;
  std::string weights;
  std::string input;
  std::string inputKey;
  std::string labels;
  std::string labelsKey;
  std::string mask;
  std::string maskKey;
  std::string output;
  ObjectiveArguments objective;
  std::string powerVectors;
  std::string batchNorm = "train";
  std::string activation;
  int64_t outputs = 0;
  uint64_t seed = 0;
};

/// Labels or a label mask: a .npy file, or dataset `key` of an HDF5 file.
HostArray<float> loadLabels(const std::string &path, const std::string &key, const char *what) {
  std::string extension = std::filesystem::path(path).extension().string();
  if (extension == ".npy")
    return readNpy<float>(path);
  if (extension == ".h5" || extension == ".hdf5")
    return readHdf5Dataset(path, key);
  throw Error(fmt::format("cannot read {} from '{}': unknown extension '{}' (expected .npy, .h5 or .hdf5)", what, path,
                          extension));
}

/// The labels' shape for `count` sequences, or an error naming the file.
void checkLabelShape(const HostArray<float> &array, const Graph &graph, int64_t count, const std::string &option,
                     const std::string &path) {
  std::vector<int64_t> shape{count};
  shape.insert(shape.end(), graph.outputNode().shape.begin(), graph.outputNode().shape.end());
  if (array.shape != shape)
    throw Error(fmt::format("{} '{}' has shape ({}); the model's outputs for {} sequences need ({})", option, path,
                            fmt::join(array.shape, ", "), count, fmt::join(shape, ", ")));
}

/// The spectral norm's power vectors: the *.weight_u arrays of an .npz (a previous G.npz), or seeded ones.
std::map<std::string, HostArray<float>> loadPowerVectors(const std::string &path, const Graph &graph, uint64_t seed) {
  if (path.empty())
    return initialPowerVectors<float>(graph, seed);
  std::map<std::string, HostArray<float>> arrays = readNpz(path), vectors;
  for (const PowerVector &vector : powerVectors(graph)) {
    auto found = arrays.find(vector.name);
    if (found == arrays.end())
      throw Error(fmt::format("--power-vectors '{}' has no array '{}'", path, vector.name));
    if (found->second.shape != std::vector<int64_t>{vector.size})
      throw Error(fmt::format("--power-vectors '{}': '{}' has shape ({}), expected ({})", path, vector.name,
                              fmt::join(found->second.shape, ", "), vector.size));
    vectors[vector.name] = std::move(found->second);
  }
  return vectors;
}

void runGrad(const GradArguments &args) {
  auto start = std::chrono::steady_clock::now();
  for (const auto &[option, path] :
       {std::pair{"--input", args.input}, std::pair{"--labels", args.labels}, std::pair{"--weights", args.weights},
        std::pair{"--mask", args.mask}, std::pair{"--power-vectors", args.powerVectors}})
    if (!path.empty() && !std::filesystem::exists(path))
      throw Error(fmt::format("{} file '{}' does not exist", option, path));
  Objective objective = buildObjective(args.objective);
  objective.labelMask = !args.mask.empty();
  if (!args.powerVectors.empty() && !objective.spectralNorm)
    throw Error("--power-vectors needs --spectral-norm");
  checkObjective(objective);
  if (args.batchNorm != "train" && args.batchNorm != "eval")
    throw Error(fmt::format("--batch-norm must be 'train' (batch statistics) or 'eval' (running statistics), got "
                            "'{}'",
                            args.batchNorm));

  HostArray<float> input = loadSequenceInput(args.input, args.inputKey.empty() ? "X_train" : args.inputKey);
  HostArray<float> labels = loadLabels(args.labels, args.labelsKey.empty() ? "Y_train" : args.labelsKey, "labels");
  if (input.shape[0] == 0)
    throw Error(fmt::format("--input '{}' holds no sequences", args.input));
  ResolvedModel resolved = resolveModel(args.model, ModelFileOptions{args.activation, input.shape[2], args.outputs});
  const Graph &graph = resolved.model->graph();
  checkInputShape(graph, input.shape, args.input);
  checkLabelShape(labels, graph, input.shape[0], "--labels", args.labels);
  HostArray<float> mask;
  if (objective.labelMask) {
    mask = loadLabels(args.mask, args.maskKey.empty() ? "mask" : args.maskKey, "the label mask");
    checkLabelShape(mask, graph, input.shape[0], "--mask", args.mask);
    if (!std::all_of(mask.data.begin(), mask.data.end(), [](float v) { return v == 0.0f || v == 1.0f; }))
      throw Error(fmt::format("--mask '{}' holds values other than 0 and 1", args.mask));
  }
  std::map<std::string, HostArray<float>> vectors;
  if (objective.spectralNorm)
    vectors = loadPowerVectors(args.powerVectors, graph, args.seed);
  Parameters parameters =
      args.weights.empty() ? Parameters::initialize(graph, args.seed) : Parameters::loadNpz(graph, args.weights);
  double loadSeconds = secondsSince(start);

  std::string terms = (objective.labelMask ? " (masked)" : "") + describeExtraTerms(args.objective);
  fmt::print("seqjit grad: model {} ({}), {} sequences x {} nt, loss {}{}\n", graph.name, resolved.origin,
             input.shape[0], input.shape[2], args.objective.loss, terms);
  fmt::print("  compiling the gradient program ...\n");
  std::fflush(stdout);
  start = std::chrono::steady_clock::now();
  auto compiled = CompiledLossGradient::compile(
      graph, objective, {.batch = input.shape[0], .batchNormTraining = args.batchNorm == "train"});
  double compileSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  LossGradients<float> result =
      compiled.run(input, labels, parameters, {objective.labelMask ? &mask : nullptr, &vectors});
  double runSeconds = secondsSince(start);
  std::map<std::string, HostArray<float>> written = result.gradients;
  written.insert(result.powerVectors.begin(), result.powerVectors.end());
  writeNpz(args.output, written);

  if (args.weights.empty())
    fmt::print("  weights: none given, seeded initialisation (seed {})\n", args.seed);
  else
    fmt::print("  weights: {}\n", args.weights);
  for (const std::string &term : kLossTerms)
    fmt::print("  {:<18} {:.8g}\n", term + ":", result.terms.at(term));
  fmt::print("  gradients: {} ({} tensors, PyTorch state_dict names)\n", args.output, result.gradients.size());
  if (objective.spectralNorm)
    fmt::print("  power vectors: {} updated *.weight_u in {} ({}; pass it as --power-vectors to continue)\n",
               result.powerVectors.size(), args.output,
               args.powerVectors.empty() ? fmt::format("started from seed {}", args.seed)
                                         : "from " + args.powerVectors);
  fmt::print("  time: load {:.2f} s, compile {:.2f} s, run {:.3f} s\n", loadSeconds, compileSeconds, runSeconds);
}

} // namespace

void addGradCommand(CLI::App &app) {
  auto args = std::make_shared<GradArguments>();
  CLI::App *command =
      app.add_subcommand("grad", "Gradient of a loss (+ L2, + Fourier attribution prior) for every trainable weight");
  addDeviceOption(*command);
  command->add_option("--model", args->model, "stdlib model name (see `seqjit models`) or a model file (.cpp)")
      ->required();
  command->add_option("--weights", args->weights, "weights as .npz with PyTorch state_dict names");
  command->add_option("--input", args->input, "one-hot input (N, 4, L): .npy, or .h5 with --key")->required();
  command->add_option("--key", args->inputKey, "HDF5 dataset holding the input (default X_train)");
  command->add_option("--labels", args->labels, "labels (N, outputs): .npy, or .h5 with --labels-key")->required();
  command->add_option("--labels-key", args->labelsKey, "HDF5 dataset holding the labels (default Y_train)");
  command->add_option("--mask", args->mask,
                      "0/1 mask of the labels' shape (.npy or .h5): the data loss averages the 1 entries only");
  command->add_option("--mask-key", args->maskKey, "HDF5 dataset holding the mask (default mask)");
  command->add_option("--out", args->output, "where to write the gradients (.npz, float32)")->required();
  addObjectiveOptions(command, args->objective);
  command->add_option("--power-vectors", args->powerVectors,
                      "the spectral norm's power vectors (*.weight_u of an earlier --out); default: seeded");
  command->add_option("--batch-norm", args->batchNorm, "train (batch statistics, default) or eval (running ones)");
  command->add_option("--activation", args->activation, "first-layer activation (exp, relu, ...)");
  command->add_option("--outputs", args->outputs, "number of outputs (default: the model's)");
  command->add_option("--seed", args->seed, "initialisation seed when no --weights are given");
  command->callback([args] { runGrad(*args); });
}

} // namespace seqjit
