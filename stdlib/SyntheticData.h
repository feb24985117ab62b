// The papers' synthetic motif tasks (Koo & Eddy 2019 Task 1, Koo & Ploenzke 2021 Task 3), with the ground truth
// the interpretability metrics need, and their HDF5 layout.
//
// Both tasks draw uniform random background sequence and embed JASPAR motifs sampled letter by letter from their
// PWMs, on a random strand, at random non-overlapping positions:
// - Task 1 (multi-task): 1 to 5 motifs per sequence (1, 2, 3, 4, 5 with probability 0.50, 0.25, 0.17, 0.05, 0.03,
//   as Koo & Eddy's generator draws them) drawn with replacement from 12 TF motifs; label k is 1 iff motif k is
//   embedded.
// - Task 3 (binary): half the sequences (positives) embed 3 to 5 motifs drawn from 5 core motifs, the other half
//   3 to 5 drawn from 100 background JASPAR motifs (counts uniform) chosen by selectBackgroundMotifs; label 1 for
//   positives.
//
// Reproducibility: sequence i (in generation order, before the split) draws only from Random(seed, base + i), and
// Task 3's positive/negative order only from its own stream, so a sequence does not depend on the others, on the
// thread count or on the order of work; the same seed gives the same bits.
#pragma once

#include "runtime/HostArray.h"
#include "stdlib/Meme.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace seqjit {

/// What a generator may be asked to vary.
struct SyntheticOptions {
  int64_t count = 0;    ///< Number of sequences; 0 = the paper's (30,000 for Task 1, 20,000 for Task 3).
  int64_t length = 200; ///< Sequence length in nucleotides.
  uint64_t seed = 0;
  /// Fractions of the sequences in train / valid / test, taken in generation order (which is already random);
  /// each at least 0, summing to 1. Split sizes round train and valid to the nearest sequence, test takes the rest.
  double trainFraction = 0.7;
  double validFraction = 0.1;
  double testFraction = 0.2;
  /// Called now and then with (sequences done, total) while generating, and once at the end; may be empty.
  std::function<void(int64_t done, int64_t total)> progress;
};

/// One embedded motif instance: a row (sequence, motif, start, strand, width) of the motifs_<split> table.
struct MotifPlacement {
  int64_t sequence = 0; ///< Index of the sequence within its split.
  int64_t motif = 0;    ///< Index into SyntheticData::motifs / motifNames.
  int64_t start = 0;    ///< First position the instance covers (0-based).
  int64_t strand = 1;   ///< +1: sampled from the PWM; -1: from its reverse complement.
  int64_t width = 0;    ///< Positions covered: [start, start + width).
};

/// One of the train / valid / test splits.
struct SyntheticSplit {
  HostArray<float> input;  ///< (N, 4, L) one-hot sequences, rows A C G T.
  HostArray<float> labels; ///< (N, number of labels), each 0 or 1.
  /// (N, 4, L) the generating model: the probability of each base at each position (the PWM column,
  /// reverse-complemented on '-', inside a motif instance; 0.25 elsewhere).
  HostArray<float> model;
  std::vector<MotifPlacement> placements; ///< Every motif instance, ordered by sequence, then start.
};

/// A generated task.
struct SyntheticData {
  std::string task;                             ///< "task1" or "task3".
  std::map<std::string, SyntheticSplit> splits; ///< Keys "train", "valid", "test".
  std::vector<Motif> motifs;                    ///< The motifs that can appear, indexed by MotifPlacement::motif.
  std::vector<std::string> motifNames;          ///< motifs[k].label(): "id name".
  std::vector<std::string> labelNames;          ///< Task 1: the 12 TF names; Task 3: {"positive"}.
};

/// The JASPAR ids of Task 1's 12 motifs, in label order: Arid3a MA0151.1, CEBPB MA0466.2, FOSL1 MA0477.1,
/// Gabpa MA0062.2, MAFK MA0496.1, MAX MA0058.3, MEF2A MA0052.3, NFYB MA0502.1, SP1 MA0079.3, SRF MA0083.3,
/// STAT1 MA0137.3, YY1 MA0095.2.
const std::vector<std::string> &task1MotifIds();
/// The JASPAR ids of Task 3's 5 core motifs: CEBPB MA0466.2, Gabpa MA0062.2, MAX MA0058.3, SP1 MA0079.3,
/// YY1 MA0095.2.
const std::vector<std::string> &task3CoreMotifIds();

