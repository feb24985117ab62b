// Dinucleotide-preserving shuffles of one-hot DNA: the reference sequences of DeepSHAP and integrated gradients.
#pragma once

#include "runtime/HostArray.h"
#include "runtime/Random.h"

#include <cstdint>
#include <vector>

namespace seqjit {

/// Symbols of a one-hot (4, L) column: 0..3 = A, C, G, T, 4 = an all-zero column (N). A column with more than one
/// non-zero or a value other than 0/1 is refused (seqjit::Error naming the position). `oneHot` is row-major
/// (4, length).
std::vector<uint8_t> symbolsOfOneHot(const float *oneHot, int64_t length);

/// Writes the row-major (4, symbols.size()) one-hot of `symbols` to `oneHot`; N (4) becomes an all-zero column.
/// A symbol above 4 is refused (seqjit::Error naming the position).
void oneHotOfSymbols(const std::vector<uint8_t> &symbols, float *oneHot);

/// A uniformly random sequence with exactly the dinucleotide counts of `symbols` and the same first and last
/// symbol (Altschul & Erickson 1985 / Kandel et al. 1996 Euler-path method: a random last-edge arborescence rooted
/// at the last symbol, drawn by Wilson's loop-erased random walk, then the remaining out-edges of each vertex in
/// random order, last edge last, and the walk from the first symbol). N (4) is a fifth symbol like the others.
/// Sequences of length 0, 1 or 2 have only one arrangement and are returned unchanged. Symbols above 4 are refused.
std::vector<uint8_t> dinucleotideShuffle(const std::vector<uint8_t> &symbols, Random &random);

/// `count` shuffles of each sequence of a (N, 4, L) one-hot batch: result (N * count, 4, L), the shuffles of
/// sequence n at rows n*count .. n*count+count-1, shuffle j of sequence n drawn from
/// Random(seed, (firstIndex + n) * count + j), so that a shuffle depends only on (seed, the sequence's index in its
/// dataset, j) and the sequence, never on the other sequences of the batch: a dataset shuffled in batches (give each
/// batch the index of its first sequence) gets the same shuffles as in one piece.
/// A batch that is not (N, 4, L) one-hot (N columns allowed) is refused with seqjit::Error naming the example.
HostArray<float> dinucleotideShuffles(const HostArray<float> &oneHot, int64_t count, uint64_t seed,
                                      int64_t firstIndex = 0);

} // namespace seqjit
