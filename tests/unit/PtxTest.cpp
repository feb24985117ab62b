// The forward program of every stdlib model lowers to PTX for sm_90 that NVIDIA's ptxas accepts.
#include "ZooNames.h"
#include "compiler/PtxEmitter.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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

class PtxTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PtxTest, PtxasAcceptsTheForwardProgram) {
  std::string ptxas = ptxasPath();
  if (ptxas.empty() || !std::filesystem::exists(ptxas))
    GTEST_SKIP() << "no CUDA toolkit: ptxas was not found at configure time (set SEQJIT_PTXAS to its path)";
  if (findLibdevice().empty())
    GTEST_SKIP() << "no libdevice.10.bc in the CUDA toolkit: GPU math functions cannot be linked";
  auto model = buildZooModel(GetParam(), {});
  ImportOptions options;
  options.batch = 2;
  std::vector<PtxModule> modules = emitPtx(model->graph(), options);
  ASSERT_FALSE(modules.empty());
  auto directory = std::filesystem::temp_directory_path() / ("seqjit_ptx_" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  for (const PtxModule &module : modules) {
    EXPECT_NE(module.ptx.find(".target sm_90"), std::string::npos) << module.name;
    EXPECT_NE(module.ptx.find(".entry"), std::string::npos) << module.name;
    auto ptxFile = directory / (module.name + ".ptx");
    std::ofstream(ptxFile) << module.ptx;
    std::string command = ptxas + " -arch=sm_90 " + ptxFile.string() + " -o " + (directory / "out.cubin").string() +
                          " 2> " + (directory / "ptxas.log").string();
    int status = std::system(command.c_str());
    std::ifstream log(directory / "ptxas.log");
    std::string messages((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_EQ(status, 0) << "ptxas rejected kernel " << module.name << " of " << GetParam() << ":\n" << messages;
  }
  std::filesystem::remove_all(directory);
}

INSTANTIATE_TEST_SUITE_P(Zoo, PtxTest, ::testing::ValuesIn(testing::zooNames()), testing::zooTestName);

} // namespace
} // namespace seqjit
