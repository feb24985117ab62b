// Tests of the seqjit command-line driver, run as a user would: outputs against the reference interpreter, and one
// clear "seqjit: error:" line (never a crash) for each mistake a user can make with files, keys, names and models.
#include "CliRunner.h"
#include "Closeness.h"
#include "dsl/Error.h"
#include "dsl/ModelFile.h"
#include "runtime/GradientPrograms.h"
#include "runtime/Hdf5.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/Parameters.h"
#include "runtime/ReferenceInterpreter.h"
#include "stdlib/Models.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

// The example model file, compiled into this test as well: the reference for what the CLI loads at run time.
#include "examples/tiny_exp_cnn.cpp"

using namespace seqjit;
using seqjit::testing::expectOneError;
using seqjit::testing::quote;
using seqjit::testing::RunResult;
using seqjit::testing::runSeqjit;
using seqjit::testing::seqjitBinary;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace fs = std::filesystem;

namespace {

fs::path sourcePath(const std::string &relative) { return fs::path(SEQJIT_SOURCE_DIR) / relative; }

/// The IRF1 ChIP-seq data the repository ships in data/.
fs::path irf1Data() { return fs::path(SEQJIT_SOURCE_DIR) / "data" / "IRF1_400_h3k27ac.h5"; }

/// The first `count` examples of a batch.
HostArray<float> firstExamples(const HostArray<float> &x, int64_t count) {
  std::vector<int64_t> shape = x.shape;
  shape[0] = count;
  int64_t perExample = x.size() / x.shape[0];
  return HostArray<float>(shape, std::vector<float>(x.data.begin(), x.data.begin() + count * perExample));
}

/// Expects `actual` to equal the float64 reference within 1e-5 relative to the largest |reference|.
void expectCloseToReference(const HostArray<float> &actual, const HostArray<double> &reference, int64_t rows) {
  ASSERT_EQ(actual.shape.size(), reference.shape.size());
  ASSERT_EQ(actual.shape[1], reference.shape[1]);
  ASSERT_GE(actual.shape[0], rows);
  double scale = 0;
  for (double v : reference.data)
    scale = std::max(scale, std::abs(v));
  ASSERT_GT(scale, 0.0) << "reference output is all zeros: the comparison would prove nothing";
  int64_t perRow = reference.shape[1];
  double worst = 0;
  for (int64_t i = 0; i < rows * perRow; ++i)
    worst = std::max(worst, std::abs(actual.data[i] - reference.data[i]));
  EXPECT_LE(worst, 1e-5 * scale) << "max |seqjit - interpreter| = " << worst << ", max |reference| = " << scale;
}

class CliTest : public seqjit::testing::SeqjitDirectoryTest {
protected:
  CliTest() : SeqjitDirectoryTest("seqjit-cli") {}
  void SetUp() override { SeqjitDirectoryTest::SetUp(); }

  /// Writes `count` random one-hot sequences of `length` to `name` and returns them.
  HostArray<float> writeInput(const std::string &name, int64_t count = 5, int64_t length = 200) const {
    HostArray<float> x = randomOneHot(count, length, 1234);
    writeNpy(path(name), x);
    return x;
  }

