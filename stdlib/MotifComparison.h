// Motif against motif database, in the manner of Tomtom (Gupta et al. 2007): Pearson correlation of aligned columns
// summed over every offset and both strands, p-values from the exact distribution of such sums under a null of
// independent database columns, E-values and q-values over the database.
#pragma once

#include "stdlib/Meme.h"

#include <cstdint>
#include <string>
#include <vector>

namespace seqjit {

struct MotifComparisonOptions {
  int64_t minOverlap = 1;       ///< Fewest aligned columns an offset may have (Tomtom's default).
  double eValueThreshold = 0.1; ///< Matches above this E-value are not reported (the papers' threshold).
};

/// One target motif's best alignment with a query.
struct MotifMatch {
  int64_t target = 0;   ///< Index into the database.
  int64_t offset = 0;   ///< Target column aligned with query column 0 (negative: the target starts before it).
  bool reverse = false; ///< The target's reverse complement is aligned.
  int64_t overlap = 0;  ///< Aligned columns.
  double score = 0;     ///< Sum of the aligned columns' Pearson correlations.
  double pValue = 1;    ///< Of the best offset, corrected for the number of offsets and strands tried.
  double eValue = 1;    ///< pValue times the database size.
  double qValue = 1;    ///< Benjamini-Hochberg over the database, per query.
};

/// Column scores are discretised to this resolution; the p-values are exact for the discretised scores.
inline constexpr double kColumnScoreResolution = 1.0 / 40;

/// For each query, the database motifs with E-value <= options.eValueThreshold, best (lowest p-value) first.
/// The null distribution of a query column's score is its score against every column of the database on both
/// strands; an alignment's p-value is the chance that independent draws for its aligned query columns sum at least
/// as high. Throws seqjit::Error for a motif that is not (W, 4) or an empty database.
std::vector<std::vector<MotifMatch>> compareMotifs(const std::vector<Motif> &queries,
                                                   const std::vector<Motif> &database,
                                                   const MotifComparisonOptions &options = {});

/// Pearson correlation of two 4-vectors; 0 where either is constant (a uniform column correlates with nothing).
double columnCorrelation(const float *a, const float *b);

/// The fraction of `matches` (one list per filter) whose list contains a database motif named (case-insensitively)
/// in `names`: the papers' fraction of filters matching ground-truth motifs.
double fractionMatching(const std::vector<std::vector<MotifMatch>> &matches, const std::vector<Motif> &database,
                        const std::vector<std::string> &names);

} // namespace seqjit
