// Every program seqjit compiles, as builders of their modules for a model: shared by the PTX and CUDA tests.
#pragma once

#include "compiler/MutationWindows.h"
#include "compiler/Programs.h"
#include "compiler/TrainStep.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace seqjit::testing {

using ProgramBuilder = std::function<mlir::OwningOpRef<mlir::ModuleOp>(mlir::MLIRContext &, const Graph &)>;

/// Every program seqjit compiles, for batches of 2.
inline const std::vector<std::pair<std::string, ProgramBuilder>> &programs() {
  static const std::vector<std::pair<std::string, ProgramBuilder>> all = {
      {"forward", [](mlir::MLIRContext &c, const Graph &g) { return importGraph(c, g, {.batch = 2}); }},
      {"train_step",
       [](mlir::MLIRContext &c, const Graph &g) { return buildTrainStepModule(c, g, {}, {}, {.batch = 2}); }},
      {"fourier_prior_train_step",
       [](mlir::MLIRContext &c, const Graph &g) {
         Objective objective;
         objective.fourierPrior = parseFourierPrior("--fourier-prior", "T=20,s=0.2,sigma=3,lambda=1");
         return buildTrainStepModule(c, g, objective, {}, {.batch = 2});
       }},
      {"input_gradient", // saliency, gradient x input, SmoothGrad, integrated gradients
       [](mlir::MLIRContext &c, const Graph &g) {
         return buildInputGradientModule(c, g, {.batch = 2, .batchNormTraining = false});
       }},
      {"deeplift", [](mlir::MLIRContext &c, const Graph &g) { return buildDeepLiftModule(c, g, {.batch = 2}); }},
      {"mutation_windows", // incremental ISM
       [](mlir::MLIRContext &c, const Graph &g) { return buildMutationWindowModule(c, g, planMutationWindows(g), 2); }},
  };
  return all;
}

} // namespace seqjit::testing
