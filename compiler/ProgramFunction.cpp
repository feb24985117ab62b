// The frame of a program function: arguments named for messages, results set once the body is built.
#include "compiler/ProgramFunction.h"

#include "compiler/GraphImport.h"
#include "compiler/Programs.h"
#include "dsl/Error.h"

#include "mlir/IR/Verifier.h"

#include <fmt/format.h>

using namespace mlir;

namespace seqjit {

Graph withBatchNormMode(Graph graph, bool training) {
  for (Node &node : graph.nodes)
    if (node.op.kind == OpKind::BatchNorm)
      std::get<BatchNormAttrs>(node.op.attributes).training = training;
  return graph;
}

Type programElementType(MLIRContext &context, const ProgramOptions &options) {
  return options.float64 ? Type(Float64Type::get(&context)) : Type(Float32Type::get(&context));
}

ProgramFunction createProgramFunction(OpBuilder &b, const Graph &graph, const ProgramOptions &options, StringRef name,
                                      ArrayRef<ProgramArgument> leading, ArrayRef<ProgramArgument> trailing) {
  MLIRContext &context = *b.getContext();
  loadSeqjitDialects(context);
  Type elementType = programElementType(context, options);
  SmallVector<Type> argumentTypes{batchedType(options.batch, graph.inputNode().shape, elementType)};
  SmallVector<Attribute> argumentNames{b.getStringAttr("input")};
  auto append = [&](StringRef argumentName, Type type) {
    argumentTypes.push_back(type);
    argumentNames.push_back(b.getStringAttr(argumentName));
  };
  for (const ProgramArgument &argument : leading)
    append(argument.name, argument.type);
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      append(Graph::parameterName(node, spec), RankedTensorType::get(spec.shape, elementType));
  for (const ProgramArgument &argument : trailing)
    append(argument.name, argument.type);
  ProgramFunction program;
  program.module = ModuleOp::create(UnknownLoc::get(&context), StringRef(graph.name));
  b.setInsertionPointToEnd(program.module->getBody());
  // Result types are set once the body is built; the function starts with none.
  program.function = b.create<func::FuncOp>(UnknownLoc::get(&context), name, b.getFunctionType(argumentTypes, {}));
  program.function->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  program.function->setAttr("seq.argument_names", b.getArrayAttr(argumentNames));
  auto arguments = program.function.addEntryBlock()->getArguments();
  program.input = arguments.front();
  arguments = arguments.drop_front();
  program.leading.assign(arguments.begin(), arguments.begin() + leading.size());
  program.trailing.assign(arguments.end() - trailing.size(), arguments.end());
  program.parameters.assign(arguments.begin() + leading.size(), arguments.end() - trailing.size());
  b.setInsertionPointToEnd(&program.function.getBody().front());
  return program;
}

void finishProgramFunction(ProgramFunction &program, OpBuilder &b, ValueRange results, const Graph &graph) {
  b.create<func::ReturnOp>(program.function.getLoc(), results);
  program.function.setFunctionType(
      b.getFunctionType(program.function.getArgumentTypes(), ValueRange(results).getTypes()));
  if (failed(verify(*program.module)))
    throw Error(fmt::format("model '{}': the {} program does not verify (see the diagnostics above)", graph.name,
                            program.function.getName().str()));
}

} // namespace seqjit
