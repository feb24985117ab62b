// Host-side data losses against their formulas written out, and their output gradients against central finite
// differences of the summed loss.
#include "runtime/HostLosses.h"
#include "ExpectError.h"
#include "runtime/Random.h"

#include <gtest/gtest.h>

#include <cmath>

namespace seqjit {
namespace {

HostArray<float> randomArray(std::vector<int64_t> shape, uint64_t seed, float low, float high) {
  HostArray<float> array(std::move(shape));
  Random random(seed, 0);
  for (float &value : array.data)
    value = low + (high - low) * random.uniform();
  return array;
}

TEST(HostLosses, LossesEqualTheirFormulas) {
  HostArray<float> z({2, 2}, std::vector<float>{0.5f, -1.0f, 2.0f, 0.0f});
  HostArray<float> y({2, 2}, std::vector<float>{1.0f, 0.0f, 0.0f, 1.0f});
  auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  double bce = 0.0, mse = 0.0, poisson = 0.0;
  for (int i = 0; i < 4; ++i) {
    double zi = z.data[i], yi = y.data[i], p = sigmoid(zi);
    bce -= yi * std::log(p) + (1 - yi) * std::log(1 - p);
    mse += (zi - yi) * (zi - yi);
    poisson += std::exp(zi) - yi * zi;
  }
  EXPECT_NEAR(dataLoss(z, y, LossKind::BinaryCrossEntropy), bce / 4, 1e-12);
  EXPECT_NEAR(dataLoss(z, y, LossKind::MeanSquaredError), mse / 4, 1e-12);
  EXPECT_NEAR(dataLoss(z, y, LossKind::Poisson), poisson / 4, 1e-12);
  // Multinomial over the last axis: rows (0.5, -1) and (2, 0) with counts (1, 0) and (0, 1).
  double row1 = -(0.5 - std::log(std::exp(0.5) + std::exp(-1.0)));
  double row2 = -(0.0 - std::log(std::exp(2.0) + std::exp(0.0)));
  EXPECT_NEAR(dataLoss(z, y, LossKind::Multinomial), (row1 + row2) / 2, 1e-12);
  HostArray<float> p = outputPredictions(z, LossKind::BinaryCrossEntropy);
  EXPECT_NEAR(p.data[0], sigmoid(0.5), 1e-7);
  HostArray<float> softmax = outputPredictions(z, LossKind::Multinomial);
  EXPECT_NEAR(softmax.data[0] + softmax.data[1], 1.0, 1e-6);
  EXPECT_NEAR(softmax.data[2], std::exp(2.0) / (std::exp(2.0) + 1.0), 1e-6);
  testing::expectError([&] { dataLoss(z, HostArray<float>({4}), LossKind::MeanSquaredError); }, {"(4)", "(2, 2)"});
}

TEST(HostLosses, GradientsMatchFiniteDifferencesOfTheSummedLoss) {
  for (LossKind loss :
       {LossKind::BinaryCrossEntropy, LossKind::MeanSquaredError, LossKind::Poisson, LossKind::Multinomial}) {
    SCOPED_TRACE(std::string(lossKindName(loss)));
    HostArray<float> z = randomArray({3, 5}, 1, -2.0f, 2.0f);
    HostArray<float> y = randomArray({3, 5}, 2, 0.0f, loss == LossKind::BinaryCrossEntropy ? 1.0f : 3.0f);
    HostArray<float> gradient = dataLossGradient(z, y, loss);
    double terms = loss == LossKind::Multinomial ? 3.0 : 15.0; // dataLoss averages over these
    for (int64_t i = 0; i < z.size(); ++i) {
      HostArray<float> plus = z, minus = z;
      const float h = 1e-2f;
      plus.data[i] += h, minus.data[i] -= h;
      double numeric = (dataLoss(plus, y, loss) - dataLoss(minus, y, loss)) * terms / (2.0 * h);
      EXPECT_NEAR(gradient.data[i], numeric, 2e-3 * std::max(1.0, std::abs(numeric))) << i;
    }
  }
}

} // namespace
} // namespace seqjit
