// seqjit grad: the gradient of a loss (with optional L2 and Fourier attribution prior) for every trainable weight.
#include "dsl/Error.h"
#include "runtime/GradientPrograms.h"
#include "runtime/Hdf5.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "tools/Commands.h"
#include "tools/ModelResolver.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

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
  std::string output;
  std::string loss = "bce";
  std::string fourierPrior;
  std::string batchNorm = "train";
  std::string activation;
  double l2 = 0.0;
  int64_t outputs = 0;
  uint64_t seed = 0;
};

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

HostArray<float> loadLabels(const std::string &path, const std::string &key) {
  std::string extension = std::filesystem::path(path).extension().string();
  if (extension == ".npy")
    return readNpy<float>(path);
  if (extension == ".h5" || extension == ".hdf5")
    return readHdf5Dataset(path, key.empty() ? "Y_test" : key);
  throw Error(fmt::format("cannot read labels from '{}': unknown extension '{}' (expected .npy, .h5 or .hdf5)", path,
                          extension));
}

void runGrad(const GradArguments &args) {
  auto start = std::chrono::steady_clock::now();
  for (const auto &[option, path] : {std::pair{"--input", args.input}, std::pair{"--labels", args.labels}})
    if (!std::filesystem::exists(path))
      throw Error(fmt::format("{} file '{}' does not exist", option, path));
  if (!args.weights.empty() && !std::filesystem::exists(args.weights))
    throw Error(fmt::format("--weights file '{}' does not exist", args.weights));
  Objective objective;
  objective.loss = parseLossKind(args.loss);
  objective.l2 = args.l2;
  if (!args.fourierPrior.empty())
    objective.fourierPrior = parseFourierPrior(args.fourierPrior);
  if (args.batchNorm != "train" && args.batchNorm != "eval")
    throw Error(fmt::format("--batch-norm must be 'train' (batch statistics) or 'eval' (running statistics), got "
                            "'{}'",
                            args.batchNorm));

  HostArray<float> input = loadSequenceInput(args.input, args.inputKey.empty() ? "X_train" : args.inputKey);
  HostArray<float> labels = loadLabels(args.labels, args.labelsKey.empty() ? "Y_train" : args.labelsKey);
  if (input.shape[0] == 0)
    throw Error(fmt::format("--input '{}' holds no sequences", args.input));
  ResolvedModel resolved = resolveModel(args.model, ModelFileOptions{args.activation, input.shape[2], args.outputs});
  const Graph &graph = resolved.model->graph();
  checkInputShape(graph, input.shape, args.input);
  std::vector<int64_t> labelShape{input.shape[0]};
  labelShape.insert(labelShape.end(), graph.outputNode().shape.begin(), graph.outputNode().shape.end());
  if (labels.shape != labelShape)
    throw Error(fmt::format("--labels '{}' has shape ({}); the model's outputs for {} sequences need ({})",
                            args.labels, fmt::join(labels.shape, ", "), input.shape[0], fmt::join(labelShape, ", ")));
  Parameters parameters = args.weights.empty() ? Parameters::initialize(graph, args.seed)
                                               : Parameters::loadNpz(graph, args.weights);
  double loadSeconds = secondsSince(start);

  fmt::print("seqjit grad: model {} ({}), {} sequences x {} nt, loss {}{}{}\n", graph.name, resolved.origin,
             input.shape[0], input.shape[2], args.loss, args.l2 != 0.0 ? fmt::format(" + L2 {}", args.l2) : "",
             objective.fourierPrior ? " + Fourier prior" : "");
  fmt::print("  compiling the gradient program ...\n");
  std::fflush(stdout);
  start = std::chrono::steady_clock::now();
  auto compiled = CompiledLossGradient::compile(
      graph, objective, {.batch = input.shape[0], .batchNormTraining = args.batchNorm == "train"});
  double compileSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  LossGradients<float> result = compiled.run(input, labels, parameters);
  double runSeconds = secondsSince(start);
  writeNpz(args.output, result.gradients);

  if (args.weights.empty())
    fmt::print("  weights: none given, seeded initialisation (seed {})\n", args.seed);
  else
    fmt::print("  weights: {}\n", args.weights);
  for (const std::string &term : kLossTerms)
    fmt::print("  {:<14} {:.8g}\n", term + ":", result.terms.at(term));
  fmt::print("  gradients: {} ({} tensors, PyTorch state_dict names)\n", args.output, result.gradients.size());
  fmt::print("  time: load {:.2f} s, compile {:.2f} s, run {:.3f} s\n", loadSeconds, compileSeconds, runSeconds);
}

} // namespace

void addGradCommand(CLI::App &app) {
  auto args = std::make_shared<GradArguments>();
  CLI::App *command =
      app.add_subcommand("grad", "Gradient of a loss (+ L2, + Fourier attribution prior) for every trainable weight");
  command->add_option("--model", args->model, "stdlib model name (see `seqjit models`) or a model file (.cpp)")
      ->required();
  command->add_option("--weights", args->weights, "weights as .npz with PyTorch state_dict names");
  command->add_option("--input", args->input, "one-hot input (N, 4, L): .npy, or .h5 with --key")->required();
  command->add_option("--key", args->inputKey, "HDF5 dataset holding the input (default X_train)");
  command->add_option("--labels", args->labels, "labels (N, outputs): .npy, or .h5 with --labels-key")->required();
  command->add_option("--labels-key", args->labelsKey, "HDF5 dataset holding the labels (default Y_train)");
  command->add_option("--out", args->output, "where to write the gradients (.npz, float32)")->required();
  command->add_option("--loss", args->loss, "bce (on logits), mse or poisson (log-rate outputs)");
  command->add_option("--l2", args->l2, "L2 strength on conv and dense weights: l2 * sum(w^2)");
  command->add_option("--fourier-prior", args->fourierPrior,
                      "Fourier attribution prior, e.g. T=150,s=0.2,sigma=3,lambda=1 (add ',all' to average over all "
                      "examples, ',outputs=0:3' to pick tasks)");
  command->add_option("--batch-norm", args->batchNorm, "train (batch statistics, default) or eval (running ones)");
  command->add_option("--activation", args->activation, "first-layer activation (exp, relu, ...)");
  command->add_option("--outputs", args->outputs, "number of outputs (default: the model's)");
  command->add_option("--seed", args->seed, "initialisation seed when no --weights are given");
  command->callback([args] { runGrad(*args); });
}

} // namespace seqjit