  /// A model file in the temporary directory.
  std::string writeModelFile(const std::string &name, const std::string &text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }
};

std::unique_ptr<Model> cnnDeep() { return buildZooModel("cnn-deep", {.length = 200}); }

// ---- seqjit models -------------------------------------------------------------------------------------------

TEST_F(CliTest, ModelsListsTheZooWithParameterCounts) {
  RunResult result = run("models");
  ASSERT_TRUE(result.exited) << result.output;
  EXPECT_EQ(result.exitCode, 0) << result.output;
  // cnn-deep at 200 nt, counted by hand from its layers (bias-free convs + BN weight/bias, dense 512, 12 outputs):
  // conv 32*4*19 + 64, conv 48*32*7 + 96, conv 96*48*7 + 192, conv 128*96*3 + 256, flatten 128 * 3,
  // dense 512*384 + 1024, output 12*512 + 12.
  int64_t cnnDeepCount = (32 * 4 * 19 + 64) + (48 * 32 * 7 + 96) + (96 * 48 * 7 + 192) + (128 * 96 * 3 + 256) +
                         (512 * 384 + 1024) + (12 * 512 + 12);
  ASSERT_EQ(cnnDeepCount, 286700);
  std::vector<std::string> lines = result.lines();
  auto lineOf = [&](const std::string &name) {
    for (const std::string &line : lines)
      if (line.rfind(name + " ", 0) == 0)
        return line;
    return std::string();
  };
  EXPECT_THAT(lineOf("cnn-deep"), HasSubstr(" 286700 ")) << result.output;
  for (const char *name : {"basset", "residualbind"}) {
    std::string line = lineOf(name);
    ASSERT_FALSE(line.empty()) << name << " is not listed:\n" << result.output;
    int64_t expected = buildZooModel(name)->graph().trainableParameterCount();
    EXPECT_THAT(line, HasSubstr(fmt::format(" {} ", expected))) << name;
  }
}

// ---- seqjit forward: results ---------------------------------------------------------------------------------

TEST_F(CliTest, ForwardWithSeededInitialisationMatchesTheInterpreter) {
  HostArray<float> x = writeInput("x.npy");
  RunResult result = run("forward --model cnn-deep --input x.npy --out y.npy");
  ASSERT_TRUE(result.exited) << result.output;
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_THAT(result.output, AllOf(HasSubstr("cnn-deep"), HasSubstr("286700 parameters"), HasSubstr("seed 0"),
                                   HasSubstr("5 sequences x 200 nt"), HasSubstr("y.npy shape (5, 12)")));

  HostArray<float> y = readNpy<float>(path("y.npy"));
  EXPECT_EQ(y.shape, (std::vector<int64_t>{5, 12}));
  auto model = cnnDeep();
  Parameters parameters = Parameters::initialize(model->graph(), 0); // the CLI's default seed
  HostArray<double> reference = interpretForward<double>(model->graph(), parameters.tensors(), x.cast<double>());
  expectCloseToReference(y, reference, 5);
}

// Every fusion level, given before or after the command's name, computes the interpreter's outputs, and --profile
// adds the table of the program's loop nests.
TEST_F(CliTest, ForwardAtEveryFusionLevelWithTheProfileMatchesTheInterpreter) {
  HostArray<float> x = writeInput("x.npy");
  auto model = buildZooModel("cnn-local", {});
  Parameters parameters = Parameters::initialize(model->graph(), 0); // the CLI's default seed
  HostArray<double> reference = interpretForward<double>(model->graph(), parameters.tensors(), x.cast<double>());
  for (const std::string level : {"none", "epilogue", "full"}) {
    std::string out = "y-" + level + ".npy";
    RunResult result =
        level == "none" ? run("--fusion none --profile forward --model cnn-local --input x.npy --out " + out)
                        : run("forward --model cnn-local --input x.npy --out " + out + " --profile --fusion " + level);
    ASSERT_TRUE(result.exited) << result.output;
    ASSERT_EQ(result.exitCode, 0) << result.output;
    EXPECT_THAT(result.output, AllOf(HasSubstr("kernel profile:"), HasSubstr("forward #0"), HasSubstr("kernel: conv1"),
                                     HasSubstr("outside nests")))
        << level;
    expectCloseToReference(readNpy<float>(path(out)), reference, 5);
  }
  RunResult bad = run("forward --model cnn-local --input x.npy --out y.npy --fusion most");
  EXPECT_THAT(bad.output, HasSubstr("--fusion must be none, epilogue or full, got 'most'"));
  EXPECT_EQ(bad.exitCode, 1);
  RunResult badVariable = run("forward --model cnn-local --input x.npy --out y.npy", "SEQJIT_FUSION=some");
  EXPECT_THAT(badVariable.output, HasSubstr("SEQJIT_FUSION must be none, epilogue or full, got 'some'"));
  EXPECT_EQ(badVariable.exitCode, 1);
  RunResult badProfile = run("forward --model cnn-local --input x.npy --out y.npy", "SEQJIT_PROFILE=yes");
  EXPECT_THAT(badProfile.output, HasSubstr("SEQJIT_PROFILE must be 1 (profile) or 0, got 'yes'"));
  EXPECT_EQ(badProfile.exitCode, 1);
}

TEST_F(CliTest, ForwardWithWeightsFileMatchesTheInterpreter) {
  HostArray<float> x = writeInput("x.npy");
  auto model = cnnDeep();
  Parameters weights = Parameters::initialize(model->graph(), 42);
  weights.saveNpz(path("w.npz"));
  RunResult result = run("forward --model cnn-deep --input x.npy --weights w.npz --out y.npy");
  ASSERT_TRUE(result.exited) << result.output;
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("weights: w.npz"));

