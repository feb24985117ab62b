// The forward program of every stdlib model, and every program (train step with and without the Fourier prior's
// double backward, input gradient, DeepLIFT, the mutation windows of incremental ISM) of models with each kind of
// layer, lower to PTX for sm_80 and sm_90 that NVIDIA's ptxas accepts.
#include "ProgramBuilders.h"
#include "ZooNames.h"
#include "compiler/PtxEmitter.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <unistd.h>

#ifndef SEQJIT_PTXAS
#define SEQJIT_PTXAS ""
#endif

namespace seqjit {
namespace {

std::string ptxasPath() {
  if (const char *fromEnvironment = std::getenv("SEQJIT_PTXAS"))
    return fromEnvironment;
  return SEQJIT_PTXAS;
}

/// Why PTX cannot be checked here (no ptxas or no libdevice), or "".
std::string missingToolkit() {
  std::string ptxas = ptxasPath();
  if (ptxas.empty() || !std::filesystem::exists(ptxas))
    return "no CUDA toolkit: ptxas was not found at configure time (set SEQJIT_PTXAS to its path)";
  if (findLibdevice().empty())
    return "no libdevice.10.bc in the CUDA toolkit: GPU math functions cannot be linked";
  return "";
}

/// Every kernel of `modules` targets `chip` and is accepted by ptxas for it.
void expectPtxasAccepts(const std::vector<PtxModule> &modules, const std::string &chip, const std::string &what) {
  ASSERT_FALSE(modules.empty()) << what;
  auto directory = std::filesystem::temp_directory_path() / ("seqjit_ptx_" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  for (const PtxModule &module : modules) {
    EXPECT_NE(module.ptx.find(".target " + chip), std::string::npos) << module.name;
    EXPECT_NE(module.ptx.find(".entry"), std::string::npos) << module.name;
    auto ptxFile = directory / (module.name + ".ptx");
    std::ofstream(ptxFile) << module.ptx;
    std::string command = ptxasPath() + " -arch=" + chip + " " + ptxFile.string() + " -o " +
                          (directory / "out.cubin").string() + " 2> " + (directory / "ptxas.log").string();
    int status = std::system(command.c_str());
    std::ifstream log(directory / "ptxas.log");
    std::string messages((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_EQ(status, 0) << "ptxas rejected kernel " << module.name << " of " << what << ":\n" << messages;
  }
  std::filesystem::remove_all(directory);
}

class PtxTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PtxTest, PtxasAcceptsTheForwardProgram) {
  if (std::string why = missingToolkit(); !why.empty())
    GTEST_SKIP() << why;
  auto model = buildZooModel(GetParam(), {});
  ImportOptions options;
  options.batch = 2;
  expectPtxasAccepts(emitPtx(model->graph(), options), "sm_90", GetParam());
}

INSTANTIATE_TEST_SUITE_P(Zoo, PtxTest, ::testing::ValuesIn(testing::zooNames()), testing::zooTestName);

/// (model, program index, chip): CNN-deep (exp first layer, max pools), ResidualBind (a residual add), CNN-dist
/// (dilated convolutions).
using ProgramCase = std::tuple<std::string, size_t, std::string>;
class PtxProgramTest : public ::testing::TestWithParam<ProgramCase> {};

TEST_P(PtxProgramTest, PtxasAcceptsTheProgram) {
  if (std::string why = missingToolkit(); !why.empty())
    GTEST_SKIP() << why;
  const auto &[name, program, chip] = GetParam();
  auto model = buildZooModel(name, {.activation = "exp"});
  mlir::MLIRContext context;
  auto module = testing::programs().at(program).second(context, model->graph());
  const std::string what = name + " " + testing::programs().at(program).first;
  expectPtxasAccepts(emitModulePtx(*module, what, {.chip = chip, .features = "+ptx80"}), chip, what);
}

INSTANTIATE_TEST_SUITE_P(Programs, PtxProgramTest,
                         ::testing::Combine(::testing::Values("cnn-deep", "residualbind", "cnn-dist"),
                                            ::testing::Range(size_t{0}, size_t{6}),
                                            ::testing::Values("sm_80", "sm_90")),
                         [](const ::testing::TestParamInfo<ProgramCase> &info) {
                           std::string name = std::get<0>(info.param) + "_" +
                                              testing::programs().at(std::get<1>(info.param)).first + "_" +
                                              std::get<2>(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

} // namespace
} // namespace seqjit
