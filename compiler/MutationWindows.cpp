// The mutation windows of each node by interval arithmetic over the trunk, and the module of window programs.
#include "compiler/MutationWindows.h"

#include "compiler/GraphImport.h"
#include "compiler/ProgramFunction.h"
#include "compiler/Programs.h"
#include "compiler/SeqDialect.h"
#include "dsl/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <set>

using namespace mlir;

namespace seqjit {
namespace {

bool positionLocal(OpKind kind) {
  switch (kind) {
  case OpKind::Conv1d:
  case OpKind::BatchNorm:
  case OpKind::Activation:
  case OpKind::MaxPool1d:
  case OpKind::AvgPool1d:
  case OpKind::Dropout:
  case OpKind::Add:
  case OpKind::Concat:
    return true;
  default:
    return false;
  }
}

bool positionWise(OpKind kind) {
  return kind == OpKind::BatchNorm || kind == OpKind::Activation || kind == OpKind::Dropout;
}

/// Output position o of a trunk node reads input positions [o * stride - padLeft, o * stride - padLeft + span).
struct Geometry {
  int64_t stride = 1, span = 1, padLeft = 0;
};

Geometry geometryOf(const Graph &graph, const Node &node) {
  if (node.op.kind == OpKind::Conv1d) {
    const auto &a = std::get<Conv1dAttrs>(node.op.attributes);
    const int64_t inputLength = graph.nodes.at(node.inputs[0]).shape.at(1);
    return {a.stride, a.dilation * (a.width - 1) + 1,
            a.padding == Padding::Same ? samePaddingLeft(inputLength, a.width, a.stride, a.dilation) : 0};
  }
  if (node.op.kind == OpKind::MaxPool1d || node.op.kind == OpKind::AvgPool1d) {
    const auto &a = std::get<PoolAttrs>(node.op.attributes);
    return {a.stride == 0 ? a.size : a.stride, a.size, 0};
  }
  return {};
}

int64_t floorDivide(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t ceilDivide(int64_t a, int64_t b) { return -floorDivide(-a, b); }

/// A function of the module with `arguments` then the graph's parameters; the builder goes to its body.
struct FunctionFrame {
  func::FuncOp function;
  SmallVector<Value> arguments, parameters;
};

FunctionFrame createFunction(OpBuilder &b, ModuleOp module, StringRef name, ArrayRef<ProgramArgument> arguments,
                             const Graph &graph, Type elementType) {
  std::vector<ProgramArgument> all(arguments.begin(), arguments.end());
  std::vector<ProgramArgument> parameters = graphParameterArguments(graph, elementType);
  all.insert(all.end(), parameters.begin(), parameters.end());
  FunctionFrame frame;
  frame.function = createEntryFunction(b, module, name, all);
  auto values = frame.function.getArguments();
  frame.arguments.assign(values.begin(), values.begin() + arguments.size());
  frame.parameters.assign(values.begin() + arguments.size(), values.end());
  return frame;
}

} // namespace

std::string windowFunctionName(size_t segment) { return fmt::format("window_{}", segment); }
std::string deltaFunctionName(size_t segment) { return fmt::format("delta_{}", segment); }

bool hasWindowFunction(const MutationWindowPlan::Segment &segment) {
  return !segment.onHost && (!segment.fromChange || segment.nodes.size() > 1);
}

std::vector<float> deltaTaps(const std::vector<float> &weights, int64_t filters, int64_t inputChannels, int64_t taps) {
  std::vector<float> rearranged(weights.size());
  for (int64_t f = 0; f < filters; ++f)
    for (int64_t c = 0; c < inputChannels; ++c)
      for (int64_t t = 0; t < taps; ++t)
        rearranged[(c * taps + t) * filters + f] = weights[(f * inputChannels + c) * taps + t];
  return rearranged;
}

MutationWindowPlan planMutationWindows(const Graph &graph) {
  MutationWindowPlan plan;
  const size_t count = graph.nodes.size();
  plan.length = graph.inputNode().shape.at(1);
  plan.trunk.assign(count, false);
  plan.width.assign(count, 0);
  plan.start.assign(count, {});
  std::vector<int> consumers(count, 0);
  for (const Node &node : graph.nodes)
    for (int id : node.inputs)
      ++consumers[id];

  plan.trunk[0] = true;
  plan.width[0] = 1;
  for (int64_t l = 0; l < plan.length; ++l)
    plan.start[0].push_back(l);
  std::vector<int> segmentOf(count, -1);
  for (const Node &node : graph.nodes) {
    if (node.id == 0)
      continue;
    plan.trunk[node.id] = positionLocal(node.op.kind) &&
                          std::all_of(node.inputs.begin(), node.inputs.end(), [&](int id) { return plan.trunk[id]; });
    if (!plan.trunk[node.id])
      continue;
    // The outputs whose input windows meet the changed windows of the inputs, hulled over the inputs.
    const Geometry g = geometryOf(graph, node);
    std::vector<int64_t> &start = plan.start[node.id];
    for (int64_t l = 0; l < plan.length; ++l) {
      int64_t low = std::numeric_limits<int64_t>::max(), high = std::numeric_limits<int64_t>::min();
      for (int id : node.inputs) {
        const int64_t first = plan.start[id][l], last = first + plan.width[id] - 1;
        low = std::min(low, ceilDivide(first + g.padLeft - (g.span - 1), g.stride));
        high = std::max(high, floorDivide(last + g.padLeft, g.stride));
      }
      start.push_back(low);
      plan.width[node.id] = std::max(plan.width[node.id], high - low + 1);
    }
    // A position-wise op joins the segment of its only input when nothing else reads that input (and the input is
    // not the model's output, whose values the head returns).
    const int input = node.inputs[0];
    if (positionWise(node.op.kind) && node.inputs.size() == 1 && input != 0 && input != graph.output &&
        consumers[input] == 1 && !plan.segments[segmentOf[input]].onHost) {
      segmentOf[node.id] = segmentOf[input];
      plan.segments[segmentOf[node.id]].nodes.push_back(node.id);
      continue;
    }
    MutationWindowPlan::Segment segment;
    segment.nodes = {node.id};
    segment.onHost = node.op.kind == OpKind::Conv1d && node.inputs == std::vector<int>{0};
    // From the change where that multiplies fewer columns by the taps than the window has outputs: every conv of
    // stride 1 (its window is its input's changed window widened by the span), not a strided one.
    segment.fromChange = node.op.kind == OpKind::Conv1d && !segment.onHost && plan.width[input] <= plan.width[node.id];
    if (!segment.onHost && !segment.fromChange) {
      segment.inputWidth = (plan.width[node.id] - 1) * g.stride + g.span;
      for (int64_t l = 0; l < plan.length; ++l)
        segment.inputStart.push_back(start[l] * g.stride - g.padLeft);
    }
    segmentOf[node.id] = static_cast<int>(plan.segments.size());
    plan.segments.push_back(std::move(segment));
  }

  std::set<int> frontier, cached;
  for (const Node &node : graph.nodes)
    if (!plan.trunk[node.id])
      for (int id : node.inputs)
        if (plan.trunk[id])
          frontier.insert(id);
  if (plan.trunk[graph.output])
    frontier.insert(graph.output);
  if (frontier.count(0))
    throw Error(fmt::format("model '{}': incremental mutagenesis needs every layer that reads the sequence to be "
                            "position-local (conv1d, pools, batch norm, activations, add, concat); this model reads "
                            "the whole sequence at once: use naive mutagenesis",
                            graph.name));
  for (const MutationWindowPlan::Segment &segment : plan.segments) {
    cached.insert(segment.nodes.back());
    if (segment.fromChange)
      cached.insert(segment.nodes.front());
  }
  plan.frontier.assign(frontier.begin(), frontier.end());
  plan.cached.assign(cached.begin(), cached.end());
  return plan;
}

OwningOpRef<ModuleOp> buildMutationWindowModule(MLIRContext &context, const Graph &original,
                                                const MutationWindowPlan &plan, int64_t batch) {
  loadSeqjitDialects(context);
  const Graph graph = withBatchNormMode(original, false);
  OpBuilder b(&context);
  Type elementType = b.getF32Type();
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&context), StringRef(graph.name));
  const std::vector<size_t> offsets = parameterOffsets(graph);
  auto parametersOf = [&](FunctionFrame &frame, const Node &node) {
    return ValueRange(frame.parameters).slice(offsets[node.id], node.parameters.size());
  };
  auto fullType = [&](int id) { return batchedType(batch, graph.nodes.at(id).shape, elementType); };
  auto windowType = [&](int id, int64_t width) {
    return batchedType(batch, {graph.nodes.at(id).shape.at(0), width}, elementType);
  };

