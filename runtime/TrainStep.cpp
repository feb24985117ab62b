// Training steps: the arguments of @train_step gathered from a TrainState and a batch, its results written back.
#include "runtime/TrainStep.h"

#include "dsl/Error.h"
#include "runtime/GradientPrograms.h"
#include "runtime/NonFinite.h"
#include "runtime/ParallelChunks.h"
#include "runtime/Random.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <type_traits>

namespace seqjit {
namespace {

const HostArray<float> &stateEntry(const std::map<std::string, HostArray<float>> &entries, const std::string &name,
                                   const char *what) {
  auto found = entries.find(name);
  if (found == entries.end())
    throw Error(fmt::format("the training state has no {} '{}'", what, name));
  return found->second;
}

/// @train_step's arguments in program order, checked against the graph, objective and optimizer, with their names.
/// The dropout masks and the schedule's scalars are made here and owned by it.
struct StepArguments {
  std::vector<NamedArray> arrays;
  std::vector<HostArray<float>> owned;
};

StepArguments stepArguments(const Graph &graph, const Objective &objective, const Optimizer &optimizer,
                            const TrainState &state, const TrainBatch &batch, double learningRate,
                            uint64_t dropoutSeed) {
  checkInputShape(graph, batch.input.shape, "the training batch's input");
  int64_t size = batch.input.shape[0];
  std::vector<int64_t> labelShape = batchedShape(size, graph.outputNode().shape);
  checkShape(batch.labels.shape, labelShape, "the labels");
  if (objective.labelMask != (batch.mask != nullptr))
    throw Error(objective.labelMask ? "this training step takes a label mask, but none was given"
                                    : "a label mask was given, but this training step was built without one");
  if (!(learningRate > 0.0) || !std::isfinite(learningRate))
    throw Error(fmt::format("the learning rate must be positive and finite, got {}", learningRate));

  StepArguments arguments;
  arguments.arrays.push_back({"the input", &batch.input});
  arguments.arrays.push_back({"the labels", &batch.labels});
  if (batch.mask) {
    checkShape(batch.mask->shape, labelShape, "the label mask");
    arguments.arrays.push_back({"the label mask", batch.mask});
  }
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      std::string name = Graph::parameterName(node, spec);
      const HostArray<float> &value = state.parameters.at(name);
      checkShape(value.shape, spec.shape, "parameter '" + name + "'");
      arguments.arrays.push_back({"parameter '" + name + "'", &value});
    }
  if (objective.spectralNorm)
    for (const PowerVector &vector : powerVectors(graph)) {
      const HostArray<float> &u = stateEntry(state.powerVectors, vector.name, "power vector");
      checkShape(u.shape, {vector.size}, "power vector '" + vector.name + "'");
      arguments.arrays.push_back({"power vector '" + vector.name + "'", &u});
    }
  for (const std::string &name : optimizerSlotNames(graph, optimizer)) {
    const HostArray<float> &slot = stateEntry(state.optimizerSlots, name, "optimizer slot");
    const Shape &parameterShape = state.parameters.at(name.substr(0, name.rfind('.'))).shape;
    checkShape(slot.shape, parameterShape, "optimizer slot '" + name + "'");
    arguments.arrays.push_back({"optimizer slot '" + name + "'", &slot});
  }
  int64_t t = state.step + 1;
  arguments.owned = dropoutMasks(graph, size, dropoutSeed, t);
  size_t masks = arguments.owned.size();
  if (batch.mix) {
    if (batch.mix->node < 0 || batch.mix->node >= static_cast<int>(graph.nodes.size()))
      throw Error(fmt::format("manifold mixup at node {}: model '{}' has no such node", batch.mix->node, graph.name));
    checkShape(batch.mix->matrix.shape, {size, size}, "the mixing matrix");
    arguments.owned.push_back(batch.mix->matrix);
  }
  for (double scalar : {learningRate, learningRate / (1.0 - std::pow(optimizer.beta1, static_cast<double>(t))),
                        std::sqrt(1.0 - std::pow(optimizer.beta2, static_cast<double>(t)))}) {
    HostArray<float> value(std::vector<int64_t>{});
    value.data.at(0) = static_cast<float>(scalar);
    arguments.owned.push_back(std::move(value));
  }
  std::vector<const Node *> dropouts = dropoutNodes(graph);
  for (size_t i = 0; i < arguments.owned.size(); ++i) {
    std::string name = i < masks                 ? "dropout mask of '" + dropouts[i]->name + "'"
                       : i == masks && batch.mix ? "the mixing matrix of '" + graph.nodes[batch.mix->node].name + "'"
                                                 : kTrainStepSchedule[i - masks - (batch.mix ? 1 : 0)];
    arguments.arrays.push_back({name, &arguments.owned[i]});
  }
  return arguments;
}

/// Writes @train_step's results into `state` (one step further) and returns the report.
template <typename T>
StepReport applyResults(const Graph &graph, const Objective &objective, const Optimizer &optimizer, TrainState &state,
                        std::vector<HostArray<T>> results) {
  StepReport report;
  size_t next = 0;
  for (const std::string &term : kLossTerms)
    report.terms[term] = static_cast<double>(results[next++].data.at(0));
  report.gradientNorm = static_cast<double>(results[next++].data.at(0));
  for (const std::string &name : parameterOrder(graph))
    state.parameters.at(name) = results[next++].template cast<float>();
  for (const std::string &name : optimizerSlotNames(graph, optimizer))
    state.optimizerSlots[name] = results[next++].template cast<float>();
  if (objective.spectralNorm)
    for (const PowerVector &vector : powerVectors(graph))
      state.powerVectors[vector.name] = results[next++].template cast<float>();
  ++state.step;
  return report;
}

} // namespace

