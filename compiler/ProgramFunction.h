// The frame of a program function: a public func.func with the C interface whose arguments are the input,
// program-specific arguments, the graph's parameters (in parameterOrder) and trailing state; shared by the program
// builders (Programs.cpp, TrainStep.cpp).
#pragma once

#include "dsl/Graph.h"
#include "runtime/core/ProgramSignature.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace seqjit {

struct ProgramOptions;

/// The graph with every batch norm in training or inference mode.
Graph withBatchNormMode(Graph graph, bool training);

/// A named argument of a program function, for messages and for the runtime.
struct ProgramArgument {
  std::string name;
  mlir::Type type;
  TensorRole role = TensorRole::Input;
};

/// A named result of a program function.
struct ProgramResult {
  std::string name;
  mlir::Value value;
  TensorRole role = TensorRole::Result;
};

/// A public function with the C interface: arguments (input, leading..., parameters..., trailing...), named with
/// their roles in the IR (the input "input", the parameters by their state_dict names).
struct ProgramFunction {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp function;
  mlir::Value input;
  llvm::SmallVector<mlir::Value> leading, parameters, trailing;
};

/// A module holding one function `name` with those arguments and no results yet; the builder's insertion point
/// goes to the end of its body.
ProgramFunction createProgramFunction(mlir::OpBuilder &b, const Graph &graph, const ProgramOptions &options,
                                      llvm::StringRef name, llvm::ArrayRef<ProgramArgument> leading,
                                      llvm::ArrayRef<ProgramArgument> trailing = {});

/// Returns `results` (setting the function type and naming them) and verifies the module; throws seqjit::Error if
/// it does not.
void finishProgramFunction(ProgramFunction &program, mlir::OpBuilder &b, llvm::ArrayRef<ProgramResult> results,
                           const Graph &graph);

/// The graph's parameters as arguments: parameterOrder, by state_dict name, role parameter.
std::vector<ProgramArgument> graphParameterArguments(const Graph &graph, mlir::Type elementType);

/// A public function `name` with the C interface at the end of `module`, taking `arguments` (named with their roles
/// in the IR: seq.argument_names, seq.argument_roles) and returning nothing yet; the builder goes to its body.
mlir::func::FuncOp createEntryFunction(mlir::OpBuilder &b, mlir::ModuleOp module, llvm::StringRef name,
                                       llvm::ArrayRef<ProgramArgument> arguments);
/// Returns `results` from `function` at the builder, setting its type and naming them in the IR
/// (seq.result_names, seq.result_roles).
void returnResults(mlir::OpBuilder &b, mlir::func::FuncOp function, llvm::ArrayRef<ProgramResult> results);

/// The signature of a program function with static shapes: names and roles as the IR gives them ("argument <i>" as
/// an input and "result <i>" where it has none).
FunctionSignature functionSignature(mlir::func::FuncOp function);

/// The element type of a program's tensors.
mlir::Type programElementType(mlir::MLIRContext &context, const ProgramOptions &options);

} // namespace seqjit
