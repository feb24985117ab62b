// The training loop: every random draw comes from a Philox stream keyed by (seed, purpose) and numbered by epoch or
// step, so a run resumed from the checkpoint of epoch k replays epochs k+1... exactly as the uninterrupted run.
#include "runtime/Trainer.h"

#include "compiler/GraphImport.h"
#include "dsl/Error.h"
#include "runtime/Adversarial.h"
#include "runtime/core/AtomicFile.h"
#include "runtime/Checkpoint.h"
#include "runtime/Evaluation.h"
#include "runtime/GradientPrograms.h"
#include "runtime/HostLosses.h"
#include "runtime/Metrics.h"
#include "runtime/Stopwatch.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace seqjit {

namespace {

/// The loss terms an objective has (the step reports every kLossTerms entry; the absent ones are zero).
std::vector<std::string> activeTerms(const Objective &objective) {
  std::vector<std::string> terms = {"loss", "data_loss"};
  if (objective.fourierPrior)
    terms.push_back("fourier_prior");
  if (objective.smoothnessPrior)
    terms.push_back("smoothness_prior");
  if (objective.sparsityPrior)
    terms.push_back("sparsity_prior");
  if (objective.l2 != 0.0 || !objective.l2PerLayer.empty())
    terms.push_back("l2_penalty");
  if (objective.spectralNorm)
    terms.push_back("spectral_penalty");
  return terms;
}

void checkDataset(const Graph &graph, const Dataset &data, const std::string &role) {
  const Shape &input = graph.nodes.front().shape;
  std::vector<int64_t> expectedInput(input.begin(), input.end());
  if (data.inputShape() != expectedInput)
    throw Error(fmt::format("the {} {} has sequences of shape ({}), but model '{}' takes ({})", role, data.describe(),
                            fmt::join(data.inputShape(), ", "), graph.name, fmt::join(expectedInput, ", ")));
  const Shape &output = graph.outputNode().shape;
  std::vector<int64_t> expectedLabels(output.begin(), output.end());
  if (data.labelShape() != expectedLabels)
    throw Error(fmt::format("the {} {} has labels of shape ({}), but model '{}' outputs ({})", role, data.describe(),
                            fmt::join(data.labelShape(), ", "), graph.name, fmt::join(expectedLabels, ", ")));
}

/// 0, 1, ..., count - 1 in the order of epoch `epoch`'s Fisher-Yates shuffle.
std::vector<int64_t> epochOrder(int64_t count, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    order[i] = i;
  Random random(derivedSeed(seed, "shuffle"), static_cast<uint64_t>(epoch));
  for (int64_t i = count - 1; i > 0; --i)
    std::swap(order[i], order[random.uniformInt(static_cast<uint64_t>(i + 1))]);
  return order;
}

/// Whether `value` beats `best` by more than `minDelta` (NaN never does; anything beats a NaN best).
bool improves(double value, double best, bool increases, double minDelta) {
  if (std::isnan(value))
    return false;
  return std::isnan(best) || (increases ? value > best + minDelta : value < best - minDelta);
}

} // namespace

bool monitorIncreases(const std::string &monitor) { return monitor != "loss"; }

bool recordEpochOutcome(TrainingProgress &progress, int64_t epoch, double monitored, bool increases,
                        const TrainerOptions &options) {
  bool improved = improves(monitored, progress.bestValue, increases, 0.0);
  if (improved) {
    progress.bestValue = monitored;
    progress.bestEpoch = epoch;
    progress.epochsWithoutImprovement = 0;
  } else if (options.earlyStoppingPatience > 0 &&
             ++progress.epochsWithoutImprovement >= options.earlyStoppingPatience) {
    progress.stoppedEarly = true;
  }
  // The plateau keeps its own best and needs an improvement of more than minDelta, as Keras's ReduceLROnPlateau.
  if (const auto &plateau = options.plateau) {
    if (improves(monitored, progress.plateauBest, increases, plateau->minDelta)) {
      progress.plateauBest = monitored;
      progress.plateauWait = 0;
    } else if (++progress.plateauWait >= plateau->patience) {
      progress.learningRate =
          std::max(progress.learningRate * plateau->factor, std::min(plateau->minLearningRate, progress.learningRate));
      progress.plateauWait = 0;
    }
  }
  return improved;
}

