// First-layer filters as motifs (Koo & Eddy 2019, Koo & Ploenzke 2021): each filter's position probability matrix
// from the input windows where it activates strongly, clipped to its informative core for motif comparison.
#pragma once

#include "dsl/Graph.h"
#include "runtime/HostArray.h"
#include "runtime/Parameters.h"
#include "stdlib/Meme.h"
#include "stdlib/MotifComparison.h"

#include <cstdint>
#include <vector>

namespace seqjit {

/// The first activation layer's node: the first activation op of the graph (the first conv's nonlinearity in every
/// zoo model). Throws seqjit::Error naming the model if it has none.
int firstActivationNode(const Graph &graph);

/// The graph cut after `node`: its nodes up to `node` (topological order), with `node` as the output.
Graph graphUpTo(const Graph &graph, int node);

/// How filter activations become aligned windows.
struct FilterAlignment {
  double threshold = 0.5; ///< A window is taken where the activation exceeds threshold x the filter's maximum.
  int64_t window = 20;    ///< Positions per window, centred on the activation (window/2 before, the rest after).
};

/// One motif per filter from activations (N, F, L) of the one-hot input (N, 4, L): the mean of the input windows
/// [l - window/2, l + window - window/2) over every (n, l) where filter f's activation exceeds the threshold; windows
/// that start at 0 or reach the end of the sequence are skipped (the papers' activation_pwm keeps only
/// 0 < start and end < L). A filter with fewer than two windows gets a uniform matrix. Motif ids are "filter<f>",
/// `sites` the windows found. Throws seqjit::Error if the shapes
/// disagree.
std::vector<Motif> filterMotifs(const HostArray<float> &activations, const HostArray<float> &input,
                                const FilterAlignment &alignment = {});

/// The motifs of the first activation layer of a model with `parameters`, aligned on one-hot `input` (N, 4, L): the
/// model compiled up to that layer (on `threads` threads, 0: all), its activations passed to filterMotifs. Throws
/// seqjit::Error if the model has no activation layer or its output is not (filters, L) positions aligned with the
/// input.
std::vector<Motif> modelFilterMotifs(const Graph &graph, const Parameters &parameters, const HostArray<float> &input,
                                     const FilterAlignment &alignment = {}, int threads = 0);

/// compareMotifs of each filter's informative core (clipToInformativeCore) against `database`, as the papers match
/// filters.
std::vector<std::vector<MotifMatch>> matchFilterCores(const std::vector<Motif> &filters,
                                                      const std::vector<Motif> &database, double eValueThreshold);

/// The motif cut to the rows from `pad` before its first to `pad` after its last row of more than `information`
/// bits (the papers clip filters this way before Tomtom). A motif with no such row is returned whole.
Motif clipToInformativeCore(const Motif &motif, double information = 0.5, int64_t pad = 3);

} // namespace seqjit
