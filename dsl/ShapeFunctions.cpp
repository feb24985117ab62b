// Shape inference and parameter lists for every op, written once (decision 1 of DESIGN.md).
#include "dsl/ShapeFunctions.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

namespace seqjit {

std::string shapeToString(const Shape &shape) { return fmt::format("({})", fmt::join(shape, ", ")); }

int64_t samePaddingTotal(int64_t length, int64_t width, int64_t stride, int64_t dilation) {
  int64_t outLength = (length + stride - 1) / stride;
  int64_t needed = (outLength - 1) * stride + (width - 1) * dilation + 1 - length;
  return needed > 0 ? needed : 0;
}

int64_t samePaddingLeft(int64_t length, int64_t width, int64_t stride, int64_t dilation) {
  return samePaddingTotal(length, width, stride, dilation) / 2;
}

int64_t windowOutputLength(int64_t length, int64_t window, int64_t stride, int64_t dilation, Padding padding) {
  if (padding == Padding::Same)
    return (length + stride - 1) / stride;
  int64_t span = dilation * (window - 1) + 1;
  if (length < span)
    return 0;
  return (length - span) / stride + 1;
}

namespace {

ShapeResult fail(std::string message) { return {{}, std::move(message)}; }

ShapeResult expectRank(const Shape &shape, size_t rank, std::string_view what) {
  if (shape.size() != rank)
    return fail(fmt::format("expected {} input of rank {} per example, got shape {}", what, rank,
                            shapeToString(shape)));
  return {shape, ""};
}

ShapeResult inferConv1d(const Conv1dAttrs &a, const Shape &in) {
  if (a.filters <= 0)
    return fail(fmt::format("filters must be positive, got {}", a.filters));
  if (a.width <= 0)
    return fail(fmt::format("width must be positive, got {}", a.width));
  if (a.stride <= 0 || a.dilation <= 0)
    return fail(fmt::format("stride and dilation must be positive, got stride {} dilation {}", a.stride,
                            a.dilation));
  if (auto r = expectRank(in, 2, "a (channels, length)"); !r.ok())
    return r;
  int64_t out = windowOutputLength(in[1], a.width, a.stride, a.dilation, a.padding);
  if (out <= 0)
    return fail(fmt::format("input length {} is shorter than the receptive field {} of a valid convolution",
                            in[1], a.dilation * (a.width - 1) + 1));
  return {{a.filters, out}, ""};
}

ShapeResult inferPool(const PoolAttrs &a, const Shape &in) {
  if (a.size <= 0 || a.stride < 0)
    return fail(fmt::format("pool size must be positive and stride non-negative, got size {} stride {}", a.size,
                            a.stride));
  if (auto r = expectRank(in, 2, "a (channels, length)"); !r.ok())
    return r;
  int64_t stride = a.stride == 0 ? a.size : a.stride;
  int64_t out = windowOutputLength(in[1], a.size, stride, 1, Padding::Valid);
  if (out <= 0)
    return fail(fmt::format("input length {} is shorter than the pool size {}", in[1], a.size));
  return {{in[0], out}, ""};
}

ShapeResult inferSameShape(const std::vector<Shape> &inputs, std::string_view op) {
  if (inputs.size() < 2)
    return fail(fmt::format("{} needs at least two inputs, got {}", op, inputs.size()));
  for (size_t i = 1; i < inputs.size(); ++i)
    if (inputs[i] != inputs[0])
      return fail(fmt::format("{} inputs must have equal shapes, got {} and {}", op, shapeToString(inputs[0]),
                              shapeToString(inputs[i])));
  return {inputs[0], ""};
}

ShapeResult inferConcat(const std::vector<Shape> &inputs) {
  if (inputs.size() < 2)
    return fail(fmt::format("concat needs at least two inputs, got {}", inputs.size()));
  Shape out = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) {
    const Shape &s = inputs[i];
    if (s.size() != out.size() || !std::equal(s.begin() + 1, s.end(), out.begin() + 1))
      return fail(fmt::format("concat inputs must agree in every dimension but channels, got {} and {}",
                              shapeToString(inputs[0]), shapeToString(s)));
    out[0] += s[0];
  }
  return {out, ""};
}

} // namespace

