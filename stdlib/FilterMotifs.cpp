// Activation-aligned filter motifs and their informative cores.
#include "stdlib/FilterMotifs.h"

#include "dsl/Error.h"
#include "runtime/Compile.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <variant>

namespace seqjit {

int firstActivationNode(const Graph &graph) {
  for (const Node &node : graph.nodes)
    if (std::holds_alternative<ActivationAttrs>(node.op.attributes))
      return node.id;
  throw Error(fmt::format("model '{}' has no activation layer whose filters could be read as motifs", graph.name));
}

Graph graphUpTo(const Graph &graph, int node) {
  Graph cut = graph;
  cut.nodes.resize(static_cast<size_t>(node) + 1);
  cut.output = node;
  return cut;
}

std::vector<Motif> filterMotifs(const HostArray<float> &activations, const HostArray<float> &input,
                                const FilterAlignment &alignment) {
  if (activations.rank() != 3 || input.rank() != 3 || input.shape[1] != 4 || activations.shape[0] != input.shape[0] ||
      activations.shape[2] != input.shape[2])
    throw Error(fmt::format("filter motifs: activations ({}) and input ({}) do not match: expected (N, F, L) and "
                            "(N, 4, L)",
                            fmt::join(activations.shape, ", "), fmt::join(input.shape, ", ")));
  if (alignment.window < 1 || !(alignment.threshold >= 0))
    throw Error(fmt::format("filter motifs: window {} and threshold {}; expected a positive window and a threshold "
                            ">= 0",
                            alignment.window, alignment.threshold));
  const int64_t sequences = input.shape[0], filters = activations.shape[1], length = input.shape[2];
  const int64_t before = alignment.window / 2, window = alignment.window;
  std::vector<Motif> motifs;
  for (int64_t f = 0; f < filters; ++f) {
    float maximum = -INFINITY;
    for (int64_t n = 0; n < sequences; ++n)
      for (int64_t l = 0; l < length; ++l)
        maximum = std::max(maximum, activations.data[(n * filters + f) * length + l]);
    const double cutoff = maximum * alignment.threshold;
    HostArray<double> sum({window, 4});
    int64_t windows = 0;
    for (int64_t n = 0; n < sequences; ++n)
      for (int64_t l = 0; l < length; ++l) {
        const int64_t start = l - before;
        if (!(activations.data[(n * filters + f) * length + l] > cutoff) || start <= 0 || start + window >= length)
          continue;
        for (int64_t j = 0; j < window; ++j)
          for (int64_t b = 0; b < 4; ++b)
            sum.data[j * 4 + b] += input.data[(n * 4 + b) * length + start + j];
        ++windows;
      }
    Motif motif;
    motif.id = fmt::format("filter{}", f);
    motif.sites = windows;
    motif.probabilities = HostArray<float>({window, 4}, 0.25f);
    if (windows >= 2)
      for (int64_t i = 0; i < sum.size(); ++i)
        motif.probabilities.data[i] = static_cast<float>(sum.data[i] / static_cast<double>(windows));
    motifs.push_back(std::move(motif));
  }
  return motifs;
}

std::vector<Motif> modelFilterMotifs(const Graph &graph, const Parameters &parameters, const HostArray<float> &input,
                                     const FilterAlignment &alignment, int threads) {
  const int layer = firstActivationNode(graph);
  const Node &node = graph.nodes[layer];
  if (node.shape.size() != 2 || input.rank() != 3 || node.shape[1] != input.shape[2])
    throw Error(fmt::format("model '{}': layer '{}' has shape ({}), not (filters, {}) positions aligned with the input",
                            graph.name, node.name, fmt::join(node.shape, ", "),
                            input.rank() == 3 ? input.shape[2] : 0));
  CompiledModel firstLayer = compile(graphUpTo(graph, layer), {.batch = 100, .threads = threads});
  return filterMotifs(firstLayer.forward(input, parameters), input, alignment);
}

std::vector<std::vector<MotifMatch>> matchFilterCores(const std::vector<Motif> &filters,
                                                      const std::vector<Motif> &database, double eValueThreshold) {
  std::vector<Motif> cores;
  for (const Motif &motif : filters)
    cores.push_back(clipToInformativeCore(motif));
  return compareMotifs(cores, database, {.eValueThreshold = eValueThreshold});
}

Motif clipToInformativeCore(const Motif &motif, double information, int64_t pad) {
  const int64_t width = motif.width();
  int64_t first = -1, last = -1;
  for (int64_t j = 0; j < width; ++j) {
    double bits = 2.0;
    for (int64_t b = 0; b < 4; ++b) {
      double p = motif.probabilities.data[j * 4 + b];
      bits += p * std::log2(p + 1e-7);
    }
    if (bits > information) {
      first = first < 0 ? j : first;
      last = j;
    }
  }
  if (first < 0)
    return motif;
  const int64_t start = std::max<int64_t>(first - pad, 0), end = std::min(last + pad + 1, width);
  Motif clipped = motif;
  clipped.probabilities = HostArray<float>({end - start, 4});
  std::copy(motif.probabilities.data.begin() + start * 4, motif.probabilities.data.begin() + end * 4,
            clipped.probabilities.data.begin());
  return clipped;
}

} // namespace seqjit
