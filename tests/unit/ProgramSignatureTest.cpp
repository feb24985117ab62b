// Program signatures: every program builder names each argument and result with its role and shape, as the graph,
// the objective and the optimizer say they must be (worked out here from them, not read back from the builders), and
// a compiled Program checks calls against its signature, naming the tensor that is off, and runs a batch-first
// function on any number of rows in chunks.
#include "ExpectError.h"
#include "compiler/GraphImport.h"
#include "compiler/MutationWindows.h"
#include "compiler/Programs.h"
#include "compiler/TrainStep.h"
#include "dsl/Model.h"
#include "dsl/Optimizer.h"
#include "runtime/Program.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

namespace seqjit {
namespace {

constexpr int64_t kBatch = 3;

/// conv (with bias, same padding), batch norm, relu, dropout, dense: every kind of parameter and a dropout mask.
std::unique_ptr<Model> smallModel() {
  auto model = std::make_unique<Model>("signature");
  Tensor x = model->input(12);
  x = conv1d(x, {.filters = 5, .width = 3, .padding = Padding::Same}, "conv");
  x = relu(batchNorm(x, {}, "bn"), "act");
  x = dropout(x, 0.2, "drop");
  model->setOutput(dense(flatten(x), 2, true, "out"));
  return model;
}

/// What a tensor of a signature should be.
struct Expected {
  std::string name;
  TensorRole role;
  std::vector<int64_t> shape;
};

void expectTensors(const std::vector<TensorSpec> &actual, const std::vector<Expected> &expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].name);
    EXPECT_EQ(actual[i].name, expected[i].name);
    EXPECT_EQ(roleName(actual[i].role), roleName(expected[i].role));
    EXPECT_EQ(actual[i].shape, expected[i].shape);
  }
}

/// The model's parameters with their shapes: conv (F, C, W) + (F); batch norm 4 x (F); dense (2, F * L) + (2).
std::vector<Expected> parameters(TensorRole role = TensorRole::Parameter) {
  return {{"conv.weight", role, {5, 4, 3}}, {"conv.bias", role, {5}},       {"bn.weight", role, {5}},
          {"bn.bias", role, {5}},           {"bn.running_mean", role, {5}}, {"bn.running_var", role, {5}},
          {"out.weight", role, {2, 60}},    {"out.bias", role, {2}}};
}

/// The signature of `function` in `module`.
FunctionSignature signatureOf(mlir::OwningOpRef<mlir::ModuleOp> module, const char *function) {
  return functionSignature(module->lookupSymbol<mlir::func::FuncOp>(function));
}

TEST(ProgramSignature, RolesHaveNamesBothWays) {
  for (TensorRole role : {TensorRole::Input, TensorRole::Label, TensorRole::Parameter, TensorRole::OptimizerState,
                          TensorRole::StepValue, TensorRole::Result})
    EXPECT_EQ(parseRole(roleName(role)), role);
  EXPECT_FALSE(parseRole("weights"));
  FunctionSignature signature{"f", {{"x", TensorRole::Input, {2, 3}}}, {{"y", TensorRole::Result, {}}}};
  EXPECT_EQ(signature.describe(), "f(x: input (2, 3)) -> (y: result ())");
  ProgramSignature program{4, {signature}};
  testing::expectError([&] { program.function("g"); }, {"no function 'g'", "it has f"});
}

TEST(ProgramSignature, ForwardNamesTheInputTheParametersAndTheOutput) {
  auto model = smallModel();
  mlir::MLIRContext context;
  auto module = importGraph(context, model->graph(), {.batch = kBatch});
  FunctionSignature signature = signatureOf(std::move(module), "forward");
  std::vector<Expected> arguments{{"input", TensorRole::Input, {kBatch, 4, 12}}};
  for (const Expected &p : parameters())
    arguments.push_back(p);
  expectTensors(signature.arguments, arguments);
  expectTensors(signature.results, {{"output", TensorRole::Result, {kBatch, 2}}});
}

