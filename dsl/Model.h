// The model author's API: build a genomic CNN as a graph of named layers with shapes checked on the spot.
//
//   seqjit::Model m("cnn");
//   auto x = m.input(200);                                   // one-hot DNA, (N, 4, 200), rows A C G T
//   x = conv1d(x, {.filters = 32, .width = 19, .padding = seqjit::Padding::Same});
//   x = exp(batchNorm(x));
//   x = maxPool1d(x, 4);
//   x = dense(flatten(x), 12);
//   m.setOutput(x);
#pragma once

#include "dsl/Graph.h"

#include <source_location>
#include <string>
#include <vector>

namespace seqjit {

class Model;
using SourceLocation = std::source_location;

/// A handle on a value of a model under construction.
class Tensor {
public:
  Tensor(Model *model, int node) : model_(model), node_(node) {}
  Model &model() const { return *model_; }
  int node() const { return node_; }
  /// Shape of one example (no batch dimension).
  const Shape &shape() const;

private:
  Model *model_;
  int node_;
};

class Model {
public:
  explicit Model(std::string name, Initializer weightInitializer = Initializer::GlorotUniform);
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  /// The one-hot sequence input: (N, channels, length).
  Tensor input(int64_t length, int64_t channels = 4, SourceLocation location = SourceLocation::current());

  /// Adds an op after checking it with its shape function; throws seqjit::Error naming the layer.
  /// An empty name gets "<op>_<k>".
  Tensor addOp(OpSpec op, const std::vector<Tensor> &inputs, std::string name, SourceLocation location);

  void setOutput(Tensor output);
  /// The recorded graph; throws if no output was set.
  const Graph &graph() const;
  const std::string &name() const { return graph_.name; }
  const Node &node(int id) const { return graph_.nodes.at(id); }

private:
  Graph graph_;
  Initializer weightInitializer_;
};

Tensor conv1d(Tensor x, Conv1dAttrs attrs, std::string name = {}, SourceLocation loc = SourceLocation::current());
Tensor batchNorm(Tensor x, BatchNormAttrs attrs = {}, std::string name = {},
                 SourceLocation loc = SourceLocation::current());
Tensor activation(Tensor x, ActivationAttrs attrs, std::string name = {},
                  SourceLocation loc = SourceLocation::current());
Tensor relu(Tensor x, std::string name = {}, SourceLocation loc = SourceLocation::current());
Tensor exp(Tensor x, std::string name = {}, SourceLocation loc = SourceLocation::current());
Tensor softplus(Tensor x, std::string name = {}, SourceLocation loc = SourceLocation::current());
Tensor sigmoid(Tensor x, std::string name = {}, SourceLocation loc = SourceLocation::current());
Tensor tanh(Tensor x, std::string name = {}, SourceLocation loc = SourceLocation::current());
Tensor elu(Tensor x, double alpha = 1.0, std::string name = {}, SourceLocation loc = SourceLocation::current());
Tensor linear(Tensor x, std::string name = {}, SourceLocation loc = SourceLocation::current());
Tensor logRelu(Tensor x, std::string name = {}, SourceLocation loc = SourceLocation::current());
/// Pools take windows of `size` every `stride` (0: stride = size), without padding.
Tensor maxPool1d(Tensor x, int64_t size, int64_t stride = 0, std::string name = {},
                 SourceLocation loc = SourceLocation::current());
Tensor avgPool1d(Tensor x, int64_t size, int64_t stride = 0, std::string name = {},
                 SourceLocation loc = SourceLocation::current());
Tensor globalMaxPool(Tensor x, std::string name = {}, SourceLocation loc = SourceLocation::current());
Tensor globalAvgPool(Tensor x, std::string name = {}, SourceLocation loc = SourceLocation::current());
/// Inverted dropout in training; the identity in inference.
Tensor dropout(Tensor x, double rate, std::string name = {}, SourceLocation loc = SourceLocation::current());
/// Channel-major, as in PyTorch: (C, L) -> (C * L).
Tensor flatten(Tensor x, std::string name = {}, SourceLocation loc = SourceLocation::current());
Tensor dense(Tensor x, int64_t units, bool bias = true, std::string name = {},
             SourceLocation loc = SourceLocation::current());
/// Elementwise sum (residual connections).
Tensor add(const std::vector<Tensor> &xs, std::string name = {}, SourceLocation loc = SourceLocation::current());
/// Concatenation along channels.
Tensor concat(const std::vector<Tensor> &xs, std::string name = {},
              SourceLocation loc = SourceLocation::current());
/// Reverses channels and length: the reverse complement of one-hot ACGT.
Tensor reverseComplement(Tensor x, std::string name = {}, SourceLocation loc = SourceLocation::current());

/// An activation by name ("exp", "relu", ...; see ActivationKind), for models whose first layer is a parameter.
ActivationAttrs activationByName(const std::string &name);

} // namespace seqjit
