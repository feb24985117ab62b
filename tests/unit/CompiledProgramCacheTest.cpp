// The persistent compiled-program cache under the compiler: a program the cache serves computes bit for bit what a
// fresh compile does (a forward pass, and a loss gradient with the Fourier prior's double backward), a damaged entry
// is compiled again, the key changes with the kernels' vector width, and two seqjit processes compiling the same
// program into an empty cache at once both succeed with the same outputs.
#include "CliRunner.h"
#include "compiler/ContractionKernels.h"
#include "compiler/ProgramKey.h"
#include "runtime/Compile.h"
#include "runtime/GradientPrograms.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/Program.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace seqjit {
namespace {

namespace fs = std::filesystem;

/// A private, empty cache directory for one test, through SEQJIT_CACHE_DIR.
class CompiledProgramCacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    directory = fs::temp_directory_path() / fmt::format("seqjit-program-cache-{}", getpid());
    fs::remove_all(directory);
    setenv("SEQJIT_CACHE_DIR", directory.c_str(), 1);
    unsetenv("SEQJIT_CACHE");
  }
  void TearDown() override {
    unsetenv("SEQJIT_CACHE_DIR");
    unsetenv("SEQJIT_CACHE");
    fs::remove_all(directory);
  }
  fs::path programs() const { return directory / "programs"; }
  std::vector<fs::path> entries(const std::string &extension) const {
    std::vector<fs::path> found;
    std::error_code error;
    for (const auto &file : fs::directory_iterator(programs(), error))
      if (file.path().extension() == extension)
        found.push_back(file.path());
    return found;
  }
  fs::path directory;
};