  HostArray<float> y = readNpy<float>(path("y.npy"));
  HostArray<double> reference = interpretForward<double>(model->graph(), weights.tensors(), x.cast<double>());
  expectCloseToReference(y, reference, 5);
  // The weights must be used: the seed-0 initialisation gives other outputs.
  HostArray<double> seedZero =
      interpretForward<double>(model->graph(), Parameters::initialize(model->graph(), 0).tensors(), x.cast<double>());
  double difference = 0;
  for (size_t i = 0; i < seedZero.data.size(); ++i)
    difference = std::max(difference, std::abs(seedZero.data[i] - reference.data[i]));
  EXPECT_GT(difference, 1e-3);
}

TEST_F(CliTest, ForwardOnRealHdf5Data) {
  if (!fs::exists(irf1Data()))
    GTEST_SKIP() << irf1Data() << " is not present";
  std::string data = fs::canonical(irf1Data()).string();
  RunResult result = run(fmt::format("forward --model residualbind --input {} --key X_test --out y.npy", quote(data)));
  ASSERT_TRUE(result.exited) << result.output;
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_THAT(result.output, AllOf(HasSubstr("779 sequences x 400 nt"), HasSubstr("shape (779, 1)")));
  HostArray<float> y = readNpy<float>(path("y.npy"));
  ASSERT_EQ(y.shape, (std::vector<int64_t>{779, 1}));

  // The interpreter on the first rows (the whole set would take long in float64 loops).
  constexpr int64_t kRows = 40;
  HostArray<float> x = firstExamples(readHdf5Dataset(data, "X_test"), kRows);
  auto model = buildZooModel("residualbind", {.length = 400});
  HostArray<double> reference =
      interpretForward<double>(model->graph(), Parameters::initialize(model->graph(), 0).tensors(), x.cast<double>());
  expectCloseToReference(y, reference, kRows);
}

TEST_F(CliTest, ForwardWithExampleModelFile) {
  HostArray<float> x = writeInput("x.npy");
  std::string file = sourcePath("examples/tiny_exp_cnn.cpp").string();
  RunResult result = run(fmt::format("forward --model {} --input x.npy --out y.npy", quote(file)));
  ASSERT_TRUE(result.exited) << result.output;
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_THAT(result.output,
              AllOf(HasSubstr("tiny_exp_cnn"), HasSubstr("tiny_exp_cnn.cpp"), HasSubstr("shape (5, 1)")));

  // The same file, compiled into this test, is the reference model.
  ModelFileOptions options{"", 200, 0};
  std::unique_ptr<Model> model(seqjit_model_file_build(&options));
  HostArray<float> y = readNpy<float>(path("y.npy"));
  HostArray<double> reference =
      interpretForward<double>(model->graph(), Parameters::initialize(model->graph(), 0).tensors(), x.cast<double>());
  expectCloseToReference(y, reference, 5);

  // A second run loads the cached shared object instead of compiling again.
  RunResult again = run(fmt::format("forward --model {} --input x.npy --out y2.npy", quote(file)));
  ASSERT_EQ(again.exitCode, 0) << again.output;
  EXPECT_THAT(again.output, ::testing::Not(HasSubstr("compiling model file")));
}

