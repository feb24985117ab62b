// Tests of .npy/.npz reading and writing, cross-checked against numpy in both directions, and their error paths.
#include "runtime/Npy.h"

#include "ExpectError.h"
#include "PythonSupport.h"
#include "dsl/Error.h"
#include "runtime/Zip.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

using namespace seqjit;
using seqjit::testing::expectError;
using seqjit::testing::ScratchDirectory;

namespace {

class NumpyFixtures : public ::testing::Test {
protected:
  void SetUp() override {
    SEQJIT_REQUIRE_PYTHON("numpy");
    seqjit::testing::runPythonScript("npy_fixtures.py", "'" + dir.path().string() + "'");
  }
  std::string file(const std::string &name) const { return dir.file(name); }
  ScratchDirectory dir;
};

// Element i of each fixture, as npy_fixtures.py documents it.
float f32Value(int i) { return static_cast<float>(i) * 0.5f - 3.0f; }

void expectF32Fixture(const HostArray<float> &array) {
  ASSERT_EQ(array.shape, (std::vector<int64_t>{2, 3, 4}));
  for (int i = 0; i < 24; ++i)
    EXPECT_EQ(array.data[i], f32Value(i)) << i;
}

TEST_F(NumpyFixtures, ReadsFloat32) { expectF32Fixture(readNpy<float>(file("f32.npy"))); }

TEST_F(NumpyFixtures, ReadsFormatVersions2And3) {
  expectF32Fixture(readNpy<float>(file("v2.npy")));
  expectF32Fixture(readNpy<float>(file("v3.npy")));
}

TEST_F(NumpyFixtures, ReadsFloat64ExactlyAsDouble) {
  HostArray<double> array = readNpy<double>(file("f64.npy"));
  ASSERT_EQ(array.shape, (std::vector<int64_t>{10}));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(array.data[i], i * 0.1) << i;
  HostArray<float> narrowed = readNpy<float>(file("f64.npy"));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(narrowed.data[i], static_cast<float>(i * 0.1)) << i;
}

TEST_F(NumpyFixtures, ReadsIntegerAndBoolTypes) {
  HostArray<float> i8 = readNpy<float>(file("i8.npy"));
  ASSERT_EQ(i8.shape, (std::vector<int64_t>{3, 4}));
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(i8.data[i], i - 6);
  auto expectValues = [&](const std::string &name, auto formula, int count) {
    HostArray<double> array = readNpy<double>(file(name));
    ASSERT_EQ(array.size(), count) << name;
    for (int i = 0; i < count; ++i)
      EXPECT_EQ(array.data[i], formula(i)) << name << " element " << i;
  };
  expectValues(
      "u8.npy", [](int i) { return i * 40.0; }, 6);
  expectValues(
      "i16.npy", [](int i) { return i * -1000.0; }, 6);
  expectValues(
      "i32.npy", [](int i) { return i * 100000.0 - 7; }, 6);
  expectValues(
      "i64.npy", [](int i) { return i * 3000000000.0; }, 6);
  expectValues(
      "u32.npy", [](int i) { return i * 700000000.0; }, 6);
  expectValues(
      "u64.npy", [](int i) { return i * 5.0; }, 6);
  expectValues(
      "b1.npy", [](int i) { return i % 3 == 0 ? 1.0 : 0.0; }, 7);
}

TEST_F(NumpyFixtures, ReadsZeroDimensionalArray) {
  HostArray<double> scalar = readNpy<double>(file("scalar.npy"));
  EXPECT_TRUE(scalar.shape.empty());
  ASSERT_EQ(scalar.size(), 1);
  EXPECT_EQ(scalar.data[0], 2.5);
}

TEST_F(NumpyFixtures, ReadsSavezAndSavezCompressed) {
  for (const char *name : {"plain.npz", "compressed.npz"}) {
    SCOPED_TRACE(name);
    auto arrays = readNpz(file(name));
    ASSERT_EQ(arrays.size(), 4u);
    expectF32Fixture(arrays.at("a"));
    ASSERT_EQ(arrays.at("b").shape, (std::vector<int64_t>{3, 4}));
    EXPECT_EQ(arrays.at("b").data[11], 5.0f);
    ASSERT_EQ(arrays.at("c").size(), 7);
    EXPECT_EQ(arrays.at("c").data[3], 1.0f);
    EXPECT_EQ(arrays.at("c").data[4], 0.0f);
    ASSERT_EQ(arrays.at("d").size(), 10);
    EXPECT_EQ(arrays.at("d").data[7], static_cast<float>(7 * 0.1));
  }
}

TEST_F(NumpyFixtures, RefusesFortranOrderBigEndianAndComplex) {
  expectError([&] { readNpy<float>(file("fortran.npy")); }, {"fortran.npy", "Fortran order", "C order"});
  expectError([&] { readNpy<float>(file("bigendian.npy")); }, {"bigendian.npy", "unsupported dtype '>f4'"});
  expectError([&] { readNpy<float>(file("complex.npy")); }, {"complex.npy", "unsupported dtype '<c8'", "'<f4'"});
}

TEST_F(NumpyFixtures, RefusesTruncatedFiles) {
  std::string bytes = seqjit::testing::readBytes(file("f32.npy"));
  seqjit::testing::writeBytes(file("short.npy"), bytes.substr(0, bytes.size() - 5));
  expectError([&] { readNpy<float>(file("short.npy")); }, {"short.npy", "truncated", "96 bytes"});
  seqjit::testing::writeBytes(file("header.npy"), bytes.substr(0, 30));
  expectError([&] { readNpy<float>(file("header.npy")); }, {"header.npy", "truncated .npy header"});

  std::string archive = seqjit::testing::readBytes(file("compressed.npz"));
  seqjit::testing::writeBytes(file("short.npz"), archive.substr(0, archive.size() / 2));
  expectError([&] { readNpz(file("short.npz")); }, {"short.npz"});
}

TEST_F(NumpyFixtures, RowsReadAnyRowsOfEveryTypeAsTheWholeFileHasThem) {
  for (const char *name : {"f32.npy", "v2.npy", "v3.npy", "f64.npy", "i8.npy", "u8.npy", "i16.npy", "i32.npy",
                           "i64.npy", "u32.npy", "u64.npy", "b1.npy"}) {
    SCOPED_TRACE(name);
    HostArray<float> whole = readNpy<float>(file(name));
    NpyRows rows(file(name));
    EXPECT_EQ(rows.shape(), whole.shape);
    EXPECT_NE(rows.describe().find(file(name)), std::string::npos);
    int64_t count = whole.shape[0], perRow = whole.size() / count;
    // Out of order, repeated and consecutive rows (consecutive ones are read together).
    std::vector<int64_t> asked{count - 1, 0, 0, 1};
    if (count > 2)
      asked.push_back(count - 2);
    HostArray<float> got = rows.read(asked);
    std::vector<int64_t> shape = whole.shape;
    shape[0] = static_cast<int64_t>(asked.size());
    ASSERT_EQ(got.shape, shape);
    for (size_t i = 0; i < asked.size(); ++i)
      for (int64_t j = 0; j < perRow; ++j)
        EXPECT_EQ(got.data[i * perRow + j], whole.data[asked[i] * perRow + j]) << "row " << asked[i];
    EXPECT_EQ(readRowRange(rows, 0, count).data, whole.data);
  }
}

TEST_F(NumpyFixtures, RowsRefuseWhatTheWholeReadRefuses) {
  std::string bytes = seqjit::testing::readBytes(file("f32.npy"));
  seqjit::testing::writeBytes(file("short.npy"), bytes.substr(0, bytes.size() - 5));
  expectError([&] { NpyRows rows(file("short.npy")); }, {"short.npy", "truncated", "96 bytes"});
  expectError([&] { NpyRows rows(file("fortran.npy")); }, {"fortran.npy", "Fortran order"});
  expectError([&] { NpyRows rows(file("scalar.npy")); }, {"scalar.npy", "0-d array has no rows"});
  expectError([&] { NpyRows rows(file("missing.npy")); }, {"cannot open", "missing.npy"});
  NpyRows rows(file("f32.npy"));
  expectError([&] { rows.read(std::vector<int64_t>{0, 2}); }, {"f32.npy", "row 2 is out of range", "has 2"});
  expectError([&] { openArrayRows(file("f32.txt"), "", "--labels"); }, {"--labels", "f32.txt", "'.txt'", ".npy"});
}

TEST_F(NumpyFixtures, DetectsCorruptNpzData) {
  // Flip one byte inside the stored f32 data of entry 'a.npy': only the CRC can catch it.
  std::string archive = seqjit::testing::readBytes(file("plain.npz"));
  std::string npy = seqjit::testing::readBytes(file("f32.npy"));
  size_t at = archive.find(npy.substr(npy.size() - 16));
  ASSERT_NE(at, std::string::npos);
  archive[at] ^= 0x40;
  seqjit::testing::writeBytes(file("corrupt.npz"), archive);
  expectError([&] { readNpz(file("corrupt.npz")); }, {"corrupt.npz", "entry 'a.npy'", "CRC-32 mismatch"});
}

TEST(Npy, MissingFileAndBadMagic) {
  ScratchDirectory dir;
  expectError([&] { readNpy<float>(dir.file("absent.npy")); }, {"absent.npy", "No such file"});
  expectError([&] { readNpz(dir.file("absent.npz")); }, {"absent.npz", "No such file"});
  seqjit::testing::writeBytes(dir.file("text.npy"), "this is not numpy at all");
  expectError([&] { readNpy<float>(dir.file("text.npy")); }, {"text.npy", "magic string"});
  seqjit::testing::writeBytes(dir.file("text.npz"), "this is not a zip archive either, just some text");
  expectError([&] { readNpz(dir.file("text.npz")); }, {"text.npz", "end-of-central-directory"});
}

TEST(Npy, NpzEntryErrorsNameTheEntry) {
  // A well-formed archive (valid CRCs) whose entry is not a .npy: the error must name the archive and the entry.
  ScratchDirectory dir;
  std::string archive = buildZipArchive({{"good.npy", "definitely not numpy"}}, dir.file("bad.npz"));
  seqjit::testing::writeBytes(dir.file("bad.npz"), archive);
  expectError([&] { readNpz(dir.file("bad.npz")); }, {"bad.npz", "entry 'good.npy'", "magic string"});
}

TEST(Npy, WrittenFilesAreReadByNumpy) {
  SEQJIT_REQUIRE_PYTHON("numpy");
  ScratchDirectory dir;
  HostArray<float> f32({2, 3, 4});
  for (int i = 0; i < 24; ++i)
    f32.data[i] = static_cast<float>(i) * 0.25f - 1.0f;
  HostArray<double> f64({5});
  for (int i = 0; i < 5; ++i)
    f64.data[i] = i / 3.0;
  HostArray<float> scalar(std::vector<int64_t>{}, 7.5f);
  writeNpy(dir.file("out_f32.npy"), f32);
  writeNpy(dir.file("out_f64.npy"), f64);
  writeNpy(dir.file("out_scalar.npy"), scalar);
  std::map<std::string, HostArray<float>> arrays;
  arrays["conv.weight"] = HostArray<float>({4, 2, 3});
  for (int i = 0; i < 24; ++i)
    arrays["conv.weight"].data[i] = i * 0.125f;
  arrays["conv.bias"] = HostArray<float>({4}, std::vector<float>{0, -1, -2, -3});
  arrays["empty"] = HostArray<float>(std::vector<int64_t>{0});
  writeNpz(dir.file("out.npz"), arrays);
  seqjit::testing::runPythonScript("check_npy.py", "'" + dir.path().string() + "'");
}

TEST(Npy, WrittenNpzRoundTripsAndLeavesNoTemporaries) {
  ScratchDirectory dir;
  std::map<std::string, HostArray<float>> arrays;
  arrays["x"] = HostArray<float>({3}, std::vector<float>{1.5f, -2.0f, 1e-30f});
  writeNpz(dir.file("round.npz"), arrays);
  arrays["x"].data[0] = 9.0f; // overwrite an existing file in place
  writeNpz(dir.file("round.npz"), arrays);
  auto back = readNpz(dir.file("round.npz"));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back.at("x").data, (std::vector<float>{9.0f, -2.0f, 1e-30f}));
  int files = 0;
  for (const auto &entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1) << "a temporary file was left behind";
  // Writing into a directory that does not exist fails cleanly and names the path.
  expectError([&] { writeNpz(dir.file("no/such/dir/x.npz"), arrays); }, {"no/such/dir/x.npz"});
}