bool bitIdentical(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// The forward pass of `graph` through a freshly compiled or a cached program, and whether the cache served it.
std::pair<HostArray<float>, bool> forward(const Graph &graph, const Parameters &parameters,
                                          const HostArray<float> &input) {
  CompileTally before = compileTally();
  CompiledModel compiled = compile(graph, {.batch = 4, .threads = 1});
  bool cached = compileTally().cached > before.cached;
  return {compiled.forward(input, parameters), cached};
}

TEST_F(CompiledProgramCacheTest, ACachedForwardPassEqualsAFreshCompileBitForBit) {
  auto model = buildZooModel("cnn-dist", {});
  Parameters parameters = Parameters::initialize(model->graph(), 1);
  parameters.randomizeBatchNorm(model->graph(), 2);
  HostArray<float> input = randomOneHot(4, 200, 3);
  auto [stored, storedFromCache] = forward(model->graph(), parameters, input);
  EXPECT_FALSE(storedFromCache);
  ASSERT_EQ(entries(".so").size(), 1u);
  auto [served, servedFromCache] = forward(model->graph(), parameters, input);
  EXPECT_TRUE(servedFromCache);
  setenv("SEQJIT_CACHE", "off", 1);
  auto [fresh, freshFromCache] = forward(model->graph(), parameters, input);
  EXPECT_FALSE(freshFromCache);
  EXPECT_TRUE(bitIdentical(stored.data, served.data));
  EXPECT_TRUE(bitIdentical(fresh.data, served.data));
}

TEST_F(CompiledProgramCacheTest, ACachedDoubleBackwardEqualsAFreshCompileBitForBit) {
  auto model = buildZooModel("cnn-dist", {});
  const Graph &graph = model->graph();
  Parameters parameters = Parameters::initialize(graph, 1);
  Objective objective;
  objective.fourierPrior = parseFourierPrior("--fourier-prior", "T=20,s=0.2,sigma=3,lambda=0.5");
  HostArray<float> input = randomOneHot(4, 200, 3);
  HostArray<float> labels({4, graph.outputNode().shape[0]});
  labels.data[0] = labels.data[5] = 1;
  auto gradients = [&] {
    CompileTally before = compileTally();
    auto compiled = CompiledLossGradient::compile(graph, objective, {.batch = 4});
    bool cached = compileTally().cached > before.cached;
    return std::pair{compiled.run(input, labels, parameters), cached};
  };
  auto [stored, storedFromCache] = gradients();
  auto [served, servedFromCache] = gradients();
  EXPECT_FALSE(storedFromCache);
  EXPECT_TRUE(servedFromCache);
  ASSERT_EQ(stored.gradients.size(), served.gradients.size());
  for (const auto &[name, gradient] : stored.gradients)
    EXPECT_TRUE(bitIdentical(gradient.data, served.gradients.at(name).data)) << name;
  EXPECT_EQ(stored.terms, served.terms);
}

TEST_F(CompiledProgramCacheTest, ADamagedEntryIsCompiledAgainAndStillComputesTheSame) {
  auto model = buildZooModel("cnn-deep", {});
  Parameters parameters = Parameters::initialize(model->graph(), 1);
  HostArray<float> input = randomOneHot(4, 200, 3);
  auto [reference, ignored] = forward(model->graph(), parameters, input);
  ASSERT_EQ(entries(".so").size(), 1u);
  fs::path library = entries(".so")[0];
  // Cut in half: the manifest's size no longer matches.
  fs::resize_file(library, fs::file_size(library) / 2);
  auto [rebuilt, rebuiltFromCache] = forward(model->graph(), parameters, input);
  EXPECT_FALSE(rebuiltFromCache);
  EXPECT_TRUE(bitIdentical(reference.data, rebuilt.data));
  // Stored again, whole: served next time.
  auto [served, servedFromCache] = forward(model->graph(), parameters, input);
  EXPECT_TRUE(servedFromCache);
  EXPECT_TRUE(bitIdentical(reference.data, served.data));
}

TEST_F(CompiledProgramCacheTest, TheKernelsVectorWidthIsPartOfTheTarget) {
  auto model = buildZooModel("cnn-deep", {});
  Parameters parameters = Parameters::initialize(model->graph(), 1);
  HostArray<float> input = randomOneHot(4, 200, 3);
  forward(model->graph(), parameters, input);
  if (!vectorTargetOfWidth(128))
    GTEST_SKIP() << "this CPU has no 128-bit vector registers";
  setenv("SEQJIT_VECTOR_BITS", "128", 1);
  auto [narrow, fromCache] = forward(model->graph(), parameters, input);
  unsetenv("SEQJIT_VECTOR_BITS");
  EXPECT_FALSE(fromCache);
  EXPECT_EQ(entries(".so").size(), 2u);
}

TEST_F(CompiledProgramCacheTest, TwoProcessesCompilingTheSameProgramAtOnceBothSucceed) {
  fs::path work = directory / "work";
  fs::create_directories(work);
  writeNpy((work / "x.npy").string(), randomOneHot(6, 200, 4));
  // Each process: its own output, the shared (empty) cache.
  auto command = [&](int i) {
    return fmt::format("SEQJIT_CACHE_DIR={} {} forward --model cnn-deep --input {} --out {} > {} 2>&1; echo $? >> {}",
                       testing::quote(directory.string()), testing::quote(testing::seqjitBinary().string()),
                       testing::quote((work / "x.npy").string()),
                       testing::quote((work / fmt::format("y{}.npy", i)).string()),
                       testing::quote((work / fmt::format("log{}", i)).string()),
                       testing::quote((work / fmt::format("log{}", i)).string()));
  };
  std::string both = fmt::format("({}) & ({}) & wait", command(1), command(2));
  ASSERT_EQ(std::system(both.c_str()), 0);
  for (int i : {1, 2}) {
    std::ifstream log(work / fmt::format("log{}", i));
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("compiling: "), std::string::npos) << text;
    EXPECT_EQ(text.substr(text.size() - 2), "0\n") << text;
  }
  EXPECT_TRUE(
      bitIdentical(readNpy<float>((work / "y1.npy").string()).data, readNpy<float>((work / "y2.npy").string()).data));
  // One entry, and no writer's temporary file left behind.
  EXPECT_EQ(entries(".so").size(), 1u);
  EXPECT_EQ(std::distance(fs::directory_iterator(programs()), fs::directory_iterator()), 2);
}

TEST(ProgramKey, TheCompilerBuildIsIdentified) { EXPECT_EQ(compilerBuildId().size(), 40u); }

} // namespace
} // namespace seqjit
