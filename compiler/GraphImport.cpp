// Graph -> seq dialect: one op per node, parameters as function arguments, layer names as locations.
#include "compiler/GraphImport.h"

#include "compiler/ProgramFunction.h"
#include "compiler/SeqDialect.h"
#include "dsl/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include <fmt/format.h>

using namespace mlir;

namespace seqjit {

void loadSeqjitDialects(MLIRContext &context) {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  registry.insert<seq::SeqDialect>();
  context.appendDialectRegistry(registry);
  context.loadDialect<seq::SeqDialect, func::FuncDialect>();
}

std::vector<std::string> parameterOrder(const Graph &graph) {
  std::vector<std::string> names;
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters)
      names.push_back(Graph::parameterName(node, spec));
  return names;
}

namespace {

Location nodeLocation(MLIRContext &context, const Node &node) {
  StringRef where(node.sourceLocation);
  auto [file, line] = where.rsplit(':');
  unsigned lineNumber = 0;
  Location inner = UnknownLoc::get(&context);
  if (!line.getAsInteger(10, lineNumber))
    inner = FileLineColLoc::get(&context, file, lineNumber, 0);
  return NameLoc::get(StringAttr::get(&context, node.name), inner);
}

} // namespace

RankedTensorType batchedType(int64_t batch, const Shape &shape, Type elementType) {
  SmallVector<int64_t> dims{batch < 0 ? ShapedType::kDynamic : batch};
  dims.append(shape.begin(), shape.end());
  return RankedTensorType::get(dims, elementType);
}

Value emitNode(OpBuilder &builder, const Node &node, ValueRange inputs, ValueRange params, Type type) {
  MLIRContext &context = *builder.getContext();
  Location loc = nodeLocation(context, node);
  StringAttr layer = builder.getStringAttr(node.name);
  switch (node.op.kind) {
  case OpKind::Input:
    break;
  case OpKind::Conv1d: {
    const auto &a = std::get<Conv1dAttrs>(node.op.attributes);
    Value bias = a.bias ? params[1] : Value();
    return builder.create<seq::Conv1dOp>(loc, type, inputs[0], params[0], bias, a.stride, a.dilation,
                                         paddingName(a.padding), layer);
  }
  case OpKind::BatchNorm: {
    const auto &a = std::get<BatchNormAttrs>(node.op.attributes);
    return builder.create<seq::BatchNormOp>(loc, type, inputs[0], params[0], params[1], params[2], params[3],
                                            builder.getF64FloatAttr(a.eps), builder.getF64FloatAttr(a.momentum),
                                            builder.getBoolAttr(a.training), layer);
  }
  case OpKind::Activation: {
    const auto &a = std::get<ActivationAttrs>(node.op.attributes);
    return builder.create<seq::ActivationOp>(loc, type, inputs[0], builder.getStringAttr(activationKindName(a.kind)),
                                             builder.getF64FloatAttr(a.scale), builder.getF64FloatAttr(a.shift),
                                             builder.getF64FloatAttr(a.alpha), layer);
  }
  case OpKind::MaxPool1d:
  case OpKind::AvgPool1d: {
    const auto &a = std::get<PoolAttrs>(node.op.attributes);
    int64_t stride = a.stride == 0 ? a.size : a.stride;
    if (node.op.kind == OpKind::MaxPool1d)
      return builder.create<seq::MaxPool1dOp>(loc, type, inputs[0], a.size, stride, layer);
    return builder.create<seq::AvgPool1dOp>(loc, type, inputs[0], a.size, stride, layer);
  }
  case OpKind::GlobalMaxPool:
    return builder.create<seq::GlobalMaxPoolOp>(loc, type, inputs[0], layer);
  case OpKind::GlobalAvgPool:
    return builder.create<seq::GlobalAvgPoolOp>(loc, type, inputs[0], layer);
  case OpKind::Dropout:
    return builder.create<seq::DropoutOp>(
        loc, type, inputs[0], builder.getF64FloatAttr(std::get<DropoutAttrs>(node.op.attributes).rate), layer);
  case OpKind::Flatten:
    return builder.create<seq::FlattenOp>(loc, type, inputs[0], layer);
  case OpKind::Dense: {
    Value bias = params.size() > 1 ? params[1] : Value();
    return builder.create<seq::DenseOp>(loc, type, inputs[0], params[0], bias, layer);
  }
  case OpKind::Add:
    return builder.create<seq::AddOp>(loc, type, inputs, layer);
  case OpKind::Concat:
    return builder.create<seq::ConcatOp>(loc, type, inputs, layer);
  case OpKind::ReverseComplement:
    return builder.create<seq::ReverseComplementOp>(loc, type, inputs[0], layer);
  }
  return Value();
}

