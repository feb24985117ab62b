// Program builders: the forward graph, then losses, priors and gradients composed from seq ops and buildVjp.
#include "compiler/Programs.h"

#include "compiler/Autodiff.h"
#include "compiler/GraphImport.h"
#include "compiler/SeqBuilder.h"
#include "dsl/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"

#include <fmt/format.h>

#include <cmath>
#include <numbers>

using namespace mlir;

namespace seqjit {
namespace {

/// The graph with every batch norm in training or inference mode.
Graph withBatchNormMode(Graph graph, bool training) {
  for (Node &node : graph.nodes)
    if (node.op.kind == OpKind::BatchNorm)
      std::get<BatchNormAttrs>(node.op.attributes).training = training;
  return graph;
}

/// A public function with the C interface, arguments (input, extra, parameters...) named for messages.
struct ProgramFunction {
  OwningOpRef<ModuleOp> module;
  func::FuncOp function;
  Value input, extra;
  SmallVector<Value> parameters;
};

ProgramFunction createFunction(MLIRContext &context, const Graph &graph, const ProgramOptions &options, StringRef name,
                               StringRef extraName) {
  loadSeqjitDialects(context);
  OpBuilder b(&context);
  Type elementType = options.float64 ? b.getF64Type() : b.getF32Type();
  SmallVector<Type> argumentTypes{batchedType(options.batch, graph.inputNode().shape, elementType),
                                  batchedType(options.batch, graph.outputNode().shape, elementType)};
  SmallVector<Attribute> argumentNames{b.getStringAttr("input"), b.getStringAttr(extraName)};
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      argumentTypes.push_back(RankedTensorType::get(spec.shape, elementType));
      argumentNames.push_back(b.getStringAttr(Graph::parameterName(node, spec)));
    }
  ProgramFunction program;
  program.module = ModuleOp::create(UnknownLoc::get(&context), StringRef(graph.name));
  b.setInsertionPointToEnd(program.module->getBody());
  // Result types are set once the body is built; the function starts with none.
  program.function = b.create<func::FuncOp>(UnknownLoc::get(&context), name, b.getFunctionType(argumentTypes, {}));
  program.function->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  program.function->setAttr("seq.argument_names", b.getArrayAttr(argumentNames));
  Block *body = program.function.addEntryBlock();
  program.input = body->getArgument(0);
  program.extra = body->getArgument(1);
  program.parameters.assign(body->getArguments().begin() + 2, body->getArguments().end());
  return program;
}

/// Sets the results (and the function type) and verifies the module.
void finish(ProgramFunction &program, OpBuilder &b, ValueRange results, const Graph &graph) {
  b.create<func::ReturnOp>(program.function.getLoc(), results);
  program.function.setFunctionType(
      b.getFunctionType(program.function.getArgumentTypes(), ValueRange(results).getTypes()));
  if (failed(verify(*program.module)))
    throw Error(fmt::format("model '{}': the {} program does not verify (see the diagnostics above)", graph.name,
                            program.function.getName().str()));
}

/// Per-task weights as a (B, T) tensor multiplying the loss terms, or null for none.
Value taskWeights(SeqBuilder &s, const Objective &objective, Value logits) {
  if (objective.classWeights.empty())
    return Value();
  auto type = SeqBuilder::tensorType(logits);
  if (type.getRank() != 2 || type.getDimSize(1) != static_cast<int64_t>(objective.classWeights.size()))
    throw Error(fmt::format("{} class weights given for an output of shape {}", objective.classWeights.size(),
                            shapeToString(Shape(type.getShape().begin() + 1, type.getShape().end()))));
  Value weights = s.constant({type.getDimSize(1)}, type.getElementType(), objective.classWeights);
  return s.broadcast(weights, {0}, type);
}

/// The data loss: the mean over every element of the per-element loss.
Value dataLoss(SeqBuilder &s, const Objective &objective, Value logits, Value labels) {
  Value terms;
  switch (objective.loss) {
  case LossKind::BinaryCrossEntropy:
    terms = s.create<seq::BceWithLogitsOp>(logits.getType(), logits, labels);
    break;
  case LossKind::MeanSquaredError:
    terms = s.activation(s.sub(logits, labels), ActivationKind::Square);
    break;
  case LossKind::Poisson:
    terms = s.sub(s.activation(logits, ActivationKind::Exp), s.mul(labels, logits));
    break;
  }
  if (Value weights = taskWeights(s, objective, logits))
    terms = s.mul(terms, weights);
  double count = static_cast<double>(SeqBuilder::tensorType(logits).getNumElements());
  return s.affine(s.sumAll(terms), 1.0 / count);
}

/// sum over layers of strength * sum(w^2) for conv and dense weights.
Value l2Penalty(SeqBuilder &s, const Objective &objective, const Graph &graph, ArrayRef<Value> parameters,
                Type elementType) {
  SmallVector<Value> terms;
  size_t index = 0;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      Value parameter = parameters[index++];
      bool isWeight = spec.suffix == "weight" && (node.op.kind == OpKind::Conv1d || node.op.kind == OpKind::Dense);
      if (!isWeight)
        continue;
      auto custom = objective.l2PerLayer.find(node.name);
      double strength = custom != objective.l2PerLayer.end() ? custom->second : objective.l2;
      if (strength != 0.0)
        terms.push_back(s.affine(s.sumAll(s.activation(parameter, ActivationKind::Square)), strength));
    }
  if (terms.empty())
    return s.splat(RankedTensorType::get({}, elementType), 0.0);
  return s.add(terms);
}

