// Gradient programs: build the module once per (graph, objective, batch), run it compiled or interpreted.
#include "runtime/GradientPrograms.h"

#include "dsl/Error.h"
#include "runtime/ProgramInterpreter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <type_traits>

namespace seqjit {
namespace {

std::vector<int64_t> batched(int64_t batch, const Shape &shape) {
  std::vector<int64_t> dims{batch};
  dims.insert(dims.end(), shape.begin(), shape.end());
  return dims;
}

void checkBatchShape(const std::vector<int64_t> &found, const std::vector<int64_t> &expected,
                     const std::string &what) {
  if (found != expected)
    throw Error(fmt::format("{} has shape ({}), expected ({})", what, fmt::join(found, ", "),
                            fmt::join(expected, ", ")));
}

/// The shapes of @loss_gradient's results: kLossTerms scalars, then the trainable parameters.
std::vector<std::vector<int64_t>> lossResultShapes(const Graph &graph) {
  std::vector<std::vector<int64_t>> shapes(kLossTerms.size());
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      if (spec.trainable)
        shapes.push_back(spec.shape);
  return shapes;
}

template <typename T> LossGradients<T> collect(const Graph &graph, std::vector<HostArray<T>> results) {
  LossGradients<T> out;
  for (size_t i = 0; i < kLossTerms.size(); ++i)
    out.terms[kLossTerms[i]] = static_cast<double>(results[i].data.at(0));
  std::vector<std::string> names = trainableParameterNames(graph);
  for (size_t i = 0; i < names.size(); ++i)
    out.gradients[names[i]] = std::move(results[kLossTerms.size() + i]);
  return out;
}

template <typename T>
std::vector<HostArray<T>> interpretProgram(mlir::OwningOpRef<mlir::ModuleOp> module, const char *function,
                                           std::vector<HostArray<T>> arguments, const Graph &graph,
                                           const Parameters &parameters) {
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      arguments.push_back(parameters.at(Graph::parameterName(node, spec)).template cast<T>());
  auto entry = module->lookupSymbol<mlir::func::FuncOp>(function);
  return interpretFunction<T>(entry, arguments);
}

} // namespace

CompiledLossGradient::CompiledLossGradient(Graph graph, std::unique_ptr<JitModule> module, int64_t batch)
    : graph_(std::move(graph)), module_(std::move(module)), batch_(batch) {}

double CompiledLossGradient::compileSeconds() const {
  return module_->loweringSeconds() + module_->codegenSeconds();
}

CompiledLossGradient CompiledLossGradient::compile(const Graph &graph, const Objective &objective,
                                                   const ProgramOptions &options) {
  if (options.batch <= 0 || options.float64)
    throw Error(fmt::format("loss gradient of '{}': compile for a positive batch in float32 (got batch {})",
                            graph.name, options.batch));
  auto module = JitModule::compileModule(
      [&](mlir::MLIRContext &context) { return buildLossGradientModule(context, graph, objective, options); },
      "loss gradient of model '" + graph.name + "'", false, {kLossGradientFunction});
  return CompiledLossGradient(graph, std::move(module), options.batch);
}

LossGradients<float> CompiledLossGradient::run(const HostArray<float> &input, const HostArray<float> &labels,
                                               const Parameters &parameters) const {
  checkInputShape(graph_, input.shape, "loss gradient input");
  checkBatchShape(input.shape, batched(batch_, graph_.inputNode().shape),
                  fmt::format("the input (this loss gradient was compiled for batches of {})", batch_));
  checkBatchShape(labels.shape, batched(batch_, graph_.outputNode().shape), "the labels");
  std::vector<BufferView> arguments{{const_cast<float *>(input.data.data()), input.shape},
                                    {const_cast<float *>(labels.data.data()), labels.shape}};
  std::vector<BufferView> parameterArguments = parameterViews(graph_, parameters);
  arguments.insert(arguments.end(), parameterArguments.begin(), parameterArguments.end());
  std::vector<HostArray<float>> results;
  std::vector<BufferView> resultViews;
  for (const auto &shape : lossResultShapes(graph_))
    results.emplace_back(shape);
  for (auto &r : results)
    resultViews.push_back({r.data.data(), r.shape});
  module_->call(kLossGradientFunction, arguments, resultViews);
  return collect(graph_, std::move(results));
}

template <typename T>
LossGradients<T> interpretLossGradient(const Graph &graph, const Objective &objective, bool batchNormTraining,
                                       const HostArray<T> &input, const HostArray<T> &labels,
                                       const Parameters &parameters) {
  checkInputShape(graph, input.shape, "loss gradient input");
  checkBatchShape(labels.shape, batched(input.shape[0], graph.outputNode().shape), "the labels");
  mlir::MLIRContext context;
  ProgramOptions options{input.shape[0], std::is_same_v<T, double>, batchNormTraining};
  auto results = interpretProgram<T>(buildLossGradientModule(context, graph, objective, options),
                                     kLossGradientFunction, {input, labels}, graph, parameters);
  return collect(graph, std::move(results));
}

CompiledInputGradient::CompiledInputGradient(Graph graph, std::unique_ptr<JitModule> module, int64_t batch)
    : graph_(std::move(graph)), module_(std::move(module)), batch_(batch) {}

CompiledInputGradient CompiledInputGradient::compile(const Graph &graph, const ProgramOptions &options) {
  if (options.batch <= 0 || options.float64)
    throw Error(fmt::format("input gradient of '{}': compile for a positive batch in float32 (got batch {})",
                            graph.name, options.batch));
  auto module = JitModule::compileModule(
      [&](mlir::MLIRContext &context) { return buildInputGradientModule(context, graph, options); },
      "input gradient of model '" + graph.name + "'", false, {kInputGradientFunction});
  return CompiledInputGradient(graph, std::move(module), options.batch);
}

HostArray<float> CompiledInputGradient::run(const HostArray<float> &input, const HostArray<float> &seed,
                                            const Parameters &parameters, HostArray<float> *output) const {
  checkInputShape(graph_, input.shape, "input gradient input");
  checkBatchShape(input.shape, batched(batch_, graph_.inputNode().shape),
                  fmt::format("the input (this input gradient was compiled for batches of {})", batch_));
  std::vector<int64_t> outputShape = batched(batch_, graph_.outputNode().shape);
  checkBatchShape(seed.shape, outputShape, "the seed");
  std::vector<BufferView> arguments{{const_cast<float *>(input.data.data()), input.shape},
                                    {const_cast<float *>(seed.data.data()), seed.shape}};
  std::vector<BufferView> parameterArguments = parameterViews(graph_, parameters);
  arguments.insert(arguments.end(), parameterArguments.begin(), parameterArguments.end());
  HostArray<float> modelOutput(outputShape), gradient(input.shape);
  module_->call(kInputGradientFunction, arguments,
                {{modelOutput.data.data(), outputShape}, {gradient.data.data(), gradient.shape}});
  if (output)
    *output = std::move(modelOutput);
  return gradient;
}

template <typename T>
HostArray<T> interpretInputGradient(const Graph &graph, bool batchNormTraining, const HostArray<T> &input,
                                    const HostArray<T> &seed, const Parameters &parameters) {
  checkInputShape(graph, input.shape, "input gradient input");
  checkBatchShape(seed.shape, batched(input.shape[0], graph.outputNode().shape), "the seed");
  mlir::MLIRContext context;
  ProgramOptions options{input.shape[0], std::is_same_v<T, double>, batchNormTraining};
  auto results = interpretProgram<T>(buildInputGradientModule(context, graph, options), kInputGradientFunction,
                                     {input, seed}, graph, parameters);
  return std::move(results[1]);
}

template LossGradients<float> interpretLossGradient<float>(const Graph &, const Objective &, bool,
                                                           const HostArray<float> &, const HostArray<float> &,
                                                           const Parameters &);
template LossGradients<double> interpretLossGradient<double>(const Graph &, const Objective &, bool,
                                                             const HostArray<double> &, const HostArray<double> &,
                                                             const Parameters &);
template HostArray<float> interpretInputGradient<float>(const Graph &, bool, const HostArray<float> &,
                                                        const HostArray<float> &, const Parameters &);
template HostArray<double> interpretInputGradient<double>(const Graph &, bool, const HostArray<double> &,
                                                          const HostArray<double> &, const Parameters &);

} // namespace seqjit
