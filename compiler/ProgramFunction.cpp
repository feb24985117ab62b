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
  std::vector<ProgramArgument> arguments{{"input", batchedType(options.batch, graph.inputNode().shape, elementType)}};
  arguments.insert(arguments.end(), leading.begin(), leading.end());
  std::vector<ProgramArgument> parameters = graphParameterArguments(graph, elementType);
  arguments.insert(arguments.end(), parameters.begin(), parameters.end());
  arguments.insert(arguments.end(), trailing.begin(), trailing.end());
  ProgramFunction program;
  program.module = ModuleOp::create(UnknownLoc::get(&context), StringRef(graph.name));
  program.function = createEntryFunction(b, *program.module, name, arguments);
  auto values = program.function.getArguments();
  program.input = values.front();
  values = values.drop_front();
  program.leading.assign(values.begin(), values.begin() + leading.size());
  program.trailing.assign(values.end() - trailing.size(), values.end());
  program.parameters.assign(values.begin() + leading.size(), values.end() - trailing.size());
  return program;
}

void finishProgramFunction(ProgramFunction &program, OpBuilder &b, ArrayRef<ProgramResult> results,
                           const Graph &graph) {
  returnResults(b, program.function, results);
  if (failed(verify(*program.module)))
    throw Error(fmt::format("model '{}': the {} program does not verify (see the diagnostics above)", graph.name,
                            program.function.getName().str()));
}

namespace {

/// Writes the names and roles of `items` (ProgramArguments or ProgramResults) into two attributes of `function`.
template <typename Named>
void setNames(func::FuncOp function, StringRef namesAttribute, StringRef rolesAttribute, ArrayRef<Named> items) {
  Builder b(function.getContext());
  SmallVector<Attribute> names, roles;
  for (const Named &item : items) {
    names.push_back(b.getStringAttr(item.name));
    roles.push_back(b.getStringAttr(roleName(item.role)));
  }
  function->setAttr(namesAttribute, b.getArrayAttr(names));
  function->setAttr(rolesAttribute, b.getArrayAttr(roles));
}

std::vector<TensorSpec> tensorSpecs(func::FuncOp function, TypeRange types, StringRef namesAttribute,
                                    StringRef rolesAttribute, const char *unnamed, TensorRole unnamedRole) {
  auto names = function->getAttrOfType<ArrayAttr>(namesAttribute);
  auto roles = function->getAttrOfType<ArrayAttr>(rolesAttribute);
  std::vector<TensorSpec> specs;
  for (size_t i = 0; i < types.size(); ++i) {
    auto type = dyn_cast<ShapedType>(types[i]); // a tensor, or a memref where a test hands buffers over
    if (!type || !type.hasStaticShape())
      throw Error(fmt::format("function '{}': {} {} has no static shape", function.getName().str(), unnamed, i));
    TensorSpec spec{fmt::format("{} {}", unnamed, i), unnamedRole,
                    std::vector<int64_t>(type.getShape().begin(), type.getShape().end())};
    if (names && i < names.size())
      if (auto name = dyn_cast<StringAttr>(names[i]))
        spec.name = name.str();
    if (roles && i < roles.size())
      if (auto role = dyn_cast<StringAttr>(roles[i]))
        spec.role = parseRole(role.getValue()).value_or(unnamedRole);
    specs.push_back(std::move(spec));
  }
  return specs;
}

} // namespace

std::vector<ProgramArgument> graphParameterArguments(const Graph &graph, Type elementType) {
  std::vector<ProgramArgument> arguments;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      arguments.push_back(
          {Graph::parameterName(node, spec), RankedTensorType::get(spec.shape, elementType), TensorRole::Parameter});
  return arguments;
}

func::FuncOp createEntryFunction(OpBuilder &b, ModuleOp module, StringRef name, ArrayRef<ProgramArgument> arguments) {
  SmallVector<Type> types;
  for (const ProgramArgument &argument : arguments)
    types.push_back(argument.type);
  b.setInsertionPointToEnd(module.getBody());
  // Result types are set once the body is built; the function starts with none.
  auto function = b.create<func::FuncOp>(module.getLoc(), name, b.getFunctionType(types, {}));
  function->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  setNames(function, "seq.argument_names", "seq.argument_roles", arguments);
  b.setInsertionPointToEnd(function.addEntryBlock());
  return function;
}

void returnResults(OpBuilder &b, func::FuncOp function, ArrayRef<ProgramResult> results) {
  SmallVector<Value> values;
  for (const ProgramResult &result : results)
    values.push_back(result.value);
  b.create<func::ReturnOp>(function.getLoc(), values);
  function.setFunctionType(b.getFunctionType(function.getArgumentTypes(), ValueRange(values).getTypes()));
  setNames(function, "seq.result_names", "seq.result_roles", results);
}

FunctionSignature functionSignature(func::FuncOp function) {
  FunctionSignature signature;
  signature.name = function.getName().str();
  signature.arguments = tensorSpecs(function, function.getArgumentTypes(), "seq.argument_names", "seq.argument_roles",
                                    "argument", TensorRole::Input);
  signature.results = tensorSpecs(function, function.getResultTypes(), "seq.result_names", "seq.result_roles", "result",
                                  TensorRole::Result);
  return signature;
}

} // namespace seqjit
