// The reference kernels: one plain loop nest per seq op, the definition every compiled program is checked against.
#include "runtime/ReferenceKernels.h"

#include "dsl/Error.h"
#include "dsl/FourierPriorTerms.h"
#include "dsl/ShapeFunctions.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace seqjit::kernels {

std::string shapeString(const std::vector<int64_t> &shape) { return fmt::format("({})", fmt::join(shape, ", ")); }

std::vector<int64_t> unravelIndex(int64_t index, const std::vector<int64_t> &shape) {
  std::vector<int64_t> coordinates(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    coordinates[d] = index % shape[d];
    index /= shape[d];
  }
  return coordinates;
}

namespace {

[[noreturn]] void fail(const std::string &message) { throw Error(message); }

/// `what` of rank `rank`, laid out as `layout` ("(N, C, L)"), or an Error saying what it is instead.
template <typename T> void expectRank(const HostArray<T> &x, int64_t rank, const char *what, const char *layout) {
  if (x.rank() != rank)
    fail(fmt::format("expected {} of rank {} {}, got shape {}", what, rank, layout, shapeString(x.shape)));
}

template <typename T> void expectSameShape(const HostArray<T> &lhs, const HostArray<T> &rhs) {
  if (lhs.shape != rhs.shape)
    fail(fmt::format("operands of shapes {} and {} differ", shapeString(lhs.shape), shapeString(rhs.shape)));
}

void expectAxis(int64_t rank, int64_t axis) {
  if (axis < 0 || axis >= rank)
    fail(fmt::format("axis {} is not an axis of a rank-{} array", axis, rank));
}

/// Reductions and broadcasts take sorted, unique axes, so "the result drops those axes" has one meaning.
void expectAxes(int64_t rank, const std::vector<int64_t> &axes) {
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] < 0 || axes[i] >= rank || (i > 0 && axes[i] <= axes[i - 1]))
      fail(fmt::format("axes {} are not sorted, unique axes of a rank-{} array", shapeString(axes), rank));
}

std::vector<int64_t> shapeWithoutAxes(const std::vector<int64_t> &shape, const std::vector<int64_t> &axes) {
  std::vector<int64_t> kept;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d))
      kept.push_back(shape[d]);
  return kept;
}

/// For each flat index of `shape`, the flat index of the same element in shapeWithoutAxes(shape, axes): the one
/// index map that reduceSum sums along and broadcast copies along.
std::vector<int64_t> indexWithoutAxes(const std::vector<int64_t> &shape, const std::vector<int64_t> &axes) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> result(HostArray<double>::elementCount(shape));
  for (int64_t i = 0; i < static_cast<int64_t>(result.size()); ++i) {
    const std::vector<int64_t> coordinates = unravelIndex(i, shape);
    int64_t reduced = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (!std::binary_search(axes.begin(), axes.end(), d))
        reduced = reduced * shape[d] + coordinates[d];
    result[i] = reduced;
  }
  return result;
}

/// A row-major shape seen as (outer, shape[axis], inner).
struct AxisView {
  int64_t outer = 1;
  int64_t extent = 0;
  int64_t inner = 1;
};

AxisView viewAround(const std::vector<int64_t> &shape, int64_t axis) {
  expectAxis(static_cast<int64_t>(shape.size()), axis);
  AxisView view;
  view.extent = shape[axis];
  for (int64_t d = 0; d < axis; ++d)
    view.outer *= shape[d];
  for (int64_t d = axis + 1; d < static_cast<int64_t>(shape.size()); ++d)
    view.inner *= shape[d];
  return view;
}

/// to[o, toOffset + a, i] = from[o, fromOffset + a, i] for a < count along `axis`: slice and pad, one each way.
template <typename T>
void copyWindow(const HostArray<T> &from, HostArray<T> &to, int64_t axis, int64_t fromOffset, int64_t toOffset,
                int64_t count) {
  const AxisView source = viewAround(from.shape, axis), target = viewAround(to.shape, axis);
  for (int64_t o = 0; o < source.outer; ++o)
    for (int64_t a = 0; a < count; ++a)
      for (int64_t i = 0; i < source.inner; ++i)
        to.data[(o * target.extent + toOffset + a) * target.inner + i] =
            from.data[(o * source.extent + fromOffset + a) * source.inner + i];
}

// ---- conv1d and its transposes ------------------------------------------------------------------------------

/// The index map conv1d and its two transposes share: output o of filter f reads input position
/// o * stride + k * dilation - padLeft of channel c through tap k.
struct ConvGeometry {
  int64_t batch, channels, length, filters, width, stride, dilation, padLeft, outLength;

