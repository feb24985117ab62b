// Names of ops, activations and paddings, as the dialect prints them and messages show them.
#include "dsl/OpSpec.h"

#include <array>
#include <utility>

namespace seqjit {

std::string_view opKindName(OpKind kind) {
  switch (kind) {
  case OpKind::Input: return "input";
  case OpKind::Conv1d: return "conv1d";
  case OpKind::BatchNorm: return "batch_norm";
  case OpKind::Activation: return "activation";
  case OpKind::MaxPool1d: return "max_pool1d";
  case OpKind::AvgPool1d: return "avg_pool1d";
  case OpKind::GlobalMaxPool: return "global_max_pool";
  case OpKind::GlobalAvgPool: return "global_avg_pool";
  case OpKind::Dropout: return "dropout";
  case OpKind::Flatten: return "flatten";
  case OpKind::Dense: return "dense";
  case OpKind::Add: return "add";
  case OpKind::Concat: return "concat";
  case OpKind::ReverseComplement: return "reverse_complement";
  }
  return "unknown";
}

namespace {
constexpr std::array<std::pair<ActivationKind, std::string_view>, 16> kActivationNames = {{
    {ActivationKind::Relu, "relu"},
    {ActivationKind::Exp, "exp"},
    {ActivationKind::Softplus, "softplus"},
    {ActivationKind::Sigmoid, "sigmoid"},
    {ActivationKind::Tanh, "tanh"},
    {ActivationKind::Elu, "elu"},
    {ActivationKind::Linear, "linear"},
    {ActivationKind::LogRelu, "log_relu"},
    {ActivationKind::Step, "step"},
    {ActivationKind::Sign, "sign"},
    {ActivationKind::Abs, "abs"},
    {ActivationKind::Square, "square"},
    {ActivationKind::Sqrt, "sqrt"},
    {ActivationKind::Rsqrt, "rsqrt"},
    {ActivationKind::Reciprocal, "reciprocal"},
    {ActivationKind::Log, "log"},
}};
} // namespace

std::string_view activationKindName(ActivationKind kind) {
  for (auto [k, name] : kActivationNames)
    if (k == kind)
      return name;
  return "unknown";
}

std::optional<ActivationKind> parseActivationKind(std::string_view name) {
  for (auto [k, n] : kActivationNames)
    if (n == name)
      return k;
  return std::nullopt;
}

std::string activationKindList() {
  std::string list;
  for (auto [k, name] : kActivationNames)
    list += (list.empty() ? "" : ", ") + std::string(name);
  return list;
}

std::string_view paddingName(Padding padding) { return padding == Padding::Same ? "same" : "valid"; }

std::optional<Padding> parsePadding(std::string_view name) {
  if (name == "same")
    return Padding::Same;
  if (name == "valid")
    return Padding::Valid;
  return std::nullopt;
}

} // namespace seqjit