ShapeResult inferShape(const OpSpec &op, const std::vector<Shape> &inputs) {
  size_t expectedInputs = 1;
  if (op.kind == OpKind::Input)
    expectedInputs = 0;
  if (op.kind != OpKind::Add && op.kind != OpKind::Concat && inputs.size() != expectedInputs)
    return fail(fmt::format("{} takes {} input(s), got {}", opKindName(op.kind), expectedInputs, inputs.size()));
  for (const Shape &s : inputs)
    for (int64_t d : s)
      if (d <= 0)
        return fail(fmt::format("input shape {} has a non-positive dimension", shapeToString(s)));

  switch (op.kind) {
  case OpKind::Input: {
    const auto &a = std::get<InputAttrs>(op.attributes);
    if (a.channels <= 0 || a.length <= 0)
      return fail(fmt::format("input needs positive channels and length, got ({}, {})", a.channels, a.length));
    return {{a.channels, a.length}, ""};
  }
  case OpKind::Conv1d:
    return inferConv1d(std::get<Conv1dAttrs>(op.attributes), inputs[0]);
  case OpKind::BatchNorm: {
    const auto &a = std::get<BatchNormAttrs>(op.attributes);
    if (!(a.eps > 0))
      return fail(fmt::format("eps must be positive, got {}", a.eps));
    if (!(a.momentum >= 0 && a.momentum <= 1))
      return fail(fmt::format("momentum must lie in [0, 1], got {}", a.momentum));
    if (inputs[0].empty() || inputs[0].size() > 2)
      return fail(fmt::format("expected a (channels, length) or (features) input, got shape {}",
                              shapeToString(inputs[0])));
    return {inputs[0], ""};
  }
  case OpKind::Activation: {
    const auto &a = std::get<ActivationAttrs>(op.attributes);
    if (a.kind == ActivationKind::Elu && !(a.alpha > 0))
      return fail(fmt::format("elu alpha must be positive, got {}", a.alpha));
    if (!std::isfinite(a.scale) || !std::isfinite(a.shift))
      return fail("activation scale and shift must be finite");
    return {inputs[0], ""};
  }
  case OpKind::Dropout: {
    const auto &a = std::get<DropoutAttrs>(op.attributes);
    if (!(a.rate >= 0 && a.rate < 1))
      return fail(fmt::format("dropout rate must lie in [0, 1), got {}", a.rate));
    return {inputs[0], ""};
  }
  case OpKind::MaxPool1d:
  case OpKind::AvgPool1d:
    return inferPool(std::get<PoolAttrs>(op.attributes), inputs[0]);
  case OpKind::GlobalMaxPool:
  case OpKind::GlobalAvgPool:
    if (auto r = expectRank(inputs[0], 2, "a (channels, length)"); !r.ok())
      return r;
    return {{inputs[0][0]}, ""};
  case OpKind::Flatten: {
    int64_t n = 1;
    for (int64_t d : inputs[0])
      n *= d;
    return {{n}, ""};
  }
  case OpKind::Dense: {
    const auto &a = std::get<DenseAttrs>(op.attributes);
    if (a.units <= 0)
      return fail(fmt::format("units must be positive, got {}", a.units));
    if (inputs[0].size() != 1)
      return fail(fmt::format("expected a (features) input, got shape {}: flatten or pool globally first",
                              shapeToString(inputs[0])));
    return {{a.units}, ""};
  }
  case OpKind::Add:
    return inferSameShape(inputs, "add");
  case OpKind::Concat:
    return inferConcat(inputs);
  case OpKind::ReverseComplement:
    if (auto r = expectRank(inputs[0], 2, "a (channels, length)"); !r.ok())
      return r;
    return {inputs[0], ""};
  }
  return fail("unknown op");
}

std::vector<ParameterSpec> parameterSpecs(const OpSpec &op, const std::vector<Shape> &inputs,
                                          Initializer weightInitializer) {
  std::vector<ParameterSpec> specs;
  switch (op.kind) {
  case OpKind::Conv1d: {
    const auto &a = std::get<Conv1dAttrs>(op.attributes);
    int64_t channels = inputs.at(0).at(0);
    specs.push_back({"weight", {a.filters, channels, a.width}, weightInitializer, channels * a.width,
                     a.filters * a.width, true});
    if (a.bias)
      specs.push_back({"bias", {a.filters}, Initializer::Zeros, 0, 0, true});
    break;
  }
  case OpKind::Dense: {
    const auto &a = std::get<DenseAttrs>(op.attributes);
    int64_t features = inputs.at(0).at(0);
    specs.push_back({"weight", {a.units, features}, weightInitializer, features, a.units, true});
    if (a.bias)
      specs.push_back({"bias", {a.units}, Initializer::Zeros, 0, 0, true});
    break;
  }
  case OpKind::BatchNorm: {
    int64_t channels = inputs.at(0).at(0);
    specs.push_back({"weight", {channels}, Initializer::Ones, 0, 0, true});
    specs.push_back({"bias", {channels}, Initializer::Zeros, 0, 0, true});
    specs.push_back({"running_mean", {channels}, Initializer::Zeros, 0, 0, false});
    specs.push_back({"running_var", {channels}, Initializer::Ones, 0, 0, false});
    break;
  }
  default:
    break;
  }
  return specs;
}

} // namespace seqjit
