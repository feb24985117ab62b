// Recording layers into a Graph, checking each with its shape function the moment it is added.
#include "dsl/Model.h"

#include "dsl/Error.h"

#include <fmt/format.h>

#include <map>

namespace seqjit {

const Shape &Tensor::shape() const { return model_->node(node_).shape; }

Model::Model(std::string name, Initializer weightInitializer) : weightInitializer_(weightInitializer) {
  graph_.name = std::move(name);
}

static std::string locationString(const SourceLocation &loc) {
  return fmt::format("{}:{}", loc.file_name(), loc.line());
}

Tensor Model::input(int64_t length, int64_t channels, SourceLocation location) {
  if (!graph_.nodes.empty())
    throw Error(fmt::format("model '{}': input() must be called once, before any layer ({})", graph_.name,
                            locationString(location)));
  return addOp({OpKind::Input, InputAttrs{channels, length}}, {}, "input", location);
}

Tensor Model::addOp(OpSpec op, const std::vector<Tensor> &inputs, std::string name, SourceLocation location) {
  if (op.kind != OpKind::Input && graph_.nodes.empty())
    throw Error(fmt::format("model '{}': call input() before adding {} ({})", graph_.name, opKindName(op.kind),
                            locationString(location)));
  if (name.empty()) {
    int count = 0;
    for (const Node &n : graph_.nodes)
      count += n.op.kind == op.kind;
    name = fmt::format("{}_{}", opKindName(op.kind), count);
  }
  for (const Node &n : graph_.nodes)
    if (n.name == name)
      throw Error(fmt::format("model '{}': layer name '{}' is used twice ({})", graph_.name, name,
                              locationString(location)));
  std::vector<Shape> inputShapes;
  std::vector<int> inputIds;
  for (const Tensor &t : inputs) {
    if (&t.model() != this)
      throw Error(fmt::format("model '{}', layer '{}': an input belongs to another model ({})", graph_.name,
                              name, locationString(location)));
    inputShapes.push_back(t.shape());
    inputIds.push_back(t.node());
  }
  ShapeResult result = inferShape(op, inputShapes);
  if (!result.ok())
    throw Error(fmt::format("model '{}', layer '{}' ({}): {} ({})", graph_.name, name, opKindName(op.kind),
                            result.error, locationString(location)));
  Node node;
  node.id = static_cast<int>(graph_.nodes.size());
  node.parameters = parameterSpecs(op, inputShapes, weightInitializer_);
  node.op = std::move(op);
  node.name = std::move(name);
  node.inputs = std::move(inputIds);
  node.shape = std::move(result.shape);
  node.sourceLocation = locationString(location);
  graph_.nodes.push_back(std::move(node));
  return Tensor(this, graph_.nodes.back().id);
}

void Model::setOutput(Tensor output) {
  if (&output.model() != this)
    throw Error(fmt::format("model '{}': the output belongs to another model", graph_.name));
  graph_.output = output.node();
}

const Graph &Model::graph() const {
  if (graph_.output < 0)
    throw Error(fmt::format("model '{}' has no output: call setOutput()", graph_.name));
  return graph_;
}

int64_t Graph::trainableParameterCount() const {
  int64_t total = 0;
  for (const Node &node : nodes)
    for (const ParameterSpec &p : node.parameters)
      if (p.trainable) {
        int64_t n = 1;
        for (int64_t d : p.shape)
          n *= d;
        total += n;
      }
  return total;
}

namespace {
Tensor unary(Tensor x, OpSpec op, std::string name, SourceLocation loc) {
  return x.model().addOp(std::move(op), {x}, std::move(name), loc);
}
Tensor activationOf(Tensor x, ActivationKind kind, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::Activation, ActivationAttrs{kind}}, std::move(name), loc);
}
Tensor variadic(const std::vector<Tensor> &xs, OpKind kind, std::string name, SourceLocation loc) {
  if (xs.empty())
    throw Error(fmt::format("{} needs at least one input ({})", opKindName(kind), locationString(loc)));
  return xs.front().model().addOp({kind, NoAttrs{}}, xs, std::move(name), loc);
}
} // namespace

Tensor conv1d(Tensor x, Conv1dAttrs a, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::Conv1d, a}, std::move(name), loc);
}
Tensor batchNorm(Tensor x, BatchNormAttrs a, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::BatchNorm, a}, std::move(name), loc);
}
Tensor activation(Tensor x, ActivationAttrs a, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::Activation, a}, std::move(name), loc);
}
Tensor relu(Tensor x, std::string name, SourceLocation loc) {
  return activationOf(x, ActivationKind::Relu, std::move(name), loc);
}
Tensor exp(Tensor x, std::string name, SourceLocation loc) {
  return activationOf(x, ActivationKind::Exp, std::move(name), loc);
}
Tensor softplus(Tensor x, std::string name, SourceLocation loc) {
  return activationOf(x, ActivationKind::Softplus, std::move(name), loc);
}
Tensor sigmoid(Tensor x, std::string name, SourceLocation loc) {
  return activationOf(x, ActivationKind::Sigmoid, std::move(name), loc);
}
Tensor tanh(Tensor x, std::string name, SourceLocation loc) {
  return activationOf(x, ActivationKind::Tanh, std::move(name), loc);
}
Tensor elu(Tensor x, double alpha, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::Activation, ActivationAttrs{ActivationKind::Elu, 1.0, 0.0, alpha}}, std::move(name),
               loc);
}
Tensor linear(Tensor x, std::string name, SourceLocation loc) {
  return activationOf(x, ActivationKind::Linear, std::move(name), loc);
}
Tensor logRelu(Tensor x, std::string name, SourceLocation loc) {
  return activationOf(x, ActivationKind::LogRelu, std::move(name), loc);
}
Tensor maxPool1d(Tensor x, int64_t size, int64_t stride, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::MaxPool1d, PoolAttrs{size, stride}}, std::move(name), loc);
}
Tensor avgPool1d(Tensor x, int64_t size, int64_t stride, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::AvgPool1d, PoolAttrs{size, stride}}, std::move(name), loc);
}
Tensor globalMaxPool(Tensor x, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::GlobalMaxPool, NoAttrs{}}, std::move(name), loc);
}
Tensor globalAvgPool(Tensor x, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::GlobalAvgPool, NoAttrs{}}, std::move(name), loc);
}
Tensor dropout(Tensor x, double rate, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::Dropout, DropoutAttrs{rate}}, std::move(name), loc);
}
Tensor flatten(Tensor x, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::Flatten, NoAttrs{}}, std::move(name), loc);
}
Tensor dense(Tensor x, int64_t units, bool bias, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::Dense, DenseAttrs{units, bias}}, std::move(name), loc);
}
Tensor add(const std::vector<Tensor> &xs, std::string name, SourceLocation loc) {
  return variadic(xs, OpKind::Add, std::move(name), loc);
}
Tensor concat(const std::vector<Tensor> &xs, std::string name, SourceLocation loc) {
  return variadic(xs, OpKind::Concat, std::move(name), loc);
}
Tensor reverseComplement(Tensor x, std::string name, SourceLocation loc) {
  return unary(x, {OpKind::ReverseComplement, NoAttrs{}}, std::move(name), loc);
}

ActivationAttrs activationByName(const std::string &name) {
  auto kind = parseActivationKind(name);
  if (!kind)
    throw Error(fmt::format("unknown activation '{}'; expected one of {}", name, activationKindList()));
  return ActivationAttrs{*kind};
}

} // namespace seqjit