  /// Calls tap(n, f, c, k, o, position) for every tap that reads the input (zero padding reads nothing), in the
  /// order conv1d sums: output by output, channels then taps.
  template <typename Tap> void forEachTap(Tap tap) const {
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t f = 0; f < filters; ++f)
        for (int64_t o = 0; o < outLength; ++o)
          for (int64_t c = 0; c < channels; ++c)
            for (int64_t k = 0; k < width; ++k) {
              int64_t position = o * stride + k * dilation - padLeft;
              if (position >= 0 && position < length)
                tap(n, f, c, k, o, position);
            }
  }
};

ConvGeometry convGeometry(int64_t batch, int64_t channels, int64_t length, int64_t filters, int64_t width,
                          int64_t stride, int64_t dilation, Padding padding) {
  if (width < 1 || stride < 1 || dilation < 1)
    fail(fmt::format("width {}, stride {} and dilation {} must be positive", width, stride, dilation));
  const int64_t padTotal = padding == Padding::Same ? samePaddingTotal(length, width, stride, dilation) : 0;
  const int64_t receptiveField = dilation * (width - 1) + 1;
  if (length + padTotal < receptiveField)
    fail(fmt::format("input length {} is shorter than the receptive field {}", length, receptiveField));
  const int64_t padLeft = padding == Padding::Same ? samePaddingLeft(length, width, stride, dilation) : 0;
  const int64_t outLength = (length + padTotal - receptiveField) / stride + 1;
  return {batch, channels, length, filters, width, stride, dilation, padLeft, outLength};
}

/// A cotangent dy of shape (N, F, O) must be one of the conv1d that `geometry` describes.
template <typename T> void expectConvOutput(const HostArray<T> &outputGrad, const ConvGeometry &geometry) {
  std::vector<int64_t> expected{geometry.batch, geometry.filters, geometry.outLength};
  if (outputGrad.shape != expected)
    fail(fmt::format("the output cotangent has shape {}; a conv1d of an input of length {} gives {}",
                     shapeString(outputGrad.shape), geometry.length, shapeString(expected)));
}

// ---- pooling ------------------------------------------------------------------------------------------------

/// Windows of `size` every `stride` over `rows` contiguous rows of `length` (the (N, C) pairs of an (N, C, L) array).
struct PoolGeometry {
  int64_t rows, length, size, stride, outLength;
};

PoolGeometry poolGeometry(int64_t batch, int64_t channels, int64_t length, int64_t size, int64_t stride) {
  if (size < 1 || size > length)
    fail(fmt::format("pool size {} does not fit in length {}", size, length));
  if (stride < 1)
    fail(fmt::format("pool stride {} must be positive", stride));
  return {batch * channels, length, size, stride, (length - size) / stride + 1};
}

/// The index of the first maximum of row[start, start + size): ties go to the earliest element, as in PyTorch.
template <typename T> int64_t firstMaximum(const T *row, int64_t start, int64_t size) {
  int64_t best = start;
  for (int64_t i = start + 1; i < start + size; ++i)
    if (row[i] > row[best])
      best = i;
  return best;
}

template <typename T> void expectPoolOutput(const HostArray<T> &outputGrad, const HostArray<T> &x, int64_t outLength) {
  std::vector<int64_t> expected{x.shape[0], x.shape[1], outLength};
  if (outputGrad.shape != expected)
    fail(fmt::format("the output cotangent has shape {}; pooling an input of shape {} gives {}",
                     shapeString(outputGrad.shape), shapeString(x.shape), shapeString(expected)));
}

// ---- activations --------------------------------------------------------------------------------------------

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
  case ActivationKind::Step:
    return z > T(0) ? T(1) : T(0);
  case ActivationKind::Sign:
    if (z > T(0))
      return T(1);
    if (z < T(0))
      return T(-1);
    return z; // 0 stays 0, and NaN stays NaN rather than passing for a sign
  case ActivationKind::Abs:
    return std::abs(z);
  case ActivationKind::Square:
    return z * z;
  case ActivationKind::Sqrt:
    return std::sqrt(z);
  case ActivationKind::Rsqrt:
    return T(1) / std::sqrt(z);
  case ActivationKind::Reciprocal:
    // Defined as 0 at 0: gradients divide by values that are exactly 0 where their numerator is too.
    return z == T(0) ? T(0) : T(1) / z;
  case ActivationKind::Log:
    return std::log(z);
  }
  return z;
}

} // namespace

// ---- the DSL's layers ---------------------------------------------------------------------------------------