TEST(Npy, RowWriterWritesWhatWriteNpyWritesAndNothingUnlessComplete) {
  ScratchDirectory dir;
  HostArray<float> whole({5, 2, 3});
  for (int64_t i = 0; i < whole.size(); ++i)
    whole.data[i] = static_cast<float>(i) * 0.5f - 2.0f;
  {
    NpyRowWriter writer(dir.file("rows.npy"), whole.shape);
    for (int64_t first = 0; first < 5; first += 2) {
      int64_t count = std::min<int64_t>(2, 5 - first);
      writer.append(HostArray<float>(
          {count, 2, 3}, std::vector<float>(whole.data.begin() + first * 6, whole.data.begin() + (first + count) * 6)));
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("rows.npy"))); // not before finish()
    writer.finish();
  }
  EXPECT_EQ(seqjit::testing::readBytes(dir.file("rows.npy")), serializeNpy(whole));

  {
    NpyRowWriter writer(dir.file("short.npy"), whole.shape);
    writer.append(HostArray<float>({2, 2, 3}));
    expectError([&] { writer.finish(); }, {"short.npy", "2 of the 5 announced rows"});
    expectError([&] { writer.append(HostArray<float>({1, 3, 2})); }, {"short.npy", "(1, 3, 2)", "(5, 2, 3)"});
    expectError([&] { writer.append(HostArray<float>({4, 2, 3})); }, {"short.npy", "6 rows are more than the 5"});
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("short.npy")));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1); // rows.npy, no temporaries
}

TEST(Npy, HeaderIsPaddedTo64Bytes) {
  std::string bytes = serializeNpy(HostArray<float>({3, 5}, 0.0f));
  size_t headerLength = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + headerLength) % 64, 0u);
  EXPECT_EQ(bytes.size(), 10 + headerLength + 15 * sizeof(float));
  EXPECT_EQ(bytes[10 + headerLength - 1], '\n');
}

} // namespace
