// Incremental in-silico mutagenesis (fastISM, Nair et al. 2022): a single-base change touches, at each layer, only a
// window of positions; the program computes the layers on those windows, reading the unmutated sequence's values
// around them, and the rest of the model (dense layers, global pools) on the whole mutated tensor. A convolution of
// stride 1 is computed from the change of its input: the unmutated values plus its taps times the changed columns,
// so that its work scales with the columns that changed, not with the window they reach.
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
    /// Width of the windows of nodes[0]'s inputs it reads, and per mutated position where they start (none for a
    /// segment on the host or computed from the change, which reads its input's changed window instead).
    int64_t inputWidth = 0;
    std::vector<int64_t> inputStart;
    /// A conv reading the sequence: its change is the weights times the change of one column, done on the host.
    bool onHost = false;
    /// A conv of stride 1 reading a computed node (a strided one has fewer outputs in its window than changed
    /// columns, and runs as a window program): @delta_<k> multiplies the changed columns of its input, (B x width of
    /// the input, C_in) position-major, by every tap at once (`deltaTaps`, (C_in, taps x filters)), giving (B x width,
    /// taps x filters) whose column t * filters + f holds tap t of filter f; the host adds each tap's products at
    /// the positions they reach onto the unmutated values; @window_<k> then runs the later nodes of the segment, if
    /// any, on that window.
    bool fromChange = false;
  };
  int64_t length = 0; ///< of the input
  std::vector<bool> trunk;
  /// Per trunk node: the window a mutation at position l can change is [start[n][l], start[n][l] + width[n]).
  std::vector<int64_t> width;
  std::vector<std::vector<int64_t>> start;
  std::vector<Segment> segments;
  /// Trunk nodes the head reads (the output itself when it is in the trunk), in node order.
  std::vector<int> frontier;
  /// Segment outputs and the convolutions computed from changes, in node order: the unmutated values the windows
  /// are spliced into or added onto.
  std::vector<int> cached;
};

/// The plan for `graph` (its input (C, L), batch norm in inference mode). Throws seqjit::Error when a head op
/// (flatten, dense, a global pool, reverse complement) reads the sequence itself: nothing could be saved.
MutationWindowPlan planMutationWindows(const Graph &graph);

inline constexpr const char *kNodeValuesFunction = "node_values";
inline constexpr const char *kHeadFunction = "head";
/// The names of segment k's window function and of its change function (a segment computed from the change).
std::string windowFunctionName(size_t segment);
std::string deltaFunctionName(size_t segment);

/// Whether segment k has a @window_<k> function: segments on the host have none, and a convolution computed from the
/// change needs one only for the nodes after it.
bool hasWindowFunction(const MutationWindowPlan::Segment &segment);

/// A conv's weights (filters, C_in, taps) rearranged as @delta_<k>'s matrix (C_in, taps x filters):
/// result[(c * taps + t) * filters + f] = weights[(f * C_in + c) * taps + t].
std::vector<float> deltaTaps(const std::vector<float> &weights, int64_t filters, int64_t inputChannels, int64_t taps);

/// One module, every function taking the graph's parameters (parameterOrder) after its own arguments, for batches
/// of `batch`:
///   @node_values(input (B, C, L)) -> the values of plan.cached, in order;
///   @window_<k>(windows (B, C_m, inputWidth) of nodes[0]'s inputs) -> (B, C, width) of the segment's output,
///       for each segment not on the host and not computed from the change;
///   @delta_<k>(change (B x width of the input, C_in), taps (C_in, taps x filters)) -> (B x width, taps x filters)
///       and @window_<k>(the conv's window (B, filters, width)) -> the segment's output, for a segment computed from
///       the change (the latter when the segment has nodes after the conv);
///   @head(plan.frontier's values (B, C_f, L_f)) -> the model's output.
/// Batch norm runs on the running statistics and dropout is the identity.
mlir::OwningOpRef<mlir::ModuleOp> buildMutationWindowModule(mlir::MLIRContext &context, const Graph &graph,
                                                            const MutationWindowPlan &plan, int64_t batch);

} // namespace seqjit
