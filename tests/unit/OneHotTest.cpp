// Tests of one-hot validation and of loading sequence input from .npy and HDF5.
#include "runtime/OneHot.h"

#include "ExpectError.h"
#include "PythonSupport.h"
#include "dsl/Error.h"
#include "runtime/Npy.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace seqjit;
using seqjit::testing::expectError;
using seqjit::testing::ScratchDirectory;

namespace {

/// Two sequences of length 6, "ACGTNA" and "TTGCAN" (N = all-zero column), written out by hand.
HostArray<float> handWrittenOneHot() {
  HostArray<float> x({2, 4, 6});
  const char *sequences[] = {"ACGTNA", "TTGCAN"};
  for (int n = 0; n < 2; ++n)
    for (int p = 0; p < 6; ++p) {
      int channel = -1;
      switch (sequences[n][p]) {
      case 'A': channel = 0; break;
      case 'C': channel = 1; break;
      case 'G': channel = 2; break;
      case 'T': channel = 3; break;
      default: break;
      }
      if (channel >= 0)
        x.data[(n * 4 + channel) * 6 + p] = 1.0f;
    }
  return x;
}

TEST(OneHot, AcceptsOneHotWithUnknownBases) { EXPECT_NO_THROW(validateOneHot(handWrittenOneHot(), "hand")); }

TEST(OneHot, RejectsTwoOnesInAColumn) {
  HostArray<float> x = handWrittenOneHot();
  x.data[(1 * 4 + 2) * 6 + 4] = 1.0f; // example 1, position 4 is 'A': now A and G
  expectError([&] { validateOneHot(x, "input.npy"); },
              {"input.npy", "example 1", "position 4", "(1, 0, 1, 0)", "not one-hot"});
}

TEST(OneHot, RejectsFractionalValues) {
  HostArray<float> x = handWrittenOneHot();
  x.data[(0 * 4 + 1) * 6 + 1] = 0.5f; // example 0, position 1 is 'C'
  expectError([&] { validateOneHot(x, "src"); }, {"src", "example 0", "position 1", "0.5"});
}

TEST(OneHot, RejectsWrongShapes) {
  expectError([&] { validateOneHot(HostArray<float>({2, 4}), "flat"); }, {"flat", "(2, 4)", "(N, 4, L)"});
  expectError([&] { validateOneHot(HostArray<float>({2, 3, 5}), "rna?"); }, {"rna?", "(2, 3, 5)", "(N, 4, L)"});
}

TEST(OneHot, LoadsNpyAndRefusesUnknownExtensions) {
  ScratchDirectory dir;
  writeNpy(dir.file("x.npy"), handWrittenOneHot());
  HostArray<float> x = loadSequenceInput(dir.file("x.npy"));
  EXPECT_EQ(x.shape, (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(x.data, handWrittenOneHot().data);

  HostArray<float> bad = handWrittenOneHot();
  bad.data[5] = 2.0f;
  writeNpy(dir.file("bad.npy"), bad);
  expectError([&] { loadSequenceInput(dir.file("bad.npy")); }, {"bad.npy", "example 0", "position 5"});
  expectError([&] { loadSequenceInput(dir.file("x.fasta")); }, {"x.fasta", "'.fasta'", ".npy, .h5 or .hdf5"});
  expectError([&] { loadSequenceInput(dir.file("missing.npy")); }, {"missing.npy"});
}

TEST(OneHot, LoadsHdf5WithDefaultAndExplicitKeys) {
  SEQJIT_REQUIRE_PYTHON("numpy, h5py");
  ScratchDirectory dir;
  std::string path = dir.file("data.h5");
  seqjit::testing::runPythonScript("hdf5_fixtures.py", "'" + path + "'");
  HostArray<float> x = loadSequenceInput(path); // X_test by default
  ASSERT_EQ(x.shape, (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(x.data[(2 * 4 + 3) * 5 + 1], 1.0f); // (n + p) % 4 = 3
  expectError([&] { loadSequenceInput(path, "X_bad"); }, {"data.h5", "X_bad", "example 1", "position 2"});
  expectError([&] { loadSequenceInput(path, "Y_test"); }, {"data.h5", "Y_test", "(N, 4, L)"});
}

TEST(OneHot, RealDataFileIsOneHot) {
  std::string path = std::string(SEQJIT_SOURCE_DIR) + "/data/IRF1_400_h3k27ac.h5";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " is not present";
  HostArray<float> x = loadSequenceInput(path);
  EXPECT_EQ(x.shape, (std::vector<int64_t>{779, 4, 400}));
}

TEST(OneHot, RandomOneHotIsOneHotUniformAndSeeded) {
  HostArray<float> x = randomOneHot(50, 400, 9);
  validateOneHot(x, "randomOneHot");
  std::vector<double> counts(4, 0);
  for (int64_t n = 0; n < 50; ++n)
    for (int64_t base = 0; base < 4; ++base)
      for (int64_t position = 0; position < 400; ++position)
        counts[base] += x.data[(n * 4 + base) * 400 + position];
  for (double count : counts) // 20000 draws: 5000 +- 61 expected per base; 5 sigma.
    EXPECT_NEAR(count, 5000, 310);
  EXPECT_EQ(randomOneHot(50, 400, 9).data, x.data);
  EXPECT_NE(randomOneHot(50, 400, 10).data, x.data);
}

} // namespace
