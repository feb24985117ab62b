// One shape function and one parameter list per op: the DSL, the dialect verifier and the interpreter all call these.
#pragma once

#include "dsl/OpSpec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace seqjit {

/// The shape of one example, without the batch dimension: {channels, length} or {features}.
using Shape = std::vector<int64_t>;

std::string shapeToString(const Shape &shape);

/// A shape, or a message saying what was expected. No exceptions: the MLIR side is built without them.
struct ShapeResult {
  Shape shape;
  std::string error; ///< Empty on success.
  bool ok() const { return error.empty(); }
};

/// Checks the attributes and input shapes of an op and returns its output shape.
ShapeResult inferShape(const OpSpec &op, const std::vector<Shape> &inputShapes);

enum class Initializer { GlorotUniform, HeNormal, Zeros, Ones };

/// One learnable or running tensor of a layer; its state_dict name is "<layer>.<suffix>".
struct ParameterSpec {
  std::string suffix; ///< weight, bias, running_mean, running_var (PyTorch names).
  Shape shape;        ///< PyTorch layout: conv [out, in, k], dense [out, in], vectors [n].
  Initializer initializer = Initializer::Zeros;
  int64_t fanIn = 0;
  int64_t fanOut = 0;
  bool trainable = true; ///< Running statistics are state, not trained.
};

/// The parameters an op owns, in the order the op takes them as operands.
/// `weightInitializer` is used for conv and dense weights.
std::vector<ParameterSpec> parameterSpecs(const OpSpec &op, const std::vector<Shape> &inputShapes,
                                          Initializer weightInitializer);

/// Length after a convolution or pool window: the one formula all layers share.
int64_t windowOutputLength(int64_t length, int64_t window, int64_t stride, int64_t dilation, Padding padding);

/// Left padding of a 'same' convolution; the extra pad goes on the right (PyTorch and Keras agree).
int64_t samePaddingLeft(int64_t length, int64_t width, int64_t stride, int64_t dilation);
/// Total padding of a 'same' convolution.
int64_t samePaddingTotal(int64_t length, int64_t width, int64_t stride, int64_t dilation);

} // namespace seqjit