template <typename T>
HostArray<T> conv1d(const HostArray<T> &x, const HostArray<T> &weight, const HostArray<T> *bias, int64_t stride,
                    int64_t dilation, Padding padding) {
  expectRank(x, 3, "an input", "(N, C, L)");
  expectRank(weight, 3, "a weight", "[F, C, K]");
  if (weight.shape[1] != x.shape[1])
    fail(fmt::format("weight has {} input channels, the input {}", weight.shape[1], x.shape[1]));
  const ConvGeometry g =
      convGeometry(x.shape[0], x.shape[1], x.shape[2], weight.shape[0], weight.shape[2], stride, dilation, padding);
  if (bias && bias->shape != std::vector<int64_t>{g.filters})
    fail(fmt::format("bias has shape {}, expected ({})", shapeString(bias->shape), g.filters));

  HostArray<T> y({g.batch, g.filters, g.outLength});
  g.forEachTap([&](int64_t n, int64_t f, int64_t c, int64_t k, int64_t o, int64_t position) {
    y.data[(n * g.filters + f) * g.outLength + o] +=
        weight.data[(f * g.channels + c) * g.width + k] * x.data[(n * g.channels + c) * g.length + position];
  });
  if (bias)
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t f = 0; f < g.filters; ++f)
        for (int64_t o = 0; o < g.outLength; ++o)
          y.data[(n * g.filters + f) * g.outLength + o] += bias->data[f];
  return y;
}

template <typename T>
HostArray<T> batchNorm(const HostArray<T> &x, const HostArray<T> &gamma, const HostArray<T> &beta,
                       const HostArray<T> &runningMean, const HostArray<T> &runningVar, double eps, bool training) {
  if (x.rank() != 2 && x.rank() != 3)
    fail(fmt::format("expected an (N, C, L) or (N, F) input, got shape {}", shapeString(x.shape)));
  const int64_t batch = x.shape[0], channels = x.shape[1], length = x.rank() == 3 ? x.shape[2] : 1;
  for (const HostArray<T> *parameter : {&gamma, &beta, &runningMean, &runningVar})
    if (parameter->size() != channels)
      fail(fmt::format("parameters hold {} channels, the input {}", parameter->size(), channels));

  HostArray<T> y(x.shape);
  for (int64_t c = 0; c < channels; ++c) {
    T mean = T(0), variance = T(0);
    if (training) {
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
      mean = runningMean.data[c];
      variance = runningVar.data[c];
    }
    const T inverseDeviation = T(1) / std::sqrt(variance + static_cast<T>(eps));
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t l = 0; l < length; ++l) {
        int64_t i = (n * channels + c) * length + l;
        y.data[i] = (x.data[i] - mean) * inverseDeviation * gamma.data[c] + beta.data[c];
      }
  }
  return y;
}

template <typename T>
HostArray<T> activation(const HostArray<T> &x, ActivationKind kind, double scale, double shift, double alpha) {
  const T scaleT = static_cast<T>(scale), shiftT = static_cast<T>(shift), alphaT = static_cast<T>(alpha);
  HostArray<T> y(x.shape);
  for (int64_t i = 0; i < x.size(); ++i)
    y.data[i] = activate<T>(kind, scaleT * x.data[i] + shiftT, alphaT);
  return y;
}

template <typename T> HostArray<T> maxPool1d(const HostArray<T> &x, int64_t size, int64_t stride) {
  return maxPool1dSelect(x, x, size, stride);
}

template <typename T> HostArray<T> avgPool1d(const HostArray<T> &x, int64_t size, int64_t stride) {
  expectRank(x, 3, "an input", "(N, C, L)");
  const PoolGeometry g = poolGeometry(x.shape[0], x.shape[1], x.shape[2], size, stride);
  HostArray<T> y({x.shape[0], x.shape[1], g.outLength});
  for (int64_t r = 0; r < g.rows; ++r)
    for (int64_t o = 0; o < g.outLength; ++o) {
      T sum = T(0);
      for (int64_t k = 0; k < g.size; ++k)
        sum += x.data[r * g.length + o * g.stride + k];
      y.data[r * g.outLength + o] = sum / static_cast<T>(g.size);
    }
  return y;
}

// A global pool is the one window that covers the whole length.
template <typename T> HostArray<T> globalMaxPool(const HostArray<T> &x) {
  expectRank(x, 3, "an input", "(N, C, L)");
  return reshape(maxPool1d(x, x.shape[2], x.shape[2]), {x.shape[0], x.shape[1]});
}

template <typename T> HostArray<T> globalAvgPool(const HostArray<T> &x) {
  expectRank(x, 3, "an input", "(N, C, L)");
  return reshape(avgPool1d(x, x.shape[2], x.shape[2]), {x.shape[0], x.shape[1]});
}

template <typename T> HostArray<T> flatten(const HostArray<T> &x) {
  if (x.rank() < 2)
    fail(fmt::format("expected a batched input, got shape {}", shapeString(x.shape)));
  int64_t features = 1;
  for (int64_t d = 1; d < x.rank(); ++d)
    features *= x.shape[d];
  return reshape(x, {x.shape[0], features});
}

