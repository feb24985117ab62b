// Projected gradient descent on the data loss, seeded with the loss's output gradient.
#include "runtime/Adversarial.h"

#include "runtime/HostLosses.h"

#include <algorithm>

namespace seqjit {

HostArray<float> adversarialInput(const CompiledModel &forward, const CompiledInputGradient &inputGradient,
                                  const Examples &examples, const Parameters &parameters, LossKind loss,
                                  const AdversarialTraining &attack, Random &random) {
  const HostArray<float> &clean = examples.input;
  HostArray<float> input = clean;
  auto epsilon = static_cast<float>(attack.epsilon), stepSize = static_cast<float>(attack.stepSize);
  for (float &value : input.data)
    value += epsilon * (2.0f * random.uniform() - 1.0f);
  for (int64_t step = 0; step < attack.steps; ++step) {
    HostArray<float> outputs = forward.forward(input, parameters);
    HostArray<float> gradient = inputGradient.run(input, dataLossGradient(outputs, examples.labels, loss), parameters);
    for (int64_t i = 0; i < input.size(); ++i) {
      float moved = input.data[i] + stepSize * static_cast<float>((gradient.data[i] > 0) - (gradient.data[i] < 0));
      input.data[i] = std::clamp(moved, clean.data[i] - epsilon, clean.data[i] + epsilon);
    }
  }
  return input;
}

} // namespace seqjit
