// Adversarial examples for training (Madry et al.'s projected gradient descent, the schedule of Majdandzic et al.):
// the input gradient of the data loss from the compiled input-gradient program, steps along its sign.
#pragma once

#include "runtime/Augmentation.h"
#include "runtime/Compile.h"
#include "runtime/GradientPrograms.h"

namespace seqjit {

/// From a uniform random start in the L-infinity ball of radius attack.epsilon around examples.input, attack.steps
/// steps of x += stepSize * sign(d loss / d x), each projected back into the ball. `forward` and `inputGradient` are
/// the model's programs (the same batch-norm mode); `inputGradient` must be compiled for the batch's size.
HostArray<float> adversarialInput(const CompiledModel &forward, const CompiledInputGradient &inputGradient,
                                  const Examples &examples, const Parameters &parameters, LossKind loss,
                                  const AdversarialTraining &attack, Random &random);

} // namespace seqjit
