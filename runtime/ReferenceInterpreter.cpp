// The reference interpreter of DSL graphs: each node evaluated by its reference kernel (the test oracle).
#include "runtime/ReferenceInterpreter.h"

#include "dsl/Error.h"
#include "dsl/ShapeFunctions.h"
#include "runtime/ReferenceKernels.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace seqjit {

namespace {

/// Names a node in messages the way the DSL does: model, layer, op.
std::string describe(const Graph &graph, const Node &node) {
  return fmt::format("model '{}', layer '{}' ({})", graph.name, node.name, opKindName(node.op.kind));
}

/// One node's evaluation context: its inputs' values and its parameters converted to T.
template <typename T> struct OpContext {
  const Graph &graph;
  const Node &node;
  std::vector<const HostArray<T> *> inputs;
  std::map<std::string, HostArray<T>> parameters; ///< By suffix: weight, bias, running_mean, running_var.

  const HostArray<T> &input(size_t i = 0) const { return *inputs.at(i); }
  const HostArray<T> &parameter(const std::string &suffix) const { return parameters.at(suffix); }
  const HostArray<T> *optionalParameter(const std::string &suffix) const {
    auto found = parameters.find(suffix);
    return found == parameters.end() ? nullptr : &found->second;
  }

  [[noreturn]] void fail(const std::string &message) const {
    throw Error(fmt::format("reference interpreter: {}: {}", describe(graph, node), message));
  }
};

/// The node's op by its kernel (runtime/ReferenceKernels.h), which the seq-program interpreter shares.
template <typename T> HostArray<T> evaluate(const OpContext<T> &context) {
  const OpAttributes &attributes = context.node.op.attributes;
  switch (context.node.op.kind) {
  case OpKind::Input:
    break; // handled by the caller
  case OpKind::Conv1d: {
    const auto &a = std::get<Conv1dAttrs>(attributes);
    return kernels::conv1d(context.input(), context.parameter("weight"), context.optionalParameter("bias"), a.stride,
                           a.dilation, a.padding);
  }
  case OpKind::BatchNorm: {
    const auto &a = std::get<BatchNormAttrs>(attributes);
    return kernels::batchNorm(context.input(), context.parameter("weight"), context.parameter("bias"),
                              context.parameter("running_mean"), context.parameter("running_var"), a.eps, a.training);
  }
  case OpKind::Activation: {
    const auto &a = std::get<ActivationAttrs>(attributes);
    return kernels::activation(context.input(), a.kind, a.scale, a.shift, a.alpha);
  }
  case OpKind::MaxPool1d:
  case OpKind::AvgPool1d: {
    const auto &a = std::get<PoolAttrs>(attributes);
    const int64_t stride = a.stride == 0 ? a.size : a.stride; // the DSL's 0 means "stride = size"
    return context.node.op.kind == OpKind::MaxPool1d ? kernels::maxPool1d(context.input(), a.size, stride)
                                                     : kernels::avgPool1d(context.input(), a.size, stride);
  }
  case OpKind::GlobalMaxPool:
    return kernels::globalMaxPool(context.input());
  case OpKind::GlobalAvgPool:
    return kernels::globalAvgPool(context.input());
  case OpKind::Dropout:
    return context.input(); // inference: the identity
  case OpKind::Flatten:
    return kernels::flatten(context.input());
  case OpKind::Dense:
    return kernels::dense(context.input(), context.parameter("weight"), context.optionalParameter("bias"));
  case OpKind::Add:
    return kernels::add(context.inputs);
  case OpKind::Concat:
    return kernels::concat(context.inputs);
  case OpKind::ReverseComplement:
    return kernels::reverseComplement(context.input());
  }
  throw Error("the reference interpreter has no implementation of this op");
}

/// Finds every parameter of `node`, checks its shape against the node's ParameterSpec and converts it to T.
template <typename T>
std::map<std::string, HostArray<T>> gatherParameters(const Graph &graph, const Node &node,
                                                     const std::map<std::string, HostArray<float>> &parameters) {
  std::map<std::string, HostArray<T>> result;
  for (const ParameterSpec &spec : node.parameters) {
    std::string key = Graph::parameterName(node, spec);
    auto found = parameters.find(key);
    if (found == parameters.end())
      throw Error(fmt::format("reference interpreter: {}: parameter '{}' is missing", describe(graph, node), key));
    if (found->second.shape != spec.shape)
      throw Error(fmt::format("reference interpreter: {}: parameter '{}' has shape {}, expected {}",
                              describe(graph, node), key, kernels::shapeString(found->second.shape),
                              kernels::shapeString(spec.shape)));
    if (found->second.size() != HostArray<float>::elementCount(spec.shape))
      throw Error(fmt::format("reference interpreter: {}: parameter '{}' holds {} values, its shape {} needs {}",
                              describe(graph, node), key, found->second.size(), kernels::shapeString(spec.shape),
                              HostArray<float>::elementCount(spec.shape)));
    result.emplace(spec.suffix, found->second.template cast<T>());
  }
  return result;
}

} // namespace

