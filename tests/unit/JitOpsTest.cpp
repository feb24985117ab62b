// Every seq op, its VJP and its VJP's VJP, JIT-compiled for the CPU, equal the reference interpreter (float64).
#include "CallCompiled.h"
#include "Closeness.h"
#include "OpCases.h"
#include "runtime/Program.h"
#include "runtime/ProgramInterpreter.h"
#include "runtime/Random.h"

#include <gtest/gtest.h>

using namespace seqjit;
using namespace seqjit::testing;

namespace {

HostArray<double> randomArray(const std::vector<int64_t> &shape, const Argument &a, Random &random) {
  HostArray<double> array(shape);
  for (double &v : array.data)
    v = a.low + (a.high - a.low) * random.uniformDouble();
  return array;
}

/// Runs @f, @f_vjp and @f_vjp_vjp on both sides with the same random arguments and cotangents.
void checkCase(const Case &c) {
  SCOPED_TRACE(c.name);
  auto compiled = Program::compile(
      [&](mlir::MLIRContext &context) { return buildCaseModule(context, c, mlir::Float32Type::get(&context)); }, c.name,
      false, {"f", "f_vjp", "f_vjp_vjp"});
  mlir::MLIRContext context;
  auto reference = buildCaseModule(context, c, mlir::Float64Type::get(&context));
  Random random(3, 0);
  std::vector<HostArray<double>> arguments;
  for (const Argument &a : c.arguments)
    arguments.push_back(randomArray(a.shape, a, random));
  for (const char *function : {"f", "f_vjp", "f_vjp_vjp"}) {
    SCOPED_TRACE(function);
    std::vector<HostArray<double>> expected =
        interpretFunction<double>(reference->lookupSymbol<mlir::func::FuncOp>(function), arguments);
    std::vector<HostArray<float>> floatArguments;
    std::vector<std::vector<int64_t>> resultShapes;
    for (const auto &a : arguments)
      floatArguments.push_back(a.cast<float>());
    for (const auto &e : expected)
      resultShapes.push_back(e.shape);
    std::vector<HostArray<float>> actual = callCompiled(compiled, function, floatArguments, resultShapes);
    for (size_t i = 0; i < expected.size(); ++i)
      EXPECT_LE(relativeError(actual[i].data, expected[i].data), 1e-5) << "result " << i;
    // The next function takes one cotangent per result of this one.
    for (const auto &e : expected)
      arguments.push_back(randomArray(e.shape, Argument{}, random));
  }
}

TEST(JitOps, EveryLayerOpAndItsVjpsEqualTheInterpreter) {
  for (const Case &c : layerCases())
    checkCase(c);
}

TEST(JitOps, EveryProgramOpAndItsVjpsEqualTheInterpreter) {
  for (const Case &c : programOpCases())
    checkCase(c);
}

} // namespace
