// The frame of a program function: a public func.func with the C interface whose arguments are the input,
// program-specific arguments, the graph's parameters (in parameterOrder) and trailing state; shared by the program
// builders (Programs.cpp, TrainStep.cpp).
#pragma once

#include "dsl/Graph.h"

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
};

/// A public function with the C interface: arguments (input, leading..., parameters..., trailing...).
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

/// Returns `results` (setting the function type) and verifies the module; throws seqjit::Error if it does not.
void finishProgramFunction(ProgramFunction &program, mlir::OpBuilder &b, mlir::ValueRange results, const Graph &graph);

/// The element type of a program's tensors.
mlir::Type programElementType(mlir::MLIRContext &context, const ProgramOptions &options);

} // namespace seqjit
