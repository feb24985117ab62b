// The reference interpreter: one plain loop nest per seq op, matching PyTorch's semantics (the test oracle).
#include "runtime/ReferenceInterpreter.h"

#include "dsl/Error.h"
#include "dsl/ShapeFunctions.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

namespace seqjit {

namespace {

std::string arrayShapeString(const std::vector<int64_t> &shape) { return fmt::format("({})", fmt::join(shape, ", ")); }

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
  bool hasParameter(const std::string &suffix) const { return parameters.count(suffix) != 0; }

  [[noreturn]] void fail(const std::string &message) const {
    throw Error(fmt::format("reference interpreter: {}: {}", describe(graph, node), message));
  }
  void expectInputRank(size_t i, int64_t rank) const {
    if (input(i).rank() != rank)
      fail(fmt::format("expected an input of rank {} (batch included), got shape {}", rank,
                       arrayShapeString(input(i).shape)));
  }
};

// ---- conv1d -----------------------------------------------------------------------------------------------

/// y[n, f, o] = bias[f] + sum_c sum_k w[f, c, k] * x[n, c, o * stride + k * dilation - padLeft], zero outside.
template <typename T> HostArray<T> conv1d(const OpContext<T> &context) {
  const auto &attrs = std::get<Conv1dAttrs>(context.node.op.attributes);
  context.expectInputRank(0, 3);
  const HostArray<T> &x = context.input();
  const HostArray<T> &weight = context.parameter("weight");
  const int64_t batch = x.shape[0], channels = x.shape[1], length = x.shape[2];
  const int64_t filters = weight.shape[0], width = weight.shape[2];
  const int64_t stride = attrs.stride, dilation = attrs.dilation;
  if (weight.shape[1] != channels)
    context.fail(fmt::format("weight has {} input channels, the input {}", weight.shape[1], channels));

  int64_t padLeft = 0;
  int64_t outLength = 0;
  if (attrs.padding == Padding::Same) {
    padLeft = samePaddingLeft(length, width, stride, dilation);
    int64_t padTotal = samePaddingTotal(length, width, stride, dilation);
    outLength = (length + padTotal - dilation * (width - 1) - 1) / stride + 1;
  } else {
    outLength = (length - dilation * (width - 1) - 1) / stride + 1;
  }
  if (outLength <= 0)
    context.fail(
        fmt::format("input length {} is shorter than the receptive field {}", length, dilation * (width - 1) + 1));

  HostArray<T> y({batch, filters, outLength});
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t f = 0; f < filters; ++f)
      for (int64_t o = 0; o < outLength; ++o) {
        T sum = T(0);
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t k = 0; k < width; ++k) {
            int64_t position = o * stride + k * dilation - padLeft;
            if (position < 0 || position >= length)
              continue; // zero padding
            sum += weight.data[(f * channels + c) * width + k] * x.data[(n * channels + c) * length + position];
          }
        if (attrs.bias)
          sum += context.parameter("bias").data[f];
        y.data[(n * filters + f) * outLength + o] = sum;
      }
  return y;
}

// ---- batch_norm -------------------------------------------------------------------------------------------

