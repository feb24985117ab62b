// Checks the seq-program interpreter: linear ops by adjoint identities, the rest by closed forms, checkNumerics, and
// agreement with the graph interpreter.
#include "runtime/ProgramInterpreter.h"

#include "compiler/GraphImport.h"
#include "compiler/SeqDialect.h"
#include "dsl/Model.h"
#include "dsl/ShapeFunctions.h"
#include "runtime/ReferenceInterpreter.h"
#include "tests/unit/ExpectError.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <random>

using namespace mlir;

namespace seqjit {
namespace {

using testing::expectError;
using Array = HostArray<double>;
using Shape64 = std::vector<int64_t>;

/// Builds one-op programs @f(arguments) -> op(arguments) and interprets them in float64.
class ProgramInterpreterTest : public ::testing::Test {
protected:
  MLIRContext context;
  OpBuilder builder{&context};
  OwningOpRef<ModuleOp> module;
  std::mt19937 generator{7};

  void SetUp() override { loadSeqjitDialects(context); }

  RankedTensorType type(const Shape64 &shape) { return RankedTensorType::get(shape, builder.getF64Type()); }
  Location loc() { return builder.getUnknownLoc(); }

  /// @f with one argument per shape, returning what `body` builds from them.
  func::FuncOp function(const std::vector<Shape64> &argumentShapes,
                        const std::function<std::vector<Value>(ValueRange)> &body) {
    module = ModuleOp::create(loc());
    builder.setInsertionPointToEnd(module->getBody());
    SmallVector<Type> argumentTypes;
    for (const Shape64 &shape : argumentShapes)
      argumentTypes.push_back(type(shape));
    auto f = builder.create<func::FuncOp>(loc(), "f", builder.getFunctionType(argumentTypes, {}));
    Block *block = f.addEntryBlock();
    builder.setInsertionPointToStart(block);
    std::vector<Value> results = body(block->getArguments());
    builder.create<func::ReturnOp>(loc(), ValueRange(results));
    f.setType(builder.getFunctionType(argumentTypes, ValueRange(results).getTypes()));
    return f;
  }

  /// The value of one op built by `makeOp` from the arguments (shapes taken from `arguments`).
  Array apply(const std::vector<Array> &arguments, const std::function<Value(ValueRange)> &makeOp,
              const InterpretOptions &options = {}) {
    std::vector<Shape64> shapes;
    for (const Array &argument : arguments)
      shapes.push_back(argument.shape);
    func::FuncOp f = function(shapes, [&](ValueRange args) { return std::vector<Value>{makeOp(args)}; });
    return interpretFunction<double>(f, arguments, options).at(0);
  }

  Array random(const Shape64 &shape) {
    std::normal_distribution<double> normal(0, 1);
    Array x(shape);
    for (double &v : x.data)
      v = normal(generator);
    return x;
  }

