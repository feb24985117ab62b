// The train-step program: emitLossGradient, then clipping, the optimizer's update rule and the running statistics,
// all in seq ops, so that the JIT and the reference interpreter run the same step.
#include "compiler/TrainStep.h"

#include "compiler/SeqBuilder.h"

#include <cmath>

using namespace mlir;

namespace seqjit {
namespace {

/// A rank-0 value repeated to `like`'s shape.
Value spread(SeqBuilder &s, Value scalar, Value like) {
  auto type = SeqBuilder::tensorType(like);
  if (type.getRank() == 0)
    return scalar;
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    axes.push_back(i);
  return s.broadcast(scalar, axes, type);
}

/// The schedule's rank-0 arguments.
struct Schedule {
  Value learningRate, stepSize, biasCorrection2Sqrt;
};

/// One parameter's update: the new parameter and its new slots (in optimizerSlots order).
std::pair<Value, SmallVector<Value>> step(SeqBuilder &s, const Optimizer &optimizer, const Schedule &schedule,
                                          Value parameter, Value gradient, ArrayRef<Value> slots) {
  if (optimizer.weightDecay != 0.0 && optimizer.kind != OptimizerKind::AdamW)
    gradient = s.add({gradient, s.affine(parameter, optimizer.weightDecay)});
  if (optimizer.kind == OptimizerKind::Sgd) {
    Value direction = gradient;
    SmallVector<Value> newSlots;
    if (optimizer.momentum != 0.0) {
      Value buffer = s.add({s.affine(slots[0], optimizer.momentum), gradient});
      newSlots.push_back(buffer);
      direction = optimizer.nesterov ? s.add({gradient, s.affine(buffer, optimizer.momentum)}) : buffer;
    }
    Value update = s.mul(spread(s, schedule.learningRate, parameter), direction);
    return {s.sub(parameter, update), newSlots};
  }
  if (optimizer.kind == OptimizerKind::AdamW) // p *= 1 - lr * weight_decay
    parameter = s.mul(parameter, spread(s, s.affine(schedule.learningRate, -optimizer.weightDecay, 1.0), parameter));
  Value average = s.add({s.affine(slots[0], optimizer.beta1), s.affine(gradient, 1.0 - optimizer.beta1)});
  Value averageSquare = s.add({s.affine(slots[1], optimizer.beta2),
                               s.affine(s.activation(gradient, ActivationKind::Square), 1.0 - optimizer.beta2)});
  // p -= step_size * m / (sqrt(v) / sqrt(1 - beta2^t) + eps), as torch.optim.Adam.
  Value scaledRoot =
      s.mul(s.activation(averageSquare, ActivationKind::Sqrt),
            spread(s, s.activation(schedule.biasCorrection2Sqrt, ActivationKind::Reciprocal), parameter));
  Value denominator = s.affine(scaledRoot, 1.0, optimizer.eps);
  Value update = s.mul(spread(s, schedule.stepSize, parameter),
                       s.mul(average, s.activation(denominator, ActivationKind::Reciprocal)));
  return {s.sub(parameter, update), {average, averageSquare}};
}

/// (1 - momentum) * running + momentum * batch statistic, for a batch norm's running mean and variance; the batch
/// variance is the unbiased one, as PyTorch keeps it.
std::pair<Value, Value> runningStatistics(SeqBuilder &s, const BatchNormAttrs &attributes, Value x, Value runningMean,
                                          Value runningVariance) {
  auto type = SeqBuilder::tensorType(x);
  SmallVector<int64_t> axes = SeqBuilder::axesExceptChannels(x);
  double count = static_cast<double>(type.getNumElements() / type.getDimSize(1));
  Value mean = s.affine(s.reduceSum(x, axes), 1.0 / count);
  Value centred = s.sub(x, s.broadcast(mean, axes, type));
  Value variance =
      s.affine(s.reduceSum(s.activation(centred, ActivationKind::Square), axes), 1.0 / std::max(count - 1.0, 1.0));
  double m = attributes.momentum;
  auto blend = [&](Value running, Value batch) { return s.add({s.affine(running, 1.0 - m), s.affine(batch, m)}); };
  return {blend(runningMean, mean), blend(runningVariance, variance)};
}

} // namespace

std::vector<std::string> optimizerSlotNames(const Graph &graph, const Optimizer &optimizer) {
  std::vector<std::string> names;
  for (const std::string &parameter : trainableParameterNames(graph))
    for (const std::string &slot : optimizerSlots(optimizer))
      names.push_back(parameter + "." + slot);
  return names;
}

std::vector<const Node *> dropoutNodes(const Graph &graph) {
  std::vector<const Node *> nodes;
  for (const Node &node : graph.nodes)
    if (node.op.kind == OpKind::Dropout && std::get<DropoutAttrs>(node.op.attributes).rate > 0.0)
      nodes.push_back(&node);
  return nodes;
}

OwningOpRef<ModuleOp> buildTrainStepModule(MLIRContext &context, const Graph &original, const Objective &objective,
                                           const Optimizer &optimizer, const ProgramOptions &options, int mixedNode) {
  Graph graph = withBatchNormMode(original, options.batchNormTraining);
  Type elementType = programElementType(context, options);
  auto scalarType = RankedTensorType::get({}, elementType);
  LossProgramArguments arguments = lossProgramArguments(context, graph, objective, options);
  size_t powerVectorCount = arguments.trailing.size();
  std::vector<std::string> trainable = trainableParameterNames(graph);
  std::map<std::string, Shape> shapes;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      shapes[Graph::parameterName(node, spec)] = spec.shape;
  size_t slotsPerParameter = optimizerSlots(optimizer).size();
  for (const std::string &name : optimizerSlotNames(graph, optimizer))
    arguments.trailing.push_back({name, RankedTensorType::get(shapes.at(name.substr(0, name.rfind('.'))), elementType),
                                  TensorRole::OptimizerState});
  std::vector<const Node *> dropouts = dropoutNodes(graph);
  for (const Node *node : dropouts)
    arguments.trailing.push_back(
        {node->name + ".mask", batchedType(options.batch, node->shape, elementType), TensorRole::StepValue});
  if (mixedNode >= 0)
    arguments.trailing.push_back({graph.nodes.at(mixedNode).name + ".mix",
                                  RankedTensorType::get({options.batch, options.batch}, elementType),
                                  TensorRole::StepValue});
  for (const std::string &name : kTrainStepSchedule)
    arguments.trailing.push_back({name, scalarType, TensorRole::StepValue});

  OpBuilder b(&context);
  ProgramFunction program =
      createProgramFunction(b, graph, options, kTrainStepFunction, arguments.leading, arguments.trailing);
  ArrayRef<Value> trailing = program.trailing;
  ArrayRef<Value> powerVectors = trailing.take_front(powerVectorCount);
  ArrayRef<Value> slots = trailing.slice(powerVectorCount, trainable.size() * slotsPerParameter);
  ArrayRef<Value> masks = trailing.slice(powerVectorCount + slots.size(), dropouts.size());
  ArrayRef<Value> scheduleValues = trailing.take_back(kTrainStepSchedule.size());
  Schedule schedule{scheduleValues[0], scheduleValues[1], scheduleValues[2]};
  DropoutMasks dropoutMasks;
  for (size_t i = 0; i < dropouts.size(); ++i)
    dropoutMasks[dropouts[i]->id] = masks[i];
  BatchMixes batchMixes;
  if (mixedNode >= 0)
    batchMixes[mixedNode] = trailing[powerVectorCount + slots.size() + dropouts.size()];

  Value mask = objective.labelMask ? program.leading[1] : Value();
  LossGradientValues loss = emitLossGradient(b, graph, objective, program.input, program.leading[0], mask,
                                             program.parameters, powerVectors, {}, dropoutMasks, batchMixes);

  SeqBuilder s(b, NameLoc::get(b.getStringAttr("optimizer")), "optimizer");
  SmallVector<Value> squares;
  for (Value g : loss.gradients)
    squares.push_back(s.sumAll(s.activation(g, ActivationKind::Square)));
  Value gradientNorm = s.activation(s.add(squares), ActivationKind::Sqrt);
  SmallVector<Value> gradients = loss.gradients;
  if (optimizer.clipNorm > 0.0) {
    // min(1, clip / (norm + 1e-6)) = 1 - relu(1 - clip / (norm + 1e-6)), as clip_grad_norm_.
    Value ratio =
        s.affine(s.activation(s.affine(gradientNorm, 1.0, 1e-6), ActivationKind::Reciprocal), optimizer.clipNorm);
    Value scale = s.affine(s.activation(s.affine(ratio, -1.0, 1.0), ActivationKind::Relu), -1.0, 1.0);
    for (Value &g : gradients)
      g = s.mul(g, spread(s, scale, g));
  }

  // New parameters in parameterOrder: trainable ones stepped, running statistics from their batch norm's input.
  SmallVector<Value> newParameters(program.parameters.begin(), program.parameters.end()), newSlots;
  size_t parameterIndex = 0, trainableIndex = 0;
  for (const Node &node : graph.nodes) {
    size_t first = parameterIndex;
    for (const ParameterSpec &spec : node.parameters) {
      if (spec.trainable) {
        SeqBuilder o = s.withLayer(node.name + ".optimizer");
        auto [updated, updatedSlots] =
            step(o, optimizer, schedule, program.parameters[parameterIndex], gradients[trainableIndex],
                 slots.slice(trainableIndex * slotsPerParameter, slotsPerParameter));
        newParameters[parameterIndex] = updated;
        newSlots.append(updatedSlots.begin(), updatedSlots.end());
        ++trainableIndex;
      }
      ++parameterIndex;
    }
    if (node.op.kind != OpKind::BatchNorm || !options.batchNormTraining)
      continue;
    // Batch norm's parameters: weight, bias, running_mean, running_var.
    SeqBuilder r = s.withLayer(node.name + ".running_statistics");
    std::tie(newParameters[first + 2], newParameters[first + 3]) =
        runningStatistics(r, std::get<BatchNormAttrs>(node.op.attributes), loss.nodes.at(node.inputs[0]),
                          program.parameters[first + 2], program.parameters[first + 3]);
  }

  std::vector<ProgramResult> results;
  for (size_t i = 0; i < kLossTerms.size(); ++i)
    results.push_back({kLossTerms[i], loss.terms[i]});
  results.push_back({"gradient_norm", gradientNorm});
  std::vector<std::string> parameters = parameterOrder(graph);
  for (size_t i = 0; i < parameters.size(); ++i)
    results.push_back({parameters[i], newParameters[i], TensorRole::Parameter});
  std::vector<std::string> slotNames = optimizerSlotNames(graph, optimizer);
  for (size_t i = 0; i < slotNames.size(); ++i)
    results.push_back({slotNames[i], newSlots[i], TensorRole::OptimizerState});
  std::vector<PowerVector> vectors = objective.spectralNorm ? seqjit::powerVectors(graph) : std::vector<PowerVector>{};
  for (size_t i = 0; i < vectors.size(); ++i)
    results.push_back({vectors[i].name, loss.powerVectors[i], TensorRole::OptimizerState});
  finishProgramFunction(program, b, results, graph);
  return std::move(program.module);
}

} // namespace seqjit
