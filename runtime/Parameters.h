// A model's weights and running statistics by PyTorch state_dict name: seeded initialisation and .npz I/O.
#pragma once

#include "dsl/Graph.h"
#include "runtime/HostArray.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace seqjit {

class Parameters {
public:
  /// He-normal or Glorot-uniform weights (as the graph's ParameterSpecs say), from a seeded Philox stream.
  /// `weightInitializer`, when given, replaces the model's choice for every randomly initialised weight (the
  /// papers' Keras code draws He-normal weights where a DSL model says Glorot); zeros and ones stay.
  static Parameters initialize(const Graph &graph, uint64_t seed,
                               std::optional<Initializer> weightInitializer = std::nullopt);
  /// Loads a .npz written by numpy.savez from a PyTorch state_dict (or by save()). Every parameter the
  /// graph needs must be present with the right shape; extra keys such as num_batches_tracked are ignored.
  /// Throws seqjit::Error naming the file, the key and what was expected.
  static Parameters loadNpz(const Graph &graph, const std::string &path);
  /// The parameters of `graph` taken from `arrays` (extra keys ignored), checked as loadNpz checks a file;
  /// `source` names the arrays in errors ("'w.npz'", "checkpoint 'c.ckpt'").
  static Parameters fromArrays(const Graph &graph, std::map<std::string, HostArray<float>> arrays,
                               const std::string &source);
  /// Writes a .npz (float32 arrays, PyTorch names) that numpy.load and torch load_state_dict accept.
  void saveNpz(const std::string &path) const;
  /// Moves every batch-norm layer away from the identity its initialisation gives (scale and variance in
  /// [0.5, 1.5), shift and mean ~ N(0, 0.2^2)), so that a comparison of two implementations sees how batch
  /// norm is applied. For tests and benchmarks.
  void randomizeBatchNorm(const Graph &graph, uint64_t seed);

  const HostArray<float> &at(const std::string &name) const;
  HostArray<float> &at(const std::string &name);
  const std::map<std::string, HostArray<float>> &tensors() const { return tensors_; }

private:
  std::map<std::string, HostArray<float>> tensors_;
};

} // namespace seqjit
