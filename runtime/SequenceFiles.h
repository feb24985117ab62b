// Training data straight from genomics files: FASTA (+ .fai) with a labels TSV, and BED intervals on a reference.
#pragma once

#include "runtime/Dataset.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

// htslib's handle, declared here so that users of this header need not see htslib's headers.
struct faidx_t;

namespace seqjit {

/// What an ambiguous IUPAC letter (N, R, Y, S, W, K, M, B, D, H, V) becomes in the one-hot input.
enum class AmbiguousBases {
  /// All four rows 0, like an N in the papers' HDF5 files.
  Zero,
  /// The bases the letter stands for share 1 equally: N = 0.25 each, R = 0.5 A + 0.5 G, B = 1/3 each of C, G, T.
  Uniform,
};

/// Parses "zero" or "uniform"; anything else throws seqjit::Error naming the accepted values.
AmbiguousBases parseAmbiguousBases(const std::string &name);

namespace detail {
/// Closes a faidx handle (fai_destroy).
struct FaidxCloser {
  void operator()(faidx_t *index) const;
};
} // namespace detail

/// Sequences of one length L from a FASTA file, with their labels from a TSV file, read on demand through the
/// FASTA index (.fai).
///
/// Input (4, L): one-hot rows A, C, G, T. A, C, G, T in either case (lower case is soft-masking) are one-hot; the
/// other IUPAC letters follow `AmbiguousBases`; any other character (including '-', '.', digits and U) is refused.
///
/// Labels TSV: one row per FASTA record, `name<TAB>label1<TAB>label2...` (numbers, at least one, the same count on
/// every row), in any order; lines starting with '#', a first line whose first field is `name`, and blank lines are
/// skipped. Examples come in FASTA order. An empty labels path means unlabeled sequences (for prediction): no tasks,
/// labels of shape (0).
///
/// The FASTA file must be plain text (not compressed) and indexable by htslib: within a record, every line but the
/// last has the same length. Creates `<fasta>.fai` next to it when it is missing (so the directory must then be
/// writable); an existing one must list the same records with the same lengths.
///
/// Only the record names and the labels are held in memory; sequences are fetched in read(). read() may be called
/// from one thread at a time (the index handle holds a file position). Movable, not copyable; a moved-from dataset
/// may only be destroyed or assigned to.
class FastaDataset : public Dataset {
public:
  /// Checks everything up front with one streaming pass over the FASTA file. Throws seqjit::Error naming the file
  /// and the line or record for: a missing file; a file that is not FASTA; a record with no sequence or no name;
  /// a character that is not an IUPAC base (with its line and record); lines of different lengths in a record;
  /// records of different lengths (the first such record's length against the first record's); duplicate
  /// record names; a TSV row with too few or a different number of fields; a label that is not a finite number; a
  /// duplicate TSV name; a record without a labels row, a labels row without a record, or different counts; an
  /// index (.fai) that cannot be built or disagrees with the FASTA file.
  FastaDataset(std::string fastaPath, std::string labelsTsvPath, AmbiguousBases ambiguousBases);
  FastaDataset(FastaDataset &&) = default;
  FastaDataset &operator=(FastaDataset &&) = default;
  FastaDataset(const FastaDataset &) = delete;
  FastaDataset &operator=(const FastaDataset &) = delete;

  int64_t size() const override;
  std::vector<int64_t> inputShape() const override;
  std::vector<int64_t> labelShape() const override;
  /// Fetches the records through the index. Throws seqjit::Error naming the FASTA file for an index out of range
  /// or a record that cannot be fetched or has changed since construction.
  Examples read(std::span<const int64_t> indices) const override;
  /// "'seqs.fa' with labels 'labels.tsv'".
  std::string describe() const override;

