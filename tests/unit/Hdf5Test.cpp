// Tests of HDF5 dataset listing and reading against an h5py-written fixture and the real IRF1 data file.
#include "runtime/Hdf5.h"
#include "runtime/Dataset.h"

#include "ExpectError.h"
#include "PythonSupport.h"
#include "dsl/Error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

using namespace seqjit;
using seqjit::testing::expectError;
using seqjit::testing::ScratchDirectory;

namespace {

const std::string kRealDataFile = std::string(SEQJIT_SOURCE_DIR) + "/data/IRF1_400_h3k27ac.h5";

class Hdf5Fixture : public ::testing::Test {
protected:
  void SetUp() override {
    SEQJIT_REQUIRE_PYTHON("numpy, h5py");
    path = dir.file("fixture.h5");
    seqjit::testing::runPythonScript("hdf5_fixtures.py", "'" + path + "'");
  }
  ScratchDirectory dir;
  std::string path;
};

TEST_F(Hdf5Fixture, ListsDatasetsIncludingGroups) {
  EXPECT_EQ(listHdf5Datasets(path),
            (std::vector<std::string>{"X_bad", "X_test", "Y_test", "counts", "group/inner", "names", "wide"}));
}

TEST_F(Hdf5Fixture, ReadsFloatAndIntegerTypes) {
  HostArray<float> x = readHdf5Dataset(path, "X_test");
  ASSERT_EQ(x.shape, (std::vector<int64_t>{3, 4, 5}));
  for (int n = 0; n < 3; ++n)
    for (int c = 0; c < 4; ++c)
      for (int p = 0; p < 5; ++p)
        EXPECT_EQ(x.data[(n * 4 + c) * 5 + p], (n + p) % 4 == c ? 1.0f : 0.0f);

  HostArray<float> y = readHdf5Dataset(path, "Y_test");
  EXPECT_EQ(y.shape, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(y.data, (std::vector<float>{-1, 0, 1}));

  HostArray<float> wide = readHdf5Dataset(path, "wide");
  ASSERT_EQ(wide.shape, (std::vector<int64_t>{2, 3}));
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(wide.data[i], static_cast<float>(i * 0.25 - 0.5));

  EXPECT_EQ(readHdf5Dataset(path, "counts").data, (std::vector<float>{0, 1000, 2000, 3000}));
  HostArray<float> inner = readHdf5Dataset(path, "/group/inner");
  EXPECT_EQ(inner.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(inner.data, (std::vector<float>{-2, -1, 0, 1}));
}

TEST_F(Hdf5Fixture, MissingKeyListsTheKeysThatExist) {
  expectError([&] { readHdf5Dataset(path, "X_train"); },
              {"fixture.h5", "no dataset 'X_train'", "X_test", "Y_test", "group/inner"});
}

TEST_F(Hdf5Fixture, NonNumericDatasetIsRefused) {
  expectError([&] { readHdf5Dataset(path, "names"); }, {"fixture.h5", "'names'", "not numeric"});
}

TEST_F(Hdf5Fixture, TruncatedFileIsAnErrorNotACrash) {
  std::string bytes = seqjit::testing::readBytes(path);
  seqjit::testing::writeBytes(dir.file("truncated.h5"), bytes.substr(0, bytes.size() / 2));
  try {
    HostArray<float> x = readHdf5Dataset(dir.file("truncated.h5"), "X_bad");
    // HDF5 may still find a dataset whose bytes survived the cut; then they must be intact.
    EXPECT_EQ(x.shape, (std::vector<int64_t>{2, 4, 3}));
  } catch (const Error &error) {
    EXPECT_NE(std::string(error.what()).find("truncated.h5"), std::string::npos) << error.what();
  }
  seqjit::testing::writeBytes(dir.file("tiny.h5"), bytes.substr(0, 100));
  expectError([&] { listHdf5Datasets(dir.file("tiny.h5")); }, {"tiny.h5"});
}

TEST(Hdf5, MissingAndNonHdf5Files) {
  ScratchDirectory dir;
  expectError([&] { readHdf5Dataset(dir.file("absent.h5"), "X_test"); }, {"absent.h5", "no such file"});
  seqjit::testing::writeBytes(dir.file("text.h5"), "plain text, not HDF5");
  expectError([&] { listHdf5Datasets(dir.file("text.h5")); }, {"text.h5", "not an HDF5 file"});
}

TEST(Hdf5, RealIrf1DataFile) {
  if (!std::filesystem::exists(kRealDataFile))
    GTEST_SKIP() << kRealDataFile << " is not present";
  SEQJIT_REQUIRE_PYTHON("numpy, h5py");
  EXPECT_EQ(listHdf5Datasets(kRealDataFile),
            (std::vector<std::string>{"X_test", "X_train", "X_valid", "Y_test", "Y_train", "Y_valid"}));
  HostArray<float> x = readHdf5Dataset(kRealDataFile, "X_train");
  EXPECT_EQ(x.shape, (std::vector<int64_t>{2724, 4, 400}));
  HostArray<float> y = readHdf5Dataset(kRealDataFile, "Y_train");
  EXPECT_EQ(y.shape, (std::vector<int64_t>{2724, 1}));
  // Independent reference: h5py's count of positive labels and the A count of example 5.
  auto reference =
      seqjit::testing::runCommand(std::string("/usr/bin/python3 -c \"import h5py; f = h5py.File('") + kRealDataFile +
                                  "', 'r'); print(int((f['Y_train'][:] == 1).sum()), int(f['X_train'][5, 0].sum()))\"");
  ASSERT_EQ(reference.status, 0) << reference.output;
  long positives = 0, adenines = 0;
  ASSERT_EQ(std::sscanf(reference.output.c_str(), "%ld %ld", &positives, &adenines), 2) << reference.output;
  long ourPositives = 0, ourAdenines = 0;
  for (float label : y.data)
    ourPositives += label == 1.0f;
  for (int p = 0; p < 400; ++p)
    ourAdenines += static_cast<long>(x.data[(5 * 4 + 0) * 400 + p]);
  EXPECT_EQ(ourPositives, positives);
  EXPECT_EQ(ourAdenines, adenines);
  EXPECT_GT(positives, 0);
}

TEST_F(Hdf5Fixture, RowsComeInTheOrderAskedWithRepeats) {
  HostArray<float> all = readHdf5Dataset(path, "X_test");
  std::vector<int64_t> rows = {2, 0, 2, 1};
  HostArray<float> picked = readHdf5Rows(path, "X_test", rows);
  std::vector<int64_t> shape = all.shape;
  shape[0] = 4;
  ASSERT_EQ(picked.shape, shape);
  int64_t rowSize = all.size() / all.shape[0];
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t j = 0; j < rowSize; ++j)
      ASSERT_EQ(picked.data[i * rowSize + j], all.data[rows[i] * rowSize + j]) << i;
  EXPECT_EQ(hdf5DatasetShape(path, "X_test"), all.shape);
  expectError(
      [&] {
        readHdf5Rows(path, "X_test", std::vector<int64_t>{0, all.shape[0]});
      },
      {"fixture.h5", "X_test", "out of range"});
}

// A compressed, chunked dataset (IRF1's X_train: gzip, chunks of 171 x 1 x 50) read a batch at a time from memory
// (it fits), through a chunk cache smaller than it, and through HDF5's default cache (a single read's reader): the
// same rows as one whole read.
TEST(Hdf5, RowsOfAChunkedDatasetAreTheSameFromMemoryAndThroughTheChunkCache) {
  HostArray<float> all = readHdf5Dataset(kRealDataFile, "X_train");
  const int64_t rowSize = all.size() / all.shape[0];
  const std::vector<int64_t> rows = {2723, 0, 171, 170, 1000, 0, 2000};
  for (size_t memory : {kHdf5RowCacheBytes, size_t{1} << 20, size_t{0}}) {
    Hdf5Rows reader(kRealDataFile, "X_train", memory);
    EXPECT_EQ(reader.shape(), all.shape);
    for (int pass = 0; pass < 2; ++pass) {
      HostArray<float> picked = reader.read(rows);
      ASSERT_EQ(picked.shape[0], static_cast<int64_t>(rows.size()));
      for (size_t i = 0; i < rows.size(); ++i)
        ASSERT_TRUE(std::equal(picked.data.begin() + static_cast<int64_t>(i) * rowSize,
                               picked.data.begin() + static_cast<int64_t>(i + 1) * rowSize,
                               all.data.begin() + rows[i] * rowSize))
            << "memory " << memory << ", row " << rows[i];
    }
    expectError([&] { reader.read(std::vector<int64_t>{5, 2724}); }, {"X_train", "row 2724", "out of range"});
  }
}

TEST(Hdf5, WrittenFilesReadBackInH5pyAndHere) {
  SEQJIT_REQUIRE_PYTHON("numpy, h5py");
  ScratchDirectory dir;
  std::string file = dir.file("written.h5");
  HostArray<float> x({2, 3}, std::vector<float>{0.5f, -1.0f, 2.0f, 3.0f, 4.0f, 5.0f});
  HostArray<float> y({2}, std::vector<float>{1.0f, -3.0f});
  writeHdf5File(file, {{"X", x}, {"group/Y", y, Hdf5Storage::Int8}}, {{"names", {"alpha", "beta"}}});
  EXPECT_FALSE(std::filesystem::exists(file + ".partial"));
  EXPECT_EQ(readHdf5Dataset(file, "X").data, x.data);
  EXPECT_EQ(readHdf5Dataset(file, "group/Y").data, y.data);
  EXPECT_EQ(readHdf5Strings(file, "names"), (std::vector<std::string>{"alpha", "beta"}));
  auto reference =
      seqjit::testing::runCommand("/usr/bin/python3 -c \"import h5py; f = h5py.File('" + file +
                                  "', 'r'); print(f['X'].dtype, f['group/Y'].dtype, f['X'][1, 2], f['group/Y'][1], "
                                  "[n.decode() if isinstance(n, bytes) else n for n in f['names'][:]])\"");
  ASSERT_EQ(reference.status, 0) << reference.output;
  EXPECT_EQ(reference.output, "float32 int8 5.0 -3 ['alpha', 'beta']\n");
  // The same arrays give the same bytes (no timestamps), so that generated data is reproducible to the byte.
  std::string again = dir.file("again.h5");
  writeHdf5File(again, {{"X", x}, {"group/Y", y, Hdf5Storage::Int8}}, {{"names", {"alpha", "beta"}}});
  EXPECT_EQ(seqjit::testing::readBytes(file), seqjit::testing::readBytes(again));
  expectError([&] { readHdf5Strings(file, "X"); }, {"written.h5", "'X'", "strings"});
}

TEST(Hdf5, SplitDatasetChecksShapesAndReadsBatches) {
  ScratchDirectory dir;
  std::string file = dir.file("split.h5");
  HostArray<float> x({3, 4, 2});
  for (int64_t i = 0; i < x.size(); ++i)
    x.data[i] = static_cast<float>(i % 7);
  writeHdf5File(file, {{"X_train", x},
                       {"Y_train", HostArray<float>({3, 1}, std::vector<float>{0, 1, 0})},
                       {"Y_short", HostArray<float>({2, 1})},
                       {"X_flat", HostArray<float>({3, 8})}});
  Hdf5SplitDataset data(file, "X_train", "Y_train");
  EXPECT_EQ(data.size(), 3);
  EXPECT_EQ(data.inputShape(), (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(data.labelShape(), (std::vector<int64_t>{1}));
  Examples batch = data.read(std::vector<int64_t>{2, 1});
  EXPECT_EQ(batch.labels.data, (std::vector<float>{0, 1}));
  EXPECT_EQ(std::vector<float>(batch.input.data.begin(), batch.input.data.begin() + 8),
            std::vector<float>(x.data.begin() + 16, x.data.end()));
  expectError([&] { Hdf5SplitDataset(file, "X_train", "Y_short"); }, {"split.h5", "3 examples", "'Y_short' has 2"});
  expectError([&] { Hdf5SplitDataset(file, "X_flat", "Y_train"); }, {"split.h5", "'X_flat'", "(N, 4, L)"});
  expectError([&] { Hdf5SplitDataset(file, "X_valid", "Y_valid"); }, {"split.h5", "X_valid", "X_train"});
}

} // namespace
