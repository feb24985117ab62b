// Program builders: the forward graph, then losses, priors and gradients composed from seq ops and buildVjp.
#include "compiler/Programs.h"

#include "compiler/Autodiff.h"
#include "compiler/DeepLiftRules.h"
#include "compiler/GraphImport.h"
#include "compiler/ProgramFunction.h"
#include "compiler/SeqBuilder.h"
#include "dsl/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <fmt/format.h>

#include <functional>
#include <map>
#include <numeric>
#include <tuple>

using namespace mlir;

namespace seqjit {
namespace {

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

/// The multinomial negative log-likelihood of counts `labels` under softmax(logits) along the last axis, without
/// the multinomial coefficient, averaged over the other axes.
Value multinomialLoss(SeqBuilder &s, Value logits, Value labels) {
  auto type = SeqBuilder::tensorType(logits);
  int64_t last = type.getRank() - 1;
  Value logProbabilities = s.create<seq::LogSoftmaxOp>(type, logits, last);
  double profiles = static_cast<double>(type.getNumElements() / type.getDimSize(last));
  return s.affine(s.sumAll(s.mul(labels, logProbabilities)), -1.0 / profiles);
}

/// The data loss: the mean over every (or, with a mask, every observed) element of the per-element loss.
Value dataLoss(SeqBuilder &s, const Objective &objective, Value logits, Value labels, Value mask) {
  if (objective.loss == LossKind::Multinomial)
    return multinomialLoss(s, logits, labels);
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
  case LossKind::Multinomial:
    break;
  }
  if (Value weights = taskWeights(s, objective, logits))
    terms = s.mul(terms, weights);
  if (mask) // reciprocal(0) = 0: a batch with every label masked has a data loss of 0
    return s.mul(s.sumAll(s.mul(mask, terms)), s.activation(s.sumAll(mask), ActivationKind::Reciprocal));
  double count = static_cast<double>(SeqBuilder::tensorType(logits).getNumElements());
  return s.affine(s.sumAll(terms), 1.0 / count);
}

/// Whether `node`'s parameter `spec` is a conv or dense weight (what L2 and the spectral norm act on).
bool isLayerWeight(const Node &node, const ParameterSpec &spec) {
  return spec.suffix == "weight" && (node.op.kind == OpKind::Conv1d || node.op.kind == OpKind::Dense);
}

/// sum over layers of strength * sum(w^2) for conv and dense weights.
Value l2Penalty(SeqBuilder &s, const Objective &objective, const Graph &graph, ValueRange parameters,
                Type elementType) {
  SmallVector<Value> terms;
  size_t index = 0;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      Value parameter = parameters[index++];
      if (!isLayerWeight(node, spec))
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

/// x / |x| (with 1e-24 under the root, so that a zero vector stays zero).
Value normalised(SeqBuilder &s, Value x) {
  Value inverseNorm =
      s.activation(s.sumAll(s.activation(x, ActivationKind::Square)), ActivationKind::Rsqrt, 1.0, 1e-24);
  return s.mul(x, s.broadcast(inverseNorm, {0}, SeqBuilder::tensorType(x)));
}

/// (weight / 2) * sum of sigma(W)^2 over the layers of `vectors`, and the updated vectors.
std::pair<Value, SmallVector<Value>> spectralPenalty(SeqBuilder &s, const SpectralNormPenalty &penalty,
                                                     const Graph &graph, ValueRange parameters, ValueRange vectors,
                                                     RankedTensorType scalarType) {
  SmallVector<Value> squares, updated;
  size_t index = 0, layer = 0;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      Value weight = parameters[index++];
      if (!isLayerWeight(node, spec))
        continue;
      SeqBuilder l = s.withLayer(node.name + ".spectral_norm");
      int64_t rows = spec.shape[0];
      int64_t columns = std::accumulate(spec.shape.begin() + 1, spec.shape.end(), int64_t{1}, std::multiplies<>());
      auto matrixType = SeqBuilder::typeLike(weight, {rows, columns});
      Value matrix = l.reshape(weight, matrixType);
      Value u = vectors[layer++], v;
      for (int64_t step = 0; step < penalty.powerIterations; ++step) {
        v = normalised(l, l.reduceSum(l.mul(matrix, l.broadcast(u, {1}, matrixType)), {0}));
        u = normalised(l, l.reduceSum(l.mul(matrix, l.broadcast(v, {0}, matrixType)), {1}));
      }
      updated.push_back(u);
      // sigma = u^T W v with u and v held constant: d sigma / d W = u v^T, as PyTorch's spectral_norm.
      Value fixedU = l.create<seq::StopGradientOp>(u.getType(), u),
            fixedV = l.create<seq::StopGradientOp>(v.getType(), v);
      Value product = l.reduceSum(l.mul(matrix, l.broadcast(fixedV, {0}, matrixType)), {1});
      Value sigma = l.sumAll(l.mul(fixedU, product));
      squares.push_back(l.activation(sigma, ActivationKind::Square));
    }
  if (squares.empty())
    return {s.splat(scalarType, 0.0), updated};
  return {s.affine(s.add(squares), penalty.weight / 2.0), updated};
}

/// The seed of a prior's input gradient: 1 for each chosen task, 0 for the others.
Value taskSeed(SeqBuilder &s, const AttributionPrior &prior, Value logits) {
  auto type = SeqBuilder::tensorType(logits);
  if (prior.outputs.empty())
    return s.splat(type, 1.0);
  if (type.getRank() != 2)
    throw Error("an attribution prior's outputs= needs a model with (N, tasks) outputs");
  std::vector<double> mask(type.getDimSize(1), 0.0);
  for (int64_t task : prior.outputs) {
    if (task < 0 || task >= type.getDimSize(1))
      throw Error(fmt::format("attribution prior: output {} does not exist; the model has {} outputs", task,
                              type.getDimSize(1)));
    mask[task] = 1.0;
  }
  return s.broadcast(s.constant({type.getDimSize(1)}, type.getElementType(), mask), {0}, type);
}

/// a = sum over bases of |g * x|: (B, L).
Value attributionTrack(SeqBuilder &s, Value gradient, Value input) {
  return s.reduceSum(s.activation(s.mul(gradient, input), ActivationKind::Abs), {1});
}

/// The mean of `perExample` (B) over the examples the prior averages over.
Value meanOverExamples(SeqBuilder &s, const AttributionPrior &prior, Value perExample, Value labels) {
  int64_t batch = SeqBuilder::tensorType(perExample).getDimSize(0);
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

} // namespace

Value buildFourierPrior(SeqBuilder &s, const FourierPrior &prior, Value gradient, Value input, Value labels) {
  Value attribution = attributionTrack(s, gradient, input);
  auto scoreType = SeqBuilder::typeLike(input, {SeqBuilder::tensorType(input).getDimSize(0)});
  Value score = s.create<seq::FourierScoreOp>(scoreType, attribution, static_cast<uint64_t>(prior.sigma),
                                              static_cast<uint64_t>(prior.freqLimit), llvm::APFloat(prior.softness));
  return meanOverExamples(s, prior, s.affine(score, -1.0, 1.0), labels);
}

Value buildSmoothnessPrior(SeqBuilder &s, const SmoothnessPrior &prior, Value gradient, Value input, Value labels) {
  Value attribution = attributionTrack(s, gradient, input);
  auto type = SeqBuilder::tensorType(attribution);
  auto shorter = SeqBuilder::typeLike(attribution, {type.getDimSize(0), type.getDimSize(1) - 1});
  Value next = s.create<seq::SliceOp>(shorter, attribution, int64_t{1}, int64_t{1});
  Value previous = s.create<seq::SliceOp>(shorter, attribution, int64_t{1}, int64_t{0});
  Value variation = s.reduceSum(s.activation(s.sub(next, previous), ActivationKind::Abs), {1});
  return meanOverExamples(s, prior, variation, labels);
}

Value buildSparsityPrior(SeqBuilder &s, const SparsityPrior &prior, Value gradient, Value input, Value labels) {
  Value attribution = attributionTrack(s, gradient, input);
  int64_t length = SeqBuilder::tensorType(attribution).getDimSize(1);
  // Gini = sum_ij |a_i - a_j| / (2 L sum a) = sum_i a_i r_i / (L sum a), r the signed rank: no sort needed, and
  // r's zero derivative makes the gradient the exact one almost everywhere.
  Value ranked = s.reduceSum(s.mul(attribution, s.create<seq::SignedRankOp>(attribution.getType(), attribution)), {1});
  Value total = s.affine(s.reduceSum(attribution, {1}), static_cast<double>(length));
  Value gini = s.mul(ranked, s.activation(total, ActivationKind::Reciprocal));
  return meanOverExamples(s, prior, s.affine(gini, -1.0, 1.0), labels);
}

std::vector<std::string> trainableParameterNames(const Graph &graph) {
  std::vector<std::string> names;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      if (spec.trainable)
        names.push_back(Graph::parameterName(node, spec));
  return names;
}

std::vector<PowerVector> powerVectors(const Graph &graph) {
  std::vector<PowerVector> vectors;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      if (isLayerWeight(node, spec))
        vectors.push_back({node.name + ".weight_u", Graph::parameterName(node, spec), spec.shape.at(0)});
  return vectors;
}

LossProgramArguments lossProgramArguments(MLIRContext &context, const Graph &graph, const Objective &objective,
                                          const ProgramOptions &options) {
  Type elementType = programElementType(context, options);
  auto labelType = batchedType(options.batch, graph.outputNode().shape, elementType);
  LossProgramArguments arguments;
  arguments.leading.push_back({"labels", labelType, TensorRole::Label});
  if (objective.labelMask)
    arguments.leading.push_back({"mask", labelType, TensorRole::Label});
  if (objective.spectralNorm)
    for (const PowerVector &vector : powerVectors(graph))
      arguments.trailing.push_back(
          {vector.name, RankedTensorType::get({vector.size}, elementType), TensorRole::OptimizerState});
  return arguments;
}

LossGradientValues emitLossGradient(OpBuilder &b, const Graph &graph, const Objective &objective, Value input,
                                    Value labels, Value mask, ValueRange parameters, ValueRange powerVectorValues,
                                    ValueRange termScales, const DropoutMasks &dropoutMasks,
                                    const BatchMixes &batchMixes) {
  checkObjective(objective);
  SeqBuilder s(b, NameLoc::get(b.getStringAttr("loss")), "loss");
  Type elementType = SeqBuilder::tensorType(input).getElementType();
  auto scalarType = RankedTensorType::get({}, elementType);

  LossGradientValues out;
  out.nodes = emitGraph(b, graph, input, parameters, dropoutMasks, batchMixes);
  Value logits = out.nodes.at(graph.output);
  Value data = dataLoss(s, objective, logits, labels, mask);
  if (!termScales.empty() && termScales.size() != kLossTermScales.size())
    throw Error(fmt::format("the loss takes {} term scales, got {}", kLossTermScales.size(), termScales.size()));
  auto scaled = [&](Value term, size_t scale) { return termScales.empty() ? term : s.mul(term, termScales[scale]); };
  SmallVector<Value> lossTerms{scaled(data, 0)};

  // The priors, each on the input gradient of its tasks' summed logits (one gradient per distinct task set).
  std::map<std::vector<int64_t>, Value> inputGradients;
  auto inputGradient = [&](SeqBuilder &p, const AttributionPrior &prior) {
    Value &gradient = inputGradients[prior.outputs];
    if (!gradient) {
      auto gradients = buildVjp(b, {logits}, {taskSeed(p, prior, logits)}, {input});
      if (failed(gradients))
        throw Error(fmt::format("model '{}': cannot differentiate the model (see the diagnostics above)", graph.name));
      gradient = (*gradients)[0];
    }
    return gradient;
  };
  Value observedLabels = mask ? s.mul(labels, mask) : labels; // masked labels are not positives
  SmallVector<Value> priorValues;
  auto addPrior = [&](const auto &prior, const char *layer, auto build) {
    if (!prior) {
      priorValues.push_back(s.splat(scalarType, 0.0));
      return;
    }
    SeqBuilder p = s.withLayer(layer);
    priorValues.push_back(build(p, *prior, inputGradient(p, *prior), input, observedLabels));
    lossTerms.push_back(scaled(s.affine(priorValues.back(), prior->weight), priorValues.size()));
  };
  addPrior(objective.fourierPrior, "fourier_prior", buildFourierPrior);
  addPrior(objective.smoothnessPrior, "smoothness_prior", buildSmoothnessPrior);
  addPrior(objective.sparsityPrior, "sparsity_prior", buildSparsityPrior);

  Value l2 = l2Penalty(s, objective, graph, parameters, elementType);
  Value spectral = s.splat(scalarType, 0.0);
  if (objective.spectralNorm)
    std::tie(spectral, out.powerVectors) =
        spectralPenalty(s, *objective.spectralNorm, graph, parameters, powerVectorValues, scalarType);
  lossTerms.push_back(scaled(s.add({l2, spectral}), kLossTermScales.size() - 1));
  Value loss = s.add(lossTerms);

  SmallVector<Value> trainable;
  size_t index = 0;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      if (spec.trainable)
        trainable.push_back(parameters[index]);
      ++index;
    }
  auto gradients = buildVjp(b, {loss}, {s.splat(scalarType, 1.0)}, trainable);
  if (failed(gradients))
    throw Error(fmt::format("model '{}': cannot differentiate the loss (see the diagnostics above)", graph.name));
  out.terms = {loss, data, priorValues[0], priorValues[1], priorValues[2], l2, spectral};
  out.gradients.assign(gradients->begin(), gradients->end());
  return out;
}

