// How close a float32 loss gradient is to the float64 reference interpreter's: the loss terms, the power vectors
// and every parameter's gradient, with a tolerance measured on the problem itself (see gradientTolerance).
#pragma once

#include "Closeness.h"
#include "runtime/GradientPrograms.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace seqjit::testing {

/// ||a - b||_2 / max(||b||_2, floor): float32 rounding against the tensor's size, where `floor` (a fraction of the
/// largest gradient norm of the model) keeps a gradient that is zero in exact arithmetic (a batch-norm bias
/// feeding another batch norm in training mode) from turning rounding noise into a 100% error.
inline double normRelativeError(const std::vector<float> &actual, const std::vector<double> &expected, double floor) {
  double error = 0, norm = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    error += (actual[i] - expected[i]) * (actual[i] - expected[i]);
    norm += expected[i] * expected[i];
  }
  return std::sqrt(error) / std::max(std::sqrt(norm), floor);
}

/// How far a float32 gradient may be from the float64 reference. Rounding error grows with the reductions' lengths
/// and with the conditioning of the computation (batch norm in training mode divides by the batch's standard
/// deviation, and a bias gradient is a sum whose terms cancel), so a fixed bound is either loose for most parameters
/// or fails on some machine's summation order (the kernels' vector width sets it). The bound is measured instead:
/// `float32Error` is the float32 interpreter's error on the same problem, an evaluation of the same expression that
/// differs only in summation order, so its rounding errors have the same sizes amplified by the same conditioning.
/// Across the zoo the kernels' error is 0.1 to 1.3 times the interpreter's (256-bit kernels; Basset's batch-norm
/// biases at batch 3 are the worst conditioned, near 1e-4 for both); 4 times it leaves room for other orders. 1e-4
/// stays the bound where float32 is far below it.
inline double gradientTolerance(double float32Error) { return std::max(1e-4, 4 * float32Error); }

/// Expects `actual` near `expected` (float64): every term within 1e-4 of its scale, the power vectors within 1e-4,
/// every gradient finite and within gradientTolerance of the error `interpretedInFloat32` (the same gradient on the
/// float32 interpreter) has.
inline void expectLossGradientNear(const LossGradients<float> &actual, const LossGradients<double> &expected,
                                   const LossGradients<float> &interpretedInFloat32) {
  for (const auto &[term, value] : expected.terms)
    EXPECT_NEAR(actual.terms.at(term), value, 1e-4 * std::max(1.0, std::abs(value))) << term;
  ASSERT_EQ(actual.powerVectors.size(), expected.powerVectors.size());
  for (const auto &[vector, u] : expected.powerVectors)
    EXPECT_LE(relativeError(actual.powerVectors.at(vector).data, u.data), 1e-4) << vector;
  ASSERT_EQ(actual.gradients.size(), expected.gradients.size());
  double largestNorm = 0;
  for (const auto &[parameter, gradient] : expected.gradients) {
    double norm = 0;
    for (double v : gradient.data)
      norm += v * v;
    largestNorm = std::max(largestNorm, std::sqrt(norm));
  }
  for (const auto &[parameter, gradient] : expected.gradients) {
    const HostArray<float> &mine = actual.gradients.at(parameter);
    ASSERT_EQ(mine.shape, gradient.shape) << parameter;
    bool finite = std::all_of(mine.data.begin(), mine.data.end(), [](float v) { return std::isfinite(v); });
    EXPECT_TRUE(finite) << parameter;
    double floor = 1e-3 * largestNorm;
    double float32Error = normRelativeError(interpretedInFloat32.gradients.at(parameter).data, gradient.data, floor);
    EXPECT_LE(normRelativeError(mine.data, gradient.data, floor), gradientTolerance(float32Error))
        << parameter << " (the interpreter in float32 is off by " << float32Error << ")";
  }
}

} // namespace seqjit::testing
