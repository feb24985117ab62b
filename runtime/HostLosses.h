// The data losses evaluated on the host from a model's outputs: the validation loss, the predictions the metrics
// see, and the output gradient that seeds an adversarial attack.
#pragma once

#include "dsl/Objective.h"
#include "runtime/HostArray.h"

namespace seqjit {

/// The predictions of outputs `outputs` under `loss`: sigmoid for binary cross-entropy, exp for Poisson, softmax
/// over the last axis for multinomial, the outputs themselves for MSE.
HostArray<float> outputPredictions(const HostArray<float> &outputs, LossKind loss);

/// The data loss of `outputs` against `labels`, the mean Objective's LossKind documents (without class weights),
/// computed in double. Throws seqjit::Error if the shapes differ.
double dataLoss(const HostArray<float> &outputs, const HostArray<float> &labels, LossKind loss);

/// The gradient of the summed (not averaged) data loss with respect to `outputs`: what an attack that only needs
/// the gradient's direction seeds the input gradient with.
HostArray<float> dataLossGradient(const HostArray<float> &outputs, const HostArray<float> &labels, LossKind loss);

} // namespace seqjit
