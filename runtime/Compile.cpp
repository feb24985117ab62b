// The forward program: the graph in inference mode, JIT-compiled for a fixed batch and run chunk by chunk.
#include "runtime/Compile.h"

#include "compiler/JitModule.h"
#include "dsl/Error.h"
#include "runtime/ParallelChunks.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

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

CompiledModel::CompiledModel(Graph graph, std::unique_ptr<JitModule> module, int64_t chunk, int threads)
    : graph_(std::move(graph)), module_(std::move(module)), chunk_(chunk), threads_(threads) {}
CompiledModel::CompiledModel(CompiledModel &&) noexcept = default;
CompiledModel::~CompiledModel() = default;

double CompiledModel::compileSeconds() const { return module_->loweringSeconds() + module_->codegenSeconds(); }

/// Inference mode: batch norm uses its running statistics.
static Graph inferenceGraph(Graph graph) {
  for (Node &node : graph.nodes)
    if (auto *bn = std::get_if<BatchNormAttrs>(&node.op.attributes))
      bn->training = false;
  return graph;
}

std::vector<BufferView> parameterViews(const Graph &graph, const Parameters &parameters) {
  std::vector<BufferView> views;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      const HostArray<float> &p = parameters.at(Graph::parameterName(node, spec));
      if (p.shape != spec.shape)
        throw Error(fmt::format("parameter '{}' has shape ({}), the model expects ({})",
                                Graph::parameterName(node, spec), fmt::join(p.shape, ", "),
                                fmt::join(spec.shape, ", ")));
      views.push_back({const_cast<float *>(p.data.data()), p.shape});
    }
  return views;
}

CompiledModel compile(const Graph &graph, const CompileOptions &options) {
  if (options.batch <= 0)
    throw Error(fmt::format("compile: batch must be positive, got {}", options.batch));
  Graph inference = inferenceGraph(graph);
  int threads = static_cast<int>(std::min<int64_t>(programThreads(options.threads), options.batch));
  ImportOptions importOptions;
  importOptions.batch = (options.batch + threads - 1) / threads;
  auto module = JitModule::compileGraph(inference, importOptions);
  return CompiledModel(std::move(inference), std::move(module), importOptions.batch, threads);
}

HostArray<float> CompiledModel::forward(const HostArray<float> &input, const Parameters &parameters) const {
  checkInputShape(graph_, input.shape, "forward");
  std::vector<BufferView> arguments(1);
  std::vector<BufferView> parameterArguments = parameterViews(graph_, parameters);
  arguments.insert(arguments.end(), parameterArguments.begin(), parameterArguments.end());
  int64_t examples = input.shape[0];
  int64_t inputStride = input.shape[1] * input.shape[2];
  Shape outputExample = graph_.outputNode().shape;
  int64_t outputStride = HostArray<float>::elementCount(outputExample);
  std::vector<int64_t> outputShape{examples};
  outputShape.insert(outputShape.end(), outputExample.begin(), outputExample.end());
  HostArray<float> output(outputShape);

  std::vector<int64_t> chunkInputShape{chunk_, input.shape[1], input.shape[2]};
  std::vector<int64_t> chunkOutputShape{chunk_};
  chunkOutputShape.insert(chunkOutputShape.end(), outputExample.begin(), outputExample.end());
  int64_t chunks = (examples + chunk_ - 1) / chunk_;
  auto runChunk = [&](int64_t index, std::vector<BufferView> &chunkArguments) {
    int64_t start = index * chunk_;
    int64_t count = std::min(chunk_, examples - start);
    const float *in = input.data.data() + start * inputStride;
    float *out = output.data.data() + start * outputStride;
    if (count == chunk_) {
      chunkArguments[0] = {const_cast<float *>(in), chunkInputShape};
      module_->call("forward", chunkArguments, {out, chunkOutputShape});
      return;
    }
    // The last chunk runs zero-padded; only its real rows are kept.
    std::vector<float> paddedInput(chunk_ * inputStride, 0.0f), paddedOutput(chunk_ * outputStride);
    std::memcpy(paddedInput.data(), in, count * inputStride * sizeof(float));
    chunkArguments[0] = {paddedInput.data(), chunkInputShape};
    module_->call("forward", chunkArguments, {paddedOutput.data(), chunkOutputShape});
    std::memcpy(out, paddedOutput.data(), count * outputStride * sizeof(float));
  };
  // The compiled code is reentrant (every call allocates its own), so chunks run side by side.
  runChunksInParallel(chunks, threads_, [&](int64_t index) {
    std::vector<BufferView> chunkArguments = arguments;
    runChunk(index, chunkArguments);
  });
  return output;
}

} // namespace seqjit
