// The train-step program: forward, loss (with every penalty and prior), backward, gradient clipping, the optimizer
// update and the batch-norm running statistics, compiled as one function.
#pragma once

#include "compiler/Programs.h"
#include "dsl/Optimizer.h"

namespace seqjit {

inline constexpr const char *kTrainStepFunction = "train_step";
/// The rank-0 arguments that end @train_step, computed on the host for each step t (1-based) so that a learning
/// rate schedule needs no recompilation: lr, lr / (1 - beta1^t) and sqrt(1 - beta2^t) (Adam's bias corrections).
inline const std::vector<std::string> kTrainStepSchedule = {"learning_rate", "step_size", "bias_correction2_sqrt"};

/// "<parameter>.<slot>" for every trainable parameter and every slot of optimizerSlots(optimizer), parameter-major.
std::vector<std::string> optimizerSlotNames(const Graph &graph, const Optimizer &optimizer);

/// The dropout nodes with a positive rate, in graph order: each takes a mask "<layer>.mask" of its batched shape
/// holding 0 (dropped) or 1 / (1 - rate).
std::vector<const Node *> dropoutNodes(const Graph &graph);

/// @train_step(input, labels, [mask], parameters... (parameterOrder), [power vectors], optimizer slots...
/// (optimizerSlotNames), dropout masks... (dropoutNodes), [mixing matrix "<layer>.mix" (batch, batch) when
/// `mixedNode` >= 0: manifold mixup at that node, see BatchMixes], learning_rate, step_size, bias_correction2_sqrt)
/// returns
/// the kLossTerms, "gradient_norm" (before clipping), the new value of every parameter in parameterOrder (trainable
/// ones stepped; batch-norm running statistics moved towards the batch's mean and unbiased variance by the layer's
/// momentum, as PyTorch does, when options.batchNormTraining), the new slots, and the updated power vectors.
mlir::OwningOpRef<mlir::ModuleOp> buildTrainStepModule(mlir::MLIRContext &context, const Graph &graph,
                                                       const Objective &objective, const Optimizer &optimizer,
                                                       const ProgramOptions &options, int mixedNode = -1);

} // namespace seqjit
