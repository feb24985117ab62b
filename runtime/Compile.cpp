// The forward program: the graph in inference mode, JIT-compiled for a fixed batch and run chunk by chunk.
#include "runtime/Compile.h"

#include "compiler/JitModule.h"
#include "dsl/Error.h"

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

CompiledModel::CompiledModel(Graph graph, std::unique_ptr<JitModule> module, int64_t batch)
    : graph_(std::move(graph)), module_(std::move(module)), batch_(batch) {}
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

CompiledModel compile(const Graph &graph, const CompileOptions &options) {
  if (options.batch <= 0)
    throw Error(fmt::format("compile: batch must be positive, got {}", options.batch));
  Graph inference = inferenceGraph(graph);
  ImportOptions importOptions;
  importOptions.batch = options.batch;
  auto module = JitModule::compileGraph(inference, importOptions);
  return CompiledModel(std::move(inference), std::move(module), options.batch);
}

HostArray<float> CompiledModel::forward(const HostArray<float> &input, const Parameters &parameters) const {
  checkInputShape(graph_, input.shape, "forward");
  std::vector<BufferView> arguments(1);
  for (const Node &node : graph_.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      const HostArray<float> &p = parameters.at(Graph::parameterName(node, spec));
      if (p.shape != spec.shape)
        throw Error(fmt::format("parameter '{}' has shape ({}), the model expects ({})",
                                Graph::parameterName(node, spec), fmt::join(p.shape, ", "),
                                fmt::join(spec.shape, ", ")));
      arguments.push_back({const_cast<float *>(p.data.data()), p.shape});
    }
  int64_t examples = input.shape[0];
  int64_t inputStride = input.shape[1] * input.shape[2];
  Shape outputExample = graph_.outputNode().shape;
  int64_t outputStride = HostArray<float>::elementCount(outputExample);
  std::vector<int64_t> outputShape{examples};
  outputShape.insert(outputShape.end(), outputExample.begin(), outputExample.end());
  HostArray<float> output(outputShape);

  std::vector<int64_t> chunkInputShape{batch_, input.shape[1], input.shape[2]};
  std::vector<int64_t> chunkOutputShape{batch_};
  chunkOutputShape.insert(chunkOutputShape.end(), outputExample.begin(), outputExample.end());
  std::vector<float> paddedInput, paddedOutput;
  for (int64_t start = 0; start < examples; start += batch_) {
    int64_t count = std::min(batch_, examples - start);
    const float *in = input.data.data() + start * inputStride;
    float *out = output.data.data() + start * outputStride;
    if (count < batch_) { // The last chunk runs zero-padded; only its real rows are kept.
      paddedInput.assign(batch_ * inputStride, 0.0f);
      std::memcpy(paddedInput.data(), in, count * inputStride * sizeof(float));
      paddedOutput.resize(batch_ * outputStride);
      in = paddedInput.data();
    }
    arguments[0] = {const_cast<float *>(in), chunkInputShape};
    float *target = count < batch_ ? paddedOutput.data() : out;
    module_->call("forward", arguments, {target, chunkOutputShape});
    if (count < batch_)
      std::memcpy(out, paddedOutput.data(), count * outputStride * sizeof(float));
  }
  return output;
}

} // namespace seqjit