  FunctionFrame values = createFunction(b, *module, kNodeValuesFunction, {{"input", fullType(0)}}, graph, elementType);
  std::vector<Value> all = emitGraph(b, graph, values.arguments[0], values.parameters);
  std::vector<ProgramResult> cached;
  for (int id : plan.cached)
    cached.push_back({graph.nodes.at(id).name, all[id]});
  returnResults(b, values.function, cached);

  for (size_t k = 0; k < plan.segments.size(); ++k) {
    const MutationWindowPlan::Segment &segment = plan.segments[k];
    const Node &head = graph.nodes.at(segment.nodes[0]);
    if (segment.fromChange) {
      // Every tap of every filter on each changed column at once: one matrix product of the changed columns
      // (batch x width rows of C_in) with the taps (C_in rows of taps x filters, contiguous along the products).
      const int input = head.inputs[0];
      const auto &a = std::get<Conv1dAttrs>(head.op.attributes);
      const int64_t inputChannels = graph.nodes.at(input).shape.at(0), columns = batch * plan.width[input];
      const std::string name = head.name + ".change";
      FunctionFrame frame = createFunction(
          b, *module, deltaFunctionName(k),
          {{"change of " + graph.nodes.at(input).name, RankedTensorType::get({columns, inputChannels}, elementType)},
           {"taps of " + head.name, RankedTensorType::get({inputChannels, a.width * a.filters}, elementType)}},
          graph, elementType);
      Value products = b.create<seq::DenseInputGradOp>(
          NameLoc::get(b.getStringAttr(name)), RankedTensorType::get({columns, a.width * a.filters}, elementType),
          frame.arguments[0], frame.arguments[1], b.getStringAttr(name));
      returnResults(b, frame.function, {{"taps of " + head.name + " on the change", products}});
    }
    if (!hasWindowFunction(segment))
      continue;
    // A segment computed from the change starts from its conv's window; any other from the windows of its inputs.
    std::vector<ProgramArgument> windows;
    if (segment.fromChange)
      windows.push_back({"window of " + head.name, windowType(head.id, plan.width[head.id])});
    else
      for (int id : head.inputs)
        windows.push_back({"window of " + graph.nodes.at(id).name, windowType(id, segment.inputWidth)});
    FunctionFrame frame = createFunction(b, *module, windowFunctionName(k), windows, graph, elementType);
    SmallVector<Value> inputs = frame.arguments;
    Value result;
    for (int id : ArrayRef<int>(segment.nodes).drop_front(segment.fromChange ? 1 : 0)) {
      Node node = graph.nodes.at(id);
      if (node.op.kind == OpKind::Conv1d) // the window holds the padding's zeros already
        std::get<Conv1dAttrs>(node.op.attributes).padding = Padding::Valid;
      result = emitNode(b, node, inputs, parametersOf(frame, node), windowType(id, plan.width[id]));
      inputs = {result};
    }
    returnResults(b, frame.function, {{"window of " + graph.nodes.at(segment.nodes.back()).name, result}});
  }

  std::vector<ProgramArgument> frontierTypes;
  for (int id : plan.frontier)
    frontierTypes.push_back({graph.nodes.at(id).name, fullType(id)});
  FunctionFrame head = createFunction(b, *module, kHeadFunction, frontierTypes, graph, elementType);
  std::vector<Value> headValues(graph.nodes.size());
  for (size_t i = 0; i < plan.frontier.size(); ++i)
    headValues[plan.frontier[i]] = head.arguments[i];
  for (const Node &node : graph.nodes) {
    if (plan.trunk[node.id])
      continue;
    SmallVector<Value> inputs;
    for (int id : node.inputs)
      inputs.push_back(headValues.at(id));
    headValues[node.id] = emitNode(b, node, inputs, parametersOf(head, node), fullType(node.id));
  }
  returnResults(b, head.function, {{"output", headValues.at(graph.output)}});
  if (failed(verify(*module)))
    throw Error(
        fmt::format("model '{}': the mutation-window programs do not verify (see the diagnostics above)", graph.name));
  return module;
}

} // namespace seqjit
