// seqjit train: trains a model from the compiled train step on HDF5, FASTA or BED data, with a live progress line,
// per-epoch checkpoints, a JSON history and the test metrics at the end.
#include "compiler/ArtifactBuilder.h"
#include "dsl/Error.h"
#include "dsl/MultiplyAdds.h"
#include "dsl/Optimizer.h"
#include "dsl/OptionSpec.h"
#include "runtime/Checkpoint.h"
#include "runtime/Stopwatch.h"
#include "runtime/Trainer.h"
#include "runtime/core/AtomicFile.h"
#include "runtime/core/Device.h"
#include "tools/Commands.h"
#include "tools/DataOptions.h"
#include "tools/ModelResolver.h"
#include "tools/ObjectiveOptions.h"
#include "tools/TrainedModelOptions.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <unistd.h>

namespace seqjit {

namespace {

struct TrainArguments {
  std::string model;
  std::string activation;
  int64_t outputs = 0;
  std::string weights;
  std::string init = "model";
  DataArguments data;
  ObjectiveArguments objective;
  std::string optimizer = "adam";
  std::string recipe = "quick";
  int64_t epochs = 0;
  int64_t batch = 100;
  uint64_t seed = 0;
  std::string monitor;
  int64_t patience = -1;
  std::string plateau;
  std::string augment = "none";
  std::string output;
  bool resume = false;
  int threads = 0;
};

/// The schedule of a recipe: "quick" (the README demo: minutes on two cores) or "paper" (Koo & Ploenzke's:
/// 100 epochs, early stopping after 10 without improvement, learning rate x0.2 after 5).
struct Recipe {
  int64_t epochs, patience;
  PlateauDecay plateau;
};

Recipe recipeNamed(const std::string &name) {
  if (name == "quick")
    return {20, 5, PlateauDecay{0.2, 3, 1e-7}};
  if (name == "paper")
    return {100, 10, PlateauDecay{0.2, 5, 1e-7}};
  throw Error(fmt::format("--recipe: unknown recipe '{}'; expected quick or paper", name));
}

/// The initializer --init names for every seeded weight; none for "model" (each layer's own).
std::optional<Initializer> weightInitializerNamed(const std::string &name) {
  if (name == "glorot")
    return Initializer::GlorotUniform;
  if (name == "he")
    return Initializer::HeNormal;
  if (name == "model")
    return std::nullopt;
  throw Error(fmt::format("--init: unknown initializer '{}'; expected model, glorot or he", name));
}

/// What the best epoch is judged by unless --monitor says: AUROC for binary labels, Pearson's r for counts and
/// values, the loss for profiles (which have no per-task metrics).
std::string defaultMonitor(LossKind loss) {
  switch (loss) {
  case LossKind::BinaryCrossEntropy:
    return "auroc";
  case LossKind::MeanSquaredError:
  case LossKind::Poisson:
    return "pearson";
  case LossKind::Multinomial:
    return "loss";
  }
  return "loss";
}

/// Removes what a killed run's atomic writes may have left next to its checkpoint and history: writeFileAtomically's
/// "<file>.tmp.<pid>.<n>". Only those names: the directory may hold the user's own files.
void removeStaleTemporaries(const std::filesystem::path &directory) {
  std::error_code ignored;
  for (const auto &entry : std::filesystem::directory_iterator(directory, ignored)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("checkpoint.seqjit.tmp.") || name.starts_with("history.json.tmp."))
      std::filesystem::remove(entry.path(), ignored);
  }
}

std::optional<PlateauDecay> parsePlateau(const std::string &spec, PlateauDecay decay) {
  if (spec == "off")
    return std::nullopt;
  forEachOptionItem("--plateau", spec, "factor, patience, min_lr, min_delta or off",
                    [&](std::string_view key, std::string_view value) {
                      if (key == "factor")
                        decay.factor = parseNumber<double>("--plateau", key, value);
                      else if (key == "patience")
                        decay.patience = parseNumber<int64_t>("--plateau", key, value);
                      else if (key == "min_delta")
                        decay.minDelta = parseNumber<double>("--plateau", key, value);
                      else if (key == "min_lr")
                        decay.minLearningRate = parseNumber<double>("--plateau", key, value);
                      else
                        return false;
                      return true;
                    });
  return decay;
}

std::string formatValues(const std::map<std::string, double> &values, const std::vector<std::string> &keys) {
  std::string text;
  for (const std::string &key : keys)
    if (auto found = values.find(key); found != values.end())
      text += fmt::format(" {} {:.4f}", key, found->second);
  return text;
}

/// The live progress line on stderr (redrawn in place on a terminal) and one line per epoch on stdout.
class TrainingDisplay {
public:
  explicit TrainingDisplay(std::string monitor) : monitor_(std::move(monitor)), terminal_(isatty(STDERR_FILENO)) {}

