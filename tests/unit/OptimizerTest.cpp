// parseOptimizer: PyTorch's defaults, every key, and a clear error for every bad spec; optimizerSlots' names.
#include "dsl/Optimizer.h"
#include "ExpectError.h"

#include <gtest/gtest.h>

namespace seqjit {
namespace {

TEST(Optimizer, DefaultsAreTorchOptims) {
  Optimizer adam = parseOptimizer("--optimizer", "adam");
  EXPECT_EQ(adam.kind, OptimizerKind::Adam);
  EXPECT_EQ(adam.learningRate, 1e-3);
  EXPECT_EQ(adam.beta1, 0.9);
  EXPECT_EQ(adam.beta2, 0.999);
  EXPECT_EQ(adam.eps, 1e-8);
  EXPECT_EQ(adam.weightDecay, 0.0);
  EXPECT_EQ(parseOptimizer("--optimizer", "adamw").weightDecay, 1e-2);
  Optimizer sgd = parseOptimizer("--optimizer", "sgd");
  EXPECT_EQ(sgd.learningRate, 1e-2);
  EXPECT_EQ(sgd.momentum, 0.0);
  EXPECT_EQ(Optimizer{}.kind, OptimizerKind::Adam);
}

TEST(Optimizer, ParsesEveryKey) {
  Optimizer adam = parseOptimizer("--optimizer", "adam,lr=0.01,beta1=0.8,beta2=0.99,eps=1e-7,weight_decay=0.1,clip=2");
  EXPECT_EQ(adam.learningRate, 0.01);
  EXPECT_EQ(adam.beta1, 0.8);
  EXPECT_EQ(adam.beta2, 0.99);
  EXPECT_EQ(adam.eps, 1e-7);
  EXPECT_EQ(adam.weightDecay, 0.1);
  EXPECT_EQ(adam.clipNorm, 2.0);
  Optimizer sgd = parseOptimizer("--optimizer", "sgd,lr=0.1,momentum=0.9,nesterov");
  EXPECT_EQ(sgd.momentum, 0.9);
  EXPECT_TRUE(sgd.nesterov);
}

TEST(Optimizer, RefusesBadSpecs) {
  testing::expectError([] { parseOptimizer("--optimizer", "rmsprop"); },
                       {"--optimizer", "unknown optimizer 'rmsprop'", "adam, adamw or sgd"});
  testing::expectError([] { parseOptimizer("--optimizer", "sgd,beta1=0.9"); }, {"unknown key 'beta1'", "momentum"});
  testing::expectError([] { parseOptimizer("--optimizer", "adam,momentum=0.9"); }, {"unknown key 'momentum'", "beta1"});
  testing::expectError([] { parseOptimizer("--optimizer", "adam,lr=fast"); }, {"'lr' needs a number", "'fast'"});
  testing::expectError([] { parseOptimizer("--optimizer", "adam,lr=0"); }, {"lr must be positive"});
  testing::expectError([] { parseOptimizer("--optimizer", "adam,beta2=1"); }, {"beta1 and beta2 must lie in [0, 1)"});
  testing::expectError([] { parseOptimizer("--optimizer", "sgd,clip=-1"); }, {"must not be negative"});
  testing::expectError([] { parseOptimizer("--optimizer", "sgd,nesterov"); }, {"nesterov needs a momentum"});
}

TEST(Optimizer, SlotsAreTorchStateNames) {
  EXPECT_EQ(optimizerSlots(parseOptimizer("--optimizer", "adamw")), (std::vector<std::string>{"exp_avg", "exp_avg_sq"}));
  EXPECT_EQ(optimizerSlots(parseOptimizer("--optimizer", "sgd,momentum=0.9")), std::vector<std::string>{"momentum_buffer"});
  EXPECT_TRUE(optimizerSlots(parseOptimizer("--optimizer", "sgd")).empty());
}

} // namespace
} // namespace seqjit
