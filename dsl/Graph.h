// The graph a model records: ops in topological order with names, shapes and parameters.
#pragma once

#include "dsl/OpSpec.h"
#include "dsl/ShapeFunctions.h"

#include <string>
#include <vector>

namespace seqjit {

struct Node {
  int id = 0;
  OpSpec op;
  std::string name;               ///< Layer name, unique in the graph; the prefix of its state_dict keys.
  std::vector<int> inputs;        ///< Ids of earlier nodes.
  Shape shape;                    ///< Output shape of one example.
  std::vector<ParameterSpec> parameters;
  std::string sourceLocation;     ///< file:line of the DSL call that added it.
};

/// Nodes are appended in topological order; node 0 is the input.
struct Graph {
  std::string name;
  std::vector<Node> nodes;
  int output = -1;

  const Node &outputNode() const { return nodes.at(output); }
  const Node &inputNode() const { return nodes.at(0); }
  /// The full state_dict name of a parameter.
  static std::string parameterName(const Node &node, const ParameterSpec &spec) {
    return node.name + "." + spec.suffix;
  }
  /// Number of trainable scalars.
  int64_t trainableParameterCount() const;
};

} // namespace seqjit
