// What a compiled program takes and returns, function by function: every tensor's name, shape and role, and the
// programs' element type. The program builder writes it into the IR (compiler/ProgramFunction.h) and the runtime
// checks calls against it and names the tensors in messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seqjit {

/// What a tensor is to the program's caller.
enum class TensorRole {
  Input,          ///< data the program is run on: sequences, a reference, a seed, a window
  Label,          ///< training targets and their mask
  Parameter,      ///< a model weight or running statistic (by its PyTorch state_dict name)
  OptimizerState, ///< state a training run carries between steps: optimizer slots, power vectors
  StepValue,      ///< made afresh for each step by the runtime: dropout masks, mixing matrices, schedule scalars
  Result,         ///< a value computed for the caller
};

/// "input", "label", "parameter", "optimizer_state", "step_value", "result".
std::string_view roleName(TensorRole role);
std::optional<TensorRole> parseRole(std::string_view name);

struct TensorSpec {
  std::string name;
  TensorRole role = TensorRole::Input;
  std::vector<int64_t> shape;
};

struct FunctionSignature {
  std::string name;
  std::vector<TensorSpec> arguments, results;
  /// "loss_gradient(input: input (4, 4, 200), ...) -> (loss: result (), ...)".
  std::string describe() const;
};

struct ProgramSignature {
  size_t elementBytes = 4; ///< 4 (float32) or 8 (float64)
  std::vector<FunctionSignature> functions;
  /// The function named `name`; throws seqjit::Error listing the program's functions if there is none.
  const FunctionSignature &function(const std::string &name) const;
};

} // namespace seqjit