  Value activation(Value x, const std::string &kind, double scale = 1, double shift = 0,
                   const std::string &layer = "act") {
    return builder.create<seq::ActivationOp>(loc(), x.getType(), x, builder.getStringAttr(kind),
                                             builder.getF64FloatAttr(scale), builder.getF64FloatAttr(shift),
                                             builder.getF64FloatAttr(1.0), builder.getStringAttr(layer));
  }
};

double dot(const Array &a, const Array &b) {
  EXPECT_EQ(a.shape, b.shape);
  double sum = 0;
  for (int64_t i = 0; i < a.size(); ++i)
    sum += a.data[i] * b.data[i];
  return sum;
}

/// <A x, y> == <x, A^T y>: the forward op and its transpose agree to rounding.
void expectAdjoint(double forward, double transposed) {
  EXPECT_NEAR(forward, transposed, 1e-12 * std::max(1.0, std::abs(forward)));
}

// ---- adjoint identities of the linear ops -------------------------------------------------------------------

TEST_F(ProgramInterpreterTest, Conv1dInputAndWeightGradsAreItsTransposes) {
  const int64_t batch = 2, channels = 3, length = 13, filters = 2;
  for (Padding padding : {Padding::Valid, Padding::Same})
    for (int64_t width : {3, 4})
      for (int64_t stride : {1, 2})
        for (int64_t dilation : {1, 2}) {
          SCOPED_TRACE(fmt::format("{} width {} stride {} dilation {}", paddingName(padding), width, stride, dilation));
          const int64_t out = windowOutputLength(length, width, stride, dilation, padding);
          const std::string pad(paddingName(padding));
          Array x = random({batch, channels, length}), w = random({filters, channels, width});
          Array dy = random({batch, filters, out});
          Array y = apply({x, w}, [&](ValueRange a) {
            return builder.create<seq::Conv1dOp>(loc(), type({batch, filters, out}), a[0], a[1], Value(), stride,
                                                 dilation, pad, "conv");
          });
          Array dx = apply({dy, w}, [&](ValueRange a) {
            return builder.create<seq::Conv1dInputGradOp>(loc(), type(x.shape), a[0], a[1], stride, dilation, pad,
                                                          "conv");
          });
          Array dw = apply({x, dy}, [&](ValueRange a) {
            return builder.create<seq::Conv1dWeightGradOp>(loc(), type(w.shape), a[0], a[1], stride, dilation, pad,
                                                           "conv");
          });
          expectAdjoint(dot(y, dy), dot(x, dx));
          expectAdjoint(dot(y, dy), dot(w, dw));
        }
}

TEST_F(ProgramInterpreterTest, DenseInputAndWeightGradsAreItsTransposes) {
  Array x = random({3, 5}), w = random({4, 5}), dy = random({3, 4});
  Array y = apply({x, w}, [&](ValueRange a) {
    return builder.create<seq::DenseOp>(loc(), type({3, 4}), a[0], a[1], Value(), "dense");
  });
  Array dx = apply({dy, w}, [&](ValueRange a) {
    return builder.create<seq::DenseInputGradOp>(loc(), type({3, 5}), a[0], a[1], "dense");
  });
  Array dw = apply({x, dy}, [&](ValueRange a) {
    return builder.create<seq::DenseWeightGradOp>(loc(), type({4, 5}), a[0], a[1], "dense");
  });
  expectAdjoint(dot(y, dy), dot(x, dx));
  expectAdjoint(dot(y, dy), dot(w, dw));
}

TEST_F(ProgramInterpreterTest, AvgPool1dGradIsItsTranspose) {
  // Stride below, equal to and above the size; length 11 leaves a tail that no window covers for most of them.
  for (auto [size, stride] : std::vector<std::pair<int64_t, int64_t>>{{3, 2}, {2, 2}, {2, 3}, {4, 1}}) {
    SCOPED_TRACE(fmt::format("size {} stride {}", size, stride));
    const int64_t out = (11 - size) / stride + 1;
    Array x = random({2, 3, 11}), dy = random({2, 3, out});
    Array y = apply({x}, [&](ValueRange a) {
      return builder.create<seq::AvgPool1dOp>(loc(), type({2, 3, out}), a[0], size, stride, "pool");
    });
    Array dx = apply({dy}, [&](ValueRange a) {
      return builder.create<seq::AvgPool1dGradOp>(loc(), type(x.shape), a[0], size, stride, "pool");
    });
    expectAdjoint(dot(y, dy), dot(x, dx));
  }
}

TEST_F(ProgramInterpreterTest, MaxPool1dSelectAndGradAreTransposesForFixedRouting) {
  for (auto [size, stride] : std::vector<std::pair<int64_t, int64_t>>{{3, 2}, {2, 2}, {2, 3}}) {
    SCOPED_TRACE(fmt::format("size {} stride {}", size, stride));
    const int64_t out = (11 - size) / stride + 1;
    Array x = random({2, 3, 11}), values = random(x.shape), dy = random({2, 3, out});
    Array selected = apply({x, values}, [&](ValueRange a) {
      return builder.create<seq::MaxPool1dSelectOp>(loc(), type({2, 3, out}), a[0], a[1], size, stride, "pool");
    });
    Array routed = apply({x, dy}, [&](ValueRange a) {
      return builder.create<seq::MaxPool1dGradOp>(loc(), type(x.shape), a[0], a[1], size, stride, "pool");
    });
    expectAdjoint(dot(selected, dy), dot(values, routed));

    // Selecting x itself is max_pool1d, which the test recomputes window by window.
    Array pooled = apply({x}, [&](ValueRange a) {
      return builder.create<seq::MaxPool1dOp>(loc(), type({2, 3, out}), a[0], size, stride, "pool");
    });
    for (int64_t row = 0; row < 6; ++row)
      for (int64_t o = 0; o < out; ++o) {
        const double *window = &x.data[row * 11 + o * stride];
        EXPECT_EQ(pooled.data[row * out + o], *std::max_element(window, window + size));
      }
  }
}

TEST_F(ProgramInterpreterTest, MaxPoolTiesGoToTheFirstMaximum) {
  // Windows of 3 every 2 over [1 5 5 | 2 5]: [1 5 5] ties at 1 and 2, [5 2 5] at 2 and 4 (window start 2).
  Array x({1, 1, 5}, {1, 5, 5, 2, 5});
  Array values({1, 1, 5}, {10, 11, 12, 13, 14});
  Array selected = apply({x, values}, [&](ValueRange a) {
    return builder.create<seq::MaxPool1dSelectOp>(loc(), type({1, 1, 2}), a[0], a[1], 3, 2, "pool");
  });
  EXPECT_EQ(selected.data, (std::vector<double>{11, 12}));
  Array routed = apply({x, Array({1, 1, 2}, {1, 100})}, [&](ValueRange a) {
    return builder.create<seq::MaxPool1dGradOp>(loc(), type({1, 1, 5}), a[0], a[1], 3, 2, "pool");
  });
  EXPECT_EQ(routed.data, (std::vector<double>{0, 1, 100, 0, 0}));
}

TEST_F(ProgramInterpreterTest, ReduceSumAndBroadcastAreTransposes) {
  const Shape64 shape{2, 3, 4};
  for (const Shape64 &axes : std::vector<Shape64>{{0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1, 2}}) {
    SCOPED_TRACE(fmt::format("axes ({})", fmt::join(axes, ", ")));
    Shape64 reduced;
    for (int64_t d = 0; d < 3; ++d)
      if (std::find(axes.begin(), axes.end(), d) == axes.end())
        reduced.push_back(shape[d]);
    Array x = random(shape), y = random(reduced);
    Array summed = apply(
        {x}, [&](ValueRange a) { return builder.create<seq::ReduceSumOp>(loc(), type(reduced), a[0], axes, "sum"); });
    Array repeated = apply(
        {y}, [&](ValueRange a) { return builder.create<seq::BroadcastOp>(loc(), type(shape), a[0], axes, "repeat"); });
    ASSERT_EQ(summed.shape, reduced);
    expectAdjoint(dot(summed, y), dot(x, repeated));
  }
}

TEST_F(ProgramInterpreterTest, ReduceSumOverEveryAxisIsARankZeroTotal) {
  Array x = random({2, 3, 4});
  Array total = apply({x}, [&](ValueRange a) {
    return builder.create<seq::ReduceSumOp>(loc(), type({}), a[0], Shape64{0, 1, 2}, "sum");
  });
  double expected = 0;
  for (double v : x.data)
    expected += v;
  EXPECT_TRUE(total.shape.empty());
  ASSERT_EQ(total.size(), 1);
  EXPECT_NEAR(total.data[0], expected, 1e-12);
}

TEST_F(ProgramInterpreterTest, SliceAndPadAreTransposes) {
  const Shape64 shape{2, 5, 7};
  for (int64_t axis : {0, 1, 2})
    for (auto [offset, length] : std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {1, 1}, {0, 2}}) {
      if (offset + length > shape[axis])
        continue;
      SCOPED_TRACE(fmt::format("axis {} offset {} length {}", axis, offset, length));
      Shape64 window = shape;
      window[axis] = length;
      Array x = random(shape), y = random(window);
      Array sliced = apply({x}, [&](ValueRange a) {
        return builder.create<seq::SliceOp>(loc(), type(window), a[0], axis, offset, "slice");
      });
      Array padded = apply(
          {y}, [&](ValueRange a) { return builder.create<seq::PadOp>(loc(), type(shape), a[0], axis, offset, "pad"); });
      expectAdjoint(dot(sliced, y), dot(x, padded));
    }
}

TEST_F(ProgramInterpreterTest, ReshapeKeepsRowMajorOrderAndIsItsOwnTranspose) {
  Array x = random({2, 3, 4}), y = random({6, 4});
  Array reshaped = apply({x}, [&](ValueRange a) {
    return builder.create<seq::ReshapeOp>(loc(), type({6, 4}), a[0], "reshape");
  });
  Array back = apply({y}, [&](ValueRange a) {
    return builder.create<seq::ReshapeOp>(loc(), type({2, 3, 4}), a[0], "reshape");
  });
  EXPECT_EQ(reshaped.data, x.data);
  expectAdjoint(dot(reshaped, y), dot(x, back));
}

// ---- closed forms -------------------------------------------------------------------------------------------

TEST_F(ProgramInterpreterTest, LogSoftmaxMatchesTheFormulaAlongEveryAxis) {
  Array x = random({2, 3, 4});
  for (int64_t axis : {0, 1, 2}) {
    SCOPED_TRACE(fmt::format("axis {}", axis));
    Array y = apply({x}, [&](ValueRange a) {
      return builder.create<seq::LogSoftmaxOp>(loc(), type(x.shape), a[0], axis, "log_softmax");
    });
    // Strides of (2, 3, 4); each (i, j, k) with the axis coordinate 0 starts one softmax row.
    const int64_t strides[3] = {12, 4, 1};
    for (int64_t start = 0; start < x.size(); ++start) {
      if ((start / strides[axis]) % x.shape[axis] != 0)
        continue;
      double normaliser = 0, probability = 0;
      for (int64_t a = 0; a < x.shape[axis]; ++a)
        normaliser += std::exp(x.data[start + a * strides[axis]]);
      for (int64_t a = 0; a < x.shape[axis]; ++a) {
        const int64_t i = start + a * strides[axis];
        EXPECT_NEAR(y.data[i], std::log(std::exp(x.data[i]) / normaliser), 1e-12);
        probability += std::exp(y.data[i]);
      }
      EXPECT_NEAR(probability, 1, 1e-12);
    }
  }
}

TEST_F(ProgramInterpreterTest, LogSoftmaxIsStableForLargeLogits) {
  Array y = apply({Array({1, 3}, {1000, 1000, -1000})}, [&](ValueRange a) {
    return builder.create<seq::LogSoftmaxOp>(loc(), type({1, 3}), a[0], 1, "log_softmax");
  });
  EXPECT_NEAR(y.data[0], -std::log(2.0), 1e-12);
  EXPECT_NEAR(y.data[1], -std::log(2.0), 1e-12);
  EXPECT_NEAR(y.data[2], -2000 - std::log(2.0), 1e-9);
}

TEST_F(ProgramInterpreterTest, BceWithLogitsKnownValuesAndNoOverflow) {
  const std::vector<double> logits{0, 2, -2, 3, 100, -100, 100, -100};
  const std::vector<double> labels{1, 1, 0, 0.25, 0, 1, 1, 0};
  Array loss = apply({Array({8}, logits), Array({8}, labels)}, [&](ValueRange a) {
    return builder.create<seq::BceWithLogitsOp>(loc(), type({8}), a[0], a[1], "bce");
  });
  auto sigmoid = [](double z) { return 1 / (1 + std::exp(-z)); };
  EXPECT_NEAR(loss.data[0], std::log(2.0), 1e-15);
  EXPECT_NEAR(loss.data[1], -std::log(sigmoid(2)), 1e-15);
  EXPECT_NEAR(loss.data[2], -std::log(1 - sigmoid(-2)), 1e-15);
  EXPECT_NEAR(loss.data[3], -(0.25 * std::log(sigmoid(3)) + 0.75 * std::log(1 - sigmoid(3))), 1e-14);
  // |z| = 100: the naive formula takes log(1 - sigmoid(100)) = log(0); the stable one gives ~|z|.
  EXPECT_NEAR(loss.data[4], 100, 1e-12);
  EXPECT_NEAR(loss.data[5], 100, 1e-12);
  EXPECT_NEAR(loss.data[6], std::exp(-100.0), 1e-50); // log1p(e^-100)
  EXPECT_NEAR(loss.data[7], std::exp(-100.0), 1e-50);
}

// ---- the Fourier score ----------------------------------------------------------------------------------------

/// A seq.fourier_score (or, given `upstream`, its grad) of `track` with T = 3, s = 0.5.
Value fourierOp(OpBuilder &builder, Location loc, ValueRange args, int64_t sigma) {
  auto trackType = cast<RankedTensorType>(args[0].getType());
  if (args.size() == 1)
    return builder.create<seq::FourierScoreOp>(
        loc, RankedTensorType::get({trackType.getDimSize(0)}, trackType.getElementType()), args[0],
        static_cast<uint64_t>(sigma), uint64_t{3}, llvm::APFloat(0.5), "fourier");
  return builder.create<seq::FourierScoreGradOp>(loc, trackType, args[0], args[1], static_cast<uint64_t>(sigma),
                                                 uint64_t{3}, llvm::APFloat(0.5), "fourier");
}

TEST_F(ProgramInterpreterTest, FourierScoreOfAPureToneIsItsFrequencyWeight) {
  // Unsmoothed, cos(2 pi f l / L) has one nonzero rfft bin, f: the normalised spectrum is 1 there, so the score is
  // w_f: 1 up to T = 3, 1 / (1 + (f - 3)^0.5) above, 0 for DC (a constant row); a zero row scores 0.
  const int64_t length = 16;
  Array track({4, length});
  for (int64_t l = 0; l < length; ++l) {
    track.data[l] = std::cos(2 * std::numbers::pi * 2 * l / length);
    track.data[length + l] = std::cos(2 * std::numbers::pi * 5 * l / length);
    track.data[2 * length + l] = 0.7;
  }
  Array score = apply({track}, [&](ValueRange a) { return fourierOp(builder, loc(), a, 0); });
  EXPECT_NEAR(score.data[0], 1.0, 1e-12);
  EXPECT_NEAR(score.data[1], 1.0 / (1.0 + std::sqrt(2.0)), 1e-12);
  EXPECT_NEAR(score.data[2], 0.0, 1e-12);
  EXPECT_EQ(score.data[3], 0.0);
}

TEST_F(ProgramInterpreterTest, FourierScoreSmoothsWithTheTruncatedGaussian) {
  // sigma 2: taps exp(-(j - 2)^2 / 8) / sum for j = 0..4, zero padding; smoothing here then scoring unsmoothed
  // must give the same score.
  const int64_t length = 20, sigma = 2;
  Array track = random({3, length});
  std::vector<double> taps;
  double total = 0;
  for (int64_t j = 0; j <= 2 * sigma; ++j)
    total += taps.emplace_back(std::exp(-0.5 * std::pow(static_cast<double>(j - sigma) / sigma, 2)));
  Array smoothed({3, length});
  for (int64_t row = 0; row < 3; ++row)
    for (int64_t l = 0; l < length; ++l)
      for (int64_t j = 0; j <= 2 * sigma; ++j)
        if (int64_t at = l + j - sigma; at >= 0 && at < length)
          smoothed.data[row * length + l] += taps[j] / total * track.data[row * length + at];
  Array direct = apply({track}, [&](ValueRange a) { return fourierOp(builder, loc(), a, sigma); });
  Array ofSmoothed = apply({smoothed}, [&](ValueRange a) { return fourierOp(builder, loc(), a, 0); });
  for (int64_t row = 0; row < 3; ++row)
    EXPECT_NEAR(direct.data[row], ofSmoothed.data[row], 1e-12);
}

TEST_F(ProgramInterpreterTest, FourierScoreGradIsTheScoresDerivative) {
  for (int64_t sigma : {0, 2}) {
    const int64_t length = 12;
    Array track = random({2, length}), upstream = random({2});
    Array grad = apply({track, upstream}, [&](ValueRange a) { return fourierOp(builder, loc(), a, sigma); });
    for (int64_t i = 0; i < track.size(); ++i) {
      const double step = 1e-6;
      Array plus = track, minus = track;
      plus.data[i] += step;
      minus.data[i] -= step;
      Array up = apply({plus}, [&](ValueRange a) { return fourierOp(builder, loc(), a, sigma); });
      Array down = apply({minus}, [&](ValueRange a) { return fourierOp(builder, loc(), a, sigma); });
      double expected = 0;
      for (int64_t row = 0; row < 2; ++row)
        expected += upstream.data[row] * (up.data[row] - down.data[row]) / (2 * step);
      EXPECT_NEAR(grad.data[i], expected, 1e-7) << "sigma " << sigma << ", element " << i;
    }
  }
}

TEST_F(ProgramInterpreterTest, MulIsElementwise) {
  Array product = apply({Array({2, 2}, {1, -2, 3, 0.5}), Array({2, 2}, {4, 5, -6, 8})}, [&](ValueRange a) {
    return builder.create<seq::MulOp>(loc(), type({2, 2}), a[0], a[1], "mul");
  });
  EXPECT_EQ(product.data, (std::vector<double>{4, -10, -18, 4}));
}

TEST_F(ProgramInterpreterTest, ConstantsOfEitherPrecisionAndSplats) {
  auto f32 = RankedTensorType::get({2, 2}, builder.getF32Type());
  func::FuncOp f = function({}, [&](ValueRange) {
    Value dense = builder.create<seq::ConstantOp>(
        loc(), type({2, 2}), DenseElementsAttr::get(type({2, 2}), ArrayRef<double>{1.5, -2, 0.1, 4}), "table");
    Value single = builder.create<seq::ConstantOp>(
        loc(), f32, DenseElementsAttr::get(f32, ArrayRef<float>{0.25f, 1, 2, 3}), "single");
    Value splat = builder.create<seq::ConstantOp>(loc(), type({3}), DenseElementsAttr::get(type({3}), 7.0), "ones");
    return std::vector<Value>{dense, single, splat};
  });
  std::vector<Array> results = interpretFunction<double>(f, {});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].data, (std::vector<double>{1.5, -2, 0.1, 4}));
  EXPECT_EQ(results[1].data, (std::vector<double>{0.25, 1, 2, 3}));
  EXPECT_EQ(results[2].data, (std::vector<double>{7, 7, 7}));
}