/// (N, C, L) or (N, F): per channel, y = (x - mean) / sqrt(var + eps) * gamma + beta.
/// Inference uses the running statistics; training the batch mean and biased batch variance over N (and L),
/// as PyTorch normalises. Running statistics are not updated here (see the header).
template <typename T> HostArray<T> batchNorm(const OpContext<T> &context) {
  const auto &attrs = std::get<BatchNormAttrs>(context.node.op.attributes);
  const HostArray<T> &x = context.input();
  if (x.rank() != 2 && x.rank() != 3)
    context.fail(fmt::format("expected an (N, C, L) or (N, F) input, got shape {}", arrayShapeString(x.shape)));
  const int64_t batch = x.shape[0], channels = x.shape[1], length = x.rank() == 3 ? x.shape[2] : 1;
  if (context.parameter("weight").size() != channels)
    context.fail(
        fmt::format("parameters hold {} channels, the input {}", context.parameter("weight").size(), channels));
  const HostArray<T> &gamma = context.parameter("weight");
  const HostArray<T> &beta = context.parameter("bias");
  const T eps = static_cast<T>(attrs.eps);

  HostArray<T> y(x.shape);
  for (int64_t c = 0; c < channels; ++c) {
    T mean = T(0), variance = T(0);
    if (attrs.training) {
      const T count = static_cast<T>(batch * length);
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t l = 0; l < length; ++l)
          mean += x.data[(n * channels + c) * length + l];
      mean /= count;
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t l = 0; l < length; ++l) {
          T deviation = x.data[(n * channels + c) * length + l] - mean;
          variance += deviation * deviation;
        }
      variance /= count; // biased: PyTorch normalises with the biased variance
    } else {
      mean = context.parameter("running_mean").data[c];
      variance = context.parameter("running_var").data[c];
    }
    const T inverseDeviation = T(1) / std::sqrt(variance + eps);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t l = 0; l < length; ++l) {
        int64_t i = (n * channels + c) * length + l;
        y.data[i] = (x.data[i] - mean) * inverseDeviation * gamma.data[c] + beta.data[c];
      }
  }
  return y;
}

// ---- activations ------------------------------------------------------------------------------------------

/// f(z) for one activation kind; callers pass z = scale * x + shift.
template <typename T> T activate(ActivationKind kind, T z, T alpha) {
  switch (kind) {
  case ActivationKind::Relu:
    return z > T(0) ? z : T(0);
  case ActivationKind::Exp:
    return std::exp(z);
  case ActivationKind::Softplus:
    // log(1 + e^z) without overflow for large z or loss of precision for very negative z.
    return std::max(z, T(0)) + std::log1p(std::exp(-std::abs(z)));
  case ActivationKind::Sigmoid:
    // exp of a non-positive number only, so it never overflows.
    if (z >= T(0))
      return T(1) / (T(1) + std::exp(-z));
    else {
      T e = std::exp(z);
      return e / (T(1) + e);
    }
  case ActivationKind::Tanh:
    return std::tanh(z);
  case ActivationKind::Elu:
    // alpha * (exp(z) - 1), written with expm1 so small negative z keeps its float32 precision.
    return z > T(0) ? z : alpha * std::expm1(z);
  case ActivationKind::Linear:
    return z;
  case ActivationKind::LogRelu:
    return std::log1p(z > T(0) ? z : T(0));
  }
  return z;
}

template <typename T> HostArray<T> activation(const OpContext<T> &context) {
  const auto &attrs = std::get<ActivationAttrs>(context.node.op.attributes);
  const HostArray<T> &x = context.input();
  const T scale = static_cast<T>(attrs.scale), shift = static_cast<T>(attrs.shift);
  const T alpha = static_cast<T>(attrs.alpha);
  HostArray<T> y(x.shape);
  for (int64_t i = 0; i < x.size(); ++i)
    y.data[i] = activate<T>(attrs.kind, scale * x.data[i] + shift, alpha);
  return y;
}

// ---- pooling ----------------------------------------------------------------------------------------------

/// Windows of `size` starting every `stride` (0: size), no padding, as many as fit (floor).
template <typename T> HostArray<T> pool1d(const OpContext<T> &context, bool isMax) {
  const auto &attrs = std::get<PoolAttrs>(context.node.op.attributes);
  context.expectInputRank(0, 3);
  const HostArray<T> &x = context.input();
  const int64_t batch = x.shape[0], channels = x.shape[1], length = x.shape[2];
  const int64_t size = attrs.size, stride = attrs.stride == 0 ? attrs.size : attrs.stride;
  if (size <= 0 || size > length)
    context.fail(fmt::format("pool size {} does not fit in length {}", size, length));
  const int64_t outLength = (length - size) / stride + 1;
  HostArray<T> y({batch, channels, outLength});
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c) {
      const T *row = &x.data[(n * channels + c) * length];
      for (int64_t o = 0; o < outLength; ++o) {
        T result = isMax ? row[o * stride] : T(0);
        for (int64_t k = 0; k < size; ++k) {
          T value = row[o * stride + k];
          if (isMax)
            result = std::max(result, value);
          else
            result += value;
        }
        y.data[(n * channels + c) * outLength + o] = isMax ? result : result / static_cast<T>(size);
      }
    }
  return y;
}