// ---- seqjit forward: model-file errors -----------------------------------------------------------------------

TEST_F(CliTest, ModelFileWithSyntaxErrorReportsTheCompiler) {
  writeInput("x.npy");
  std::string file = writeModelFile("broken.cpp", R"(#include "dsl/ModelFile.h"
SEQJIT_MODEL_FILE(options) {
  auto m = std::make_unique<seqjit::Model>("broken")
  return m;
}
)");
  RunResult result = run("forward --model broken.cpp --input x.npy --out y.npy");
  EXPECT_TRUE(result.exited) << result.output;
  EXPECT_EQ(result.exitCode, 1) << result.output;
  // The compiler's diagnostics are several lines; the first line is seqjit's.
  std::vector<std::string> lines = result.lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_THAT(lines[0],
              AllOf(StartsWith("seqjit: error: model file"), HasSubstr("broken.cpp"), HasSubstr("does not compile")));
  EXPECT_THAT(result.output, AllOf(HasSubstr("broken.cpp:4"), HasSubstr("error:"), HasSubstr("before")));
  EXPECT_FALSE(fs::exists(path("y.npy")));
}

TEST_F(CliTest, ModelFileWithoutMacroDefinesNoModel) {
  writeInput("x.npy");
  writeModelFile("helper.cpp", "#include \"dsl/ModelFile.h\"\nint helper() { return 1; }\n");
  expectOneError(run("forward --model helper.cpp --input x.npy --out y.npy"),
                 {"helper.cpp", "defines no model", "SEQJIT_MODEL_FILE"});
}

TEST_F(CliTest, ModelFileShapeErrorNamesLayerAndLine) {
  writeInput("x.npy");
  writeModelFile("bad_shapes.cpp", R"(#include "dsl/ModelFile.h"
SEQJIT_MODEL_FILE(options) {
  auto m = std::make_unique<seqjit::Model>("bad_shapes");
  auto x = m->input(options.length ? options.length : 200);
  x = conv1d(x, {.filters = 8, .width = 5}, "conv1");
  x = dense(x, 1, true, "head");
  m->setOutput(x);
  return m;
}
)");
  // The DSL's seqjit::Error is thrown inside the dlopen'ed file and must reach the driver's handler.
  expectOneError(run("forward --model bad_shapes.cpp --input x.npy --out y.npy"),
                 {"model 'bad_shapes'", "layer 'head'", "expected a (features) input", "(8, 196)", "bad_shapes.cpp:6"});
}

TEST_F(CliTest, ModelFileWithoutOutputNamesTheFile) {
  writeInput("x.npy");
  writeModelFile("open.cpp", R"(#include "dsl/ModelFile.h"
SEQJIT_MODEL_FILE(options) {
  auto m = std::make_unique<seqjit::Model>("open_ended");
  conv1d(m->input(200), {.filters = 8, .width = 5}, "conv1");
  return m;
}
)");
  expectOneError(run("forward --model open.cpp --input x.npy --out y.npy"), {"open.cpp", "'open_ended'", "setOutput"});
}

TEST_F(CliTest, ModelFileThrowingOtherExceptionDoesNotCrash) {
  writeInput("x.npy");
  writeModelFile("throws.cpp", R"(#include "dsl/ModelFile.h"
#include <vector>
SEQJIT_MODEL_FILE(options) {
  std::vector<int> sizes;
  auto m = std::make_unique<seqjit::Model>("throws");
  m->input(sizes.at(3));
  return m;
}
)");
  expectOneError(run("forward --model throws.cpp --input x.npy --out y.npy"), {"throws.cpp", "threw"});
}