/// The seed of the prior's input gradient: 1 for each chosen task, 0 for the others.
Value taskSeed(SeqBuilder &s, const FourierPrior &prior, Value logits) {
  auto type = SeqBuilder::tensorType(logits);
  if (prior.outputs.empty())
    return s.splat(type, 1.0);
  if (type.getRank() != 2)
    throw Error("--fourier-prior outputs= needs a model with (N, tasks) outputs");
  std::vector<double> mask(type.getDimSize(1), 0.0);
  for (int64_t task : prior.outputs) {
    if (task < 0 || task >= type.getDimSize(1))
      throw Error(
          fmt::format("--fourier-prior: output {} does not exist; the model has {} outputs", task, type.getDimSize(1)));
    mask[task] = 1.0;
  }
  return s.broadcast(s.constant({type.getDimSize(1)}, type.getElementType(), mask), {0}, type);
}

} // namespace

Value buildFourierPrior(SeqBuilder &s, const FourierPrior &prior, Value gradient, Value input, Value labels) {
  auto inputType = SeqBuilder::tensorType(input);
  Type elementType = inputType.getElementType();
  int64_t batch = inputType.getDimSize(0), length = inputType.getDimSize(2);
  Value attribution = s.reduceSum(s.activation(s.mul(gradient, input), ActivationKind::Abs), {1}); // (B, L)
  if (prior.sigma > 0) {
    int64_t width = 2 * prior.sigma + 1;
    std::vector<double> kernel(width);
    double total = 0.0;
    for (int64_t i = 0; i < width; ++i) {
      double x = static_cast<double>(i - prior.sigma) / static_cast<double>(prior.sigma);
      total += kernel[i] = std::exp(-0.5 * x * x);
    }
    for (double &k : kernel)
      k /= total;
    auto channelType = SeqBuilder::typeLike(input, {batch, 1, length});
    Value smoothed = s.conv1d(s.reshape(attribution, channelType), s.constant({1, 1, width}, elementType, kernel), 1, 1,
                              "same", channelType);
    attribution = s.reshape(smoothed, SeqBuilder::typeLike(input, {batch, length}));
  }
  // rfft as two dense layers with constant DFT matrices: the magnitudes' derivatives are then seq ops too.
  int64_t frequencies = length / 2 + 1;
  std::vector<double> cosines(frequencies * length), sines(frequencies * length);
  for (int64_t k = 0; k < frequencies; ++k)
    for (int64_t l = 0; l < length; ++l) {
      double angle = 2.0 * std::numbers::pi * static_cast<double>((k * l) % length) / static_cast<double>(length);
      cosines[k * length + l] = std::cos(angle);
      sines[k * length + l] = std::sin(angle);
    }
  Value real = s.dense(attribution, s.constant({frequencies, length}, elementType, cosines));
  Value imaginary = s.dense(attribution, s.constant({frequencies, length}, elementType, sines));
  Value magnitude =
      s.activation(s.add({s.activation(real, ActivationKind::Square), s.activation(imaginary, ActivationKind::Square)}),
                   ActivationKind::Sqrt); // (B, K)
  auto magnitudeType = SeqBuilder::tensorType(magnitude);
  // reciprocal(0) = 0: a row of zeros stays zeros, as Tseng's code does by dividing it by 1.
  Value normalised = s.mul(magnitude, s.broadcast(s.activation(s.reduceSum(magnitude, {1}), ActivationKind::Reciprocal),
                                                  {1}, magnitudeType));
  std::vector<double> weights(frequencies, 0.0); // weights[0] = 0 drops DC
  for (int64_t i = 0; i + 1 < frequencies; ++i)
    weights[i + 1] = i < prior.freqLimit
                         ? 1.0
                         : 1.0 / (1.0 + std::pow(static_cast<double>(i - prior.freqLimit + 1), prior.softness));
  Value score = s.reshape(s.dense(normalised, s.constant({1, frequencies}, elementType, weights)),
                          SeqBuilder::typeLike(input, {batch}));
  Value perExample = s.affine(score, -1.0, 1.0);
  if (!prior.positivesOnly)
    return s.affine(s.sumAll(perExample), 1.0 / static_cast<double>(batch));
  auto labelType = SeqBuilder::tensorType(labels);
  SmallVector<int64_t> labelAxes;
  for (int64_t i = 1; i < labelType.getRank(); ++i)
    labelAxes.push_back(i);
  Value positive = s.activation(s.reduceSum(labels, labelAxes), ActivationKind::Step); // any label > 0
  // Mean over positives; reciprocal(0) = 0 makes a batch without positives contribute 0.
  return s.mul(s.sumAll(s.mul(positive, perExample)), s.activation(s.sumAll(positive), ActivationKind::Reciprocal));
}