/// Task 3 draws negatives from this many background motifs.
constexpr int64_t kTask3BackgroundMotifCount = 100;
/// motifSimilarity aligns motifs over at least this many columns (fewer only if a motif is narrower)...
constexpr int64_t kMinimumMotifOverlap = 6;
/// ...and over all columns of the narrower motif but at most this many, so that a motif is compared as a whole:
/// over short partial overlaps (6 of 12 columns, say) the best of ~40 alignments of unrelated JASPAR motifs often
/// correlates above 0.6 by chance (a tenth of random pairs do), while one column of slack still lets family members
/// whose cores are shifted by one (the ETS motifs against GABPA) align.
constexpr int64_t kMotifOverhang = 1;
/// A motif at least this similar to a core motif is of its family (CEBP/PAR bZIPs, ETS, E-box bHLH, SP/KLF/EGR,
/// YY) and is not a Task 3 background motif: negatives must not carry the positives' signal.
constexpr double kCoreMotifSimilarity = 0.6;
/// Two background motifs at least this similar are near-duplicates; only the first in file order is taken. (Looser
/// than for the core: JASPAR 2016 holds only about 80 motifs that are pairwise below 0.6.)
constexpr double kBackgroundMotifSimilarity = 0.7;

/// How alike two (W, 4) probability matrices are: the maximum, over both strands of `b` and over every offset where
/// the two overlap in at least max(min(kMinimumMotifOverlap, width a, width b), min(width a, width b) -
/// kMotifOverhang) columns, of the mean over the overlapping columns of the Pearson correlation between the aligned
/// columns' 4 probabilities (0 for a column with no variance, i.e. a uniform one). 1 for a motif against itself or
/// its reverse complement; in [-1, 1].
double motifSimilarity(const HostArray<float> &a, const HostArray<float> &b);

/// Task 3's background motifs, independent of any seed: walking `motifs` in file order, take each motif that is
/// not one of `core` (by id), whose similarity to every core motif is below kCoreMotifSimilarity and whose
/// similarity to every motif already taken is below kBackgroundMotifSimilarity, until `count` are taken. Throws
/// seqjit::Error if fewer than `count` qualify.
std::vector<Motif> selectBackgroundMotifs(const std::vector<Motif> &motifs, const std::vector<Motif> &core,
                                          int64_t count = kTask3BackgroundMotifCount);

/// The names (in `database`) of the motifs a model should find: Task 1's 12 ("task1") or Task 3's 5 core motifs
/// ("task3") looked up by id, or else `spec` as a comma-separated list of names. Throws seqjit::Error (from
/// findMotif) if a task's motif is missing from `database`.
std::vector<std::string> groundTruthMotifNames(const std::string &spec, const std::vector<Motif> &database);

/// Koo & Eddy's Task 1 from `motifs` (which must hold the 12 task1MotifIds; normally the JASPAR 2016 file).
/// Throws seqjit::Error for a missing motif, a count below 1, bad fractions, or a length too short for 5
/// non-overlapping instances of the widest motif.
SyntheticData generateTask1(const std::vector<Motif> &motifs, const SyntheticOptions &options);

/// Koo & Ploenzke's Task 3 from `motifs` (the 5 core motifs and at least 100 qualifying background motifs).
/// Positives are count / 2 (rounded down), in an order shuffled by the seed. Errors as generateTask1.
SyntheticData generateTask3(const std::vector<Motif> &motifs, const SyntheticOptions &options);

/// Writes `data` as one HDF5 file: X_<split> float32 (N, 4, L), Y_<split> int8 (N, labels), model_<split> float32
/// (N, 4, L), motifs_<split> int32 (K, 5) rows (sequence, motif, start, strand, width) for split in train, valid,
/// test; and the string lists motif_names and label_names. Atomic. Throws seqjit::Error naming the file on failure.
void writeSyntheticData(const std::string &path, const SyntheticData &data);

} // namespace seqjit