template <typename T> HostArray<T> dense(const HostArray<T> &x, const HostArray<T> &weight, const HostArray<T> *bias) {
  expectRank(x, 2, "an input", "(N, F)");
  expectRank(weight, 2, "a weight", "[U, F]");
  const int64_t batch = x.shape[0], features = x.shape[1], units = weight.shape[0];
  if (weight.shape[1] != features)
    fail(fmt::format("weight takes {} features, the input has {}", weight.shape[1], features));
  if (bias && bias->shape != std::vector<int64_t>{units})
    fail(fmt::format("bias has shape {}, expected ({})", shapeString(bias->shape), units));
  HostArray<T> y({batch, units});
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t u = 0; u < units; ++u) {
      T sum = T(0);
      for (int64_t f = 0; f < features; ++f)
        sum += x.data[n * features + f] * weight.data[u * features + f];
      y.data[n * units + u] = bias ? sum + bias->data[u] : sum;
    }
  return y;
}

template <typename T> HostArray<T> add(const std::vector<const HostArray<T> *> &inputs) {
  if (inputs.empty())
    fail("add needs at least one input");
  HostArray<T> y(inputs[0]->shape);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const HostArray<T> &x = *inputs[i];
    if (x.shape != y.shape)
      fail(fmt::format("input {} has shape {}, expected {}", i, shapeString(x.shape), shapeString(y.shape)));
    for (int64_t j = 0; j < y.size(); ++j)
      y.data[j] += x.data[j];
  }
  return y;
}

template <typename T> HostArray<T> concat(const std::vector<const HostArray<T> *> &inputs) {
  if (inputs.empty())
    fail("concat needs at least one input");
  const HostArray<T> &first = *inputs[0];
  if (first.rank() < 2)
    fail(fmt::format("expected batched inputs, got shape {}", shapeString(first.shape)));
  const int64_t batch = first.shape[0];
  int64_t inner = 1; // elements per channel of one example
  for (int64_t i = 2; i < first.rank(); ++i)
    inner *= first.shape[i];
  std::vector<int64_t> shape = first.shape;
  shape[1] = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const HostArray<T> &x = *inputs[i];
    if (x.rank() != first.rank() || x.shape[0] != batch ||
        !std::equal(x.shape.begin() + 2, x.shape.end(), first.shape.begin() + 2))
      fail(fmt::format("input {} has shape {}, which does not concatenate with {}", i, shapeString(x.shape),
                       shapeString(first.shape)));
    shape[1] += x.shape[1];
  }
  HostArray<T> y(shape);
  const int64_t outChannels = shape[1];
  int64_t channelOffset = 0;
  for (const HostArray<T> *input : inputs) {
    const HostArray<T> &x = *input;
    const int64_t channels = x.shape[1];
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t j = 0; j < inner; ++j)
          y.data[(n * outChannels + channelOffset + c) * inner + j] = x.data[(n * channels + c) * inner + j];
    channelOffset += channels;
  }
  return y;
}

template <typename T> HostArray<T> reverseComplement(const HostArray<T> &x) {
  expectRank(x, 3, "an input", "(N, C, L)");
  const int64_t batch = x.shape[0], channels = x.shape[1], length = x.shape[2];
  HostArray<T> y(x.shape);
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t l = 0; l < length; ++l)
        y.data[(n * channels + c) * length + l] =
            x.data[(n * channels + (channels - 1 - c)) * length + (length - 1 - l)];
  return y;
}

// ---- elementwise, reductions and layout ---------------------------------------------------------------------

template <typename T> HostArray<T> mul(const HostArray<T> &lhs, const HostArray<T> &rhs) {
  expectSameShape(lhs, rhs);
  HostArray<T> y(lhs.shape);
  for (int64_t i = 0; i < y.size(); ++i)
    y.data[i] = lhs.data[i] * rhs.data[i];
  return y;
}

template <typename T> HostArray<T> reduceSum(const HostArray<T> &x, const std::vector<int64_t> &axes) {
  expectAxes(x.rank(), axes);
  HostArray<T> y(shapeWithoutAxes(x.shape, axes));
  const std::vector<int64_t> target = indexWithoutAxes(x.shape, axes);
  for (int64_t i = 0; i < x.size(); ++i)
    y.data[target[i]] += x.data[i];
  return y;
}

template <typename T>
HostArray<T> broadcast(const HostArray<T> &x, const std::vector<int64_t> &shape, const std::vector<int64_t> &axes) {
  expectAxes(static_cast<int64_t>(shape.size()), axes);
  if (x.shape != shapeWithoutAxes(shape, axes))
    fail(fmt::format("input shape {} is not {} without axes {}", shapeString(x.shape), shapeString(shape),
                     shapeString(axes)));
  HostArray<T> y(shape);
  const std::vector<int64_t> source = indexWithoutAxes(shape, axes);
  for (int64_t i = 0; i < y.size(); ++i)
    y.data[i] = x.data[source[i]];
  return y;
}