struct Trainer::Programs {
  CompiledTrainStep step;
  CompiledModel forward;
  std::optional<CompiledInputGradient> inputGradient;
  /// Manifold mixup: the layers it mixes at (0, the input, is mixed on the host and uses `step`), and a train step
  /// per hidden one.
  std::vector<int> mixupNodes;
  std::map<int, CompiledTrainStep> mixedSteps;
};

namespace {

/// Manifold mixup's layers: the input and every activation layer's output but the model's output.
std::vector<int> manifoldMixupNodes(const Graph &graph) {
  std::vector<int> nodes{graph.nodes.front().id};
  for (const Node &node : graph.nodes)
    if (node.op.kind == OpKind::Activation && node.id != graph.output)
      nodes.push_back(node.id);
  return nodes;
}

} // namespace

StepReport Trainer::runStep(TrainState &state, Examples &examples, double learningRate, uint64_t dropoutSeed,
                            uint64_t augmentSeed) const {
  if (programs_->mixupNodes.empty())
    return programs_->step.run(state, TrainBatch{examples.input, examples.labels}, learningRate, dropoutSeed);
  // Its own stream per step, apart from augmentBatch's, so that turning it on leaves the other draws as they were.
  Random random(augmentSeed, (uint64_t{1} << 63) + static_cast<uint64_t>(state.step + 1));
  const std::vector<int> &nodes = programs_->mixupNodes;
  int node = nodes[random.uniformInt(nodes.size())];
  MixupDraw draw = drawMixup(random, options_.augmentations.manifoldMixupAlpha, examples.input.shape[0]);
  mixRows(examples.labels, draw);
  if (node == nodes.front()) {
    mixRows(examples.input, draw);
    return programs_->step.run(state, TrainBatch{examples.input, examples.labels}, learningRate, dropoutSeed);
  }
  BatchMix mix{node, mixingMatrix(draw)};
  return programs_->mixedSteps.at(node).run(state, TrainBatch{examples.input, examples.labels, nullptr, &mix},
                                            learningRate, dropoutSeed);
}

Trainer::Trainer(const Graph &graph, Objective objective, Optimizer optimizer, TrainerOptions options)
    : graph_(graph), objective_(std::move(objective)), optimizer_(optimizer), options_(std::move(options)) {
  checkObjective(objective_);
  if (objective_.labelMask)
    throw Error("the trainer does not read label masks from data files; train without a mask");
  if (options_.batch < 1 || options_.epochs < 0)
    throw Error(fmt::format("the batch size must be positive and the epoch count not negative (got {} and {})",
                            options_.batch, options_.epochs));
  if (options_.monitor != "loss" &&
      std::find(kMetricNames.begin(), kMetricNames.end(), options_.monitor) == kMetricNames.end())
    throw Error(fmt::format("cannot monitor '{}'; expected loss, {}", options_.monitor, fmt::join(kMetricNames, ", ")));
  if (const auto &plateau = options_.plateau;
      plateau && (!(plateau->factor > 0.0 && plateau->factor < 1.0) || plateau->patience < 1))
    throw Error("the plateau decay needs a factor in (0, 1) and a patience of at least one epoch");
  if (options_.earlyStoppingPatience < 0)
    throw Error("the early-stopping patience must not be negative");
  if (options_.monitor != "loss" && graph_.outputNode().shape.size() > 1)
    throw Error(fmt::format("cannot monitor '{}' for model '{}': its outputs are profiles, which have no per-task "
                            "metrics; monitor the loss",
                            options_.monitor, graph_.name));
  if (options_.resume && options_.checkpointPath.empty())
    throw Error("resuming needs the checkpoint to resume from");

  fingerprint_ = seqjit::runFingerprint(graph_, objective_, optimizer_, options_);

  ProgramOptions stepOptions{options_.batch, false, true};
  CompileOptions forwardOptions;
  forwardOptions.batch = options_.batch;
  forwardOptions.threads = options_.threads;
  std::optional<CompiledInputGradient> inputGradient;
  // The attack sees the model as evaluation does (running statistics), so that it perturbs each example on its own.
  if (options_.augmentations.adversarial)
    inputGradient = CompiledInputGradient::compile(graph_, ProgramOptions{options_.batch, false, false});
  programs_ =
      std::make_unique<Programs>(Programs{CompiledTrainStep::compile(graph_, objective_, optimizer_, stepOptions),
                                          compile(graph_, forwardOptions),
                                          std::move(inputGradient),
                                          {},
                                          {}});
  if (options_.augmentations.manifoldMixupAlpha > 0.0) {
    programs_->mixupNodes = manifoldMixupNodes(graph_);
    for (int node : programs_->mixupNodes)
      if (node != programs_->mixupNodes.front())
        programs_->mixedSteps.emplace(node,
                                      CompiledTrainStep::compile(graph_, objective_, optimizer_, stepOptions, node));
  }
}