template <typename T>
std::vector<HostArray<T>> interpretAll(const Graph &graph, const std::map<std::string, HostArray<float>> &parameters,
                                       const HostArray<T> &input) {
  if (graph.nodes.empty() || graph.nodes[0].op.kind != OpKind::Input)
    throw Error(fmt::format("reference interpreter: model '{}' has no input node", graph.name));
  if (graph.output < 0 || graph.output >= static_cast<int>(graph.nodes.size()))
    throw Error(fmt::format("reference interpreter: model '{}' has no valid output node (output = {})", graph.name,
                            graph.output));

  const Shape &inputShape = graph.inputNode().shape;
  std::vector<int64_t> expected{-1};
  expected.insert(expected.end(), inputShape.begin(), inputShape.end());
  bool shapeMatches = input.rank() == static_cast<int64_t>(expected.size()) && input.shape[0] >= 1 &&
                      std::equal(inputShape.begin(), inputShape.end(), input.shape.begin() + 1);
  if (!shapeMatches)
    throw Error(fmt::format("reference interpreter: model '{}': expected an input of shape (N, {}) with N >= 1, "
                            "found {}",
                            graph.name, fmt::join(inputShape, ", "), kernels::shapeString(input.shape)));
  if (input.size() != HostArray<T>::elementCount(input.shape))
    throw Error(fmt::format("reference interpreter: model '{}': the input of shape {} holds {} values", graph.name,
                            kernels::shapeString(input.shape), input.size()));
  const int64_t batch = input.shape[0];

  std::vector<HostArray<T>> values(graph.nodes.size());
  values[0] = input;
  for (size_t id = 1; id < graph.nodes.size(); ++id) {
    const Node &node = graph.nodes[id];
    if (node.op.kind == OpKind::Input)
      throw Error(fmt::format("reference interpreter: {}: only node 0 may be the input", describe(graph, node)));
    OpContext<T> context{graph, node, {}, gatherParameters<T>(graph, node, parameters)};
    if (node.inputs.empty())
      context.fail("the node has no inputs");
    for (int inputId : node.inputs) {
      if (inputId < 0 || static_cast<size_t>(inputId) >= id)
        context.fail(fmt::format("input id {} does not name an earlier node", inputId));
      context.inputs.push_back(&values[inputId]);
    }
    try {
      values[id] = evaluate(context);
    } catch (const Error &error) {
      context.fail(error.what()); // the kernel says what disagrees; the message gains the model and layer
    }

    // The kernels derive every shape on their own; agreeing with the shape function cross-checks both.
    std::vector<int64_t> declared{batch};
    declared.insert(declared.end(), node.shape.begin(), node.shape.end());
    if (values[id].shape != declared)
      context.fail(fmt::format("computed shape {} differs from the graph's shape {}",
                               kernels::shapeString(values[id].shape), kernels::shapeString(declared)));
  }
  return values;
}

template <typename T>
HostArray<T> interpretForward(const Graph &graph, const std::map<std::string, HostArray<float>> &parameters,
                              const HostArray<T> &input) {
  std::vector<HostArray<T>> values = interpretAll<T>(graph, parameters, input);
  return std::move(values[graph.output]);
}

template std::vector<HostArray<float>>
interpretAll<float>(const Graph &, const std::map<std::string, HostArray<float>> &, const HostArray<float> &);
template std::vector<HostArray<double>>
interpretAll<double>(const Graph &, const std::map<std::string, HostArray<float>> &, const HostArray<double> &);
template HostArray<float> interpretForward<float>(const Graph &, const std::map<std::string, HostArray<float>> &,
                                                  const HostArray<float> &);
template HostArray<double> interpretForward<double>(const Graph &, const std::map<std::string, HostArray<float>> &,
                                                    const HostArray<double> &);

} // namespace seqjit
