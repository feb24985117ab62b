// Turning a DSL graph into a seq-dialect module: func.func @forward(input, parameters...) -> output.
#pragma once

#include "dsl/Graph.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <string>
#include <vector>

namespace seqjit {

struct ImportOptions {
  int64_t batch = -1; ///< Static batch size, or -1 for a dynamic batch dimension.
  bool float64 = false;
  std::string functionName = "forward";
};

/// Every dialect a seqjit module or pipeline touches, loaded into `context`.
void loadSeqjitDialects(mlir::MLIRContext &context);

/// Builds @forward: the input (N, C, L) first, then every parameter in parameterOrder(graph).
mlir::OwningOpRef<mlir::ModuleOp> importGraph(mlir::MLIRContext &context, const Graph &graph,
                                              const ImportOptions &options);

/// The type of a batch of examples of `shape`: (batch, shape...), batch -1 meaning dynamic.
mlir::RankedTensorType batchedType(int64_t batch, const Shape &shape, mlir::Type elementType);

/// Training-time dropout: node id -> a mask of the node's batched shape holding 0 (dropped) or 1 / (1 - rate).
using DropoutMasks = std::map<int, mlir::Value>;

/// Manifold mixup: node id -> a (batch, batch) matrix M; the node's value h (batch, ...) becomes M h, each example a
/// combination of the batch's examples at that layer (M = lambda I + (1 - lambda) P for a permutation P).
using BatchMixes = std::map<int, mlir::Value>;

/// Emits the ops of `graph` at `builder`'s insertion point, applied to `input` (N, C, L) and `parameters` (in
/// parameterOrder(graph)); returns the value of every node, index = node id. Batch and element type are the input's.
/// A dropout node is the identity (seq.dropout) unless `dropoutMasks` has its mask, which it then multiplies by;
/// a node in `batchMixes` is mixed over the batch by its matrix (after its own op).
std::vector<mlir::Value> emitGraph(mlir::OpBuilder &builder, const Graph &graph, mlir::Value input,
                                   mlir::ValueRange parameters, const DropoutMasks &dropoutMasks = {},
                                   const BatchMixes &batchMixes = {});

/// Emits `node`'s op on `inputs` and its own parameters `params`, with result type `type` (which need not be the
/// node's shape: window programs run nodes on windows of the sequence). Dropout is the identity (seq.dropout).
mlir::Value emitNode(mlir::OpBuilder &builder, const Node &node, mlir::ValueRange inputs, mlir::ValueRange params,
                     mlir::Type type);

/// The index of each node's first parameter among the function's parameter arguments (parameterOrder).
std::vector<size_t> parameterOffsets(const Graph &graph);

/// The state_dict names of the function's parameter arguments, in order.
std::vector<std::string> parameterOrder(const Graph &graph);

} // namespace seqjit
