// Gradient programs: build the module once per (graph, objective, batch), run it compiled or interpreted.
#include "runtime/GradientPrograms.h"

#include "dsl/Error.h"
#include "runtime/NonFinite.h"
#include "runtime/Random.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <type_traits>

namespace seqjit {
namespace {

/// A program's arguments other than the input and the parameters: those before the parameters (labels, mask or
/// seed) and those after them (power vectors), in the program's order.
template <typename T> struct ExtraArguments {
  std::vector<const HostArray<T> *> leading, trailing;
  /// Arrays made from scalar arguments, which `leading` points into (reserved up front, so they never move).
  std::vector<HostArray<T>> scalars;
};

/// Checks the loss gradient's arguments against the graph and the objective, and orders them.
template <typename T>
ExtraArguments<T> lossArguments(const Graph &graph, const Objective &objective, const HostArray<T> &input,
                                const HostArray<T> &labels, const LossExtras<T> &extras) {
  checkInputShape(graph, input.shape, "loss gradient input");
  std::vector<int64_t> labelShape = batchedShape(input.shape[0], graph.outputNode().shape);
  checkShape(labels.shape, labelShape, "the labels");
  ExtraArguments<T> arguments{{&labels}, {}, {}};
  if (objective.labelMask != (extras.mask != nullptr))
    throw Error(objective.labelMask ? "this loss takes a label mask (objective.labelMask), but none was given"
                                    : "a label mask was given, but this loss was built without one");
  if (extras.mask) {
    checkShape(extras.mask->shape, labelShape, "the label mask");
    arguments.leading.push_back(extras.mask);
  }
  if (extras.termScales) {
    if (extras.termScales->size() != kLossTermScales.size())
      throw Error(fmt::format("the loss takes {} term scales ({}), got {}", kLossTermScales.size(),
                              fmt::join(kLossTermScales, ", "), extras.termScales->size()));
    arguments.scalars.reserve(kLossTermScales.size());
    for (T scale : *extras.termScales) {
      arguments.scalars.push_back(HostArray<T>(std::vector<int64_t>{}));
      arguments.scalars.back().data[0] = scale;
      arguments.leading.push_back(&arguments.scalars.back());
    }
  }
  if (!objective.spectralNorm)
    return arguments;
  if (!extras.powerVectors)
    throw Error("the spectral-norm penalty needs its power vectors (see initialPowerVectors)");
  for (const PowerVector &vector : powerVectors(graph)) {
    auto found = extras.powerVectors->find(vector.name);
    if (found == extras.powerVectors->end())
      throw Error(fmt::format("power vector '{}' is missing", vector.name));
    checkShape(found->second.shape, {vector.size}, fmt::format("power vector '{}'", vector.name));
    arguments.trailing.push_back(&found->second);
  }
  return arguments;
}

/// The names of lossArguments' arrays, in its order, for messages.
std::vector<std::string> lossArgumentNames(const Graph &graph, const Objective &objective, bool scaledLossTerms) {
  std::vector<std::string> names{"the labels"};
  if (objective.labelMask)
    names.push_back("the label mask");
  if (scaledLossTerms)
    names.insert(names.end(), kLossTermScales.begin(), kLossTermScales.end());
  if (objective.spectralNorm)
    for (const PowerVector &vector : powerVectors(graph))
      names.push_back("power vector '" + vector.name + "'");
  return names;
}

template <typename T>
LossGradients<T> collect(const Graph &graph, const Objective &objective, std::vector<HostArray<T>> results) {
  LossGradients<T> out;
  size_t next = 0;
  for (const std::string &term : kLossTerms)
    out.terms[term] = static_cast<double>(results[next++].data.at(0));
  for (const std::string &name : trainableParameterNames(graph))
    out.gradients[name] = std::move(results[next++]);
  if (objective.spectralNorm)
    for (const PowerVector &vector : powerVectors(graph))
      out.powerVectors[vector.name] = std::move(results[next++]);
  return out;
}

/// The program's arguments in order: input, leading, parameters (as T), trailing.
template <typename T>
std::vector<HostArray<T>> interpreterArguments(const Graph &graph, const HostArray<T> &input,
                                               const ExtraArguments<T> &extra, const Parameters &parameters) {
  std::vector<HostArray<T>> arguments{input};
  for (const HostArray<T> *array : extra.leading)
    arguments.push_back(*array);
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      arguments.push_back(parameters.at(Graph::parameterName(node, spec)).template cast<T>());
  for (const HostArray<T> *array : extra.trailing)
    arguments.push_back(*array);
  return arguments;
}

template <typename T>
std::vector<HostArray<T>> interpretProgram(mlir::OwningOpRef<mlir::ModuleOp> module, const char *function,
                                           const std::vector<HostArray<T>> &arguments,
                                           const InterpretOptions &options) {
  auto entry = module->lookupSymbol<mlir::func::FuncOp>(function);
  return interpretFunction<T>(entry, arguments, options);
}

/// The compiled program's arguments in order (input, leading, parameters, trailing), named as messages name them.
std::vector<NamedArray> programArguments(const Graph &graph, const HostArray<float> &input,
                                         const std::vector<std::string> &extraNames, const ExtraArguments<float> &extra,
                                         const Parameters &parameters) {
  std::vector<NamedArray> named{{"the input", &input}};
  size_t next = 0;
  for (const HostArray<float> *array : extra.leading)
    named.push_back({extraNames.at(next++), array});
  std::vector<NamedArray> parameterArrays = parameterArguments(graph, parameters);
  named.insert(named.end(), parameterArrays.begin(), parameterArrays.end());
  for (const HostArray<float> *array : extra.trailing)
    named.push_back({extraNames.at(next++), array});
  return named;
}

} // namespace

template <typename T> std::map<std::string, HostArray<T>> initialPowerVectors(const Graph &graph, uint64_t seed) {
  std::map<std::string, HostArray<T>> vectors;
  uint64_t stream = 0;
  for (const PowerVector &vector : powerVectors(graph)) {
    Random random(seed, stream++);
    HostArray<T> u({vector.size});
    double norm = 0.0;
    for (T &v : u.data) {
      v = static_cast<T>(random.normal());
      norm += static_cast<double>(v) * static_cast<double>(v);
    }
    for (T &v : u.data)
      v = static_cast<T>(static_cast<double>(v) / std::sqrt(norm));
    vectors[vector.name] = std::move(u);
  }
  return vectors;
}

CompiledLossGradient::CompiledLossGradient(Graph graph, Objective objective, ProgramOptions options, Program program)
    : graph_(std::move(graph)), objective_(std::move(objective)), options_(options), program_(std::move(program)) {}

CompiledLossGradient CompiledLossGradient::compile(const Graph &graph, const Objective &objective,
                                                   const ProgramOptions &options) {
  if (options.batch <= 0 || options.float64)
    throw Error(fmt::format("loss gradient of '{}': compile for a positive batch in float32 (got batch {})", graph.name,
                            options.batch));
  Program program = Program::compile(
      [&](mlir::MLIRContext &context) { return buildLossGradientModule(context, graph, objective, options); },
      "loss gradient of model '" + graph.name + "'", false, {kLossGradientFunction});
  return CompiledLossGradient(graph, objective, options, std::move(program));
}

LossGradients<float> CompiledLossGradient::run(const HostArray<float> &input, const HostArray<float> &labels,
                                               const Parameters &parameters, const LossExtras<float> &extras) const {
  checkInputShape(graph_, input.shape, "loss gradient input");
  checkShape(input.shape, batchedShape(options_.batch, graph_.inputNode().shape),
             fmt::format("the input (this loss gradient was compiled for batches of {})", options_.batch));
  if (options_.scaledLossTerms != (extras.termScales != nullptr))
    throw Error(options_.scaledLossTerms
                    ? "this loss gradient was compiled with scaled loss terms, but no term scales were given"
                    : "term scales were given, but this loss gradient was compiled without them");
  ExtraArguments<float> extra = lossArguments(graph_, objective_, input, labels, extras);
  std::vector<std::string> names = lossArgumentNames(graph_, objective_, options_.scaledLossTerms);
  auto results = program_.run(kLossGradientFunction, programArguments(graph_, input, names, extra, parameters), [&] {
    interpretLossGradient<float>(graph_, objective_, options_.batchNormTraining, input, labels, parameters, extras,
                                 {.checkNumerics = true});
  });
  return collect(graph_, objective_, std::move(results));
}

template <typename T>
LossGradients<T> interpretLossGradient(const Graph &graph, const Objective &objective, bool batchNormTraining,
                                       const HostArray<T> &input, const HostArray<T> &labels,
                                       const Parameters &parameters, const LossExtras<T> &extras,
                                       const InterpretOptions &interpretOptions) {
  ExtraArguments<T> extra = lossArguments(graph, objective, input, labels, extras);
  mlir::MLIRContext context;
  ProgramOptions options{input.shape[0], std::is_same_v<T, double>, batchNormTraining, extras.termScales != nullptr};
  auto results = interpretProgram<T>(buildLossGradientModule(context, graph, objective, options), kLossGradientFunction,
                                     interpreterArguments(graph, input, extra, parameters), interpretOptions);
  return collect(graph, objective, std::move(results));
}

CompiledInputGradient::CompiledInputGradient(Graph graph, ProgramOptions options, Program program)
    : graph_(std::move(graph)), options_(options), program_(std::move(program)) {}

CompiledInputGradient CompiledInputGradient::compile(const Graph &graph, const ProgramOptions &options) {
  if (options.batch <= 0 || options.float64)
    throw Error(fmt::format("input gradient of '{}': compile for a positive batch in float32 (got batch {})",
                            graph.name, options.batch));
  Program program =
      Program::compile([&](mlir::MLIRContext &context) { return buildInputGradientModule(context, graph, options); },
                       "input gradient of model '" + graph.name + "'", false, {kInputGradientFunction});
  return CompiledInputGradient(graph, options, std::move(program));
}

HostArray<float> CompiledInputGradient::run(const HostArray<float> &input, const HostArray<float> &seed,
                                            const Parameters &parameters, HostArray<float> *output) const {
  checkInputShape(graph_, input.shape, "input gradient input");
  checkShape(input.shape, batchedShape(options_.batch, graph_.inputNode().shape),
             fmt::format("the input (this input gradient was compiled for batches of {})", options_.batch));
  checkShape(seed.shape, batchedShape(options_.batch, graph_.outputNode().shape), "the seed");
  auto results = program_.run(kInputGradientFunction,
                              programArguments(graph_, input, {"the seed"}, {{&seed}, {}, {}}, parameters), [&] {
                                interpretInputGradient<float>(graph_, options_.batchNormTraining, input, seed,
                                                              parameters, {.checkNumerics = true});
                              });
  if (output)
    *output = std::move(results[0]);
  return std::move(results[1]);
}

template <typename T>
HostArray<T> interpretInputGradient(const Graph &graph, bool batchNormTraining, const HostArray<T> &input,
                                    const HostArray<T> &seed, const Parameters &parameters,
                                    const InterpretOptions &interpretOptions) {
  checkInputShape(graph, input.shape, "input gradient input");
  checkShape(seed.shape, batchedShape(input.shape[0], graph.outputNode().shape), "the seed");
  mlir::MLIRContext context;
  ProgramOptions options{input.shape[0], std::is_same_v<T, double>, batchNormTraining};
  auto results = interpretProgram<T>(buildInputGradientModule(context, graph, options), kInputGradientFunction,
                                     interpreterArguments(graph, input, ExtraArguments<T>{{&seed}, {}, {}}, parameters),
                                     interpretOptions);
  return std::move(results[1]);
}

CompiledDeepLift::CompiledDeepLift(Graph graph, ProgramOptions options, Program program)
    : graph_(std::move(graph)), options_(options), program_(std::move(program)) {}

CompiledDeepLift CompiledDeepLift::compile(const Graph &graph, const ProgramOptions &options) {
  if (options.batch <= 0 || options.float64)
    throw Error(fmt::format("DeepLIFT of '{}': compile for a positive batch in float32 (got batch {})", graph.name,
                            options.batch));
  Program program =
      Program::compile([&](mlir::MLIRContext &context) { return buildDeepLiftModule(context, graph, options); },
                       "DeepLIFT of model '" + graph.name + "'", false, {kDeepLiftFunction});
  return CompiledDeepLift(graph, options, std::move(program));
}

DeepLiftResult<float> CompiledDeepLift::run(const HostArray<float> &input, const HostArray<float> &reference,
                                            const HostArray<float> &seed, const Parameters &parameters) const {
  const std::vector<int64_t> inputShape = batchedShape(options_.batch, graph_.inputNode().shape);
  const std::string compiledFor = fmt::format("(this DeepLIFT program was compiled for batches of {})", options_.batch);
  checkShape(input.shape, inputShape, "the input " + compiledFor);
  checkShape(reference.shape, inputShape, "the reference " + compiledFor);
  checkShape(seed.shape, batchedShape(options_.batch, graph_.outputNode().shape), "the seed");
  auto results = program_.run(
      kDeepLiftFunction,
      programArguments(graph_, input, {"the reference", "the seed"}, {{&reference, &seed}, {}, {}}, parameters),
      [&] { interpretDeepLift<float>(graph_, input, reference, seed, parameters, {.checkNumerics = true}); });
  return {std::move(results[0]), std::move(results[1]), std::move(results[2])};
}

template <typename T>
DeepLiftResult<T> interpretDeepLift(const Graph &graph, const HostArray<T> &input, const HostArray<T> &reference,
                                    const HostArray<T> &seed, const Parameters &parameters,
                                    const InterpretOptions &interpretOptions) {
  checkInputShape(graph, input.shape, "DeepLIFT input");
  checkShape(reference.shape, input.shape, "the reference");
  checkShape(seed.shape, batchedShape(input.shape[0], graph.outputNode().shape), "the seed");
  mlir::MLIRContext context;
  ProgramOptions options{input.shape[0], std::is_same_v<T, double>, false};
  auto results = interpretProgram<T>(
      buildDeepLiftModule(context, graph, options), kDeepLiftFunction,
      interpreterArguments(graph, input, ExtraArguments<T>{{&reference, &seed}, {}, {}}, parameters), interpretOptions);
  return {std::move(results[0]), std::move(results[1]), std::move(results[2])};
}

#define SEQJIT_INSTANTIATE_GRADIENT_PROGRAMS(T)                                                                        \
  template std::map<std::string, HostArray<T>> initialPowerVectors<T>(const Graph &, uint64_t);                        \
  template LossGradients<T> interpretLossGradient<T>(const Graph &, const Objective &, bool, const HostArray<T> &,     \
                                                     const HostArray<T> &, const Parameters &, const LossExtras<T> &,  \
                                                     const InterpretOptions &);                                        \
  template HostArray<T> interpretInputGradient<T>(const Graph &, bool, const HostArray<T> &, const HostArray<T> &,     \
                                                  const Parameters &, const InterpretOptions &);                       \
  template DeepLiftResult<T> interpretDeepLift<T>(const Graph &, const HostArray<T> &, const HostArray<T> &,           \
                                                  const HostArray<T> &, const Parameters &, const InterpretOptions &);

SEQJIT_INSTANTIATE_GRADIENT_PROGRAMS(float)
SEQJIT_INSTANTIATE_GRADIENT_PROGRAMS(double)

} // namespace seqjit