TEST_F(ProgramInterpreterTest, PrimitiveActivationsAndTheirDefinedNumerics) {
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    std::string kind;
    std::vector<double> x, expected;
  };
  const std::vector<Case> cases = {
      {"step", {-1, 0, 2}, {0, 0, 1}},
      {"sign", {-3, 0, 2}, {-1, 0, 1}},
      {"abs", {-2, 0, 1.5}, {2, 0, 1.5}},
      {"square", {-3, 0, 0.5}, {9, 0, 0.25}},
      {"sqrt", {4, 0, 2.25}, {2, 0, 1.5}},
      {"rsqrt", {4, 0.25, 0}, {0.5, 2, inf}},
      {"reciprocal", {4, 0, -0.5}, {0.25, 0, -2}},
      {"log", {std::exp(1.0), 1, 0}, {1, 0, -inf}},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.kind);
    Array y = apply({Array({3}, c.x)}, [&](ValueRange a) { return activation(a[0], c.kind); });
    EXPECT_EQ(y.data, c.expected);
  }
  // Negative arguments of sqrt and log are NaN; f applies to scale * x + shift.
  Array nan = apply({Array({2}, {-1, -1})}, [&](ValueRange a) { return activation(a[0], "sqrt"); });
  EXPECT_TRUE(std::isnan(nan.data[0]));
  nan = apply({Array({1}, {-1})}, [&](ValueRange a) { return activation(a[0], "log"); });
  EXPECT_TRUE(std::isnan(nan.data[0]));
  Array shifted = apply({Array({1}, {1})}, [&](ValueRange a) { return activation(a[0], "square", 2, 1); });
  EXPECT_EQ(shifted.data[0], 9);
  shifted = apply({Array({1}, {1})}, [&](ValueRange a) { return activation(a[0], "step", -1, 1); });
  EXPECT_EQ(shifted.data[0], 0); // step(0)
}