TrainState initialTrainState(const Graph &graph, const Objective &objective, const Optimizer &optimizer,
                             Parameters parameters, uint64_t seed) {
  TrainState state{std::move(parameters), {}, {}, 0};
  for (const std::string &name : optimizerSlotNames(graph, optimizer))
    state.optimizerSlots[name] = HostArray<float>(state.parameters.at(name.substr(0, name.rfind('.'))).shape);
  if (objective.spectralNorm)
    state.powerVectors = initialPowerVectors<float>(graph, seed);
  return state;
}

std::vector<HostArray<float>> dropoutMasks(const Graph &graph, int64_t batch, uint64_t seed, int64_t step) {
  // Element i of a layer's mask is dropped where the i-th uniformDouble() of the layer's stream is below the rate,
  // that is where its 53 bits are below rate * 2^53 (exact: a power-of-two scaling), that is below its ceiling.
  // Drawn eight Philox blocks (sixteen elements) at a time, in chunks on the kernel threads: drawn one word at a
  // time on one thread, the masks took a sixth of a training epoch.
  struct Layer {
    uint64_t stream, cutoff;
    float kept;
  };
  std::vector<Layer> layers;
  std::vector<HostArray<float>> masks;
  for (const Node *node : dropoutNodes(graph)) {
    double rate = std::get<DropoutAttrs>(node->op.attributes).rate;
    layers.push_back({static_cast<uint64_t>(step) * 1024 + layers.size(),
                      static_cast<uint64_t>(std::ceil(std::ldexp(rate, 53))), static_cast<float>(1.0 / (1.0 - rate))});
    masks.emplace_back(batchedShape(batch, node->shape));
  }
  constexpr size_t kChunk = size_t{1} << 16;     // even: a chunk starts on a Philox block
  std::vector<std::pair<size_t, size_t>> chunks; // (layer, first element)
  for (size_t layer = 0; layer < masks.size(); ++layer)
    for (size_t first = 0; first < masks[layer].data.size(); first += kChunk)
      chunks.emplace_back(layer, first);
  runChunksInParallel(static_cast<int64_t>(chunks.size()), kernelThreads(), [&](int64_t c) {
    auto [index, first] = chunks[c];
    const Layer &layer = layers[index];
    std::vector<float> &mask = masks[index].data;
    const size_t end = std::min(mask.size(), first + kChunk);
    Random::bernoulliMask(seed, layer.stream, first / 2, std::span(mask).subspan(first, end - first), layer.cutoff,
                          layer.kept);
  });
  return masks;
}