TEST(ProgramSignature, LossGradientNamesLabelsGradientsAndPowerVectors) {
  auto model = smallModel();
  Objective objective;
  objective.labelMask = true;
  objective.spectralNorm = SpectralNormPenalty{};
  mlir::MLIRContext context;
  auto module = buildLossGradientModule(context, model->graph(), objective, {.batch = kBatch});
  FunctionSignature signature = signatureOf(std::move(module), kLossGradientFunction);
  std::vector<Expected> arguments{{"input", TensorRole::Input, {kBatch, 4, 12}},
                                  {"labels", TensorRole::Label, {kBatch, 2}},
                                  {"mask", TensorRole::Label, {kBatch, 2}}};
  for (const Expected &p : parameters())
    arguments.push_back(p);
  // One power vector per conv and dense weight, of the weight's first dimension.
  arguments.push_back({"conv.weight_u", TensorRole::OptimizerState, {5}});
  arguments.push_back({"out.weight_u", TensorRole::OptimizerState, {2}});
  expectTensors(signature.arguments, arguments);

  std::vector<Expected> results;
  for (const std::string &term : kLossTerms)
    results.push_back({term, TensorRole::Result, {}});
  for (const Expected &p : parameters())
    if (p.name.find("running") == std::string::npos) // running statistics are state, not trained
      results.push_back({p.name + ".grad", TensorRole::Result, p.shape});
  results.push_back({"conv.weight_u", TensorRole::OptimizerState, {5}});
  results.push_back({"out.weight_u", TensorRole::OptimizerState, {2}});
  expectTensors(signature.results, results);
}

TEST(ProgramSignature, TrainStepNamesItsStateAndStepValues) {
  auto model = smallModel();
  Optimizer adam; // two slots per trainable parameter
  mlir::MLIRContext context;
  auto module = buildTrainStepModule(context, model->graph(), Objective{}, adam, {.batch = kBatch});
  FunctionSignature signature = signatureOf(std::move(module), kTrainStepFunction);
  std::vector<Expected> arguments{{"input", TensorRole::Input, {kBatch, 4, 12}},
                                  {"labels", TensorRole::Label, {kBatch, 2}}};
  std::vector<Expected> slots;
  for (const Expected &p : parameters())
    if (p.name.find("running") == std::string::npos)
      for (const char *slot : {"exp_avg", "exp_avg_sq"})
        slots.push_back({p.name + "." + slot, TensorRole::OptimizerState, p.shape});
  for (const Expected &p : parameters())
    arguments.push_back(p);
  arguments.insert(arguments.end(), slots.begin(), slots.end());
  arguments.push_back({"drop.mask", TensorRole::StepValue, {kBatch, 5, 12}});
  for (const char *scalar : {"learning_rate", "step_size", "bias_correction2_sqrt"})
    arguments.push_back({scalar, TensorRole::StepValue, {}});
  expectTensors(signature.arguments, arguments);

  std::vector<Expected> results;
  for (const std::string &term : kLossTerms)
    results.push_back({term, TensorRole::Result, {}});
  results.push_back({"gradient_norm", TensorRole::Result, {}});
  for (const Expected &p : parameters()) // a new value of every parameter and slot, under the argument's name
    results.push_back(p);
  results.insert(results.end(), slots.begin(), slots.end());
  expectTensors(signature.results, results);
}

TEST(ProgramSignature, AttributionProgramsNameTheirTensors) {
  auto model = smallModel();
  mlir::MLIRContext context;
  ProgramOptions options{.batch = kBatch};
  FunctionSignature gradient =
      signatureOf(buildInputGradientModule(context, model->graph(), options), kInputGradientFunction);
  EXPECT_EQ(gradient.arguments.at(1).name, "seed");
  EXPECT_EQ(gradient.arguments.at(1).shape, (std::vector<int64_t>{kBatch, 2}));
  expectTensors(gradient.results,
                {{"output", TensorRole::Result, {kBatch, 2}}, {"input_gradient", TensorRole::Result, {kBatch, 4, 12}}});
  FunctionSignature deepLift = signatureOf(buildDeepLiftModule(context, model->graph(), options), kDeepLiftFunction);
  EXPECT_EQ(deepLift.arguments.at(1).name, "reference");
  EXPECT_EQ(roleName(deepLift.arguments.at(1).role), roleName(TensorRole::Input));
  expectTensors(deepLift.results, {{"output", TensorRole::Result, {kBatch, 2}},
                                   {"reference_output", TensorRole::Result, {kBatch, 2}},
                                   {"multipliers", TensorRole::Result, {kBatch, 4, 12}}});
  // Incremental mutagenesis: the head reads the trunk's last node whole and gives the output.
  MutationWindowPlan plan = planMutationWindows(model->graph());
  auto windows = buildMutationWindowModule(context, model->graph(), plan, kBatch);
  FunctionSignature head = signatureOf(std::move(windows), kHeadFunction);
  ASSERT_EQ(plan.frontier.size(), 1u);
  EXPECT_EQ(head.arguments.at(0).name, model->graph().nodes.at(plan.frontier[0]).name);
  expectTensors(head.results, {{"output", TensorRole::Result, {kBatch, 2}}});
}