// ---- checkNumerics and errors -------------------------------------------------------------------------------

TEST_F(ProgramInterpreterTest, CheckNumericsNamesTheOpThatOverflowsFromFiniteOperands) {
  const InterpretOptions check{.checkNumerics = true};
  auto elementwise = [&](const std::string &kind, const Array &x, const InterpretOptions &options) {
    auto makeOp = [&](ValueRange a) { return activation(a[0], kind, 1, 0, "broken"); };
    return apply({x}, makeOp, options);
  };
  const Array large({1, 3}, {0, 1000, 1}), negative({2}, {4, -1});
  // Off by default: the infinity is a value like any other.
  EXPECT_TRUE(std::isinf(elementwise("exp", large, {}).data[1]));
  expectError([&] { elementwise("exp", large, check); },
              {"seq.activation kind exp", "layer 'broken'", "inf", "(0, 1)"});
  expectError([&] { elementwise("log", negative, check); },
              {"seq.activation kind log", "layer 'broken'", "nan", "(1)"});

  // The first op to break is named, not the ones its infinity flows into; a non-finite argument blames no one.
  func::FuncOp f = function({{3}}, [&](ValueRange a) {
    Value e = activation(a[0], "exp", 1, 0, "first");
    return std::vector<Value>{builder.create<seq::MulOp>(loc(), type({3}), e, a[0], "second")};
  });
  expectError([&] { interpretFunction<double>(f, {Array({3}, {0, 1000, 1})}, check); }, {"layer 'first'"});
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<Array> results = interpretFunction<double>(f, {Array({3}, {0, inf, 1})}, check);
  EXPECT_TRUE(std::isinf(results[0].data[1]));
}