std::vector<ProgramResult> lossGradientResults(const Graph &graph, const Objective &objective,
                                               const LossGradientValues &loss) {
  std::vector<ProgramResult> results;
  for (size_t i = 0; i < kLossTerms.size(); ++i)
    results.push_back({kLossTerms[i], loss.terms[i]});
  std::vector<std::string> trainable = trainableParameterNames(graph);
  for (size_t i = 0; i < trainable.size(); ++i)
    results.push_back({gradientName(trainable[i]), loss.gradients[i]});
  if (objective.spectralNorm) {
    std::vector<PowerVector> vectors = powerVectors(graph);
    for (size_t i = 0; i < vectors.size(); ++i)
      results.push_back({vectors[i].name, loss.powerVectors[i], TensorRole::OptimizerState});
  }
  return results;
}

std::string gradientName(const std::string &parameter) { return parameter + ".grad"; }

OwningOpRef<ModuleOp> buildLossGradientModule(MLIRContext &context, const Graph &original, const Objective &objective,
                                              const ProgramOptions &options) {
  Graph graph = withBatchNormMode(original, options.batchNormTraining);
  LossProgramArguments arguments = lossProgramArguments(context, graph, objective, options);
  size_t scalesStart = arguments.leading.size();
  if (options.scaledLossTerms)
    for (const std::string &name : kLossTermScales)
      arguments.leading.push_back(
          {name, RankedTensorType::get({}, programElementType(context, options)), TensorRole::StepValue});
  OpBuilder b(&context);
  ProgramFunction program =
      createProgramFunction(b, graph, options, kLossGradientFunction, arguments.leading, arguments.trailing);
  Value mask = objective.labelMask ? program.leading[1] : Value();
  LossGradientValues loss =
      emitLossGradient(b, graph, objective, program.input, program.leading[0], mask, program.parameters,
                       program.trailing, ArrayRef<Value>(program.leading).drop_front(scalesStart));
  finishProgramFunction(program, b, lossGradientResults(graph, objective, loss), graph);
  return std::move(program.module);
}