Trainer::~Trainer() = default;

double Trainer::compileSeconds() const {
  double seconds = programs_->step.compileSeconds() + programs_->forward.compileSeconds();
  for (const auto &[node, step] : programs_->mixedSteps)
    seconds += step.compileSeconds();
  return seconds;
}

std::map<std::string, std::string> Trainer::runFingerprint() const { return fingerprint_; }

namespace {

/// Every layer by name and op ("act1:activation(exp,scale=1,shift=0)"): what a reader can compare.
std::string describeLayers(const Graph &graph) {
  std::string layers;
  for (const Node &node : graph.nodes) {
    layers += fmt::format("{}{}:{}", layers.empty() ? "" : " ", node.name, opKindName(node.op.kind));
    if (node.op.kind == OpKind::Activation) {
      const auto &a = std::get<ActivationAttrs>(node.op.attributes);
      layers += fmt::format("({},scale={},shift={})", activationKindName(a.kind), a.scale, a.shift);
    }
  }
  return layers;
}

/// FNV-1a of the printed seq module of the model: every attribute of every op, which the layer list leaves out.
std::string graphHash(const Graph &graph) {
  mlir::MLIRContext context;
  auto module = importGraph(context, graph, ImportOptions{});
  std::string text;
  llvm::raw_string_ostream stream(text);
  module->print(stream);
  stream.flush();
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : text)
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return fmt::format("{:016x}", hash);
}

} // namespace

std::map<std::string, std::string> runFingerprint(const Graph &graph, const Objective &objective,
                                                  const Optimizer &optimizer, const TrainerOptions &options) {
  std::string shapes;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      shapes += fmt::format("{}{}({})", shapes.empty() ? "" : " ", Graph::parameterName(node, spec),
                            fmt::join(spec.shape, ","));
  std::string plateau = options.plateau ? fmt::format("factor={},patience={},min_lr={},min_delta={}",
                                                      options.plateau->factor, options.plateau->patience,
                                                      options.plateau->minLearningRate, options.plateau->minDelta)
                                        : "off";
  return {{"model", graph.name},
          {"layers", describeLayers(graph)},
          {"graph_hash", graphHash(graph)},
          {"parameters", shapes},
          {"objective", describeObjective(objective)},
          {"optimizer", describeOptimizer(optimizer)},
          {"batch", std::to_string(options.batch)},
          {"seed", std::to_string(options.seed)},
          {"augmentations", describeAugmentations(options.augmentations)},
          {"monitor", options.monitor},
          {"plateau", plateau},
          {"early_stopping_patience", std::to_string(options.earlyStoppingPatience)}};
}

std::map<std::string, double> Trainer::evaluate(const Dataset &data, const Parameters &parameters) const {
  checkDataset(graph_, data, "evaluation data");
  return lossAndMetrics(forwardDataset(programs_->forward, data, parameters), objective_.loss);
}

