// The CUDA runtime: the device choice and its CPU fallback (no driver; a driver without a GPU), every program
// compiled for CUDA here (kernels and the host code that launches them, its runtime calls bound), and on a GPU every
// program's results equal to the reference interpreter. Tests that need a GPU skip without one and say why.
#include "CallCompiled.h"
#include "CliRunner.h"
#include "Closeness.h"
#include "ExpectError.h"
#include "ProgramBuilders.h"
#include "compiler/Pipelines.h"
#include "compiler/PtxEmitter.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/Program.h"
#include "runtime/ProgramInterpreter.h"
#include "runtime/Random.h"
#include "runtime/core/CudaDevice.h"
#include "runtime/core/Device.h"
#include "stdlib/Models.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>

#ifndef SEQJIT_FAKE_CUDA_DRIVER
#define SEQJIT_FAKE_CUDA_DRIVER ""
#endif

namespace seqjit {
namespace {

using testing::expectError;
using ::testing::HasSubstr;
using testing::programs;
using testing::RunResult;

TEST(Device, NamesParseAndOthersAreRefused) {
  EXPECT_EQ(parseDevice("cpu", "--device"), Device::Cpu);
  EXPECT_EQ(parseDevice("cuda", "--device"), Device::Cuda);
  expectError([] { parseDevice("gpu", "SEQJIT_DEVICE"); }, {"SEQJIT_DEVICE", "'gpu'", "cpu or cuda"});
}

class CudaFallbackTest : public testing::SeqjitDirectoryTest {
protected:
  CudaFallbackTest() : SeqjitDirectoryTest("seqjit-cuda-fallback") {}