CompiledTrainStep::CompiledTrainStep(Graph graph, Objective objective, Optimizer optimizer, ProgramOptions options,
                                     int mixedNode, Program program)
    : graph_(std::move(graph)), objective_(std::move(objective)), optimizer_(optimizer), options_(options),
      mixedNode_(mixedNode), program_(std::move(program)) {}

CompiledTrainStep CompiledTrainStep::compile(const Graph &graph, const Objective &objective, const Optimizer &optimizer,
                                             const ProgramOptions &options, int mixedNode) {
  if (options.batch <= 0 || options.float64)
    throw Error(fmt::format("train step of '{}': compile for a positive batch in float32 (got batch {})", graph.name,
                            options.batch));
  Program program = Program::compile(
      [&](mlir::MLIRContext &context) {
        return buildTrainStepModule(context, graph, objective, optimizer, options, mixedNode);
      },
      "train step of model '" + graph.name + "'", false, {kTrainStepFunction});
  return CompiledTrainStep(graph, objective, optimizer, options, mixedNode, std::move(program));
}

StepReport CompiledTrainStep::run(TrainState &state, const TrainBatch &batch, double learningRate,
                                  uint64_t dropoutSeed) const {
  if (batch.input.shape.empty() || batch.input.shape[0] != options_.batch)
    throw Error(fmt::format("the training batch has {} sequences; this train step was compiled for batches of {}",
                            batch.input.shape.empty() ? 0 : batch.input.shape[0], options_.batch));
  if ((batch.mix ? batch.mix->node : -1) != mixedNode_)
    throw Error(mixedNode_ < 0
                    ? std::string("this train step was compiled without manifold mixup")
                    : fmt::format("this train step mixes the batch at node {} and needs its matrix", mixedNode_));
  StepArguments arguments = stepArguments(graph_, objective_, optimizer_, state, batch, learningRate, dropoutSeed);
  auto results = program_.run(kTrainStepFunction, arguments.arrays, [&] {
    TrainState copy = state;
    interpretTrainStep<float>(graph_, objective_, optimizer_, options_.batchNormTraining, copy, batch, learningRate,
                              dropoutSeed, {.checkNumerics = true});
  });
  return applyResults(graph_, objective_, optimizer_, state, std::move(results));
}

template <typename T>
StepReport interpretTrainStep(const Graph &graph, const Objective &objective, const Optimizer &optimizer,
                              bool batchNormTraining, TrainState &state, const TrainBatch &batch, double learningRate,
                              uint64_t dropoutSeed, const InterpretOptions &interpretOptions) {
  StepArguments arguments = stepArguments(graph, objective, optimizer, state, batch, learningRate, dropoutSeed);
  std::vector<HostArray<T>> values;
  for (const NamedArray &argument : arguments.arrays)
    values.push_back(argument.array->template cast<T>());
  mlir::MLIRContext context;
  ProgramOptions options{batch.input.shape[0], std::is_same_v<T, double>, batchNormTraining};
  auto module = buildTrainStepModule(context, graph, objective, optimizer, options, batch.mix ? batch.mix->node : -1);
  auto results =
      interpretFunction<T>(module->lookupSymbol<mlir::func::FuncOp>(kTrainStepFunction), values, interpretOptions);
  return applyResults(graph, objective, optimizer, state, std::move(results));
}

template StepReport interpretTrainStep<float>(const Graph &, const Objective &, const Optimizer &, bool, TrainState &,
                                              const TrainBatch &, double, uint64_t, const InterpretOptions &);
template StepReport interpretTrainStep<double>(const Graph &, const Objective &, const Optimizer &, bool, TrainState &,
                                               const TrainBatch &, double, uint64_t, const InterpretOptions &);

} // namespace seqjit
