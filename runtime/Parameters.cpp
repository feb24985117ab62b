// Seeded initialisation of a graph's parameters and their exchange with PyTorch through .npz state_dicts.
//
// Saved files hold exactly the graph's tensors: PyTorch's BatchNorm1d also keeps `num_batches_tracked`, which we do
// not, so load a saved file into torch with load_state_dict(..., strict=False) (only those keys are then missing,
// and torch only uses them when momentum=None).
#include "runtime/Parameters.h"

#include "dsl/Error.h"
#include "dsl/ShapeFunctions.h"
#include "runtime/Npy.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace seqjit {

namespace {

size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(previous, current);
  }
  return previous[b.size()];
}

/// Keys a user probably meant: same layer, same suffix, or a few edits away (renamed or prefixed layers).
std::vector<std::string> similarKeys(const std::string &wanted, const std::map<std::string, HostArray<float>> &file) {
  auto dot = wanted.rfind('.');
  std::string layer = wanted.substr(0, dot);
  std::string suffix = dot == std::string::npos ? wanted : wanted.substr(dot);
  std::vector<std::string> similar;
  std::vector<std::string> sameSuffix;
  for (const auto &[key, array] : file) {
    bool sameLayer = key.starts_with(layer + ".");
    bool close = editDistance(key, wanted) <= std::max<size_t>(3, wanted.size() / 4);
    bool contains = key.find(wanted) != std::string::npos; // e.g. "model.conv1d_0.weight"
    if (sameLayer || close || contains)
      similar.push_back(key);
    else if (key.ends_with(suffix))
      sameSuffix.push_back(key);
  }
  // Keys with the same suffix ("*.weight") are a weaker hint: offered only when nothing closer exists.
  return similar.empty() ? sameSuffix : similar;
}

std::string listOf(const std::vector<std::string> &keys, size_t limit = 20) {
  std::string text;
  for (size_t i = 0; i < keys.size() && i < limit; ++i)
    text += (i ? ", " : "") + keys[i];
  if (keys.size() > limit)
    text += fmt::format(", ... ({} more)", keys.size() - limit);
  return text;
}

HostArray<float> drawParameter(const ParameterSpec &spec, const std::string &name, uint64_t seed, uint64_t stream) {
  HostArray<float> tensor(spec.shape);
  Random random(seed, stream);
  switch (spec.initializer) {
  case Initializer::Zeros:
    break;
  case Initializer::Ones:
    std::fill(tensor.data.begin(), tensor.data.end(), 1.0f);
    break;
  case Initializer::GlorotUniform: {
    if (spec.fanIn + spec.fanOut <= 0)
      throw Error(fmt::format("parameter '{}': Glorot initialisation needs positive fan-in + fan-out", name));
    float limit = static_cast<float>(std::sqrt(6.0 / static_cast<double>(spec.fanIn + spec.fanOut)));
    for (float &value : tensor.data)
      value = (2.0f * random.uniform() - 1.0f) * limit;
    break;
  }
  case Initializer::HeNormal: {
    if (spec.fanIn <= 0)
      throw Error(fmt::format("parameter '{}': He initialisation needs a positive fan-in", name));
    float deviation = static_cast<float>(std::sqrt(2.0 / static_cast<double>(spec.fanIn)));
    for (float &value : tensor.data)
      value = random.normal() * deviation;
    break;
  }
  }
  return tensor;
}

} // namespace

Parameters Parameters::initialize(const Graph &graph, uint64_t seed, std::optional<Initializer> weightInitializer) {
  Parameters parameters;
  // One Philox stream per parameter, numbered in graph order: appending layers leaves earlier weights unchanged.
  uint64_t stream = 0;
  for (const Node &node : graph.nodes)
    for (ParameterSpec spec : node.parameters) {
      bool random = spec.initializer == Initializer::GlorotUniform || spec.initializer == Initializer::HeNormal;
      if (random && weightInitializer)
        spec.initializer = *weightInitializer;
      std::string name = Graph::parameterName(node, spec);
      parameters.tensors_[name] = drawParameter(spec, name, seed, stream++);
    }
  return parameters;
}

Parameters Parameters::loadNpz(const Graph &graph, const std::string &path) {
  return fromArrays(graph, readNpz(path), fmt::format("'{}'", path));
}

Parameters Parameters::fromArrays(const Graph &graph, std::map<std::string, HostArray<float>> file,
                                  const std::string &source) {
  Parameters parameters;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      std::string name = Graph::parameterName(node, spec);
      auto found = file.find(name);
      if (found == file.end()) {
        std::vector<std::string> similar = similarKeys(name, file);
        std::vector<std::string> all;
        for (const auto &[key, array] : file)
          all.push_back(key);
        throw Error(fmt::format("{}: model '{}' needs '{}' with shape {} (layer '{}', {}), but there is no "
                                "such key; {}",
                                source, graph.name, name, shapeToString(spec.shape), node.name, node.sourceLocation,
                                similar.empty() ? fmt::format("keys present: {}", listOf(all))
                                                : fmt::format("similar keys present: {}", listOf(similar))));
      }
      if (found->second.shape != spec.shape)
        throw Error(fmt::format("{}: key '{}' has shape {}; model '{}' expects {} (layer '{}', {})", source, name,
                                shapeToString(found->second.shape), graph.name, shapeToString(spec.shape), node.name,
                                node.sourceLocation));
      parameters.tensors_[name] = std::move(found->second);
    }
  return parameters;
}

void Parameters::saveNpz(const std::string &path) const { writeNpz(path, tensors_); }

const HostArray<float> &Parameters::at(const std::string &name) const {
  auto found = tensors_.find(name);
  if (found == tensors_.end()) {
    std::vector<std::string> names;
    for (const auto &[key, tensor] : tensors_)
      names.push_back(key);
    throw Error(fmt::format("no parameter named '{}'; the parameters are: {}", name, listOf(names, 50)));
  }
  return found->second;
}

HostArray<float> &Parameters::at(const std::string &name) {
  return const_cast<HostArray<float> &>(std::as_const(*this).at(name));
}

void Parameters::randomizeBatchNorm(const Graph &graph, uint64_t seed) {
  Random random(seed, /*stream=*/0xb2);
  for (const Node &node : graph.nodes)
    if (node.op.kind == OpKind::BatchNorm)
      for (const ParameterSpec &spec : node.parameters) {
        bool positive = spec.suffix == "running_var" || spec.suffix == "weight";
        for (float &value : at(Graph::parameterName(node, spec)).data)
          value = positive ? 0.5f + random.uniform() : 0.2f * random.normal();
      }
}

} // namespace seqjit