TEST_F(ProgramInterpreterTest, ErrorsNameTheArgumentOrTheOpAndLayer) {
  func::FuncOp f = function({{2, 3}, {2, 3}}, [&](ValueRange a) {
    return std::vector<Value>{builder.create<seq::MulOp>(loc(), type({2, 3}), a[0], a[1], "product")};
  });
  expectError([&] { interpretFunction<double>(f, {Array({2, 3}), Array({3, 2})}); }, {"argument #1", "(3, 2)"});
  expectError([&] { interpretFunction<double>(f, {Array({2, 3})}); }, {"takes 2 arguments, got 1"});

  // The interpreter does not rely on the verifier: a kernel's shape check names the op and layer.
  func::FuncOp unverified = function({{2, 3}, {3, 2}}, [&](ValueRange a) {
    return std::vector<Value>{builder.create<seq::MulOp>(loc(), type({2, 3}), a[0], a[1], "product")};
  });
  const std::vector<Array> misshapen{Array({2, 3}), Array({3, 2})};
  expectError([&] { interpretFunction<double>(unverified, misshapen); },
              {"seq.mul, layer 'product'", "(2, 3)", "(3, 2)"});
  func::FuncOp mistyped = function({{2, 3}}, [&](ValueRange a) {
    return std::vector<Value>{builder.create<seq::ReduceSumOp>(loc(), type({3}), a[0], Shape64{1}, "sum")};
  });
  const std::vector<Array> matrix{Array({2, 3})};
  expectError([&] { interpretFunction<double>(mistyped, matrix); },
              {"seq.reduce_sum, layer 'sum'", "computed shape (2)", "tensor<3xf64>"});
}