  void operator()(const TrainingEvent &event) {
    if (!event.epochEnded) {
      if (!terminal_)
        return;
      if (event.batchesDone == 1)
        epochStart_ = std::chrono::steady_clock::now();
      double elapsed = secondsSince(epochStart_);
      double remaining =
          elapsed / static_cast<double>(event.batchesDone) * static_cast<double>(event.batches - event.batchesDone);
      int filled = static_cast<int>(30 * event.batchesDone / event.batches);
      fmt::print(stderr, "\r  epoch {}/{} [{}{}] {}/{} batches, loss {:.4f}, {:.0f} s left   ", event.epoch,
                 event.epochs, std::string(static_cast<size_t>(filled), '='),
                 std::string(static_cast<size_t>(30 - filled), ' '), event.batchesDone, event.batches, event.meanLoss,
                 remaining);
      std::fflush(stderr);
      return;
    }
    if (terminal_)
      fmt::print(stderr, "\r{}\r", std::string(100, ' '));
    const EpochRecord &record = *event.record;
    fmt::print("epoch {:>3}/{}  train loss {:.4f}{}  |  valid{}  |  lr {:.3g}  {:.1f} s{}\n", event.epoch, event.epochs,
               record.train.at("loss"),
               formatValues(record.train, {"fourier_prior", "smoothness_prior", "sparsity_prior"}),
               record.validation.empty() ? std::string(" (none)")
                                         : formatValues(record.validation, {"loss", "auroc", "aupr", "pearson"}),
               record.learningRate, record.seconds, event.improved ? fmt::format("  * best {}", monitor_) : "");
    std::fflush(stdout);
  }

private:
  std::string monitor_;
  bool terminal_;
  std::chrono::steady_clock::time_point epochStart_ = std::chrono::steady_clock::now();
};

void runTrain(const TrainArguments &args) {
  auto start = std::chrono::steady_clock::now();
  Objective objective = buildObjective(args.objective);
  Optimizer optimizer = parseOptimizer("--optimizer", args.optimizer);
  Recipe recipe = recipeNamed(args.recipe);
  std::optional<Initializer> weightInitializer = weightInitializerNamed(args.init);
  TrainerOptions options;
  options.epochs = args.epochs > 0 ? args.epochs : recipe.epochs;
  options.batch = args.batch;
  options.seed = args.seed;
  options.monitor = args.monitor.empty() ? defaultMonitor(objective.loss) : args.monitor;
  options.earlyStoppingPatience = args.patience >= 0 ? args.patience : recipe.patience;
  options.plateau = args.plateau.empty() ? std::optional(recipe.plateau) : parsePlateau(args.plateau, recipe.plateau);
  options.augmentations = parseAugmentations("--augment", args.augment);
  options.threads = args.threads;
  std::filesystem::path directory(args.output);
  std::filesystem::create_directories(directory);
  options.checkpointPath = (directory / "checkpoint.seqjit").string();
  options.historyPath = (directory / "history.json").string();
  options.resume = args.resume;
  if (args.resume && !std::filesystem::exists(options.checkpointPath))
    throw Error(fmt::format("--resume: there is no checkpoint '{}' to resume from", options.checkpointPath));
  if (!args.resume && std::filesystem::exists(options.checkpointPath))
    throw Error(fmt::format("'{}' already holds a run's checkpoint: add --resume to continue it, or choose another "
                            "--out",
                            options.checkpointPath));
  if (args.resume && !args.weights.empty())
    throw Error("--weights starts a new run; a resumed run takes its weights from the checkpoint");
  if (args.init != "model" && !args.weights.empty())
    throw Error(
        fmt::format("--init {} draws the initial weights; --weights loads them: give one of the two", args.init));
  removeStaleTemporaries(directory);

  std::unique_ptr<Dataset> train = openSplit(args.data, "train");
  if (!train)
    throw Error("no training data: give --data D.h5, or --train FILE");
  std::unique_ptr<Dataset> valid = openSplit(args.data, "valid");
  std::unique_ptr<Dataset> test = openSplit(args.data, "test");
  ResolvedModel resolved = resolveModel(args.model, modelOptionsFor(*train, args.activation, args.outputs));
  const Graph &graph = resolved.model->graph();
  Parameters initial = args.weights.empty() ? Parameters::initialize(graph, args.seed, weightInitializer)
                                            : Parameters::loadNpz(graph, args.weights);

  if (args.resume) // before minutes of compiling: the checkpoint must belong to this run
    readCheckpoint(options.checkpointPath, graph, objective, optimizer,
                   runFingerprint(graph, objective, optimizer, options));

  fmt::print("seqjit train: model {} ({}; {:.0f} multiply-adds per sequence in its convolutions and dense layers), "
             "{} training sequences x {} nt, {} validation, {} test\n",
             graph.name, resolved.origin, multiplyAddsPerExample(graph), train->size(), train->inputShape().at(1),
             valid ? std::to_string(valid->size()) : "no", test ? std::to_string(test->size()) : "no");
  fmt::print("  loss {}{}; optimizer {}; batch {}; up to {} epochs; augmentations {}\n", args.objective.loss,
             describeExtraTerms(args.objective), describeOptimizer(optimizer), options.batch, options.epochs,
             describeAugmentations(options.augmentations));
  fmt::print("  compiling the train step and the forward pass ...\n");
  std::fflush(stdout);
  Trainer trainer(graph, objective, optimizer, options);
  fmt::print("  {} for {}; writing to {}/\n", describeCompileTally(), describeDevice(defaultDevice()),
             directory.string());
  if (args.resume)
    fmt::print("  resuming from {}\n", options.checkpointPath);
  std::fflush(stdout);

  if (!valid)
    fmt::print("  no validation data: the best epoch, the plateau and early stopping follow the training loss\n");
  TrainingDisplay display(valid ? options.monitor : "loss");
  TrainingResult result = trainer.fit(*train, valid.get(), initial, std::ref(display));
  const TrainingProgress &progress = result.progress;
  std::string weightsPath = (directory / "weights.npz").string();
  result.state.parameters.saveNpz(weightsPath);
  fmt::print("{} after {} epochs; best epoch {} ({} {:.4f}); weights {}\n",
             progress.stoppedEarly ? "stopped early" : "done", progress.epochsDone, progress.bestEpoch,
             valid ? "valid " + options.monitor : "train loss", progress.bestValue, weightsPath);
  if (test) {
    std::map<std::string, double> metrics = trainer.evaluate(*test, result.state.parameters);
    fmt::print("test:{}\n", formatValues(metrics, {"loss", "auroc", "aupr", "accuracy", "pearson", "spearman"}));
    nlohmann::json json(metrics);
    writeFileAtomically((directory / "test_metrics.json").string(), json.dump(2) + "\n");
  }
  fmt::print("  total time {:.1f} s\n", secondsSince(start));
}

} // namespace