OwningOpRef<ModuleOp> buildInputGradientModule(MLIRContext &context, const Graph &original,
                                               const ProgramOptions &options) {
  Graph graph = withBatchNormMode(original, options.batchNormTraining);
  OpBuilder b(&context);
  Type seedType = batchedType(options.batch, graph.outputNode().shape, programElementType(context, options));
  ProgramFunction program = createProgramFunction(b, graph, options, kInputGradientFunction, {{"seed", seedType}});
  std::vector<Value> values = emitGraph(b, graph, program.input, program.parameters);
  Value output = values.at(graph.output);
  auto gradient = buildVjp(b, {output}, {program.leading[0]}, {program.input});
  if (failed(gradient))
    throw Error(fmt::format("model '{}': cannot differentiate the model (see the diagnostics above)", graph.name));
  finishProgramFunction(program, b, {{"output", output}, {"input_gradient", (*gradient)[0]}}, graph);
  return std::move(program.module);
}

OwningOpRef<ModuleOp> buildDeepLiftModule(MLIRContext &context, const Graph &original, const ProgramOptions &options) {
  Graph graph = withBatchNormMode(original, false);
  OpBuilder b(&context);
  Type elementType = programElementType(context, options);
  Type inputType = batchedType(options.batch, graph.inputNode().shape, elementType);
  Type seedType = batchedType(options.batch, graph.outputNode().shape, elementType);
  ProgramFunction program =
      createProgramFunction(b, graph, options, kDeepLiftFunction, {{"reference", inputType}, {"seed", seedType}});
  Value reference = program.leading[0], seed = program.leading[1];
  std::vector<Value> values = emitGraph(b, graph, program.input, program.parameters);
  std::vector<Value> referenceValues = emitGraph(b, graph, reference, program.parameters);
  DenseMap<Value, Value> twins;
  for (size_t node = 0; node < values.size(); ++node)
    twins[values[node]] = referenceValues[node];
  Value output = values.at(graph.output);
  auto multipliers = buildReverseSweep(b, {output}, {seed}, {program.input},
                                       [&](OpBuilder &builder, Operation *op, Value g, ArrayRef<bool> needed) {
                                         return operandMultipliers(builder, op, g, needed, twins);
                                       });
  if (failed(multipliers))
    throw Error(fmt::format("model '{}': DeepLIFT cannot explain it (see the diagnostics above)", graph.name));
  finishProgramFunction(
      program, b,
      {{"output", output}, {"reference_output", referenceValues.at(graph.output)}, {"multipliers", (*multipliers)[0]}},
      graph);
  return std::move(program.module);
}

} // namespace seqjit