/// Max or mean over the whole length: (N, C, L) -> (N, C).
template <typename T> HostArray<T> globalPool(const OpContext<T> &context, bool isMax) {
  context.expectInputRank(0, 3);
  const HostArray<T> &x = context.input();
  const int64_t batch = x.shape[0], channels = x.shape[1], length = x.shape[2];
  HostArray<T> y({batch, channels});
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c) {
      const T *row = &x.data[(n * channels + c) * length];
      T result = isMax ? row[0] : T(0);
      for (int64_t l = 0; l < length; ++l)
        result = isMax ? std::max(result, row[l]) : result + row[l];
      y.data[n * channels + c] = isMax ? result : result / static_cast<T>(length);
    }
  return y;
}

// ---- shape ops --------------------------------------------------------------------------------------------

/// Channel-major: (N, C, L) -> (N, C * L) is a reshape of row-major data, exactly as torch.flatten(x, 1).
template <typename T> HostArray<T> flatten(const OpContext<T> &context) {
  const HostArray<T> &x = context.input();
  if (x.rank() < 2)
    context.fail(fmt::format("expected a batched input, got shape {}", arrayShapeString(x.shape)));
  int64_t features = 1;
  for (int64_t i = 1; i < x.rank(); ++i)
    features *= x.shape[i];
  return HostArray<T>({x.shape[0], features}, x.data);
}

/// y = x W^T + b with W of shape [units, features].
template <typename T> HostArray<T> dense(const OpContext<T> &context) {
  const auto &attrs = std::get<DenseAttrs>(context.node.op.attributes);
  context.expectInputRank(0, 2);
  const HostArray<T> &x = context.input();
  const HostArray<T> &weight = context.parameter("weight");
  const int64_t batch = x.shape[0], features = x.shape[1], units = weight.shape[0];
  if (weight.shape[1] != features)
    context.fail(fmt::format("weight takes {} features, the input has {}", weight.shape[1], features));
  HostArray<T> y({batch, units});
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t u = 0; u < units; ++u) {
      T sum = T(0);
      for (int64_t f = 0; f < features; ++f)
        sum += x.data[n * features + f] * weight.data[u * features + f];
      if (attrs.bias)
        sum += context.parameter("bias").data[u];
      y.data[n * units + u] = sum;
    }
  return y;
}

/// Elementwise sum of every input (all of one shape).
template <typename T> HostArray<T> add(const OpContext<T> &context) {
  HostArray<T> y(context.input(0).shape);
  for (size_t i = 0; i < context.inputs.size(); ++i) {
    const HostArray<T> &x = context.input(i);
    if (x.shape != y.shape)
      context.fail(
          fmt::format("input {} has shape {}, expected {}", i, arrayShapeString(x.shape), arrayShapeString(y.shape)));
    for (int64_t j = 0; j < y.size(); ++j)
      y.data[j] += x.data[j];
  }
  return y;
}

