// Tests of the FASTA + labels TSV and BED + reference readers: one-hot values, ordering, indexing, and every error.
#include "runtime/SequenceFiles.h"

#include "ExpectError.h"
#include "dsl/Error.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace seqjit;
using seqjit::testing::expectError;

namespace {

/// A fresh directory under GoogleTest's temp directory, removed at the end of the test.
class TempFiles {
public:
  TempFiles() {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ =
        std::filesystem::path(::testing::TempDir()) / ("seqjit_sequence_files_" + std::string(info->test_suite_name()) +
                                                       "_" + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempFiles() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  /// Writes `content` to `name` in the directory and returns its path.
  std::string write(const std::string &name, const std::string &content) const {
    std::string file = path(name);
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }
  std::string path(const std::string &name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

using Column = std::array<float, 4>;

/// Column (A, C, G, T) at `position` of example `example`.
Column column(const Examples &examples, int64_t example, int64_t position) {
  const int64_t length = examples.input.shape[2];
  Column values;
  for (int channel = 0; channel < 4; ++channel)
    values[channel] = examples.input.data[(example * 4 + channel) * length + position];
  return values;
}

/// Example `example` as upper-case bases, '?' where a column is not exactly one-hot.
std::string decode(const Examples &examples, int64_t example) {
  std::string bases;
  for (int64_t position = 0; position < examples.input.shape[2]; ++position) {
    Column values = column(examples, example, position);
    char base = '?';
    int ones = 0, zeros = 0;
    for (int channel = 0; channel < 4; ++channel) {
      ones += values[channel] == 1.0f;
      zeros += values[channel] == 0.0f;
      if (values[channel] == 1.0f)
        base = "ACGT"[channel];
    }
    bases += ones == 1 && zeros == 3 ? base : '?';
  }
  return bases;
}

std::vector<float> labelsOf(const Examples &examples, int64_t example) {
  const int64_t tasks = examples.labels.shape[1];
  return {examples.labels.data.begin() + example * tasks, examples.labels.data.begin() + (example + 1) * tasks};
}

// Three records of 8 bases over two lines each: soft-masked (lower-case) bases, N, R.
const char *const kFasta = ">seq1 first record\n"
                           "ACGT\n"
                           "acgN\n"
                           ">seq2\n"
                           "NNRA\n"
                           "CGTa\n"
                           ">seq3\n"
                           "GGGG\n"
                           "TTTT\n";
// Rows in another order than the FASTA records, after a header.
const char *const kLabels = "name\tbound\tscore\n"
                            "seq3\t0\t2.5\n"
                            "seq1\t1\t-1\n"
                            "seq2\t0\t0.25\n";

const Column kA = {1, 0, 0, 0}, kC = {0, 1, 0, 0}, kG = {0, 0, 1, 0}, kT = {0, 0, 0, 1}, kZero = {0, 0, 0, 0};

} // namespace

TEST(AmbiguousBases, ParsesTheTwoNamesAndRefusesOthers) {
  EXPECT_EQ(parseAmbiguousBases("zero"), AmbiguousBases::Zero);
  EXPECT_EQ(parseAmbiguousBases("uniform"), AmbiguousBases::Uniform);
  expectError([] { parseAmbiguousBases("random"); }, {"'random'", "zero", "uniform"});
}

TEST(FastaDataset, EncodesBasesSoftMaskingAndNAsZeros) {
  TempFiles files;
  FastaDataset data(files.write("s.fa", kFasta), files.write("l.tsv", kLabels), AmbiguousBases::Zero);
  EXPECT_EQ(data.size(), 3);
  EXPECT_EQ(data.inputShape(), (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(data.labelShape(), (std::vector<int64_t>{2}));
  EXPECT_EQ(data.names(), (std::vector<std::string>{"seq1", "seq2", "seq3"}));
  std::vector<int64_t> all = {0, 1, 2};
  Examples examples = data.read(all);
  ASSERT_EQ(examples.input.shape, (std::vector<int64_t>{3, 4, 8}));
  ASSERT_EQ(examples.labels.shape, (std::vector<int64_t>{3, 2}));
  // seq1 = ACGT acgN
  std::vector<Column> seq1 = {kA, kC, kG, kT, kA, kC, kG, kZero};
  for (int p = 0; p < 8; ++p)
    EXPECT_EQ(column(examples, 0, p), seq1[p]) << "seq1 position " << p;
  // seq2 = NNRA CGTa: N and R are all zero with AmbiguousBases::Zero.
  std::vector<Column> seq2 = {kZero, kZero, kZero, kA, kC, kG, kT, kA};
  for (int p = 0; p < 8; ++p)
    EXPECT_EQ(column(examples, 1, p), seq2[p]) << "seq2 position " << p;
  EXPECT_EQ(decode(examples, 2), "GGGGTTTT");
  // Labels follow the FASTA order, not the TSV's.
  EXPECT_EQ(labelsOf(examples, 0), (std::vector<float>{1, -1}));
  EXPECT_EQ(labelsOf(examples, 1), (std::vector<float>{0, 0.25f}));
  EXPECT_EQ(labelsOf(examples, 2), (std::vector<float>{0, 2.5f}));
  const std::string fasta = files.path("s.fa"), labels = files.path("l.tsv");
  EXPECT_EQ(data.describe(), "'" + fasta + "' with labels '" + labels + "'");
}

TEST(FastaDataset, SpreadsAmbiguousBasesUniformly) {
  TempFiles files;
  std::string fasta = files.write("u.fa", ">x\nNRYSWKMBDHVnrb\n");
  FastaDataset data(fasta, files.write("u.tsv", "x\t1\n"), AmbiguousBases::Uniform);
  std::vector<int64_t> first = {0};
  Examples examples = data.read(first);
  const float third = 1.0f / 3.0f;
  std::vector<Column> expected = {
      {0.25f, 0.25f, 0.25f, 0.25f}, // N
      {0.5f, 0, 0.5f, 0},           // R = A/G
      {0, 0.5f, 0, 0.5f},           // Y = C/T
      {0, 0.5f, 0.5f, 0},           // S = C/G
      {0.5f, 0, 0, 0.5f},           // W = A/T
      {0, 0, 0.5f, 0.5f},           // K = G/T
      {0.5f, 0.5f, 0, 0},           // M = A/C
      {0, third, third, third},     // B = C/G/T
      {third, 0, third, third},     // D = A/G/T
      {third, third, 0, third},     // H = A/C/T
      {third, third, third, 0},     // V = A/C/G
      {0.25f, 0.25f, 0.25f, 0.25f}, // n
      {0.5f, 0, 0.5f, 0},           // r
      {0, third, third, third},     // b
  };
  for (size_t p = 0; p < expected.size(); ++p)
    EXPECT_EQ(column(examples, 0, static_cast<int64_t>(p)), expected[p]) << "position " << p;
}

TEST(FastaDataset, LabelsDoNotDependOnTheTsvOrder) {
  TempFiles files;
  std::string fasta = files.write("s.fa", kFasta);
  FastaDataset shuffled(fasta, files.write("a.tsv", kLabels), AmbiguousBases::Zero);
  FastaDataset ordered(fasta, files.write("b.tsv", "# comment\nseq1\t1\t-1\nseq2\t0\t0.25\n\nseq3\t0\t2.5\n"),
                       AmbiguousBases::Zero);
  std::vector<int64_t> all = {0, 1, 2};
  EXPECT_EQ(shuffled.read(all).labels.data, ordered.read(all).labels.data);
  EXPECT_EQ(ordered.read(all).labels.data, (std::vector<float>{1, -1, 0, 0.25f, 0, 2.5f}));
}

TEST(FastaDataset, ReadsShuffledAndRepeatedIndices) {
  TempFiles files;
  FastaDataset data(files.write("s.fa", ">p\nACGTAC\n>q\nGGGCCC\n>r\nttaacc\n"),
                    files.write("l.tsv", "r\t3\nq\t2\np\t1\n"), AmbiguousBases::Zero);
  std::vector<int64_t> indices = {2, 0, 2, 1, 0};
  Examples examples = data.read(indices);
  ASSERT_EQ(examples.input.shape, (std::vector<int64_t>{5, 4, 6}));
  const char *expectedBases[] = {"TTAACC", "ACGTAC", "TTAACC", "GGGCCC", "ACGTAC"};
  const float expectedLabels[] = {3, 1, 3, 2, 1};
  for (int b = 0; b < 5; ++b) {
    EXPECT_EQ(decode(examples, b), expectedBases[b]) << "example " << b;
    EXPECT_EQ(labelsOf(examples, b), (std::vector<float>{expectedLabels[b]})) << "example " << b;
  }
  std::vector<int64_t> none;
  EXPECT_EQ(data.read(none).input.shape, (std::vector<int64_t>{0, 4, 6}));
}

TEST(FastaDataset, RefusesIndicesOutOfRange) {
  TempFiles files;
  FastaDataset data(files.write("s.fa", kFasta), files.write("l.tsv", kLabels), AmbiguousBases::Zero);
  std::vector<int64_t> indices = {0, 3};
  expectError([&] { data.read(indices); }, {files.path("s.fa"), "example 3", "3 examples"});
  std::vector<int64_t> negative = {-1};
  expectError([&] { data.read(negative); }, {files.path("s.fa"), "example -1"});
}

TEST(FastaDataset, BuildsTheIndexWhenMissingAndReusesIt) {
  TempFiles files;
  std::string fasta = files.write("s.fa", kFasta);
  std::string labels = files.write("l.tsv", kLabels);
  ASSERT_FALSE(std::filesystem::exists(fasta + ".fai"));
  { FastaDataset data(fasta, labels, AmbiguousBases::Zero); }
  ASSERT_TRUE(std::filesystem::exists(fasta + ".fai"));
  // name, length, offset of the first base, bases per line, bytes per line; offsets counted by hand from kFasta.
  std::ifstream index(fasta + ".fai");
  std::string content((std::istreambuf_iterator<char>(index)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "seq1\t8\t19\t4\t5\nseq2\t8\t35\t4\t5\nseq3\t8\t51\t4\t5\n");
  FastaDataset again(fasta, labels, AmbiguousBases::Zero);
  std::vector<int64_t> last = {2};
  EXPECT_EQ(decode(again.read(last), 0), "GGGGTTTT");
}

TEST(FastaDataset, RefusesAnIndexThatNoLongerMatches) {
  TempFiles files;
  std::string fasta = files.write("s.fa", ">a\nACGT\nACGT\n>b\nTTTT\nGGGG\n");
  std::string labels = files.write("l.tsv", "a\t1\nb\t0\n");
  { FastaDataset data(fasta, labels, AmbiguousBases::Zero); }
  // Same names and lengths, other line widths: the old index would fetch the wrong bytes.
  files.write("s.fa", ">a\nACGTACGT\n>b\nTTTTGGGG\n");
  expectError([&] { FastaDataset(fasta, labels, AmbiguousBases::Zero); },
              {fasta + ".fai", fasta, "record 'a'", "out of date"});
  files.write("s.fa", ">a\nACGT\nACGT\n>c\nTTTT\nGGGG\n");
  expectError([&] { FastaDataset(fasta, files.write("m.tsv", "a\t1\nc\t0\n"), AmbiguousBases::Zero); },
              {fasta + ".fai", "'b'", "'c'", "out of date"});
}

TEST(FastaDataset, ReadsWindowsLineEndings) {
  TempFiles files;
  std::string fasta = files.write("w.fa", ">a x\r\nACGT\r\nAC\r\n>b\r\nGGGG\r\nTT\r\n");
  std::string labels = files.write("w.tsv", "name\tlabel\r\nb\t2\r\na\t1\r\n");
  for (int open = 0; open < 2; ++open) { // the second time through the index built the first time
    FastaDataset data(fasta, labels, AmbiguousBases::Zero);
    std::vector<int64_t> both = {1, 0};
    Examples examples = data.read(both);
    EXPECT_EQ(decode(examples, 0), "GGGGTT");
    EXPECT_EQ(decode(examples, 1), "ACGTAC");
    EXPECT_EQ(examples.labels.data, (std::vector<float>{2, 1}));
  }
}

TEST(FastaDataset, IsMovable) {
  TempFiles files;
  FastaDataset data(files.write("s.fa", kFasta), files.write("l.tsv", kLabels), AmbiguousBases::Zero);
  FastaDataset moved(std::move(data));
  std::vector<int64_t> second = {1};
  EXPECT_EQ(labelsOf(moved.read(second), 0), (std::vector<float>{0, 0.25f}));
}

// --- FASTA errors ---------------------------------------------------------------------------------------------

TEST(FastaDatasetErrors, MissingFiles) {
  TempFiles files;
  std::string labels = files.write("l.tsv", kLabels);
  expectError([&] { FastaDataset(files.path("absent.fa"), labels, AmbiguousBases::Zero); },
              {files.path("absent.fa"), "does not exist"});
  std::string fasta = files.write("s.fa", kFasta);
  expectError([&] { FastaDataset(fasta, files.path("absent.tsv"), AmbiguousBases::Zero); },
              {files.path("absent.tsv"), "does not exist"});
}

TEST(FastaDatasetErrors, NotAFasta) {
  TempFiles files;
  std::string labels = files.write("l.tsv", "a\t1\n");
  std::string fasta = files.write("s.fa", "\n\nACGT\n>a\nACGT\n");
  expectError([&] { FastaDataset(fasta, labels, AmbiguousBases::Zero); }, {fasta, "line 3", "not a FASTA"});
  std::string empty = files.write("e.fa", "\n");
  expectError([&] { FastaDataset(empty, labels, AmbiguousBases::Zero); }, {empty, "not a FASTA", "no record"});
  std::string gzip = files.write("g.fa", std::string("\x1f\x8b\x08\x00", 4));
  expectError([&] { FastaDataset(gzip, labels, AmbiguousBases::Zero); }, {gzip, "gzip"});
}

TEST(FastaDatasetErrors, EmptySequence) {
  TempFiles files;
  std::string labels = files.write("l.tsv", "a\t1\nb\t0\n");
  std::string middle = files.write("m.fa", ">a\n>b\nACGT\n");
  expectError([&] { FastaDataset(middle, labels, AmbiguousBases::Zero); }, {middle, "line 1", "'a'", "no sequence"});
  std::string last = files.write("z.fa", ">a\nACGT\n>b\n\n");
  expectError([&] { FastaDataset(last, labels, AmbiguousBases::Zero); }, {last, "line 3", "'b'", "no sequence"});
  std::string nameless = files.write("n.fa", ">a\nACGT\n> \nACGT\n");
  expectError([&] { FastaDataset(nameless, labels, AmbiguousBases::Zero); }, {nameless, "line 3", "no name"});
}

TEST(FastaDatasetErrors, BadCharacter) {
  TempFiles files;
  std::string labels = files.write("l.tsv", "a\t1\nb\t0\n");
  struct Case {
    std::string sequence; // the second line of record b (line 5)
    std::string shown;
  };
  for (const Case &c : {Case{"AC-T", "'-'"}, Case{"AC.T", "'.'"}, Case{"AC1T", "'1'"}, Case{"ACUT", "'U'"},
                        Case{"ACXT", "'X'"}, Case{"AC T", "a space"}}) {
    std::string fasta = files.write("s.fa", ">a\nACGTACGT\n>b\nACGT\n" + c.sequence + "\n");
    expectError([&] { FastaDataset(fasta, labels, AmbiguousBases::Uniform); },
                {fasta, "line 5", "column 3", "record 'b'", c.shown, "not a DNA base"});
  }
  EXPECT_FALSE(std::filesystem::exists(files.path("s.fa.fai"))) << "no index is built for a refused file";
}

TEST(FastaDatasetErrors, RaggedLengths) {
  TempFiles files;
  std::string fasta = files.write("s.fa", ">a\nACGT\n>b\nACGT\n>c\nACGT\nA\n>d\nA\n");
  std::string labels = files.write("l.tsv", "a\t1\nb\t1\nc\t1\nd\t1\n");
  expectError([&] { FastaDataset(fasta, labels, AmbiguousBases::Zero); },
              {fasta, "line 5", "record 'c'", "5 bases", "first record 'a' is 4"});
}

TEST(FastaDatasetErrors, LinesOfDifferentLengthsWithinARecord) {
  TempFiles files;
  std::string labels = files.write("l.tsv", "a\t1\n");
  std::string longer = files.write("s.fa", ">a\nACG\nACGT\n");
  expectError([&] { FastaDataset(longer, labels, AmbiguousBases::Zero); },
              {longer, "line 3", "record 'a'", "4 bases", "same length"});
  std::string shortInMiddle = files.write("t.fa", ">a\nACGT\nAC\nACGT\n");
  expectError([&] { FastaDataset(shortInMiddle, labels, AmbiguousBases::Zero); },
              {shortInMiddle, "line 4", "record 'a'", "line 3", "same length"});
  std::string blank = files.write("u.fa", ">a\nACGT\n\nACGT\n");
  expectError([&] { FastaDataset(blank, labels, AmbiguousBases::Zero); },
              {blank, "line 4", "record 'a'", "blank line 3"});
}

TEST(FastaDatasetErrors, DuplicateRecordNames) {
  TempFiles files;
  std::string fasta = files.write("s.fa", ">a\nACGT\n>b\nACGT\n>a second\nACGT\n");
  expectError([&] { FastaDataset(fasta, files.write("l.tsv", "a\t1\nb\t1\n"), AmbiguousBases::Zero); },
              {fasta, "line 5", "'a'", "line 1", "unique"});
}

TEST(FastaDatasetErrors, TsvRowWithTheWrongNumberOfFields) {
  TempFiles files;
  std::string fasta = files.write("s.fa", ">a\nACGT\n>b\nACGT\n");
  std::string single = files.write("one.tsv", "a\t1\nb\n");
  expectError([&] { FastaDataset(fasta, single, AmbiguousBases::Zero); }, {single, "line 2", "1 field"});
  std::string uneven = files.write("two.tsv", "name\tx\ty\na\t1\t2\nb\t1\n");
  expectError([&] { FastaDataset(fasta, uneven, AmbiguousBases::Zero); },
              {uneven, "line 3", "2 fields", "line 2 has 3"});
}

TEST(FastaDatasetErrors, NonNumericLabel) {
  TempFiles files;
  std::string fasta = files.write("s.fa", ">a\nACGT\n>b\nACGT\n");
  std::string word = files.write("w.tsv", "a\t1\t0\nb\t0\tabc\n");
  expectError([&] { FastaDataset(fasta, word, AmbiguousBases::Zero); }, {word, "line 2", "field 3", "'abc'", "'b'"});
  std::string nan = files.write("n.tsv", "a\tnan\nb\t0\n");
  expectError([&] { FastaDataset(fasta, nan, AmbiguousBases::Zero); }, {nan, "line 1", "field 2", "'nan'"});
  std::string suffix = files.write("s.tsv", "a\t1\nb\t2x\n");
  expectError([&] { FastaDataset(fasta, suffix, AmbiguousBases::Zero); }, {suffix, "line 2", "'2x'"});
}

TEST(FastaDatasetErrors, DuplicateLabelsRow) {
  TempFiles files;
  std::string fasta = files.write("s.fa", ">a\nACGT\n>b\nACGT\n");
  std::string labels = files.write("l.tsv", "a\t1\nb\t0\na\t1\n");
  expectError([&] { FastaDataset(fasta, labels, AmbiguousBases::Zero); }, {labels, "line 3", "'a'", "line 1"});
}

TEST(FastaDatasetErrors, RecordWithoutLabelsRow) {
  TempFiles files;
  std::string fasta = files.write("s.fa", ">a\nACGT\n>b\nACGT\n");
  std::string labels = files.write("l.tsv", "a\t1\nx\t0\n");
  expectError([&] { FastaDataset(fasta, labels, AmbiguousBases::Zero); },
              {fasta, "line 3", "record 'b' has no row", labels});
}

TEST(FastaDatasetErrors, LabelsRowWithoutRecord) {
  TempFiles files;
  std::string fasta = files.write("s.fa", ">a\nACGT\n>b\nACGT\n");
  std::string labels = files.write("l.tsv", "a\t1\nb\t0\nc\t1\n");
  expectError([&] { FastaDataset(fasta, labels, AmbiguousBases::Zero); },
              {labels, "line 3", "labels row 'c' has no record", fasta});
}

TEST(FastaDatasetErrors, CountMismatch) {
  TempFiles files;
  std::string fasta = files.write("s.fa", ">a\nACGT\n>b\nACGT\n>c\nACGT\n");
  std::string labels = files.write("l.tsv", "c\t1\na\t0\n");
  expectError([&] { FastaDataset(fasta, labels, AmbiguousBases::Zero); },
              {fasta, "3 records", labels, "2 labels rows", "record 'b'", "line 3"});
}

// --- BED ------------------------------------------------------------------------------------------------------

namespace {

// chr1 (25 bases) = ACGTACGTAC GGCCTTAAGG ACGTA; chr2 (16 bases) = ttttGGGGCC CCAAAA.
const char *const kReference = ">chr1 first\n"
                               "ACGTACGTAC\n"
                               "GGCCTTAAGG\n"
                               "ACGTA\n"
                               ">chr2\n"
                               "ttttGGGGCC\n"
                               "CCAAAA\n";

} // namespace

TEST(BedDataset, FetchesIntervalsFromTheReference) {
  TempFiles files;
  std::string reference = files.write("ref.fa", kReference);
  std::string bed = files.write("peaks.bed", "track name=peaks\n"
                                             "# comment\n"
                                             "chr1\t0\t5\t1\t0.5\n"
                                             "browser position chr1\n"
                                             "\n"
                                             "chr1\t8\t13\t0\t1.5\n"
                                             "chr2\t11\t16\t1\t2\n"
                                             "chr1\t20\t25\t0\t0\n"
                                             "chr2\t2\t7\t1\t-3\n");
  ASSERT_FALSE(std::filesystem::exists(reference + ".fai"));
  BedDataset data(bed, reference, AmbiguousBases::Zero);
  EXPECT_TRUE(std::filesystem::exists(reference + ".fai"));
  EXPECT_EQ(data.size(), 5);
  EXPECT_EQ(data.inputShape(), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(data.labelShape(), (std::vector<int64_t>{2}));
  std::vector<int64_t> indices = {0, 1, 2, 3, 4, 2};
  Examples examples = data.read(indices);
  // Substrings of the reference written out by hand: across a line break, at the end of both chromosomes, and
  // soft-masked.
  const char *expected[] = {"ACGTA", "ACGGC", "CAAAA", "ACGTA", "TTGGG", "CAAAA"};
  for (int b = 0; b < 6; ++b)
    EXPECT_EQ(decode(examples, b), expected[b]) << "example " << b;
  EXPECT_EQ(labelsOf(examples, 0), (std::vector<float>{1, 0.5f}));
  EXPECT_EQ(labelsOf(examples, 1), (std::vector<float>{0, 1.5f}));
  EXPECT_EQ(labelsOf(examples, 4), (std::vector<float>{1, -3}));
  EXPECT_EQ(labelsOf(examples, 5), (std::vector<float>{1, 2}));
  EXPECT_EQ(data.describe(), "'" + bed + "' on reference '" + reference + "'");
}

TEST(BedDataset, UnlabeledIntervalsIgnoreExtraColumnsAndAreNamed) {
  TempFiles files;
  std::string reference = files.write("ref.fa", kReference);
  std::string bed = files.write("regions.bed", "chr1\t0\t5\n"
                                               "chr2\t11\t16\tpeak7\t500\t+\n");
  BedDataset data(bed, reference, AmbiguousBases::Zero, BedLabels::None);
  EXPECT_EQ(data.size(), 2);
  EXPECT_EQ(data.labelShape(), (std::vector<int64_t>{0}));
  std::vector<int64_t> indices = {1, 0};
  Examples examples = data.read(indices);
  EXPECT_EQ(decode(examples, 0), "CAAAA");
  EXPECT_EQ(decode(examples, 1), "ACGTA");
  EXPECT_EQ(data.intervalName(1), "chr2:11-16");
  // The same file as training data: BED6's name column is not a label.
  expectError([&] { BedDataset(bed, reference, AmbiguousBases::Zero); }, {"regions.bed", "line 1"});
}

TEST(FastaDataset, UnlabeledSequencesHaveNoTasks) {
  TempFiles files;
  std::string fasta = files.write("u.fa", ">a\nACGT\n>b\nTTTT\n");
  FastaDataset data(fasta, "", AmbiguousBases::Zero);
  EXPECT_EQ(data.labelShape(), (std::vector<int64_t>{0}));
  EXPECT_EQ(data.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(data.describe(), "'" + fasta + "' (unlabeled)");
  std::vector<int64_t> indices = {1};
  EXPECT_EQ(decode(data.read(indices), 0), "TTTT");
}

TEST(BedDataset, EncodesAmbiguousReferenceBases) {
  TempFiles files;
  std::string reference = files.write("ref.fa", ">c\nACNNRT\n");
  std::string bed = files.write("a.bed", "c\t1\t5\t1\n");
  std::vector<int64_t> first = {0};
  Examples zero = BedDataset(bed, reference, AmbiguousBases::Zero).read(first);
  Examples uniform = BedDataset(bed, reference, AmbiguousBases::Uniform).read(first);
  std::vector<Column> expectedZero = {kC, kZero, kZero, kZero};
  std::vector<Column> expectedUniform = {
      kC, {0.25f, 0.25f, 0.25f, 0.25f}, {0.25f, 0.25f, 0.25f, 0.25f}, {0.5f, 0, 0.5f, 0}};
  for (int p = 0; p < 4; ++p) {
    EXPECT_EQ(column(zero, 0, p), expectedZero[p]) << "position " << p;
    EXPECT_EQ(column(uniform, 0, p), expectedUniform[p]) << "position " << p;
  }
}

TEST(BedDataset, RefusesBadReferenceCharactersWhenRead) {
  TempFiles files;
  std::string reference = files.write("ref.fa", ">chr1\nACGTACGTAC\nGGXCTTAAGG\n");
  std::string bed = files.write("a.bed", "chr1\t0\t5\t1\nchr1\t9\t14\t0\n");
  BedDataset data(bed, reference, AmbiguousBases::Zero);
  std::vector<int64_t> clean = {0};
  EXPECT_EQ(decode(data.read(clean), 0), "ACGTA");
  std::vector<int64_t> bad = {0, 1};
  expectError([&] { data.read(bad); }, {reference, "chromosome 'chr1'", "position 12", "'X'", bed, "line 2"});
}

TEST(BedDataset, RefusesIndicesOutOfRange) {
  TempFiles files;
  BedDataset data(files.write("a.bed", "chr1\t0\t5\t1\n"), files.write("ref.fa", kReference), AmbiguousBases::Zero);
  std::vector<int64_t> indices = {1};
  expectError([&] { data.read(indices); }, {files.path("a.bed"), "example 1", "1 examples"});
}

// --- BED errors -----------------------------------------------------------------------------------------------

namespace {

/// Expects a BedDataset over `bedContent` (on kReference) to fail with a message naming the BED file and `parts`.
void expectBedError(const TempFiles &files, const std::string &bedContent, std::initializer_list<std::string> parts) {
  std::string reference = files.write("ref.fa", kReference);
  std::string bed = files.write("e.bed", bedContent);
  expectError([&] { BedDataset(bed, reference, AmbiguousBases::Zero); }, {bed});
  expectError([&] { BedDataset(bed, reference, AmbiguousBases::Zero); }, parts);
}

} // namespace

TEST(BedDatasetErrors, MissingFiles) {
  TempFiles files;
  std::string reference = files.write("ref.fa", kReference);
  expectError([&] { BedDataset(files.path("absent.bed"), reference, AmbiguousBases::Zero); },
              {files.path("absent.bed"), "does not exist"});
  std::string bed = files.write("a.bed", "chr1\t0\t5\t1\n");
  expectError([&] { BedDataset(bed, files.path("absent.fa"), AmbiguousBases::Zero); },
              {files.path("absent.fa"), "does not exist"});
}

TEST(BedDatasetErrors, NoIntervals) { expectBedError(TempFiles(), "# nothing\ntrack x\n", {"no intervals"}); }

TEST(BedDatasetErrors, FewerThanFourColumns) {
  expectBedError(TempFiles(), "chr1\t0\t5\t1\nchr1\t0\t5\n", {"line 2", "3 tab-separated columns"});
}

TEST(BedDatasetErrors, NonIntegerStartOrEnd) {
  TempFiles files;
  expectBedError(files, "chr1\tx\t5\t1\n", {"line 1", "start 'x'", "not an integer"});
  expectBedError(files, "# c\nchr1\t0\t5.5\t1\n", {"line 2", "end '5.5'", "not an integer"});
}

TEST(BedDatasetErrors, StartNotBeforeEnd) {
  TempFiles files;
  expectBedError(files, "chr1\t5\t5\t1\n", {"line 1", "start 5", "end 5"});
  expectBedError(files, "chr1\t6\t5\t1\n", {"line 1", "start 6", "end 5"});
}

TEST(BedDatasetErrors, NegativeStart) { expectBedError(TempFiles(), "chr1\t-1\t4\t1\n", {"line 1", "-1", "negative"}); }

TEST(BedDatasetErrors, UnknownChromosome) {
  TempFiles files;
  expectBedError(files, "chr1\t0\t5\t1\nchr3\t0\t5\t1\n", {"line 2", "'chr3'", "chr1, chr2", files.path("ref.fa")});
  expectBedError(files, "2\t0\t5\t1\n", {"line 1", "'2'", "did you mean 'chr2'"});
}

TEST(BedDatasetErrors, IntervalPastTheChromosomeEnd) {
  expectBedError(TempFiles(), "chr2\t11\t16\t1\nchr2\t12\t17\t1\n", {"line 2", "chr2:12-17", "16 bases long"});
}

TEST(BedDatasetErrors, InconsistentLabelCount) {
  expectBedError(TempFiles(), "chr1\t0\t5\t1\nchr1\t5\t10\t1\t2\n", {"line 2", "2 labels", "line 1 has 1"});
}

TEST(BedDatasetErrors, NonNumericLabel) {
  expectBedError(TempFiles(), "chr1\t0\t5\t1\nchr1\t5\t10\tpeak1\n", {"line 2", "column 4", "'peak1'"});
}

TEST(BedDatasetErrors, RaggedIntervals) {
  expectBedError(TempFiles(), "chr1\t0\t5\t1\n\nchr1\t5\t11\t1\n",
                 {"line 3", "chr1:5-11", "6 bases", "first one (line 1) is 5"});
}

// --- openSequenceDataset --------------------------------------------------------------------------------------

TEST(OpenSequenceDataset, ChoosesTheReaderByExtension) {
  TempFiles files;
  std::string labels = files.write("l.tsv", kLabels);
  for (const char *name : {"s.fa", "s.fasta", "s.FNA"}) {
    std::string fasta = files.write(name, kFasta);
    std::unique_ptr<Dataset> data = openSequenceDataset(fasta, labels, AmbiguousBases::Zero);
    ASSERT_NE(dynamic_cast<FastaDataset *>(data.get()), nullptr) << name;
    EXPECT_EQ(data->size(), 3) << name;
  }
  std::string bed = files.write("p.bed", "chr1\t0\t5\t1\n");
  std::unique_ptr<Dataset> data = openSequenceDataset(bed, files.write("ref.fa", kReference), AmbiguousBases::Zero);
  ASSERT_NE(dynamic_cast<BedDataset *>(data.get()), nullptr);
  std::vector<int64_t> first = {0};
  EXPECT_EQ(decode(data->read(first), 0), "ACGTA");
}

TEST(OpenSequenceDataset, RefusesOtherExtensionsAndMissingCompanions) {
  TempFiles files;
  expectError([&] { openSequenceDataset(files.path("x.txt"), "l.tsv", AmbiguousBases::Zero); },
              {files.path("x.txt"), "'.txt'", ".fa", ".fasta", ".fna", ".bed"});
  expectError([&] { openSequenceDataset(files.path("x.fa.gz"), "l.tsv", AmbiguousBases::Zero); }, {"'.gz'", ".fa"});
  expectError([&] { openSequenceDataset(files.path("x.fa"), "", AmbiguousBases::Zero); },
              {files.path("x.fa"), "a FASTA file needs a labels TSV"});
  expectError([&] { openSequenceDataset(files.path("x.bed"), "", AmbiguousBases::Zero); },
              {files.path("x.bed"), "a BED file needs a reference FASTA"});
}
