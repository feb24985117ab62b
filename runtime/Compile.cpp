// The forward program: the graph in inference mode, compiled for a fixed batch and run chunk by chunk.
#include "runtime/Compile.h"

#include "dsl/Error.h"
#include "runtime/ParallelChunks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace seqjit {

void checkInputShape(const Graph &graph, const std::vector<int64_t> &shape, const std::string &source) {
  const Shape &expected = graph.inputNode().shape;
  if (shape.size() != 3 || shape[1] != expected[0] || shape[2] != expected[1] || shape[0] <= 0)
    throw Error(fmt::format("{}: model '{}' expects input of shape (N, {}, {}), got ({})", source, graph.name,
                            expected[0], expected[1], fmt::join(shape, ", ")));
}

std::vector<int64_t> batchedShape(int64_t batch, const Shape &shape) {
  std::vector<int64_t> dims{batch};
  dims.insert(dims.end(), shape.begin(), shape.end());
  return dims;
}

void checkShape(const std::vector<int64_t> &found, const std::vector<int64_t> &expected, const std::string &what) {
  if (found != expected)
    throw Error(
        fmt::format("{} has shape ({}), expected ({})", what, fmt::join(found, ", "), fmt::join(expected, ", ")));
}

CompiledModel::CompiledModel(Graph graph, Program program, int64_t chunk, int threads)
    : graph_(std::move(graph)), program_(std::move(program)), chunk_(chunk), threads_(threads) {}

/// Inference mode: batch norm uses its running statistics.
static Graph inferenceGraph(Graph graph) {
  for (Node &node : graph.nodes)
    if (auto *bn = std::get_if<BatchNormAttrs>(&node.op.attributes))
      bn->training = false;
  return graph;
}

std::vector<NamedArray> parameterArguments(const Graph &graph, const Parameters &parameters) {
  std::vector<NamedArray> arguments;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      const std::string name = Graph::parameterName(node, spec);
      const HostArray<float> &p = parameters.at(name);
      if (p.shape != spec.shape)
        throw Error(fmt::format("parameter '{}' has shape ({}), the model expects ({})", name, fmt::join(p.shape, ", "),
                                fmt::join(spec.shape, ", ")));
      arguments.push_back({"parameter '" + name + "'", &p});
    }
  return arguments;
}

std::vector<BufferView> parameterViews(const Graph &graph, const Parameters &parameters) {
  std::vector<BufferView> views;
  for (const NamedArray &argument : parameterArguments(graph, parameters))
    views.push_back({const_cast<float *>(argument.array->data.data()), argument.array->shape});
  return views;
}

CompiledModel compile(const Graph &graph, const CompileOptions &options) {
  if (options.batch <= 0)
    throw Error(fmt::format("compile: batch must be positive, got {}", options.batch));
  Graph inference = inferenceGraph(graph);
  int threads = static_cast<int>(std::min<int64_t>(programThreads(options.threads), options.batch));
  ImportOptions importOptions;
  importOptions.batch = (options.batch + threads - 1) / threads;
  Program program = Program::compileGraph(inference, importOptions);
  return CompiledModel(std::move(inference), std::move(program), importOptions.batch, threads);
}

HostArray<float> CompiledModel::forward(const HostArray<float> &input, const Parameters &parameters) const {
  checkInputShape(graph_, input.shape, "forward");
  return program_.runInChunks(ImportOptions{}.functionName, input, parameterViews(graph_, parameters), threads_);
}

} // namespace seqjit