/// Concatenation along axis 1 (channels or features): inputs agree on every other axis.
template <typename T> HostArray<T> concat(const OpContext<T> &context) {
  const HostArray<T> &first = context.input(0);
  if (first.rank() < 2)
    context.fail(fmt::format("expected batched inputs, got shape {}", arrayShapeString(first.shape)));
  const int64_t batch = first.shape[0];
  int64_t inner = 1; // elements per channel of one example
  for (int64_t i = 2; i < first.rank(); ++i)
    inner *= first.shape[i];
  std::vector<int64_t> shape = first.shape;
  shape[1] = 0;
  for (size_t i = 0; i < context.inputs.size(); ++i) {
    const HostArray<T> &x = context.input(i);
    if (x.rank() != first.rank() || x.shape[0] != batch ||
        !std::equal(x.shape.begin() + 2, x.shape.end(), first.shape.begin() + 2))
      context.fail(fmt::format("input {} has shape {}, which does not concatenate with {}", i,
                               arrayShapeString(x.shape), arrayShapeString(first.shape)));
    shape[1] += x.shape[1];
  }
  HostArray<T> y(shape);
  const int64_t outChannels = shape[1];
  int64_t channelOffset = 0;
  for (size_t i = 0; i < context.inputs.size(); ++i) {
    const HostArray<T> &x = context.input(i);
    const int64_t channels = x.shape[1];
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t j = 0; j < inner; ++j)
          y.data[(n * outChannels + channelOffset + c) * inner + j] = x.data[(n * channels + c) * inner + j];
    channelOffset += channels;
  }
  return y;
}

/// y[n, c, l] = x[n, C - 1 - c, L - 1 - l]: with rows A C G T this is the reverse complement.
template <typename T> HostArray<T> reverseComplement(const OpContext<T> &context) {
  context.expectInputRank(0, 3);
  const HostArray<T> &x = context.input();
  const int64_t batch = x.shape[0], channels = x.shape[1], length = x.shape[2];
  HostArray<T> y(x.shape);
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t l = 0; l < length; ++l)
        y.data[(n * channels + c) * length + l] =
            x.data[(n * channels + (channels - 1 - c)) * length + (length - 1 - l)];
  return y;
}

// ---- driver -----------------------------------------------------------------------------------------------

template <typename T> HostArray<T> evaluate(const OpContext<T> &context) {
  switch (context.node.op.kind) {
  case OpKind::Input:
    break; // handled by the caller
  case OpKind::Conv1d:
    return conv1d(context);
  case OpKind::BatchNorm:
    return batchNorm(context);
  case OpKind::Activation:
    return activation(context);
  case OpKind::MaxPool1d:
    return pool1d(context, true);
  case OpKind::AvgPool1d:
    return pool1d(context, false);
  case OpKind::GlobalMaxPool:
    return globalPool(context, true);
  case OpKind::GlobalAvgPool:
    return globalPool(context, false);
  case OpKind::Dropout:
    return context.input(); // inference: the identity
  case OpKind::Flatten:
    return flatten(context);
  case OpKind::Dense:
    return dense(context);
  case OpKind::Add:
    return add(context);
  case OpKind::Concat:
    return concat(context);
  case OpKind::ReverseComplement:
    return reverseComplement(context);
  }
  context.fail("the reference interpreter has no implementation of this op");
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
                              describe(graph, node), key, arrayShapeString(found->second.shape),
                              arrayShapeString(spec.shape)));
    if (found->second.size() != HostArray<float>::elementCount(spec.shape))
      throw Error(fmt::format("reference interpreter: {}: parameter '{}' holds {} values, its shape {} needs {}",
                              describe(graph, node), key, found->second.size(), arrayShapeString(spec.shape),
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
                            graph.name, fmt::join(inputShape, ", "), arrayShapeString(input.shape)));
  if (input.size() != HostArray<T>::elementCount(input.shape))
    throw Error(fmt::format("reference interpreter: model '{}': the input of shape {} holds {} values", graph.name,
                            arrayShapeString(input.shape), input.size()));
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
    values[id] = evaluate(context);

    // The loops above derive every shape on their own; agreeing with the shape function cross-checks both.
    std::vector<int64_t> declared{batch};
    declared.insert(declared.end(), node.shape.begin(), node.shape.end());
    if (values[id].shape != declared)
      context.fail(fmt::format("computed shape {} differs from the graph's shape {}",
                               arrayShapeString(values[id].shape), arrayShapeString(declared)));
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
