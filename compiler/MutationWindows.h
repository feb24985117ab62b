// Incremental in-silico mutagenesis (fastISM, Nair et al. 2022): a single-base change touches, at each layer, only a
// window of positions; the program computes the layers on those windows, reading the unmutated sequence's values
// around them, and the rest of the model (dense layers, global pools) on the whole mutated tensor.
#pragma once

#include "dsl/Graph.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <vector>

namespace seqjit {

/// Where a mutation at each input position can change each node of a graph, and how the windows are computed.
/// The trunk is every node from the input on whose ops are position-local (conv1d, batch norm, activations,
/// pools, dropout, add, concat); the head is everything else (flatten, dense, global pools, reverse complement)
/// and whatever follows it. Windows are intervals that may reach past either end of a node's positions: outside
/// [0, length) a window holds zeros (what 'same' padding reads) where it is read, and values nobody uses where it
/// is computed.
struct MutationWindowPlan {
  /// Nodes computed together: nodes[0] (the head op) reads windows of its inputs; each later node is
  /// position-wise (batch norm, activation, dropout) on the one before. The last is the segment's output.
  struct Segment {
    std::vector<int> nodes;
    /// Width of the windows of nodes[0]'s inputs it reads, and per mutated position where they start.
    int64_t inputWidth = 0;
    std::vector<int64_t> inputStart;
    /// A conv reading the sequence: its change is the weights times the change of one column, done on the host.
    bool onHost = false;
  };
  int64_t length = 0; ///< of the input
  std::vector<bool> trunk;
  /// Per trunk node: the window a mutation at position l can change is [start[n][l], start[n][l] + width[n]).
  std::vector<int64_t> width;
  std::vector<std::vector<int64_t>> start;
  std::vector<Segment> segments;
  /// Trunk nodes the head reads (the output itself when it is in the trunk), in node order.
  std::vector<int> frontier;
  /// Segment outputs, in node order: the unmutated values the windows are spliced into.
  std::vector<int> cached;
};

/// The plan for `graph` (its input (C, L), batch norm in inference mode). Throws seqjit::Error when a head op
/// (flatten, dense, a global pool, reverse complement) reads the sequence itself: nothing could be saved.
MutationWindowPlan planMutationWindows(const Graph &graph);

inline constexpr const char *kNodeValuesFunction = "node_values";
inline constexpr const char *kHeadFunction = "head";
/// The name of segment k's window function.
std::string windowFunctionName(size_t segment);

/// One module, every function taking the graph's parameters (parameterOrder) after its own arguments, for batches
/// of `batch`:
///   @node_values(input (B, C, L)) -> the values of plan.cached, in order;
///   @window_<k>(windows (B, C_m, inputWidth) of nodes[0]'s inputs) -> (B, C, width) of the segment's output,
///       for each segment not on the host;
///   @head(plan.frontier's values (B, C_f, L_f)) -> the model's output.
/// Batch norm runs on the running statistics and dropout is the identity.
mlir::OwningOpRef<mlir::ModuleOp> buildMutationWindowModule(mlir::MLIRContext &context, const Graph &graph,
                                                            const MutationWindowPlan &plan, int64_t batch);

} // namespace seqjit