  /// The record names in FASTA order (example i is record names()[i]).
  const std::vector<std::string> &names() const { return names_; }

private:
  std::string fastaPath_, labelsPath_;
  AmbiguousBases ambiguousBases_;
  std::vector<std::string> names_;
  int64_t length_ = 0;
  int64_t tasks_ = 0;
  std::vector<float> labels_; // (records, tasks), FASTA order
  std::unique_ptr<faidx_t, detail::FaidxCloser> index_;
};

/// Where a BED file's labels are: in columns 4 and after (training data), or nowhere (intervals to predict: any
/// columns after the third, such as BED6's name, score and strand, are ignored and there are no tasks).
enum class BedLabels { InColumns, None };

/// Equal-length intervals of a BED file, fetched from a reference FASTA on demand, with labels from the BED file.
///
/// BED lines: `chrom<TAB>start<TAB>end<TAB>label1[<TAB>label2...]`, 0-based half-open as in BED; columns 4 and
/// after are numeric labels (not BED's name, score and strand), the same count on every line. Blank lines and lines
/// starting with '#', `track` or `browser` are skipped. Examples come in BED order.
///
/// Bases are encoded as for FastaDataset. The reference (plain or bgzip-compressed FASTA) gets `<reference>.fai`
/// (and `.gzi`) next to it when missing. Its characters are checked only when read() fetches them, since a
/// multi-gigabase genome cannot be validated up front.
///
/// The intervals and labels are held in memory, the reference is not. read() may be called from one thread at a
/// time. Movable, not copyable; a moved-from dataset may only be destroyed or assigned to.
class BedDataset : public Dataset {
public:
  /// Reads the BED file and the reference's index. Throws seqjit::Error naming the BED file and line for: fewer
  /// than 4 columns; a start or end that is not an integer; a negative start; start >= end; a chromosome the
  /// reference lacks (listing a few it has); an interval past the chromosome's end (with its length); a label count
  /// that differs from the first line's; a label that is not a finite number; an interval whose length differs from
  /// the first one's; and for a missing BED file, a BED file without intervals, or a reference that cannot be
  /// opened or indexed (naming the reference).
  BedDataset(std::string bedPath, std::string referenceFastaPath, AmbiguousBases ambiguousBases,
             BedLabels labels = BedLabels::InColumns);
  BedDataset(BedDataset &&) = default;
  BedDataset &operator=(BedDataset &&) = default;
  BedDataset(const BedDataset &) = delete;
  BedDataset &operator=(const BedDataset &) = delete;

  int64_t size() const override;
  std::vector<int64_t> inputShape() const override;
  std::vector<int64_t> labelShape() const override;
  /// Fetches the intervals from the reference. Throws seqjit::Error for an index out of range, a failed fetch, or
  /// a character that is not an IUPAC base, naming the reference, the chromosome, the 0-based position and the BED
  /// line of the interval.
  Examples read(std::span<const int64_t> indices) const override;
  /// "'peaks.bed' on reference 'hg38.fa'".
  std::string describe() const override;
  /// "chr1:100-300": interval `index` as BED coordinates.
  std::string intervalName(int64_t index) const;

private:
  struct Interval {
    int32_t chromosome; // index into chromosomes_
    int64_t start;
    int64_t bedLine;
  };
  std::string bedPath_, referencePath_;
  AmbiguousBases ambiguousBases_;
  std::vector<std::string> chromosomes_;
  std::vector<Interval> intervals_;
  int64_t length_ = 0;
  int64_t tasks_ = 0;
  std::vector<float> labels_; // (intervals, tasks), BED order
  std::unique_ptr<faidx_t, detail::FaidxCloser> index_;
};

/// Opens sequences by extension: `.fa`, `.fasta` or `.fna` with a labels TSV as `companion` (FastaDataset), `.bed`
/// with a reference FASTA as `companion` (BedDataset). Throws seqjit::Error for another extension (listing the
/// accepted ones) or an empty companion (saying what is needed).
std::unique_ptr<Dataset> openSequenceDataset(const std::string &path, const std::string &companion,
                                             AmbiguousBases ambiguousBases);

} // namespace seqjit