// ---- the graph interpreter is interpretFunction of the imported graph ---------------------------------------

TEST_F(ProgramInterpreterTest, GraphInterpreterEqualsTheImportedProgram) {
  Model m("small");
  auto x = m.input(24);
  auto rc = reverseComplement(x, "rc");
  auto joined = concat({x, rc}, "joined");
  auto conv = conv1d(joined, {.filters = 6, .width = 5, .stride = 2, .padding = Padding::Same}, "conv");
  auto normalised = batchNorm(conv, {}, "bn");
  auto act = softplus(normalised, "act");
  auto pooled = maxPool1d(act, 3, 2, "pool");
  auto averaged = avgPool1d(pooled, 2, 0, "avg");
  auto residual = add({averaged, averaged}, "sum");
  auto features = concat({globalMaxPool(residual, "gmax"), globalAvgPool(residual, "gavg")}, "features");
  auto flat = flatten(dropout(residual, 0.2, "drop"), "flat");
  auto hidden = dense(flat, 5, true, "hidden");
  m.setOutput(dense(concat({hidden, features}, "all"), 2, false, "out"));
  const Graph &graph = m.graph();

  std::map<std::string, HostArray<float>> parameters;
  std::uniform_real_distribution<float> uniform(0.5f, 1.5f);
  for (const Node &node : graph.nodes)
    for (const ParameterSpec &spec : node.parameters) {
      HostArray<float> value(spec.shape);
      for (float &v : value.data)
        v = uniform(generator) * (spec.suffix == "running_mean" || spec.suffix == "bias" ? -0.5f : 1.0f);
      parameters[Graph::parameterName(node, spec)] = value;
    }
  Array input = random({3, 4, 24});

  // @forward takes the input, then the parameters in parameterOrder.
  auto argumentsIn = [&](auto element) {
    using T = decltype(element);
    std::vector<HostArray<T>> arguments{input.cast<T>()};
    for (const std::string &name : parameterOrder(graph))
      arguments.push_back(parameters.at(name).cast<T>());
    return arguments;
  };

  std::vector<Array> nodeValues = interpretAll<double>(graph, parameters, input);
  for (bool float64 : {false, true}) {
    SCOPED_TRACE(float64 ? "f64 module" : "f32 module");
    OwningOpRef<ModuleOp> imported = importGraph(context, graph, {.batch = -1, .float64 = float64});
    auto forward = imported->lookupSymbol<func::FuncOp>("forward");
    std::vector<Array> opResults;
    std::vector<Array> results =
        interpretFunction<double>(forward, argumentsIn(0.0), {.checkNumerics = true}, &opResults);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].shape, nodeValues[graph.output].shape);
    EXPECT_EQ(results[0].data, nodeValues[graph.output].data); // the same kernels in the same order: bit for bit
    // One op per node but the input, in node order.
    ASSERT_EQ(opResults.size(), graph.nodes.size() - 1);
    for (size_t id = 1; id < graph.nodes.size(); ++id)
      EXPECT_EQ(opResults[id - 1].data, nodeValues[id].data) << "node " << graph.nodes[id].name;
  }

  // In float arithmetic too, with a static batch.
  OwningOpRef<ModuleOp> imported = importGraph(context, graph, {.batch = 3});
  std::vector<HostArray<float>> results =
      interpretFunction<float>(imported->lookupSymbol<func::FuncOp>("forward"), argumentsIn(0.0f));
  EXPECT_EQ(results.at(0).data, interpretForward<float>(graph, parameters, input.cast<float>()).data);
}

} // namespace
} // namespace seqjit
