// Gradcheck and gradgradcheck of every seq op's VJP rule, and of the Fourier prior: the seq-autodiff pass's @f_vjp
// (and @f_vjp_vjp) against central finite differences of @f (and @f_vjp) in float64 on the reference interpreter.
#include "OpCases.h"
#include "compiler/Programs.h"
#include "runtime/ProgramInterpreter.h"
#include "runtime/Random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

using namespace seqjit;
using namespace seqjit::testing;

namespace {

/// The case's module in float64, run on the reference interpreter.
class Program {
public:
  explicit Program(const Case &c) : module_(buildCaseModule(context_, c, mlir::Float64Type::get(&context_))) {}

  std::vector<HostArray<double>> run(const std::string &name, const std::vector<HostArray<double>> &arguments) {
    return interpretFunction<double>(module_->lookupSymbol<mlir::func::FuncOp>(name), arguments);
  }

private:
  mlir::MLIRContext context_;
  mlir::OwningOpRef<mlir::ModuleOp> module_;
};

HostArray<double> randomArray(const std::vector<int64_t> &shape, double low, double high, Random &random) {
  HostArray<double> a(shape);
  for (double &v : a.data)
    v = low + (high - low) * random.uniformDouble();
  return a;
}

double dot(const std::vector<HostArray<double>> &a, const std::vector<HostArray<double>> &b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i)
    for (int64_t j = 0; j < a[i].size(); ++j)
      sum += a[i].data[j] * b[i].data[j];
  return sum;
}

/// Checks @name_vjp against central differences of <cotangents, @name(x)>, for every differentiable argument.
/// Returns the largest error relative to the largest gradient entry of each argument.
double gradcheck(Program &program, const std::string &name, std::vector<HostArray<double>> arguments,
                 const std::vector<bool> &differentiable, Random &random) {
  std::vector<HostArray<double>> outputs = program.run(name, arguments);
  std::vector<HostArray<double>> cotangents;
  for (const auto &o : outputs)
    cotangents.push_back(randomArray(o.shape, -1.0, 1.0, random));
  std::vector<HostArray<double>> vjpArguments = arguments;
  vjpArguments.insert(vjpArguments.end(), cotangents.begin(), cotangents.end());
  std::vector<HostArray<double>> gradients = program.run(name + "_vjp", vjpArguments);
  EXPECT_EQ(gradients.size(), arguments.size());

  const double step = 1e-6;
  double worst = 0.0;
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (!differentiable[i])
      continue;
    double largest = 0.0, error = 0.0;
    for (int64_t j = 0; j < arguments[i].size(); ++j) {
      std::vector<HostArray<double>> shifted = arguments;
      shifted[i].data[j] += step;
      double up = dot(cotangents, program.run(name, shifted));
      shifted[i].data[j] -= 2 * step;
      double down = dot(cotangents, program.run(name, shifted));
      double numeric = (up - down) / (2 * step);
      largest = std::max(largest, std::abs(numeric));
      error = std::max(error, std::abs(numeric - gradients[i].data[j]));
    }
    worst = std::max(worst, largest > 1e-9 ? error / largest : error);
  }
  return worst;
}

/// Gradcheck of @f, then of @f_vjp (arguments and cotangents both differentiated): second order.
void checkCase(const Case &c, bool secondOrder) {
  SCOPED_TRACE(c.name);
  Program program(c);
  Random random(7, 0);
  std::vector<HostArray<double>> arguments;
  std::vector<bool> differentiable;
  for (const Argument &a : c.arguments) {
    arguments.push_back(randomArray(a.shape, a.low, a.high, random));
    differentiable.push_back(a.differentiable);
  }
  EXPECT_LE(gradcheck(program, "f", arguments, differentiable, random), 1e-6) << "first order";
  if (!secondOrder)
    return;
  std::vector<HostArray<double>> outputs = program.run("f", arguments);
  for (const auto &o : outputs) {
    arguments.push_back(randomArray(o.shape, -1.0, 1.0, random));
    differentiable.push_back(true);
  }
  EXPECT_LE(gradcheck(program, "f_vjp", arguments, differentiable, random), 1e-6) << "second order";
}

TEST(Gradcheck, EveryLayerOpToSecondOrder) {
  for (const Case &c : layerCases())
    checkCase(c, /*secondOrder=*/true);
}

TEST(Gradcheck, EveryProgramOpToSecondOrder) {
  for (const Case &c : programOpCases())
    checkCase(c, /*secondOrder=*/true);
}

/// An attribution prior of (input gradient, input) for labels where example 0 is positive, example 1 negative and
/// example 2 positive in its second task.
using PriorBuilder = std::function<Value(SeqBuilder &, bool positivesOnly, Value gradient, Value input, Value labels)>;

void checkAttributionPrior(const std::string &name, const PriorBuilder &build) {
  constexpr int64_t length = 16;
  for (bool positivesOnly : {true, false}) {
    Case c{name + (positivesOnly ? "_positives" : "_all"),
           {{{3, 4, length}}, {{3, 4, length}, 0.0, 1.0}},
           [=](SeqBuilder &s, ValueRange a) {
             Value labels = s.constant({3, 2}, s.tensorType(a[0]).getElementType(), {1, 0, 0, 0, 0, 1});
             return build(s, positivesOnly, a[0], a[1], labels);
           }};
    checkCase(c, /*secondOrder=*/true);
  }
}

TEST(Gradcheck, FourierPriorToSecondOrder) {
  for (int64_t sigma : {0, 2})
    checkAttributionPrior("fourier_prior_sigma" + std::to_string(sigma),
                          [=](SeqBuilder &s, bool positivesOnly, Value g, Value x, Value labels) {
                            FourierPrior prior;
                            prior.freqLimit = 3;
                            prior.sigma = sigma;
                            prior.positivesOnly = positivesOnly;
                            return buildFourierPrior(s, prior, g, x, labels);
                          });
}

TEST(Gradcheck, SmoothnessPriorToSecondOrder) {
  checkAttributionPrior("smoothness_prior", [](SeqBuilder &s, bool positivesOnly, Value g, Value x, Value labels) {
    SmoothnessPrior prior;
    prior.positivesOnly = positivesOnly;
    return buildSmoothnessPrior(s, prior, g, x, labels);
  });
}

TEST(Gradcheck, SparsityPriorToSecondOrder) {
  checkAttributionPrior("sparsity_prior", [](SeqBuilder &s, bool positivesOnly, Value g, Value x, Value labels) {
    SparsityPrior prior;
    prior.positivesOnly = positivesOnly;
    return buildSparsityPrior(s, prior, g, x, labels);
  });
}

} // namespace