template <typename T> HostArray<T> reshape(const HostArray<T> &x, const std::vector<int64_t> &shape) {
  if (HostArray<T>::elementCount(shape) != x.size())
    fail(fmt::format("cannot reshape {} elements of shape {} to {}", x.size(), shapeString(x.shape),
                     shapeString(shape)));
  return HostArray<T>(shape, x.data);
}

template <typename T> HostArray<T> slice(const HostArray<T> &x, int64_t axis, int64_t offset, int64_t length) {
  expectAxis(x.rank(), axis);
  if (offset < 0 || length < 0 || offset + length > x.shape[axis])
    fail(fmt::format("the window [{}, {}) does not fit in axis {} of shape {}", offset, offset + length, axis,
                     shapeString(x.shape)));
  std::vector<int64_t> shape = x.shape;
  shape[axis] = length;
  HostArray<T> y(shape);
  copyWindow(x, y, axis, offset, 0, length);
  return y;
}

template <typename T> HostArray<T> pad(const HostArray<T> &x, int64_t axis, int64_t offset, int64_t length) {
  expectAxis(x.rank(), axis);
  if (offset < 0 || offset + x.shape[axis] > length)
    fail(fmt::format("axis {} of shape {} placed at {} does not fit in length {}", axis, shapeString(x.shape), offset,
                     length));
  std::vector<int64_t> shape = x.shape;
  shape[axis] = length;
  HostArray<T> y(shape);
  copyWindow(x, y, axis, 0, offset, x.shape[axis]);
  return y;
}

template <typename T> HostArray<T> logSoftmax(const HostArray<T> &x, int64_t axis) {
  const AxisView v = viewAround(x.shape, axis);
  HostArray<T> y(x.shape);
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t i = 0; i < v.inner; ++i) {
      auto at = [&](int64_t a) { return (o * v.extent + a) * v.inner + i; };
      T maximum = x.data[at(0)];
      for (int64_t a = 1; a < v.extent; ++a)
        maximum = std::max(maximum, x.data[at(a)]);
      T sum = T(0);
      for (int64_t a = 0; a < v.extent; ++a)
        sum += std::exp(x.data[at(a)] - maximum);
      const T logSum = std::log(sum);
      for (int64_t a = 0; a < v.extent; ++a)
        y.data[at(a)] = x.data[at(a)] - maximum - logSum;
    }
  return y;
}

template <typename T> HostArray<T> signedRank(const HostArray<T> &x) {
  const int64_t n = x.shape.back(), rows = n == 0 ? 0 : x.size() / n;
  HostArray<T> r(x.shape);
  for (int64_t row = 0; row < rows; ++row) {
    const T *v = x.data.data() + row * n;
    for (int64_t i = 0; i < n; ++i) {
      T sum = T(0);
      for (int64_t j = 0; j < n; ++j)
        sum += T(v[i] > v[j]) - T(v[i] < v[j]);
      r.data[row * n + i] = sum;
    }
  }
  return r;
}

template <typename T> HostArray<T> bceWithLogits(const HostArray<T> &logits, const HostArray<T> &labels) {
  expectSameShape(logits, labels);
  HostArray<T> y(logits.shape);
  for (int64_t i = 0; i < y.size(); ++i) {
    const T z = logits.data[i];
    y.data[i] = std::max(z, T(0)) - z * labels.data[i] + std::log1p(std::exp(-std::abs(z)));
  }
  return y;
}

