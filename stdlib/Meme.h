// Motifs as MEME text (the format of JASPAR's vertebrate collection and of MEME/Tomtom): reading and writing.
#pragma once

#include "runtime/HostArray.h"

#include <cstdint>
#include <string>
#include <vector>

namespace seqjit {

/// One DNA motif: a position probability matrix with its MEME identifier and alternate name.
struct Motif {
  std::string id;                 ///< The identifier after MOTIF, e.g. "MA0002.2".
  std::string name;               ///< The alternate name after the identifier, e.g. "RUNX1"; may be empty.
  HostArray<float> probabilities; ///< (width, 4), columns A C G T; every row sums to 1.
  int64_t sites = 0;              ///< nsites= of the matrix header (how many sites it was built from); 0 if absent.

  /// Number of positions (rows of `probabilities`).
  int64_t width() const { return probabilities.shape.empty() ? 0 : probabilities.shape[0]; }
  /// "id name" (or just "id" when the motif has no name): how motifs are listed in data files and messages.
  std::string label() const { return name.empty() ? id : id + " " + name; }
};

/// Reads every motif of a MEME text file (version line, "ALPHABET= ACGT", "MOTIF id [name]",
/// "letter-probability matrix: alength= 4 w= W ..." and W rows of 4 probabilities), in file order. URL lines,
/// strand and background lines, and log-odds matrices are skipped. Rows that sum to 1 within 0.01 are
/// normalised to sum to exactly 1 (JASPAR's six decimals do not always add up). Throws seqjit::Error naming the
/// file and line for: a missing file, a file that is not MEME text, an alphabet other than ACGT, alength other
/// than 4, a row with the wrong number of values, a non-numeric or negative value, fewer rows than w, a row whose
/// sum is off by more than 0.01, and a file with no motifs.
std::vector<Motif> readMemeFile(const std::string &path);

/// Writes `motifs` as MEME version 4 text that readMemeFile reads back (probabilities with six decimals, so a
/// round trip changes a value by at most 5e-7 before renormalisation). Atomic: readers see the old file or the
/// complete new one. Throws seqjit::Error naming `path` if it cannot be written, or a motif that is not (W, 4).
void writeMemeFile(const std::string &path, const std::vector<Motif> &motifs);

/// The motif whose id, or failing that whose name, equals `idOrName` (the first in file order). Throws
/// seqjit::Error listing a few of the available motifs (those resembling `idOrName` if any) if there is none.
const Motif &findMotif(const std::vector<Motif> &motifs, const std::string &idOrName);

/// The motif's letters: upper case where one base has probability >= 0.5, else 'n'.
std::string consensus(const Motif &motif);

/// The reverse complement of a (W, 4) A C G T probability matrix: row j is row W-1-j with A<->T and C<->G
/// swapped, i.e. the motif as read on the opposite strand.
HostArray<float> reverseComplementMatrix(const HostArray<float> &probabilities);

} // namespace seqjit