void addTrainCommand(CLI::App &app) {
  auto args = std::make_shared<TrainArguments>();
  CLI::App *command = app.add_subcommand("train", "Train a model with the compiled train step");
  addDeviceOption(*command);
  command->add_option("model", args->model, "stdlib model name (see `seqjit models`) or a model file (.cpp)")
      ->required();
  command
      ->add_option("--out", args->output,
                   "run directory: checkpoint.seqjit, history.json, weights.npz, "
                   "test_metrics.json")
      ->required();
  addDataOptions(command, args->data, {"train", "valid", "test"});
  addObjectiveOptions(command, args->objective);
  command->add_option("--optimizer", args->optimizer,
                      "adam|adamw|sgd[,lr=..][,beta1=..][,beta2=..][,eps=..][,weight_decay=..][,momentum=..]"
                      "[,nesterov][,clip=..] (default adam, lr 1e-3)");
  command->add_option("--recipe", args->recipe,
                      "quick (default: 20 epochs, early stop after 5, lr x0.2 after 3) or paper (100 epochs, early "
                      "stop after 10, lr x0.2 after 5)");
  command->add_option("--epochs", args->epochs, "maximum epochs (default: the recipe's)");
  command->add_option("--batch", args->batch,
                      "sequences per step (default 100; a last partial batch is skipped, "
                      "a different one each epoch)");
  command->add_option("--seed", args->seed, "seed of initialisation, shuffling, dropout and augmentations");
  command->add_option("--monitor", args->monitor,
                      "validation value for the best epoch, plateau and early stopping: auroc, aupr, accuracy, "
                      "pearson, spearman or loss (default: auroc for bce, pearson for mse and poisson, loss for "
                      "multinomial)");
  command->add_option("--patience", args->patience,
                      "early stopping after this many epochs without improvement "
                      "(0: never; default: the recipe's)");
  command->add_option("--plateau", args->plateau,
                      "learning-rate decay on plateau: factor=0.2,patience=3,min_lr=1e-7,min_delta=1e-4 "
                      "or off (default: the recipe's)");
  command->add_option(
      "--augment", args->augment,
      "augmentations: rc, shift=N, noise=SD, mixup=ALPHA, manifold_mixup=ALPHA, pgd (L-inf 0.05, step 0.005, 15 steps; "
      "pgd_epsilon=, pgd_step=, pgd_steps= change it), comma-separated; default none");
  command->add_option("--weights", args->weights, "initial weights (.npz, PyTorch names); default: seeded");
  command->add_option("--init", args->init,
                      "distribution of the seeded weights: model (the model's own; Glorot-uniform in the stdlib), "
                      "glorot, or he (He-normal, as the papers' Keras code draws them)");
  command->add_option("--activation", args->activation, "first-layer activation (exp, relu, ...)");
  command->add_option("--outputs", args->outputs, "number of outputs (default: the data's tasks)");
  command->add_flag("--resume", args->resume, "continue from the run directory's checkpoint");
  addThreadsOption(command, args->threads);
  command->callback([args] { runTrain(*args); });
}

} // namespace seqjit