namespace {

/// One row of seq.fourier_score, in double: the smoothed track, its rfft and the score.
struct FourierRow {
  std::vector<double> smoothed, real, imaginary, magnitude;
  double total = 0.0, score = 0.0;
};

void checkFourierTrack(const std::vector<int64_t> &shape, int64_t sigma, int64_t freqLimit, double softness) {
  if (shape.size() != 2 || shape[1] < 1)
    throw Error(fmt::format("fourier score: the track must be (batch, length >= 1), got {}", shapeString(shape)));
  if (sigma < 0 || freqLimit < 0 || !(softness >= 0))
    throw Error(fmt::format("fourier score: sigma {}, freq_limit {} and softness {} must not be negative", sigma,
                            freqLimit, softness));
}

/// The phase 2 pi (k l mod L) / L of frequency k at position l.
double fourierPhase(int64_t k, int64_t l, int64_t length) {
  return 2.0 * std::numbers::pi * static_cast<double>((k * l) % length) / static_cast<double>(length);
}

template <typename T>
FourierRow fourierRow(const T *track, int64_t length, const std::vector<double> &kernel, int64_t freqLimit,
                      double softness) {
  FourierRow row;
  const int64_t radius = static_cast<int64_t>(kernel.size()) / 2, frequencies = length / 2 + 1;
  row.smoothed.assign(length, 0.0);
  for (int64_t l = 0; l < length; ++l) {
    if (kernel.empty()) {
      row.smoothed[l] = static_cast<double>(track[l]);
      continue;
    }
    for (int64_t j = 0; j < static_cast<int64_t>(kernel.size()); ++j)
      if (int64_t at = l + j - radius; at >= 0 && at < length)
        row.smoothed[l] += kernel[j] * static_cast<double>(track[at]);
  }
  double weighted = 0.0;
  for (int64_t k = 0; k < frequencies; ++k) {
    double re = 0.0, im = 0.0;
    for (int64_t l = 0; l < length; ++l) {
      re += row.smoothed[l] * std::cos(fourierPhase(k, l, length));
      im += row.smoothed[l] * std::sin(fourierPhase(k, l, length));
    }
    row.real.push_back(re);
    row.imaginary.push_back(im);
    row.magnitude.push_back(std::hypot(re, im));
    row.total += row.magnitude.back();
    weighted += fourierFrequencyWeight(k, freqLimit, softness) * row.magnitude.back();
  }
  row.score = row.total > 0.0 ? weighted / row.total : 0.0;
  return row;
}

} // namespace

template <typename T>
HostArray<T> fourierScore(const HostArray<T> &track, int64_t sigma, int64_t freqLimit, double softness) {
  checkFourierTrack(track.shape, sigma, freqLimit, softness);
  const int64_t batch = track.shape[0], length = track.shape[1];
  const std::vector<double> kernel = fourierSmoothingKernel(sigma);
  HostArray<T> score({batch});
  for (int64_t b = 0; b < batch; ++b)
    score.data[b] =
        static_cast<T>(fourierRow(track.data.data() + b * length, length, kernel, freqLimit, softness).score);
  return score;
}

template <typename T>
HostArray<T> fourierScoreGrad(const HostArray<T> &track, const HostArray<T> &outputGrad, int64_t sigma,
                              int64_t freqLimit, double softness) {
  checkFourierTrack(track.shape, sigma, freqLimit, softness);
  const int64_t batch = track.shape[0], length = track.shape[1], frequencies = length / 2 + 1;
  if (outputGrad.shape != std::vector<int64_t>{batch})
    throw Error(
        fmt::format("fourier score grad: output_grad must be ({}), got {}", batch, shapeString(outputGrad.shape)));
  const std::vector<double> kernel = fourierSmoothingKernel(sigma);
  const int64_t radius = static_cast<int64_t>(kernel.size()) / 2;
  HostArray<T> grad(track.shape);
  for (int64_t b = 0; b < batch; ++b) {
    FourierRow row = fourierRow(track.data.data() + b * length, length, kernel, freqLimit, softness);
    // score = sum w m / sum m: d score / d m_k = (w_k - score) / sum m; d m_k / d (re, im) = (re, im) / m_k.
    const double inverseTotal = row.total > 0.0 ? 1.0 / row.total : 0.0;
    std::vector<double> smoothedGrad(length, 0.0);
    for (int64_t k = 0; k < frequencies; ++k) {
      if (row.magnitude[k] == 0.0)
        continue;
      double magnitudeGrad = static_cast<double>(outputGrad.data[b]) * inverseTotal *
                             (fourierFrequencyWeight(k, freqLimit, softness) - row.score);
      double realGrad = magnitudeGrad * row.real[k] / row.magnitude[k];
      double imaginaryGrad = magnitudeGrad * row.imaginary[k] / row.magnitude[k];
      for (int64_t l = 0; l < length; ++l)
        smoothedGrad[l] +=
            realGrad * std::cos(fourierPhase(k, l, length)) + imaginaryGrad * std::sin(fourierPhase(k, l, length));
    }
    T *out = grad.data.data() + b * length;
    for (int64_t l = 0; l < length; ++l) {
      if (kernel.empty()) {
        out[l] = static_cast<T>(smoothedGrad[l]);
        continue;
      }
      double sum = 0.0; // the smoothing's transpose: position l fed smoothed[l - j + radius] through tap j
      for (int64_t j = 0; j < static_cast<int64_t>(kernel.size()); ++j)
        if (int64_t at = l - j + radius; at >= 0 && at < length)
          sum += kernel[j] * smoothedGrad[at];
      out[l] = static_cast<T>(sum);
    }
  }
  return grad;
}

// ---- the layers' backward ops -------------------------------------------------------------------------------