TEST(Program, CallsAreCheckedAgainstTheSignature) {
  auto model = smallModel();
  Program program = Program::compileGraph(model->graph(), {.batch = kBatch});
  const FunctionSignature &forward = program.signature().function("forward");
  EXPECT_EQ(forward.arguments.size(), 9u);
  std::vector<float> input(kBatch * 4 * 12), output(kBatch * 2);
  testing::expectError(
      [&] {
        program.call("forward", {{input.data(), {kBatch, 4, 12}}}, {{output.data(), {3, 2}}});
      },
      {"1 arguments given to forward(input: input (3, 4, 12)", "it has 9"});
  std::vector<BufferView> arguments{{input.data(), {kBatch, 4, 11}}};
  std::vector<std::vector<float>> parameterData;
  for (const TensorSpec &spec : std::vector<TensorSpec>(forward.arguments.begin() + 1, forward.arguments.end()))
    arguments.push_back({parameterData.emplace_back(HostArray<float>::elementCount(spec.shape)).data(), spec.shape});
  testing::expectError(
      [&] {
        program.call("forward", arguments, {{output.data(), {kBatch, 2}}});
      },
      {"argument 'input' has shape (3, 4, 11), the program takes (3, 4, 12)"});
  arguments[0].shape = {kBatch, 4, 12};
  testing::expectError(
      [&] {
        program.call("forward", arguments, {{output.data(), {kBatch, 1}}});
      },
      {"result 'output' has shape (3, 1), the program takes (3, 2)"});
  testing::expectError(
      [&] {
        program.call("backward", arguments, {{output.data(), {kBatch, 2}}});
      },
      {"no function 'backward'"});
}

TEST(Program, RunsInChunksOnlyABatchFirstFunction) {
  // @sum: (3, 4) -> () is not batch-first; @scale: (2, 4), () -> (2, 4) is, and runs on any number of rows.
  const std::string text = R"(
func.func @sum(%x: tensor<3x4xf32>) -> tensor<f32> attributes {llvm.emit_c_interface} {
  %zero = arith.constant dense<0.0> : tensor<f32>
  %s = linalg.reduce ins(%x : tensor<3x4xf32>) outs(%zero : tensor<f32>) dimensions = [0, 1]
    (%a: f32, %b: f32) { %r = arith.addf %a, %b : f32
      linalg.yield %r : f32 }
  return %s : tensor<f32>
}
func.func @scale(%x: tensor<2x4xf32>, %k: tensor<f32>) -> tensor<2x4xf32> attributes {llvm.emit_c_interface} {
  %init = tensor.empty() : tensor<2x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>,
                                        affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %k : tensor<2x4xf32>, tensor<f32>) outs(%init : tensor<2x4xf32>) {
    ^bb0(%a: f32, %b: f32, %c: f32):
      %m = arith.mulf %a, %b : f32
      linalg.yield %m : f32
  } -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
})";
  Program program = Program::compile(
      [&](mlir::MLIRContext &context) {
        loadSeqjitDialects(context);
        return mlir::parseSourceString<mlir::ModuleOp>(text, &context);
      },
      "chunk test", false, {"sum", "scale"});
  HostArray<float> rows({5, 4}), factor(std::vector<int64_t>{}, 3.0f);
  for (int64_t i = 0; i < rows.size(); ++i)
    rows.data[i] = static_cast<float>(i);
  testing::expectError([&] { program.runInChunks("sum", rows, {}, 2); }, {"sum does not run in chunks"});
  HostArray<float> scaled = program.runInChunks("scale", rows, {{factor.data.data(), factor.shape}}, 2);
  ASSERT_EQ(scaled.shape, rows.shape);
  for (int64_t i = 0; i < rows.size(); ++i) // the last chunk of 1 row ran zero-padded
    EXPECT_EQ(scaled.data[i], 3.0f * rows.data[i]) << i;
}

} // namespace
} // namespace seqjit
