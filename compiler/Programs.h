// Program builders: the seq functions seqjit compiles beyond the forward pass (loss gradients with priors,
// input gradients). The JIT and the reference interpreter run the very same module.
#pragma once

#include "compiler/GraphImport.h"
#include "compiler/ProgramFunction.h"
#include "dsl/Graph.h"
#include "dsl/Objective.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/Value.h"

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
  /// @loss_gradient takes kLossTermScales after the labels (and mask): scalars multiplying, in `loss`, the data
  /// loss, each weighted prior and the penalties (the reported terms stay unscaled). Batches run with their share of
  /// the examples as scales, and the penalties in one of them, have gradients that add up to their union's.
  bool scaledLossTerms = false;
};

inline constexpr const char *kLossGradientFunction = "loss_gradient";
/// The scalar results of @loss_gradient, in order, before the gradients. The priors are reported unweighted,
/// the penalties with their strengths: loss = data_loss + sum of lambda * prior + l2_penalty + spectral_penalty.
inline const std::vector<std::string> kLossTerms = {
    "loss", "data_loss", "fourier_prior", "smoothness_prior", "sparsity_prior", "l2_penalty", "spectral_penalty"};
/// The scales @loss_gradient takes with ProgramOptions::scaledLossTerms, in order; the last scales both penalties.
inline const std::vector<std::string> kLossTermScales = {
    "data_loss_scale", "fourier_prior_scale", "smoothness_prior_scale", "sparsity_prior_scale", "penalty_scale"};

/// A persistent power-iteration vector of the spectral-norm penalty: `name` is "<layer>.weight_u" (PyTorch's
/// spectral_norm buffer), of `size` = the weight's first dimension.
struct PowerVector {
  std::string name;
  std::string weight;
  int64_t size;
};
/// One per conv and dense weight, in parameterOrder.
std::vector<PowerVector> powerVectors(const Graph &graph);

/// The arguments of a loss program besides the input and the parameters: labels and (objective.labelMask) the
/// mask before the parameters, (objective.spectralNorm) the power vectors after them.
struct LossProgramArguments {
  std::vector<ProgramArgument> leading, trailing;
};
LossProgramArguments lossProgramArguments(mlir::MLIRContext &context, const Graph &graph, const Objective &objective,
                                          const ProgramOptions &options);

/// A loss and its gradient, emitted into a function body.
struct LossGradientValues {
  llvm::SmallVector<mlir::Value> terms;        ///< kLossTerms, rank 0
  llvm::SmallVector<mlir::Value> gradients;    ///< d loss / d p for trainableParameterNames(graph)
  llvm::SmallVector<mlir::Value> powerVectors; ///< updated, with objective.spectralNorm
  std::vector<mlir::Value> nodes;              ///< every node's value, as emitGraph returns them
};

/// Emits the graph on `input` and `parameters` (parameterOrder; dropout nodes in `dropoutMasks` multiply by their
/// mask, nodes in `batchMixes` are mixed over the batch), `objective`'s loss on `labels` (`mask` null without
/// objective.labelMask; `powerVectors` empty without objective.spectralNorm; `termScales` the kLossTermScales, or
/// empty for an unscaled loss) and its gradient. Throws seqjit::Error as buildLossGradientModule does.
LossGradientValues emitLossGradient(mlir::OpBuilder &b, const Graph &graph, const Objective &objective,
                                    mlir::Value input, mlir::Value labels, mlir::Value mask,
                                    mlir::ValueRange parameters, mlir::ValueRange powerVectors,
                                    mlir::ValueRange termScales, const DropoutMasks &dropoutMasks = {},
                                    const BatchMixes &batchMixes = {});

/// The name of the gradient of `parameter` among a program's results: "<parameter>.grad".
std::string gradientName(const std::string &parameter);

/// @loss_gradient's results, named: the kLossTerms, gradientName(p) for each trainable parameter, the power vectors.
std::vector<ProgramResult> lossGradientResults(const Graph &graph, const Objective &objective,
                                               const LossGradientValues &loss);

/// @loss_gradient(input (B, C, L), labels (B, outputs...), [mask (labels' shape) if objective.labelMask],
/// [kLossTermScales (rank 0) if options.scaledLossTerms], parameters... in parameterOrder(graph), [power vectors... if
/// objective.spectralNorm]) returns the kLossTerms (rank 0), then d loss / d p for each name of
/// trainableParameterNames(graph), then the updated power vectors. Throws seqjit::Error on an objective that does not
/// fit the graph (class weights, prior outputs, a mask or class weights with the multinomial loss).
mlir::OwningOpRef<mlir::ModuleOp> buildLossGradientModule(mlir::MLIRContext &context, const Graph &graph,
                                                          const Objective &objective, const ProgramOptions &options);

/// Conv, dense and batch-norm weights and biases, in parameterOrder; running statistics are state, not trained.
std::vector<std::string> trainableParameterNames(const Graph &graph);

/// The attribution priors (see dsl/Objective.h) of the input gradient `gradient` (B, 4, L) of a model on `input`
/// with `labels` (B, ...; masked labels already zero): rank-0 values, built from seq ops only so that they can be
/// differentiated twice.
mlir::Value buildFourierPrior(SeqBuilder &s, const FourierPrior &prior, mlir::Value gradient, mlir::Value input,
                              mlir::Value labels);
mlir::Value buildSmoothnessPrior(SeqBuilder &s, const SmoothnessPrior &prior, mlir::Value gradient, mlir::Value input,
                                 mlir::Value labels);
mlir::Value buildSparsityPrior(SeqBuilder &s, const SparsityPrior &prior, mlir::Value gradient, mlir::Value input,
                               mlir::Value labels);

inline constexpr const char *kInputGradientFunction = "input_gradient";
/// @input_gradient(input, seed (B, outputs...), parameters...) returns (output, d <seed, output> / d input).
mlir::OwningOpRef<mlir::ModuleOp> buildInputGradientModule(mlir::MLIRContext &context, const Graph &graph,
                                                           const ProgramOptions &options);

inline constexpr const char *kDeepLiftFunction = "deeplift";
/// @deeplift(input, reference (like input), seed (B, outputs...), parameters...) returns (output, reference output,
/// multipliers like input): DeepLIFT's rescale rule (compiler/DeepLiftRules.h) for <seed, output>, so that
/// sum(multipliers * (input - reference)) = <seed, output - reference output> for each example. Batch norm always
/// uses the running statistics (options.batchNormTraining is ignored). Throws seqjit::Error for a graph with an op
/// DeepLIFT has no rule for.
mlir::OwningOpRef<mlir::ModuleOp> buildDeepLiftModule(mlir::MLIRContext &context, const Graph &graph,
                                                      const ProgramOptions &options);

} // namespace seqjit