  std::string bytesOf(const std::string &name) const {
    std::ifstream in(path(name), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  /// Runs the forward pass on the CPU and with CUDA asked for under `environment`; the second must say why it falls
  /// back (`reason`) and write the same bytes.
  void expectFallback(const std::string &cudaRequest, const std::string &environment, const std::string &reason) {
    writeNpy(path("x.npy"), randomOneHot(3, 200, 5));
    RunResult cpu = run("forward --model cnn-deep --input x.npy --out cpu.npy");
    ASSERT_EQ(cpu.exitCode, 0) << cpu.output;
    RunResult fallback = run("forward --model cnn-deep --input x.npy --out cuda.npy " + cudaRequest, environment);
    ASSERT_TRUE(fallback.exited) << fallback.output;
    ASSERT_EQ(fallback.exitCode, 0) << fallback.output;
    EXPECT_THAT(fallback.output, HasSubstr("seqjit: CUDA was asked for, but " + reason));
    EXPECT_THAT(fallback.output, HasSubstr("; running on the CPU\n"));
    EXPECT_EQ(bytesOf("cpu.npy"), bytesOf("cuda.npy"));
  }
};

TEST_F(CudaFallbackTest, WithoutADriverTheOptionSaysWhyAndRunsOnTheCpu) {
  expectFallback("--device cuda", "SEQJIT_CUDA_DRIVER=/nonexistent/libcuda.so.1",
                 "no CUDA driver: /nonexistent/libcuda.so.1 cannot be opened");
}

TEST_F(CudaFallbackTest, ADriverWithoutAGpuIsNamedByItsError) {
  ASSERT_TRUE(std::filesystem::exists(SEQJIT_FAKE_CUDA_DRIVER)) << SEQJIT_FAKE_CUDA_DRIVER;
  expectFallback("", fmt::format("SEQJIT_DEVICE=cuda SEQJIT_CUDA_DRIVER={}", SEQJIT_FAKE_CUDA_DRIVER),
                 "the CUDA driver does not start: cuInit failed with CUDA_ERROR_NO_DEVICE (100)");
}

TEST_F(CudaFallbackTest, AnUnknownDeviceIsRefused) {
  writeNpy(path("x.npy"), randomOneHot(1, 200, 5));
  RunResult result = run("forward --model cnn-deep --input x.npy --out y.npy", "SEQJIT_DEVICE=tpu");
  testing::expectOneError(result, {"SEQJIT_DEVICE", "unknown device 'tpu'", "cpu or cuda"});
}

/// The functions a program module's caller calls (those with a C interface).
std::vector<std::string> entryPoints(mlir::ModuleOp module) {
  std::vector<std::string> names;
  module.walk([&](mlir::func::FuncOp function) {
    if (function->hasAttr("llvm.emit_c_interface"))
      names.push_back(function.getName().str());
  });
  return names;
}

/// ||actual - expected|| / ||expected||: a max-pool window whose two largest values are within float32's rounding of
/// each other may route its gradient to the other one on either side, which moves a few entries, not the whole.
double normRelativeError(const std::vector<float> &actual, const std::vector<double> &expected) {
  double difference = 0, norm = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    difference += (actual[i] - expected[i]) * (actual[i] - expected[i]);
    norm += expected[i] * expected[i];
  }
  return std::sqrt(difference / std::max(norm, 1e-300));
}

/// Where a program runs: the CPU pipeline; the GPU pipeline's loops lowered for the CPU (its fusion, collapsing,
/// tiling and one-thread kernels, checked without a GPU); the GPU.
enum class Target { Cpu, GpuLoopsOnCpu, Cuda };

/// (model, program index, target)
using ProgramCase = std::tuple<std::string, size_t, Target>;

std::string caseName(const ::testing::TestParamInfo<ProgramCase> &info) {
  static const char *targetNames[] = {"cpu", "gpu_loops_on_cpu", "cuda"};
  std::string name = std::get<0>(info.param) + "_" + programs().at(std::get<1>(info.param)).first + "_" +
                     targetNames[static_cast<int>(std::get<2>(info.param))];
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

class CompiledProgramTest : public ::testing::TestWithParam<ProgramCase> {
protected:
  void SetUp() override {
    const auto &[name, program, target] = GetParam();
    model_ = buildZooModel(name, {.activation = "exp"});
    build_ = [this, program](mlir::MLIRContext &context) {
      return programs().at(program).second(context, model_->graph());
    };
    what_ = name + " " + programs().at(program).first;
  }
  std::unique_ptr<Model> model_;
  ModuleBuilder build_;
  std::string what_;
};

class CudaCompileTest : public CompiledProgramTest {};

TEST_P(CudaCompileTest, CompilesHereWithEveryRuntimeCallBound) {
  if (findLibdevice().empty())
    GTEST_SKIP() << "no libdevice.10.bc in the CUDA toolkit (set CUDA_HOME): GPU math cannot be linked";
  mlir::MLIRContext scratch;
  loadSeqjitDialects(scratch);
  std::vector<std::string> functions = entryPoints(*build_(scratch));
  ASSERT_FALSE(functions.empty());
  // The shared object calls the runtime through import slots the loader fills, and the loader (RTLD_NOW) refuses
  // one with any other unresolved symbol; the pipeline itself fails if any buffer access was left on the host.
  ArtifactOptions options;
  options.device = Device::Cuda;
  options.cudaChip = "sm_90";
  Program program = Program::compile(build_, what_, false, functions, options);
  EXPECT_EQ(program.device(), Device::Cuda);
  std::string why;
  if (CudaDevice::get(why))
    return;
  const FunctionSignature &signature = program.signature().function(functions[0]);
  std::vector<HostArray<float>> arguments;
  for (const TensorSpec &spec : signature.arguments)
    arguments.emplace_back(spec.shape);
  std::vector<std::vector<int64_t>> resultShapes;
  for (const TensorSpec &spec : signature.results)
    resultShapes.push_back(spec.shape);
  expectError([&] { testing::callCompiled(program, functions[0], arguments, resultShapes); },
              {"'" + functions[0] + "' was compiled for CUDA, but cannot run", why});
}

INSTANTIATE_TEST_SUITE_P(Programs, CudaCompileTest,
                         ::testing::Combine(::testing::Values("cnn-deep", "residualbind"),
                                            ::testing::Range(size_t{0}, programs().size()),
                                            ::testing::Values(Target::Cuda)),
                         caseName);

/// Every entry point of the program, on random arguments in [0.05, 0.25) (positive, so that variances and Adam's second
/// moments are valid), against the interpreter in float64, in the norm: on the CPU, float32 rounding stays below 1e-5,
/// and the input gradients and DeepLIFT multipliers, where max-pool windows on these smooth inputs hold near-ties
/// that float32 may break the other way, below 3e-4. A wrong index or a lost update moves the whole result.
class ProgramOnDeviceTest : public CompiledProgramTest {};

TEST_P(ProgramOnDeviceTest, EqualsTheReferenceInterpreter) {
  Target target = std::get<2>(GetParam());
  std::string why;
  if (target == Target::Cuda && !CudaDevice::get(why)) {
    if (std::getenv("SEQJIT_REQUIRE_GPU"))
      FAIL() << "SEQJIT_REQUIRE_GPU is set, but there is no GPU: " << why;
    GTEST_SKIP() << "no GPU: " << why;
  }
  ArtifactOptions options;
  options.device = target == Target::Cuda ? Device::Cuda : Device::Cpu;
  if (target == Target::GpuLoopsOnCpu)
    options.pipeline = gpuLoopsOnCpuPipeline();
  mlir::MLIRContext context;
  loadSeqjitDialects(context);
  auto reference = build_(context);
  std::vector<std::string> functions = entryPoints(*reference);
  auto compiled = Program::compile(build_, what_, false, functions, options);
  ASSERT_EQ(compiled.device(), options.device);
  const double bound = 1e-3;
  Random random(11, 0);
  for (const std::string &function : functions) {
    SCOPED_TRACE(function);
    auto entry = reference->lookupSymbol<mlir::func::FuncOp>(function);
    std::vector<HostArray<float>> arguments;
    for (mlir::Type type : entry.getFunctionType().getInputs()) {
      HostArray<float> &argument = arguments.emplace_back(llvm::cast<mlir::RankedTensorType>(type).getShape().vec());
      for (float &value : argument.data)
        value = static_cast<float>(0.05 + 0.2 * random.uniformDouble());
    }
    std::vector<HostArray<double>> doubleArguments;
    for (const auto &a : arguments)
      doubleArguments.push_back(a.cast<double>());
    std::vector<HostArray<double>> expected = interpretFunction<double>(entry, doubleArguments);
    std::vector<std::vector<int64_t>> resultShapes;
    for (const auto &e : expected)
      resultShapes.push_back(e.shape);
    std::vector<HostArray<float>> actual = testing::callCompiled(compiled, function, arguments, resultShapes);
    for (size_t r = 0; r < expected.size(); ++r)
      EXPECT_LE(normRelativeError(actual[r].data, expected[r].data), bound) << "result " << r;
  }
}

// The CPU pipeline for one model, so that the comparison itself is known to work; the GPU's loops for every model
// on the GPU's list.
INSTANTIATE_TEST_SUITE_P(Cpu, ProgramOnDeviceTest,
                         ::testing::Combine(::testing::Values("cnn-deep"),
                                            ::testing::Range(size_t{0}, programs().size()),
                                            ::testing::Values(Target::Cpu)),
                         caseName);
INSTANTIATE_TEST_SUITE_P(GpuLoopsOnCpu, ProgramOnDeviceTest,
                         ::testing::Combine(::testing::Values("cnn-deep", "residualbind", "cnn-dist"),
                                            ::testing::Range(size_t{0}, programs().size()),
                                            ::testing::Values(Target::GpuLoopsOnCpu)),
                         caseName);
INSTANTIATE_TEST_SUITE_P(Gpu, ProgramOnDeviceTest,
                         ::testing::Combine(::testing::Values("cnn-deep", "residualbind", "cnn-dist"),
                                            ::testing::Range(size_t{0}, programs().size()),
                                            ::testing::Values(Target::Cuda)),
                         caseName);

} // namespace
} // namespace seqjit
