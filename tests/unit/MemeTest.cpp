// Tests of the MEME motif reader and writer against the JASPAR 2016 file and small hand-written bad files.
#include "stdlib/Meme.h"

#include "ExpectError.h"
#include "dsl/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace seqjit;
using seqjit::testing::expectError;

namespace {

/// A path in the test's temporary directory; the prefix keeps clear of other tests' files there.
std::string temporaryPath(const std::string &name) {
  return (std::filesystem::path(::testing::TempDir()) / ("meme_test_" + name)).string();
}

const std::string kJasparFile =
    std::string(SEQJIT_SOURCE_DIR) + "/data/motifs/JASPAR_CORE_2016_vertebrates.meme";

const std::vector<Motif> &jaspar() {
  static const std::vector<Motif> motifs = readMemeFile(kJasparFile);
  return motifs;
}

/// A file under the test's temporary directory holding `text`; its path.
std::string writeTemporary(const std::string &name, const std::string &text) {
  std::string path = temporaryPath(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const std::string kHeader = "MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\n"
                            "Background letter frequencies\nA 0.25 C 0.25 G 0.25 T 0.25\n\n";

TEST(Meme, ReadsEveryJasparMotif) {
  const std::vector<Motif> &motifs = jaspar();
  ASSERT_EQ(motifs.size(), 518u);
  const Motif &first = motifs.front();
  EXPECT_EQ(first.id, "MA0002.2");
  EXPECT_EQ(first.name, "RUNX1");
  EXPECT_EQ(first.label(), "MA0002.2 RUNX1");
  EXPECT_EQ(first.sites, 2000);
  ASSERT_EQ(first.probabilities.shape, (std::vector<int64_t>{11, 4}));
  EXPECT_FLOAT_EQ(first.probabilities.data[0], 0.1435f);
  EXPECT_FLOAT_EQ(first.probabilities.data[1], 0.248f);
  EXPECT_FLOAT_EQ(first.probabilities.data[2], 0.348f);
  EXPECT_FLOAT_EQ(first.probabilities.data[3], 0.2605f);
  // The last row too, so a reader that drops or shifts rows is caught.
  EXPECT_FLOAT_EQ(first.probabilities.data[40], 0.25f);
  EXPECT_FLOAT_EQ(first.probabilities.data[43], 0.5265f);
  EXPECT_EQ(motifs.back().label(), "MA1099.1 Hes1");
}

TEST(Meme, EveryRowIsAProbabilityDistribution) {
  for (const Motif &motif : jaspar()) {
    ASSERT_EQ(motif.probabilities.rank(), 2) << motif.id;
    ASSERT_EQ(motif.probabilities.shape[1], 4) << motif.id;
    ASSERT_GE(motif.width(), 1) << motif.id;
    for (int64_t row = 0; row < motif.width(); ++row) {
      double sum = 0;
      for (int64_t base = 0; base < 4; ++base) {
        float value = motif.probabilities.data[row * 4 + base];
        EXPECT_GE(value, 0.0f) << motif.id;
        sum += value;
      }
      EXPECT_NEAR(sum, 1.0, 1e-6) << motif.id << " row " << row;
    }
  }
}

TEST(Meme, FindsMotifsByIdOrName) {
  EXPECT_EQ(findMotif(jaspar(), "MA0139.1").name, "CTCF");
  EXPECT_EQ(findMotif(jaspar(), "CTCF").id, "MA0139.1");
  EXPECT_EQ(findMotif(jaspar(), "MA0058.3").name, "MAX");
  EXPECT_EQ(findMotif(jaspar(), "MA0058.3").width(), 10);
  expectError([] { findMotif(jaspar(), "MA0058.9"); }, {"MA0058.9", "518 motifs", "MA0058.3 MAX"});
  expectError([] { findMotif(jaspar(), "NoSuchFactor"); }, {"NoSuchFactor", "MA0002.2 RUNX1"});
}

TEST(Meme, ReverseComplementReversesRowsAndSwapsComplementaryBases) {
  HostArray<float> matrix({2, 4}, {0.1f, 0.2f, 0.3f, 0.4f, 0.7f, 0.1f, 0.1f, 0.1f});
  HostArray<float> reversed = reverseComplementMatrix(matrix);
  EXPECT_EQ(reversed.shape, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(reversed.data, (std::vector<float>{0.1f, 0.1f, 0.1f, 0.7f, 0.4f, 0.3f, 0.2f, 0.1f}));
  EXPECT_EQ(reverseComplementMatrix(reversed).data, matrix.data);
}

TEST(Meme, WriteThenReadGivesTheSameMotifs) {
  std::string path = temporaryPath("roundtrip.meme");
  writeMemeFile(path, jaspar());
  std::vector<Motif> again = readMemeFile(path);
  ASSERT_EQ(again.size(), jaspar().size());
  for (size_t k = 0; k < again.size(); ++k) {
    const Motif &before = jaspar()[k];
    EXPECT_EQ(again[k].id, before.id);
    EXPECT_EQ(again[k].name, before.name);
    EXPECT_EQ(again[k].sites, before.sites);
    ASSERT_EQ(again[k].probabilities.shape, before.probabilities.shape) << before.id;
    for (int64_t i = 0; i < before.probabilities.size(); ++i)
      EXPECT_NEAR(again[k].probabilities.data[i], before.probabilities.data[i], 2e-6) << before.id;
  }
}

TEST(Meme, WritesMotifsWithoutNamesOrSites) {
  Motif motif{"filter7", "", HostArray<float>({3, 4}, {1, 0, 0, 0, 0.5f, 0.5f, 0, 0, 0.25f, 0.25f, 0.25f, 0.25f})};
  std::string path = temporaryPath("unnamed.meme");
  writeMemeFile(path, {motif});
  std::vector<Motif> again = readMemeFile(path);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, "filter7");
  EXPECT_EQ(again[0].name, "");
  EXPECT_EQ(again[0].sites, 0);
  EXPECT_EQ(again[0].probabilities.data, motif.probabilities.data);
}

TEST(Meme, RefusesToWriteMalformedMotifs) {
  std::string path = temporaryPath("refused.meme");
  expectError([&] { writeMemeFile(path, {Motif{"bad", "", HostArray<float>({2, 3})}}); }, {path, "bad", "(width, 4)"});
  expectError(
      [&] {
        writeMemeFile(path, {Motif{"two words", "", HostArray<float>({1, 4}, 0.25f)}});
      },
      {path, "two words", "one word"});
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Meme, NormalisesRowsThatSumToOneWithinTolerance) {
  std::string path = writeTemporary("rounded.meme", kHeader + "MOTIF m1 one\n\n"
                                                              "letter-probability matrix: alength= 4 w= 2\n"
                                                              "0.2 0.2 0.2 0.405\n"
                                                              "0.25 0.25 0.25 0.25\n");
  std::vector<Motif> motifs = readMemeFile(path);
  ASSERT_EQ(motifs.size(), 1u);
  EXPECT_FLOAT_EQ(motifs[0].probabilities.data[0], static_cast<float>(0.2 / 1.005));
  EXPECT_FLOAT_EQ(motifs[0].probabilities.data[3], static_cast<float>(0.405 / 1.005));
}

TEST(Meme, ReadsMatricesWithoutWidthAndSkipsLogOddsMatrices) {
  std::string path = writeTemporary("nowidth.meme", kHeader + "MOTIF m1\n"
                                                              "log-odds matrix: alength= 4 w= 2\n"
                                                              " 1.5 -2 -2 -2\n"
                                                              " -2 1.5 -2 -2\n"
                                                              "letter-probability matrix: alength= 4\n"
                                                              "0.7 0.1 0.1 0.1\n"
                                                              "0.1 0.7 0.1 0.1\n"
                                                              "0.1 0.1 0.7 0.1\n"
                                                              "\n"
                                                              "URL http://example.org\n");
  std::vector<Motif> motifs = readMemeFile(path);
  ASSERT_EQ(motifs.size(), 1u);
  EXPECT_EQ(motifs[0].width(), 3);
  EXPECT_FLOAT_EQ(motifs[0].probabilities.data[10], 0.7f);
}

TEST(Meme, MissingFileIsAnError) {
  std::string path = temporaryPath("no_such_file.meme");
  expectError([&] { readMemeFile(path); }, {"cannot open", path});
}

TEST(Meme, NotAMemeFileIsAnError) {
  std::string path = writeTemporary("fasta.meme", "\n>chr1\nACGT\n");
  expectError([&] { readMemeFile(path); }, {path, "not a MEME file", "line 2", ">chr1"});
  std::string empty = writeTemporary("empty.meme", "");
  expectError([&] { readMemeFile(empty); }, {empty, "not a MEME file"});
}

TEST(Meme, OnlyTheDnaAlphabetIsAccepted) {
  std::string path = writeTemporary("rna.meme", "MEME version 4\n\nALPHABET= ACGU\n");
  expectError([&] { readMemeFile(path); }, {path, "line 3", "ACGU", "ACGT"});
}

TEST(Meme, AlphabetLengthOtherThanFourIsAnError) {
  std::string path = writeTemporary("alength.meme", kHeader + "MOTIF m1\n"
                                                              "letter-probability matrix: alength= 20 w= 1\n"
                                                              "0.25 0.25 0.25 0.25\n");
  expectError([&] { readMemeFile(path); }, {path, "line 11", "alength= 20", "m1"});
}

TEST(Meme, RowWithTheWrongNumberOfValuesIsAnError) {
  std::string path = writeTemporary("short_row.meme", kHeader + "MOTIF m1\n"
                                                                "letter-probability matrix: alength= 4 w= 2\n"
                                                                "0.25 0.25 0.25 0.25\n"
                                                                "0.5 0.25 0.25\n");
  expectError([&] { readMemeFile(path); }, {path, "line 13", "row 2", "m1", "3 values"});
}

TEST(Meme, NonNumericValueIsAnError) {
  std::string path = writeTemporary("letters.meme", kHeader + "MOTIF m1\n"
                                                              "letter-probability matrix: alength= 4 w= 2\n"
                                                              "0.25 0.25 0.25 0.25\n"
                                                              "0.25 0.25 abc 0.25\n");
  expectError([&] { readMemeFile(path); }, {path, "line 13", "'abc'", "not a number"});
}

TEST(Meme, NegativeValueIsAnError) {
  std::string path = writeTemporary("negative.meme", kHeader + "MOTIF m1\n"
                                                               "letter-probability matrix: alength= 4 w= 1\n"
                                                               "0.75 0.5 -0.25 0\n");
  expectError([&] { readMemeFile(path); }, {path, "line 12", "negative"});
}

TEST(Meme, FewerRowsThanWidthIsAnError) {
  std::string path = writeTemporary("few_rows.meme", kHeader + "MOTIF m1\n"
                                                               "letter-probability matrix: alength= 4 w= 3\n"
                                                               "0.25 0.25 0.25 0.25\n"
                                                               "0.25 0.25 0.25 0.25\n"
                                                               "MOTIF m2\n"
                                                               "letter-probability matrix: alength= 4 w= 1\n"
                                                               "0.25 0.25 0.25 0.25\n");
  expectError([&] { readMemeFile(path); }, {path, "line 14", "m1", "w= 3", "only 2 rows", "MOTIF m2"});
  std::string truncated = writeTemporary("truncated.meme", kHeader + "MOTIF m1\n"
                                                                     "letter-probability matrix: alength= 4 w= 3\n"
                                                                     "0.25 0.25 0.25 0.25\n");
  expectError([&] { readMemeFile(truncated); }, {truncated, "m1", "only 1 rows", "end of the file"});
}

TEST(Meme, MoreRowsThanWidthIsAnError) {
  std::string path = writeTemporary("many_rows.meme", kHeader + "MOTIF m1\n"
                                                                "letter-probability matrix: alength= 4 w= 1\n"
                                                                "0.25 0.25 0.25 0.25\n"
                                                                "0.25 0.25 0.25 0.25\n");
  expectError([&] { readMemeFile(path); }, {path, "line 13", "m1", "w= 1"});
}

TEST(Meme, RowNotSummingToOneIsAnError) {
  std::string path = writeTemporary("bad_sum.meme", kHeader + "MOTIF m1\n"
                                                              "letter-probability matrix: alength= 4 w= 2\n"
                                                              "0.25 0.25 0.25 0.25\n"
                                                              "0.2 0.2 0.2 0.3\n");
  expectError([&] { readMemeFile(path); }, {path, "line 13", "row 2", "m1", "sums to 0.9"});
}

TEST(Meme, MotifWithoutMatrixAndFileWithoutMotifsAreErrors) {
  std::string path = writeTemporary("no_matrix.meme", kHeader + "MOTIF m1\n\nMOTIF m2\n"
                                                                "letter-probability matrix: alength= 4 w= 1\n"
                                                                "0.25 0.25 0.25 0.25\n");
  expectError([&] { readMemeFile(path); }, {path, "line 10", "m1", "no letter-probability matrix"});
  std::string orphan = writeTemporary("orphan.meme", kHeader + "letter-probability matrix: alength= 4 w= 1\n"
                                                               "0.25 0.25 0.25 0.25\n");
  expectError([&] { readMemeFile(orphan); }, {orphan, "line 10", "before any 'MOTIF'"});
  std::string none = writeTemporary("none.meme", kHeader);
  expectError([&] { readMemeFile(none); }, {none, "no motifs"});
}

} // namespace
