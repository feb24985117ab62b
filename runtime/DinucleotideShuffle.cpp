// Dinucleotide-preserving shuffles by a random Eulerian path through the dinucleotide graph.
#include "runtime/DinucleotideShuffle.h"

#include "dsl/Error.h"
#include "dsl/ShapeFunctions.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <utility>

namespace seqjit {

namespace {
constexpr int kSymbols = 5; // A, C, G, T, N.
} // namespace

std::vector<uint8_t> symbolsOfOneHot(const float *oneHot, int64_t length) {
  std::vector<uint8_t> symbols(length, 4);
  for (int64_t position = 0; position < length; ++position) {
    int nonZeros = 0;
    for (int channel = 0; channel < 4; ++channel) {
      float value = oneHot[channel * length + position];
      if (value != 0.0f && value != 1.0f)
        throw Error(fmt::format("position {}: one-hot column has value {} in row {}; expected only 0s and 1s", position,
                                value, "ACGT"[channel]));
      if (value == 1.0f) {
        symbols[position] = static_cast<uint8_t>(channel);
        ++nonZeros;
      }
    }
    if (nonZeros > 1)
      throw Error(
          fmt::format("position {}: one-hot column has {} ones; expected one, or none for N", position, nonZeros));
  }
  return symbols;
}

void oneHotOfSymbols(const std::vector<uint8_t> &symbols, float *oneHot) {
  const int64_t length = static_cast<int64_t>(symbols.size());
  std::fill(oneHot, oneHot + 4 * length, 0.0f);
  for (int64_t position = 0; position < length; ++position) {
    if (symbols[position] >= kSymbols)
      throw Error(
          fmt::format("position {}: symbol {} is not one of 0..4 (A, C, G, T, N)", position, int(symbols[position])));
    if (symbols[position] < 4)
      oneHot[symbols[position] * length + position] = 1.0f;
  }
}

std::vector<uint8_t> dinucleotideShuffle(const std::vector<uint8_t> &symbols, Random &random) {
  const size_t length = symbols.size();
  for (size_t position = 0; position < length; ++position)
    if (symbols[position] >= kSymbols)
      throw Error(
          fmt::format("position {}: symbol {} is not one of 0..4 (A, C, G, T, N)", position, int(symbols[position])));
  if (length <= 2)
    return symbols;

  // The multigraph: one edge u -> v per dinucleotide uv. Every vertex with an in-edge is the root (the last symbol)
  // or has an out-edge, and every vertex reaches the root along the sequence itself.
  std::array<std::array<int64_t, kSymbols>, kSymbols> edges{};
  std::array<int64_t, kSymbols> outDegree{};
  for (size_t i = 0; i + 1 < length; ++i) {
    ++edges[symbols[i]][symbols[i + 1]];
    ++outDegree[symbols[i]];
  }
  // Moves along an out-edge of u drawn uniformly among its edges (so v with probability edges[u][v] / outDegree[u]).
  auto randomSuccessor = [&](int u) {
    int64_t k = static_cast<int64_t>(random.uniformInt(static_cast<uint64_t>(outDegree[u])));
    int v = 0;
    while (k >= edges[u][v])
      k -= edges[u][v++];
    return v;
  };

  // The last-edge arborescence toward the root by Wilson's algorithm: a random walk from each vertex not yet in
  // the tree until it hits the tree, keeping only each vertex's latest exit (the loop erasure), then adding the
  // loop-erased path. The tree T has probability proportional to the product of edges[u][last[u]], i.e. it is
  // uniform over arborescences of labelled edges, as the BEST theorem's bijection with Euler paths needs.
  const int root = symbols[length - 1];
  std::array<int, kSymbols> last{};
  std::array<bool, kSymbols> inTree{};
  inTree[root] = true;
  for (int start = 0; start < kSymbols; ++start) {
    if (outDegree[start] == 0)
      continue;
    for (int u = start; !inTree[u]; u = last[u])
      last[u] = randomSuccessor(u);
    for (int u = start; !inTree[u]; u = last[u])
      inTree[u] = true;
  }

  // Each vertex's out-edges in uniformly random order, its last edge (if it has one) kept for last.
  std::array<std::vector<uint8_t>, kSymbols> exits;
  for (int u = 0; u < kSymbols; ++u) {
    for (int v = 0; v < kSymbols; ++v)
      exits[u].insert(exits[u].end(), edges[u][v] - (u != root && outDegree[u] > 0 && v == last[u]), uint8_t(v));
    for (size_t i = exits[u].size(); i > 1; --i) // Fisher-Yates.
      std::swap(exits[u][i - 1], exits[u][random.uniformInt(i)]);
    if (u != root && outDegree[u] > 0)
      exits[u].push_back(static_cast<uint8_t>(last[u]));
  }

  // The walk from the first symbol uses every edge exactly once (the last edges make it an Euler path).
  std::vector<uint8_t> shuffled{symbols[0]};
  shuffled.reserve(length);
  std::array<size_t, kSymbols> used{};
  for (int u = symbols[0]; used[u] < exits[u].size();) {
    u = exits[u][used[u]++];
    shuffled.push_back(static_cast<uint8_t>(u));
  }
  assert(shuffled.size() == length && shuffled.back() == root && "the walk is an Euler path");
  return shuffled;
}

HostArray<float> dinucleotideShuffles(const HostArray<float> &oneHot, int64_t count, uint64_t seed,
                                      int64_t firstIndex) {
  if (oneHot.rank() != 3 || oneHot.shape[1] != 4 || oneHot.size() != HostArray<float>::elementCount(oneHot.shape))
    throw Error(fmt::format("dinucleotide shuffle: input has shape {}; expected (N, 4, L) one-hot DNA",
                            shapeToString(oneHot.shape)));
  if (count < 0)
    throw Error(fmt::format("dinucleotide shuffle: count {} is negative", count));
  const int64_t examples = oneHot.shape[0];
  const int64_t length = oneHot.shape[2];
  HostArray<float> result({examples * count, 4, length});
  for (int64_t n = 0; n < examples; ++n) {
    std::vector<uint8_t> symbols;
    try {
      symbols = symbolsOfOneHot(oneHot.data.data() + n * 4 * length, length);
    } catch (const Error &error) {
      throw Error(fmt::format("dinucleotide shuffle: example {}, {}", n, error.what()));
    }
    for (int64_t j = 0; j < count; ++j) {
      Random random(seed, static_cast<uint64_t>((firstIndex + n) * count + j));
      oneHotOfSymbols(dinucleotideShuffle(symbols, random), result.data.data() + (n * count + j) * 4 * length);
    }
  }
  return result;
}

} // namespace seqjit
