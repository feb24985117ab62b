// Multiply-adds of the convolutions and dense layers from each node's shapes and attributes.
#include "dsl/MultiplyAdds.h"

namespace seqjit {

double multiplyAddsPerExample(const Graph &graph) {
  double total = 0;
  for (const Node &node : graph.nodes) {
    if (node.inputs.empty())
      continue;
    const Shape &in = graph.nodes[static_cast<size_t>(node.inputs[0])].shape;
    double inputs = 1;
    for (int64_t size : in)
      inputs *= static_cast<double>(size);
    if (const auto *conv = std::get_if<Conv1dAttrs>(&node.op.attributes))
      total += static_cast<double>(node.shape[0]) * static_cast<double>(node.shape[1]) * static_cast<double>(in[0]) *
               static_cast<double>(conv->width);
    else if (const auto *dense = std::get_if<DenseAttrs>(&node.op.attributes))
      total += static_cast<double>(dense->units) * inputs;
  }
  return total;
}

} // namespace seqjit
