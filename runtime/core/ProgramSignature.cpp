#include "runtime/core/ProgramSignature.h"

#include "dsl/Error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <utility>

namespace seqjit {
namespace {

constexpr std::array<std::pair<TensorRole, std::string_view>, 6> kRoleNames{{
    {TensorRole::Input, "input"},
    {TensorRole::Label, "label"},
    {TensorRole::Parameter, "parameter"},
    {TensorRole::OptimizerState, "optimizer_state"},
    {TensorRole::StepValue, "step_value"},
    {TensorRole::Result, "result"},
}};

std::string describeTensors(const std::vector<TensorSpec> &tensors) {
  std::vector<std::string> items;
  for (const TensorSpec &tensor : tensors)
    items.push_back(fmt::format("{}: {} ({})", tensor.name, roleName(tensor.role), fmt::join(tensor.shape, ", ")));
  return fmt::format("{}", fmt::join(items, ", "));
}

} // namespace

std::string_view roleName(TensorRole role) {
  for (const auto &[known, name] : kRoleNames)
    if (known == role)
      return name;
  return "unknown";
}

std::optional<TensorRole> parseRole(std::string_view name) {
  for (const auto &[role, known] : kRoleNames)
    if (known == name)
      return role;
  return std::nullopt;
}

std::string FunctionSignature::describe() const {
  return fmt::format("{}({}) -> ({})", name, describeTensors(arguments), describeTensors(results));
}

const FunctionSignature &ProgramSignature::function(const std::string &name) const {
  std::vector<std::string> names;
  for (const FunctionSignature &candidate : functions) {
    if (candidate.name == name)
      return candidate;
    names.push_back(candidate.name);
  }
  throw Error(fmt::format("the program has no function '{}'; it has {}", name, fmt::join(names, ", ")));
}

} // namespace seqjit
