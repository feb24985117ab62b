// Program builders: the seq functions seqjit compiles beyond the forward pass (loss gradients with priors,
// input gradients). The JIT and the reference interpreter run the very same module.
#pragma once

#include "dsl/Graph.h"
#include "dsl/Objective.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Value.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace seqjit {

class SeqBuilder;

struct ProgramOptions {
  int64_t batch = 1;
  bool float64 = false;
  /// Batch norm normalises with batch statistics (training) rather than the running ones. Dropout is the identity
  /// in every program: training-time masks belong to the trainer.
  bool batchNormTraining = true;
};

inline constexpr const char *kLossGradientFunction = "loss_gradient";
/// The scalar results of @loss_gradient, in order, before the gradients.
inline const std::vector<std::string> kLossTerms = {"loss", "data_loss", "fourier_prior", "l2_penalty"};

/// @loss_gradient(input (B, C, L), labels (B, outputs...), parameters... in parameterOrder(graph)) returns the
/// kLossTerms (rank 0), then d loss / d p for each name of trainableParameterNames(graph).
/// Throws seqjit::Error on an objective that does not fit the graph (class weights, prior outputs).
mlir::OwningOpRef<mlir::ModuleOp> buildLossGradientModule(mlir::MLIRContext &context, const Graph &graph,
                                                          const Objective &objective, const ProgramOptions &options);

/// Conv, dense and batch-norm weights and biases, in parameterOrder; running statistics are state, not trained.
std::vector<std::string> trainableParameterNames(const Graph &graph);

/// Tseng et al.'s Fourier prior (see FourierPrior) of the input gradient `gradient` (B, 4, L) of a model on `input`
/// with `labels` (B, ...): a rank-0 value, built from seq ops only so that it can be differentiated twice.
mlir::Value buildFourierPrior(SeqBuilder &s, const FourierPrior &prior, mlir::Value gradient, mlir::Value input,
                              mlir::Value labels);

inline constexpr const char *kInputGradientFunction = "input_gradient";
/// @input_gradient(input, seed (B, outputs...), parameters...) returns (output, d <seed, output> / d input).
mlir::OwningOpRef<mlir::ModuleOp> buildInputGradientModule(mlir::MLIRContext &context, const Graph &graph,
                                                           const ProgramOptions &options);

} // namespace seqjit
