// What each seq op is: its kind and attributes, shared by the DSL, the dialect and the interpreter.
//
// Adding an op touches, in order:
//   1. OpKind + its attribute struct here, and its name in opKindName;
//   2. its shape function and parameter specs (dsl/ShapeFunctions.cpp);
//   3. its DSL builder (dsl/Model.h);
//   4. its ODS definition (compiler/SeqOps.td) and its import (compiler/GraphImport.cpp);
//   5. its reference implementation (runtime/ReferenceInterpreter.cpp);
//   6. its lowering (compiler/SeqToLinalg.cpp);
//   7. tests: a lit round-trip, an interpreter check against an independent computation, JIT vs interpreter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace seqjit {

enum class OpKind {
  Input,
  Conv1d,
  BatchNorm,
  Activation,
  MaxPool1d,
  AvgPool1d,
  GlobalMaxPool,
  GlobalAvgPool,
  Dropout,
  Flatten,
  Dense,
  Add,
  Concat,
  ReverseComplement,
};

/// Every activation computes f(scale * x + shift); `alpha` is ELU's negative-side scale. The kinds after LogRelu
/// are the elementwise primitives gradient programs are written in. Defined numerics (documented in the README):
/// step(z) = 1 if z > 0 else 0; sign(0) = 0; reciprocal(0) = 0 (so derivatives of sqrt and of normalisations are
/// 0 where the value is 0, the subgradient PyTorch's norm uses); log(0) = -inf; sqrt and log of a negative are NaN.
enum class ActivationKind {
  Relu,
  Exp,
  Softplus,
  Sigmoid,
  Tanh,
  Elu,
  Linear,
  LogRelu,
  Step,
  Sign,
  Abs,
  Square,
  Sqrt,
  Rsqrt,
  Reciprocal,
  Log,
};

enum class Padding { Same, Valid };

struct InputAttrs {
  int64_t channels = 4;
  int64_t length = 0;
};

struct Conv1dAttrs {
  int64_t filters = 0;
  int64_t width = 0;
  int64_t stride = 1;
  int64_t dilation = 1;
  Padding padding = Padding::Valid;
  bool bias = true;
};

struct BatchNormAttrs {
  double eps = 1e-5;
  double momentum = 0.1; ///< PyTorch convention: new = (1 - momentum) * old + momentum * batch.
  bool training = false;
};

struct ActivationAttrs {
  ActivationKind kind = ActivationKind::Relu;
  double scale = 1.0;
  double shift = 0.0;
  double alpha = 1.0;
};

/// max_pool1d and avg_pool1d: windows of `size` every `stride` (0 means stride = size), no padding.
struct PoolAttrs {
  int64_t size = 0;
  int64_t stride = 0;
};

struct DropoutAttrs {
  double rate = 0.0;
};

struct DenseAttrs {
  int64_t units = 0;
  bool bias = true;
};

/// No attributes: global pools, flatten, add, concat (always along channels), reverse complement.
struct NoAttrs {};

using OpAttributes = std::variant<NoAttrs, InputAttrs, Conv1dAttrs, BatchNormAttrs, ActivationAttrs,
                                  PoolAttrs, DropoutAttrs, DenseAttrs>;

struct OpSpec {
  OpKind kind = OpKind::Input;
  OpAttributes attributes;
};

/// The op's name in the seq dialect and in messages: "conv1d", "batch_norm", ...
std::string_view opKindName(OpKind kind);
std::string_view activationKindName(ActivationKind kind);
std::optional<ActivationKind> parseActivationKind(std::string_view name);
/// "relu, exp, ..., log": every name parseActivationKind accepts, for messages.
std::string activationKindList();
std::string_view paddingName(Padding padding);
std::optional<Padding> parsePadding(std::string_view name);

} // namespace seqjit