template <typename T>
HostArray<T> conv1dInputGrad(const HostArray<T> &outputGrad, const HostArray<T> &weight, int64_t inputLength,
                             int64_t stride, int64_t dilation, Padding padding) {
  expectRank(outputGrad, 3, "an output cotangent", "(N, F, O)");
  expectRank(weight, 3, "a weight", "[F, C, K]");
  const ConvGeometry g = convGeometry(outputGrad.shape[0], weight.shape[1], inputLength, weight.shape[0],
                                      weight.shape[2], stride, dilation, padding);
  expectConvOutput(outputGrad, g);
  HostArray<T> dx({g.batch, g.channels, g.length});
  g.forEachTap([&](int64_t n, int64_t f, int64_t c, int64_t k, int64_t o, int64_t position) {
    dx.data[(n * g.channels + c) * g.length + position] +=
        weight.data[(f * g.channels + c) * g.width + k] * outputGrad.data[(n * g.filters + f) * g.outLength + o];
  });
  return dx;
}

template <typename T>
HostArray<T> conv1dWeightGrad(const HostArray<T> &x, const HostArray<T> &outputGrad, int64_t width, int64_t stride,
                              int64_t dilation, Padding padding) {
  expectRank(x, 3, "an input", "(N, C, L)");
  expectRank(outputGrad, 3, "an output cotangent", "(N, F, O)");
  const ConvGeometry g =
      convGeometry(x.shape[0], x.shape[1], x.shape[2], outputGrad.shape[1], width, stride, dilation, padding);
  expectConvOutput(outputGrad, g);
  HostArray<T> dw({g.filters, g.channels, g.width});
  g.forEachTap([&](int64_t n, int64_t f, int64_t c, int64_t k, int64_t o, int64_t position) {
    dw.data[(f * g.channels + c) * g.width + k] +=
        x.data[(n * g.channels + c) * g.length + position] * outputGrad.data[(n * g.filters + f) * g.outLength + o];
  });
  return dw;
}

template <typename T> HostArray<T> denseInputGrad(const HostArray<T> &outputGrad, const HostArray<T> &weight) {
  expectRank(outputGrad, 2, "an output cotangent", "(N, U)");
  expectRank(weight, 2, "a weight", "[U, F]");
  const int64_t batch = outputGrad.shape[0], units = weight.shape[0], features = weight.shape[1];
  if (outputGrad.shape[1] != units)
    fail(fmt::format("the output cotangent has {} units, the weight {}", outputGrad.shape[1], units));
  HostArray<T> dx({batch, features});
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t f = 0; f < features; ++f)
      for (int64_t u = 0; u < units; ++u)
        dx.data[n * features + f] += outputGrad.data[n * units + u] * weight.data[u * features + f];
  return dx;
}

template <typename T> HostArray<T> denseWeightGrad(const HostArray<T> &x, const HostArray<T> &outputGrad) {
  expectRank(x, 2, "an input", "(N, F)");
  expectRank(outputGrad, 2, "an output cotangent", "(N, U)");
  const int64_t batch = x.shape[0], features = x.shape[1], units = outputGrad.shape[1];
  if (outputGrad.shape[0] != batch)
    fail(fmt::format("the output cotangent has batch {}, the input {}", outputGrad.shape[0], batch));
  HostArray<T> dw({units, features});
  for (int64_t u = 0; u < units; ++u)
    for (int64_t f = 0; f < features; ++f)
      for (int64_t n = 0; n < batch; ++n)
        dw.data[u * features + f] += outputGrad.data[n * units + u] * x.data[n * features + f];
  return dw;
}

template <typename T>
HostArray<T> maxPool1dGrad(const HostArray<T> &x, const HostArray<T> &outputGrad, int64_t size, int64_t stride) {
  expectRank(x, 3, "an input", "(N, C, L)");
  const PoolGeometry g = poolGeometry(x.shape[0], x.shape[1], x.shape[2], size, stride);
  expectPoolOutput(outputGrad, x, g.outLength);
  HostArray<T> dx(x.shape);
  for (int64_t r = 0; r < g.rows; ++r)
    for (int64_t o = 0; o < g.outLength; ++o) {
      int64_t at = firstMaximum(&x.data[r * g.length], o * g.stride, g.size);
      dx.data[r * g.length + at] += outputGrad.data[r * g.outLength + o];
    }
  return dx;
}

template <typename T>
HostArray<T> maxPool1dSelect(const HostArray<T> &x, const HostArray<T> &values, int64_t size, int64_t stride) {
  expectRank(x, 3, "an input", "(N, C, L)");
  expectSameShape(x, values);
  const PoolGeometry g = poolGeometry(x.shape[0], x.shape[1], x.shape[2], size, stride);
  HostArray<T> y({x.shape[0], x.shape[1], g.outLength});
  for (int64_t r = 0; r < g.rows; ++r)
    for (int64_t o = 0; o < g.outLength; ++o) {
      int64_t at = firstMaximum(&x.data[r * g.length], o * g.stride, g.size);
      y.data[r * g.outLength + o] = values.data[r * g.length + at];
    }
  return y;
}