TEST_F(CliTest, MissingModelFileAndUnwritableCache) {
  writeInput("x.npy");
  expectOneError(run("forward --model nowhere.cpp --input x.npy --out y.npy"), {"nowhere.cpp", "does not exist"});
  writeModelFile("helper.cpp", "#include \"dsl/ModelFile.h\"\n");
  std::ofstream(path("plain-file")) << "not a directory";
  // The cache lies under a regular file: creating it fails even for root.
  expectOneError(run("forward --model helper.cpp --input x.npy --out y.npy",
                     "SEQJIT_CACHE_DIR=" + quote(path("plain-file") + "/cache")),
                 {"helper.cpp", "cache directory", "SEQJIT_CACHE_DIR"});
}

// ---- seqjit forward: input, weights and option errors --------------------------------------------------------

TEST_F(CliTest, UnknownModelNameListsKnownNames) {
  writeInput("x.npy");
  expectOneError(run("forward --model cnn-shallow --input x.npy --out y.npy"),
                 {"unknown model 'cnn-shallow'", "cnn-deep", "basset", "residualbind"});
}

TEST_F(CliTest, UnknownActivation) {
  writeInput("x.npy");
  expectOneError(run("forward --model cnn-deep --activation swish --input x.npy --out y.npy"),
                 {"'swish'", "expected one of", "relu", "exp"});
}

TEST_F(CliTest, MissingInputFile) {
  expectOneError(run("forward --model cnn-deep --input absent.npy --out y.npy"), {"absent.npy", "does not exist"});
}

TEST_F(CliTest, InputWithWrongExtension) {
  std::ofstream(path("x.txt")) << "ACGT\n";
  expectOneError(run("forward --model cnn-deep --input x.txt --out y.npy"), {"x.txt", "'.txt'", ".npy", ".h5"});
}