std::vector<std::string> trainableParameterNames(const Graph &graph) {
  std::vector<std::string> names;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      if (spec.trainable)
        names.push_back(Graph::parameterName(node, spec));
  return names;
}

OwningOpRef<ModuleOp> buildLossGradientModule(MLIRContext &context, const Graph &original, const Objective &objective,
                                              const ProgramOptions &options) {
  Graph graph = withBatchNormMode(original, options.batchNormTraining);
  ProgramFunction program = createFunction(context, graph, options, kLossGradientFunction, "labels");
  OpBuilder b(&context);
  b.setInsertionPointToEnd(&program.function.getBody().front());
  SeqBuilder s(b, NameLoc::get(b.getStringAttr("loss")), "loss");
  Type elementType = SeqBuilder::tensorType(program.input).getElementType();
  auto scalarType = RankedTensorType::get({}, elementType);

  std::vector<Value> values = emitGraph(b, graph, program.input, program.parameters);
  Value logits = values.at(graph.output);
  Value data = dataLoss(s, objective, logits, program.extra);
  Value penalty = l2Penalty(s, objective, graph, program.parameters, elementType);
  Value prior = s.splat(scalarType, 0.0);
  if (objective.fourierPrior) {
    SeqBuilder p = s.withLayer("fourier_prior");
    Value seed = taskSeed(p, *objective.fourierPrior, logits);
    auto inputGradient = buildVjp(b, {logits}, {seed}, {program.input});
    if (failed(inputGradient))
      throw Error(fmt::format("model '{}': cannot differentiate the model (see the diagnostics above)", graph.name));
    prior = buildFourierPrior(p, *objective.fourierPrior, (*inputGradient)[0], program.input, program.extra);
  }
  Value loss = s.add({data, penalty, s.affine(prior, objective.fourierPrior ? objective.fourierPrior->weight : 0.0)});

  SmallVector<Value> trainable;
  size_t index = 0;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      if (spec.trainable)
        trainable.push_back(program.parameters[index]);
      ++index;
    }
  auto gradients = buildVjp(b, {loss}, {s.splat(scalarType, 1.0)}, trainable);
  if (failed(gradients))
    throw Error(fmt::format("model '{}': cannot differentiate the loss (see the diagnostics above)", graph.name));
  SmallVector<Value> results{loss, data, prior, penalty};
  results.append(gradients->begin(), gradients->end());
  finish(program, b, results, graph);
  return std::move(program.module);
}

OwningOpRef<ModuleOp> buildInputGradientModule(MLIRContext &context, const Graph &original,
                                               const ProgramOptions &options) {
  Graph graph = withBatchNormMode(original, options.batchNormTraining);
  ProgramFunction program = createFunction(context, graph, options, kInputGradientFunction, "seed");
  OpBuilder b(&context);
  b.setInsertionPointToEnd(&program.function.getBody().front());
  std::vector<Value> values = emitGraph(b, graph, program.input, program.parameters);
  Value output = values.at(graph.output);
  auto gradient = buildVjp(b, {output}, {program.extra}, {program.input});
  if (failed(gradient))
    throw Error(fmt::format("model '{}': cannot differentiate the model (see the diagnostics above)", graph.name));
  finish(program, b, {output, (*gradient)[0]}, graph);
  return std::move(program.module);
}

} // namespace seqjit