template <typename T>
HostArray<T> avgPool1dGrad(const HostArray<T> &outputGrad, int64_t inputLength, int64_t size, int64_t stride) {
  expectRank(outputGrad, 3, "an output cotangent", "(N, C, O)");
  const PoolGeometry g = poolGeometry(outputGrad.shape[0], outputGrad.shape[1], inputLength, size, stride);
  HostArray<T> dx({outputGrad.shape[0], outputGrad.shape[1], inputLength});
  expectPoolOutput(outputGrad, dx, g.outLength);
  for (int64_t r = 0; r < g.rows; ++r)
    for (int64_t o = 0; o < g.outLength; ++o)
      for (int64_t k = 0; k < g.size; ++k)
        dx.data[r * g.length + o * g.stride + k] += outputGrad.data[r * g.outLength + o] / static_cast<T>(g.size);
  return dx;
}

#define SEQJIT_INSTANTIATE_KERNELS(T)                                                                                  \
  template HostArray<T> conv1d(const HostArray<T> &, const HostArray<T> &, const HostArray<T> *, int64_t, int64_t,     \
                               Padding);                                                                               \
  template HostArray<T> batchNorm(const HostArray<T> &, const HostArray<T> &, const HostArray<T> &,                    \
                                  const HostArray<T> &, const HostArray<T> &, double, bool);                           \
  template HostArray<T> activation(const HostArray<T> &, ActivationKind, double, double, double);                      \
  template HostArray<T> maxPool1d(const HostArray<T> &, int64_t, int64_t);                                             \
  template HostArray<T> avgPool1d(const HostArray<T> &, int64_t, int64_t);                                             \
  template HostArray<T> globalMaxPool(const HostArray<T> &);                                                           \
  template HostArray<T> globalAvgPool(const HostArray<T> &);                                                           \
  template HostArray<T> flatten(const HostArray<T> &);                                                                 \
  template HostArray<T> dense(const HostArray<T> &, const HostArray<T> &, const HostArray<T> *);                       \
  template HostArray<T> add(const std::vector<const HostArray<T> *> &);                                                \
  template HostArray<T> concat(const std::vector<const HostArray<T> *> &);                                             \
  template HostArray<T> reverseComplement(const HostArray<T> &);                                                       \
  template HostArray<T> mul(const HostArray<T> &, const HostArray<T> &);                                               \
  template HostArray<T> reduceSum(const HostArray<T> &, const std::vector<int64_t> &);                                 \
  template HostArray<T> broadcast(const HostArray<T> &, const std::vector<int64_t> &, const std::vector<int64_t> &);   \
  template HostArray<T> reshape(const HostArray<T> &, const std::vector<int64_t> &);                                   \
  template HostArray<T> slice(const HostArray<T> &, int64_t, int64_t, int64_t);                                        \
  template HostArray<T> pad(const HostArray<T> &, int64_t, int64_t, int64_t);                                          \
  template HostArray<T> logSoftmax(const HostArray<T> &, int64_t);                                                     \
  template HostArray<T> signedRank(const HostArray<T> &);                                                              \
  template HostArray<T> bceWithLogits(const HostArray<T> &, const HostArray<T> &);                                     \
  template HostArray<T> fourierScore(const HostArray<T> &, int64_t, int64_t, double);                                  \
  template HostArray<T> fourierScoreGrad(const HostArray<T> &, const HostArray<T> &, int64_t, int64_t, double);        \
  template HostArray<T> conv1dInputGrad(const HostArray<T> &, const HostArray<T> &, int64_t, int64_t, int64_t,         \
                                        Padding);                                                                      \
  template HostArray<T> conv1dWeightGrad(const HostArray<T> &, const HostArray<T> &, int64_t, int64_t, int64_t,        \
                                         Padding);                                                                     \
  template HostArray<T> denseInputGrad(const HostArray<T> &, const HostArray<T> &);                                    \
  template HostArray<T> denseWeightGrad(const HostArray<T> &, const HostArray<T> &);                                   \
  template HostArray<T> maxPool1dGrad(const HostArray<T> &, const HostArray<T> &, int64_t, int64_t);                   \
  template HostArray<T> maxPool1dSelect(const HostArray<T> &, const HostArray<T> &, int64_t, int64_t);                 \
  template HostArray<T> avgPool1dGrad(const HostArray<T> &, int64_t, int64_t, int64_t);

SEQJIT_INSTANTIATE_KERNELS(float)
SEQJIT_INSTANTIATE_KERNELS(double)

} // namespace seqjit::kernels