std::vector<size_t> parameterOffsets(const Graph &graph) {
  std::vector<size_t> offsets;
  size_t next = 0;
  for (const Node &node : graph.nodes) {
    offsets.push_back(next);
    next += node.parameters.size();
  }
  return offsets;
}

std::vector<Value> emitGraph(OpBuilder &builder, const Graph &graph, Value input, ValueRange parameters,
                             const DropoutMasks &dropoutMasks, const BatchMixes &batchMixes) {
  MLIRContext &context = *builder.getContext();
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t batch = inputType.getDimSize(0);
  Type elementType = inputType.getElementType();
  std::vector<Value> values(graph.nodes.size());
  std::vector<size_t> offsets = parameterOffsets(graph);
  for (const Node &node : graph.nodes) {
    Location loc = nodeLocation(context, node);
    SmallVector<Value> inputs;
    for (int id : node.inputs)
      inputs.push_back(values.at(id));
    ValueRange params = parameters.slice(offsets[node.id], node.parameters.size());
    Type type = batchedType(batch, node.shape, elementType);
    StringAttr layer = builder.getStringAttr(node.name);
    Value result;
    if (node.op.kind == OpKind::Input)
      result = input;
    else if (auto mask = dropoutMasks.find(node.id); node.op.kind == OpKind::Dropout && mask != dropoutMasks.end())
      result = builder.create<seq::MulOp>(loc, type, inputs[0], mask->second, layer);
    else
      result = emitNode(builder, node, inputs, params, type);
    if (auto mix = batchMixes.find(node.id); mix != batchMixes.end()) {
      // M h over the batch axis is dense_input_grad(M, h) on h flattened to (batch, features): M (B, B) plays the
      // output cotangent and h the weight, so mixing reuses an op whose VJPs exist for both operands.
      int64_t features = 1;
      for (int64_t extent : node.shape)
        features *= extent;
      auto flatType = RankedTensorType::get({batch, features}, elementType);
      Value flat = builder.create<seq::ReshapeOp>(loc, flatType, result, layer);
      Value mixed = builder.create<seq::DenseInputGradOp>(loc, flatType, mix->second, flat, layer);
      result = builder.create<seq::ReshapeOp>(loc, type, mixed, layer);
    }
    values[node.id] = result;
  }
  return values;
}

OwningOpRef<ModuleOp> importGraph(MLIRContext &context, const Graph &graph, const ImportOptions &options) {
  loadSeqjitDialects(context);
  OpBuilder builder(&context);
  Type elementType = options.float64 ? builder.getF64Type() : builder.getF32Type();
  auto module = ModuleOp::create(UnknownLoc::get(&context), StringRef(graph.name));

  std::vector<ProgramArgument> arguments{{"input", batchedType(options.batch, graph.inputNode().shape, elementType)}};
  std::vector<ProgramArgument> parameters = graphParameterArguments(graph, elementType);
  arguments.insert(arguments.end(), parameters.begin(), parameters.end());
  auto function = createEntryFunction(builder, module, options.functionName, arguments);
  std::vector<Value> values = emitGraph(builder, graph, function.getArgument(0), function.getArguments().drop_front());
  returnResults(builder, function, {{"output", values.at(graph.output)}});
  if (failed(verify(module)))
    throw Error(fmt::format("model '{}': the imported module does not verify (see the diagnostics above)", graph.name));
  return module;
}

} // namespace seqjit
