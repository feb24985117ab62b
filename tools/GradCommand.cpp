// seqjit grad: the gradient of a loss (with optional L2 and Fourier attribution prior) for every trainable weight.
#include "dsl/Error.h"
#include "runtime/ArrayRows.h"
#include "runtime/BatchedLossGradient.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/Stopwatch.h"
#include "tools/Commands.h"
#include "tools/ModelResolver.h"
#include "tools/ObjectiveOptions.h"
#include "tools/ProgressLine.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
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
  int64_t batchSize = kDefaultGradientBatch;
};

/// Every value of a label-mask batch (rows from `first` on) is 0 or 1, or an error naming the file and the row.
void checkMaskValues(const HostArray<float> &mask, const ArrayRows &rows, int64_t first) {
  int64_t perRow = mask.shape[0] == 0 ? 0 : mask.size() / mask.shape[0];
  for (int64_t i = 0; i < mask.size(); ++i)
    if (mask.data[i] != 0.0f && mask.data[i] != 1.0f)
      throw Error(fmt::format("--mask {}: row {} holds {}; a mask holds 0 and 1 only", rows.describe(),
                              first + i / perRow, mask.data[i]));
}

/// Mask rows checked as they are read.
class CheckedMaskRows : public ArrayRows {
public:
  explicit CheckedMaskRows(std::unique_ptr<ArrayRows> rows) : rows_(std::move(rows)) {}
  const std::vector<int64_t> &shape() const override { return rows_->shape(); }
  HostArray<float> read(std::span<const int64_t> rows) const override {
    HostArray<float> mask = rows_->read(rows);
    checkMaskValues(mask, *rows_, rows.empty() ? 0 : rows.front());
    return mask;
  }
  std::string describe() const override { return rows_->describe(); }

private:
  std::unique_ptr<ArrayRows> rows_;
};

/// The shape of `count` rows of the model's outputs, or an error naming the option and file.
void checkLabelShape(const ArrayRows &rows, const Graph &graph, int64_t count, const std::string &option) {
  std::vector<int64_t> shape{count};
  shape.insert(shape.end(), graph.outputNode().shape.begin(), graph.outputNode().shape.end());
  if (rows.shape() != shape)
    throw Error(fmt::format("{} {} has shape ({}); the model's outputs for {} sequences need ({})", option,
                            rows.describe(), fmt::join(rows.shape(), ", "), count, fmt::join(shape, ", ")));
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

  std::unique_ptr<ArrayRows> input =
      openSequenceRows(args.input, args.inputKey.empty() ? "X_train" : args.inputKey, "--input");
  std::unique_ptr<ArrayRows> labels =
      openArrayRows(args.labels, args.labelsKey.empty() ? "Y_train" : args.labelsKey, "--labels");
  int64_t count = input->shape()[0];
  if (count == 0)
    throw Error(fmt::format("--input {} holds no sequences", input->describe()));
  ResolvedModel resolved = resolveModel(args.model, ModelFileOptions{args.activation, input->shape()[2], args.outputs});
  const Graph &graph = resolved.model->graph();
  checkInputShape(graph, input->shape(), args.input);
  checkLabelShape(*labels, graph, count, "--labels");
  std::unique_ptr<ArrayRows> mask;
  if (objective.labelMask) {
    mask = std::make_unique<CheckedMaskRows>(
        openArrayRows(args.mask, args.maskKey.empty() ? "mask" : args.maskKey, "--mask"));
    checkLabelShape(*mask, graph, count, "--mask");
    for (int64_t first = 0; first < count; first += 4096) // checked before the compile, as it is read
      readRowRange(*mask, first, std::min<int64_t>(4096, count - first));
  }
  std::map<std::string, HostArray<float>> vectors;
  if (objective.spectralNorm)
    vectors = loadPowerVectors(args.powerVectors, graph, args.seed);
  Parameters parameters =
      args.weights.empty() ? Parameters::initialize(graph, args.seed) : Parameters::loadNpz(graph, args.weights);
  double loadSeconds = secondsSince(start);

  std::string terms = (objective.labelMask ? " (masked)" : "") + describeExtraTerms(args.objective);
  fmt::print("seqjit grad: model {} ({}), {} sequences x {} nt, loss {}{}\n", graph.name, resolved.origin, count,
             input->shape()[2], args.objective.loss, terms);
  fmt::print("  compiling the gradient program ...\n");
  std::fflush(stdout);
  BatchedLossGradient compiled(graph, objective, count,
                               {.batchSize = args.batchSize, .batchNormTraining = args.batchNorm == "train"});
  if (compiled.batchSize() < count)
    fmt::print("  batches of {} sequences{} (--batch-size)\n", compiled.batchSize(),
               args.batchNorm == "train" &&
                       std::any_of(graph.nodes.begin(), graph.nodes.end(),
                                   [](const Node &node) { return node.op.kind == OpKind::BatchNorm; })
                   ? ", batch norm on each batch's statistics"
                   : "");
  start = std::chrono::steady_clock::now();
  ProgressLine progress("sequences");
  LossGradients<float> result =
      compiled.run({input.get(), labels.get(), mask.get()}, parameters, &vectors, std::ref(progress));
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
  fmt::print("  time: load {:.2f} s, compile {:.2f} s, run {:.3f} s ({:.3f} ms per sequence)\n", loadSeconds,
             compiled.compileSeconds(), runSeconds, 1e3 * runSeconds / static_cast<double>(count));
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
  command
      ->add_option("--batch-size", args->batchSize,
                   fmt::format("sequences per batch (default {}; 0: all in one batch). The gradient is the whole "
                               "set's; only batch norm in training mode sees each batch's statistics",
                               kDefaultGradientBatch))
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  command->callback([args] { runGrad(*args); });
}

} // namespace seqjit