TEST_F(CliTest, TruncatedNpy) {
  std::string bytes = serializeNpy(randomOneHot(5, 200, 7));
  std::ofstream(path("cut.npy"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  expectOneError(run("forward --model cnn-deep --input cut.npy --out y.npy"), {"cut.npy", "truncated", "(5, 4, 200)"});
}

TEST_F(CliTest, InputThatIsNotOneHot) {
  HostArray<float> x = randomOneHot(5, 200, 7);
  for (float &v : x.data)
    v *= 0.5f;
  writeNpy(path("half.npy"), x);
  expectOneError(run("forward --model cnn-deep --input half.npy --out y.npy"),
                 {"half.npy", "example 0", "position 0", "0.5", "not one-hot"});
}

TEST_F(CliTest, InputWithThreeChannels) {
  writeNpy(path("three.npy"), HostArray<float>({5, 3, 200}));
  expectOneError(run("forward --model cnn-deep --input three.npy --out y.npy"),
                 {"three.npy", "(5, 3, 200)", "expected (N, 4, L)"});
}

TEST_F(CliTest, InputWithNoSequences) {
  writeNpy(path("empty.npy"), HostArray<float>({0, 4, 200}));
  expectOneError(run("forward --model cnn-deep --input empty.npy --out y.npy"),
                 {"empty.npy", "no sequences", "(0, 4, 200)"});
}

TEST_F(CliTest, InputTooShortForTheModelNamesTheLayer) {
  writeInput("short.npy", 2, 20);
  expectOneError(run("forward --model cnn-deep --input short.npy --out y.npy"),
                 {"model 'cnn-deep'", "layer '", "shorter than"});
}

TEST_F(CliTest, MissingWeightsFile) {
  writeInput("x.npy");
  expectOneError(run("forward --model cnn-deep --input x.npy --weights absent.npz --out y.npy"),
                 {"--weights", "absent.npz", "does not exist"});
}

TEST_F(CliTest, WeightsWithMissingKey) {
  writeInput("x.npy");
  auto model = cnnDeep();
  std::map<std::string, HostArray<float>> tensors = Parameters::initialize(model->graph(), 42).tensors();
  ASSERT_EQ(tensors.erase("conv1.weight"), 1u);
  writeNpz(path("partial.npz"), tensors);
  expectOneError(run("forward --model cnn-deep --input x.npy --weights partial.npz --out y.npy"),
                 {"partial.npz", "conv1.weight", "(32, 4, 19)", "no such key"});
}

TEST_F(CliTest, WeightsWithWrongShape) {
  writeInput("x.npy");
  auto model = cnnDeep();
  std::map<std::string, HostArray<float>> tensors = Parameters::initialize(model->graph(), 42).tensors();
  tensors.at("conv1.weight") = HostArray<float>({32, 4, 15});
  writeNpz(path("wrong.npz"), tensors);
  expectOneError(run("forward --model cnn-deep --input x.npy --weights wrong.npz --out y.npy"),
                 {"wrong.npz", "conv1.weight", "(32, 4, 15)", "(32, 4, 19)"});
}

TEST_F(CliTest, WeightsFileThatIsNotNpz) {
  writeInput("x.npy");
  expectOneError(run("forward --model cnn-deep --input x.npy --weights x.npy --out y.npy"), {"x.npy", ".npz"});
}

TEST_F(CliTest, Hdf5WithBadKeyListsTheKeys) {
  if (!fs::exists(irf1Data()))
    GTEST_SKIP() << irf1Data() << " is not present";
  std::string data = fs::canonical(irf1Data()).string();
  expectOneError(run(fmt::format("forward --model residualbind --input {} --key X_tset --out y.npy", quote(data))),
                 {"IRF1_400_h3k27ac.h5", "'X_tset'", "X_test", "X_train", "X_valid"});
}

TEST_F(CliTest, UnwritableOutput) {
  writeInput("x.npy");
  expectOneError(run("forward --model cnn-deep --input x.npy --out no/such/dir/y.npy"), {"no/such/dir/y.npy"});
}

TEST_F(CliTest, MissingRequiredOptionGivesUsageError) {
  writeInput("x.npy");
  RunResult result = run("forward --model cnn-deep --input x.npy");
  EXPECT_TRUE(result.exited) << result.output;
  EXPECT_NE(result.exitCode, 0);
  EXPECT_THAT(result.output, AllOf(HasSubstr("--out"), HasSubstr("required")));
}

TEST_F(CliTest, ZeroBatchIsRefusedPlainly) {
  writeInput("x.npy");
  RunResult result = run("forward --model cnn-deep --input x.npy --out y.npy --batch 0");
  EXPECT_TRUE(result.exited) << result.output;
  EXPECT_NE(result.exitCode, 0);
  EXPECT_THAT(result.output, AllOf(HasSubstr("--batch"), HasSubstr("positive"), HasSubstr("'0'")));
  EXPECT_LT(result.output.size(), 200u) << "a usage error should be short:\n" << result.output;
}

TEST_F(CliTest, NoSubcommandGivesUsageError) {
  RunResult result = run("");
  EXPECT_TRUE(result.exited) << result.output;
  EXPECT_NE(result.exitCode, 0);
  EXPECT_THAT(result.output, HasSubstr("subcommand"));
}

// ---- seqjit grad ---------------------------------------------------------------------------------------------

/// Labels (count, 12) for CNN-local, with example 0 positive so that the Fourier prior is not empty.
HostArray<float> writeLabels(const std::string &file, int64_t count, int64_t tasks) {
  HostArray<float> y({count, tasks});
  for (int64_t i = 0; i < y.size(); ++i)
    y.data[i] = (i % 3 == 0) ? 1.0f : 0.0f;
  writeNpy(file, y);
  return y;
}

// Five sequences in one batch (batch norm on their statistics), then in batches of 2, 2 and 1 (batch norm on
// running statistics, so that batches do not interact): the gradient of all five, as the interpreter computes it
// in one batch.
TEST_F(CliTest, GradWithFourierPriorMatchesTheInterpreterInOneBatchOrSeveral) {
  HostArray<float> x = writeInput("x.npy", 5, 120);
  auto model = buildZooModel("cnn-local", {.length = 120});
  HostArray<float> y = writeLabels(path("y.npy"), 5, model->graph().outputNode().shape[0]);
  Objective objective;
  objective.l2 = 1e-3;
  objective.fourierPrior = parseFourierPrior("--fourier-prior", "T=10,s=0.2,sigma=2,lambda=0.5");
  Parameters parameters = Parameters::initialize(model->graph(), 0); // the CLI's default seed
  for (bool batches : {false, true}) {
    SCOPED_TRACE(batches ? "batches of 2" : "one batch");
    RunResult result = run("grad --model cnn-local --input x.npy --labels y.npy --out g.npz --l2 1e-3 "
                           "--fourier-prior T=10,s=0.2,sigma=2,lambda=0.5" +
                           std::string(batches ? " --batch-norm eval --batch-size 2" : ""));
    ASSERT_TRUE(result.exited) << result.output;
    ASSERT_EQ(result.exitCode, 0) << result.output;
    EXPECT_THAT(result.output, AllOf(HasSubstr("5 sequences x 120 nt"), HasSubstr("Fourier prior"), HasSubstr("g.npz"),
                                     HasSubstr("ms per sequence")));
    EXPECT_EQ(result.output.find("batches of 2 sequences") != std::string::npos, batches);

    LossGradients<double> reference = interpretLossGradient<double>(model->graph(), objective, !batches,
                                                                    x.cast<double>(), y.cast<double>(), parameters);
    std::map<std::string, HostArray<float>> gradients = readNpz(path("g.npz"));
    ASSERT_EQ(gradients.size(), reference.gradients.size());
    for (const auto &[name, expected] : reference.gradients)
      EXPECT_LE(seqjit::testing::relativeError(gradients.at(name).data, expected.data), 1e-3) << name;
    size_t printed = result.output.find("fourier_prior:");
    ASSERT_NE(printed, std::string::npos);
    EXPECT_NEAR(std::stod(result.output.substr(printed + 14)), reference.terms.at("fourier_prior"),
                1e-4 * reference.terms.at("fourier_prior"));
  }
  RunResult result = run("grad --model cnn-local --input x.npy --labels y.npy --out g.npz --batch-size -1");
  EXPECT_NE(result.exitCode, 0);
  EXPECT_THAT(result.output, AllOf(HasSubstr("--batch-size"), HasSubstr("-1 not in range")));
}

// A label mask and the spectral norm (seeded power vectors), then a second call that continues from the first
// call's updated power vectors: both equal the interpreter.
TEST_F(CliTest, GradWithMaskAndSpectralNormMatchesTheInterpreterAndContinues) {
  HostArray<float> x = writeInput("x.npy", 4, 200);
  auto model = buildZooModel("cnn-50-2", {});
  const Graph &graph = model->graph();
  HostArray<float> y = writeLabels(path("y.npy"), 4, 12);
  HostArray<float> mask({4, 12});
  for (int64_t i = 0; i < mask.size(); ++i)
    mask.data[i] = (i % 5 == 0) ? 0.0f : 1.0f;
  writeNpy(path("m.npy"), mask);
  RunResult result =
      run("grad --model cnn-50-2 --input x.npy --labels y.npy --mask m.npy --spectral-norm lambda=0.1 --out g.npz");
  ASSERT_TRUE(result.exited) << result.output;
  ASSERT_EQ(result.exitCode, 0) << result.output;
  EXPECT_THAT(result.output, AllOf(HasSubstr("loss bce (masked) + spectral norm"), HasSubstr("spectral_penalty:"),
                                   HasSubstr("power vectors: 4 updated *.weight_u in g.npz (started from seed 0")));
  result = run("grad --model cnn-50-2 --input x.npy --labels y.npy --mask m.npy --spectral-norm lambda=0.1 "
               "--power-vectors g.npz --out g2.npz");
  ASSERT_EQ(result.exitCode, 0) << result.output;

  Objective objective;
  objective.labelMask = true;
  objective.spectralNorm = parseSpectralNorm("--spectral-norm", "lambda=0.1");
  Parameters parameters = Parameters::initialize(graph, 0); // the CLI's default seed
  HostArray<double> maskAsDouble = mask.cast<double>();
  std::map<std::string, HostArray<double>> vectors;
  for (const auto &[name, u] : initialPowerVectors<float>(graph, 0))
    vectors[name] = u.cast<double>();
  for (const char *file : {"g.npz", "g2.npz"}) {
    SCOPED_TRACE(file);
    LossGradients<double> reference = interpretLossGradient<double>(
        graph, objective, true, x.cast<double>(), y.cast<double>(), parameters, {&maskAsDouble, &vectors});
    std::map<std::string, HostArray<float>> written = readNpz(path(file));
    ASSERT_EQ(written.size(), reference.gradients.size() + reference.powerVectors.size());
    for (const auto &[name, expected] : reference.gradients)
      EXPECT_LE(seqjit::testing::relativeError(written.at(name).data, expected.data), 1e-3) << name;
    vectors.clear();
    for (const auto &[name, expected] : reference.powerVectors) {
      EXPECT_LE(seqjit::testing::relativeError(written.at(name).data, expected.data), 1e-5) << name;
      vectors[name] = written.at(name).cast<double>(); // what the second call starts from
    }
  }
}

TEST_F(CliTest, GradRefusesABadMaskPriorOrSpectralNorm) {
  writeInput("x.npy", 4, 120);
  writeLabels(path("y.npy"), 4, 1);
  HostArray<float> mask({4, 1});
  mask.data = {1, 0, 2, 1};
  writeNpy(path("m.npy"), mask);
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --mask m.npy --out g.npz"),
                 {"--mask", "m.npy", "row 2 holds 2", "0 and 1 only"});
  writeNpy(path("m3.npy"), HostArray<float>({3, 1}));
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --mask m3.npy --out g.npz"),
                 {"--mask", "m3.npy", "(3, 1)", "need (4, 1)"});
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --loss multinomial --mask y.npy "
                     "--out g.npz"),
                 {"mask does not apply to the multinomial loss"});
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --sparsity-prior lambda=x --out g.npz"),
                 {"--sparsity-prior", "'lambda' needs a number", "'x'"});
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --smoothness-prior T=3 --out g.npz"),
                 {"--smoothness-prior", "unknown key 'T'", "lambda, outputs or all"});
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --spectral-norm iterations=0 --out g.npz"),
                 {"--spectral-norm", "iterations must be at least 1"});
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --power-vectors y.npy --out g.npz"),
                 {"--power-vectors needs --spectral-norm"});
  writeNpz(path("u.npz"), {{"conv1.weight_u", HostArray<float>({24})}});
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --spectral-norm lambda=1 "
                     "--power-vectors u.npz --out g.npz"),
                 {"--power-vectors", "u.npz", "has no array 'conv2.weight_u'"});
}

TEST_F(CliTest, GradRefusesLabelsOfTheWrongShape) {
  writeInput("x.npy", 4, 120);
  writeLabels(path("y.npy"), 3, 12);
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --out g.npz"),
                 {"--labels", "y.npy", "(3, 12)", "need (4, "});
}

TEST_F(CliTest, GradRefusesABadPriorLossOrBatchNormMode) {
  writeInput("x.npy", 4, 120);
  writeLabels(path("y.npy"), 4, 12);
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --out g.npz --fourier-prior T=10,q=3"),
                 {"--fourier-prior", "unknown key 'q'"});
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --out g.npz --fourier-prior T=ten"),
                 {"--fourier-prior", "'T' needs a number", "'ten'"});
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --out g.npz --loss hinge"),
                 {"unknown loss 'hinge'", "bce, mse, poisson or multinomial"});
  expectOneError(run("grad --model cnn-local --input x.npy --labels y.npy --out g.npz --batch-norm frozen"),
                 {"--batch-norm", "'frozen'"});
  expectOneError(run("grad --model cnn-local --input x.npy --labels absent.npy --out g.npz"),
                 {"--labels", "absent.npy", "does not exist"});
}

} // namespace