TrainingResult Trainer::fit(const Dataset &train, const Dataset *validation, const Parameters &initial,
                            const TrainingObserver &observer) const {
  checkDataset(graph_, train, "training data");
  if (validation)
    checkDataset(graph_, *validation, "validation data");
  int64_t batches = train.size() / options_.batch;
  if (batches == 0)
    throw Error(fmt::format("the training data {} has {} examples, fewer than one batch of {}", train.describe(),
                            train.size(), options_.batch));
  std::string monitor = validation ? options_.monitor : "loss";
  bool increases = monitorIncreases(monitor);

  TrainingResult result;
  if (options_.resume) {
    Checkpoint checkpoint = readCheckpoint(options_.checkpointPath, graph_, objective_, optimizer_, runFingerprint());
    result.state = std::move(checkpoint.state);
    result.bestParameters = std::move(checkpoint.bestParameters);
    result.progress = std::move(checkpoint.progress);
  } else {
    result.state = initialTrainState(graph_, objective_, optimizer_, initial, derivedSeed(options_.seed, "power"));
    result.bestParameters = initial;
    result.progress.learningRate = optimizer_.learningRate;
  }
  TrainState &state = result.state;
  TrainingProgress &progress = result.progress;
  std::vector<std::string> terms = activeTerms(objective_);
  uint64_t dropoutSeed = derivedSeed(options_.seed, "dropout");
  uint64_t augmentSeed = derivedSeed(options_.seed, "augment");

  for (int64_t epoch = progress.epochsDone + 1; epoch <= options_.epochs && !progress.stoppedEarly; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    std::vector<int64_t> order = epochOrder(train.size(), options_.seed, epoch);
    EpochRecord record;
    record.epoch = epoch;
    record.learningRate = progress.learningRate;
    double gradientNorms = 0.0;
    for (int64_t batch = 0; batch < batches; ++batch) {
      std::span<const int64_t> indices(order.data() + batch * options_.batch, static_cast<size_t>(options_.batch));
      Examples examples = train.read(indices);
      if (options_.augmentations.any()) {
        // One stream per step: the draws of a step do not depend on how many the previous steps made.
        Random random(augmentSeed, static_cast<uint64_t>(state.step + 1));
        augmentBatch(examples, options_.augmentations, random);
        if (options_.augmentations.adversarial)
          examples.input = adversarialInput(programs_->forward, *programs_->inputGradient, examples, state.parameters,
                                            objective_.loss, *options_.augmentations.adversarial, random);
      }
      StepReport report = runStep(state, examples, progress.learningRate, dropoutSeed, augmentSeed);
      for (const std::string &term : terms)
        record.train[term] += report.terms.at(term);
      gradientNorms += report.gradientNorm;
      if (observer) {
        TrainingEvent event;
        event.epoch = epoch, event.epochs = options_.epochs;
        event.batchesDone = batch + 1, event.batches = batches;
        event.meanLoss = record.train["loss"] / static_cast<double>(batch + 1);
        event.learningRate = progress.learningRate;
        observer(event);
      }
    }
    for (auto &[term, sum] : record.train)
      sum /= static_cast<double>(batches);
    record.train["gradient_norm"] = gradientNorms / static_cast<double>(batches);

    if (validation)
      record.validation = evaluate(*validation, state.parameters);
    record.monitored = validation ? record.validation.at(monitor) : record.train.at("loss");
    bool improved = recordEpochOutcome(progress, epoch, record.monitored, increases, options_);
    if (improved)
      result.bestParameters = state.parameters;
    record.seconds = secondsSince(start);
    progress.epochsDone = epoch;
    progress.history.push_back(record);
    if (!options_.checkpointPath.empty())
      writeCheckpoint(options_.checkpointPath, Checkpoint{runFingerprint(), state, result.bestParameters, progress});
    if (!options_.historyPath.empty())
      writeFileAtomically(options_.historyPath, historyJson(progress, monitor));
    if (observer) {
      TrainingEvent event;
      event.epoch = epoch, event.epochs = options_.epochs;
      event.batchesDone = event.batches = batches;
      event.meanLoss = record.train.at("loss");
      event.learningRate = record.learningRate;
      event.epochEnded = true;
      event.record = &progress.history.back();
      event.improved = improved;
      observer(event);
    }
  }
  if (options_.restoreBestWeights && progress.bestEpoch > 0)
    state.parameters = result.bestParameters;
  return result;
}

} // namespace seqjit
