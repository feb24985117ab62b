// Data augmentations applied to a training batch on the host before the compiled step sees it: reverse complement,
// random shift, input noise and mixup (the regularisers of Majdandzic et al.); the adversarial (PGD) one needs the
// model and lives in the Trainer.
#pragma once

#include "runtime/Dataset.h"
#include "runtime/Random.h"

#include <optional>
#include <string>
#include <string_view>

namespace seqjit {

/// Projected gradient descent adversarial training (Madry et al.) as Majdandzic et al. use it: from a uniform start
/// in the L-infinity ball of radius `epsilon` around x, `steps` steps of x += stepSize * sign(dLoss/dx), each
/// projected back into the ball; the step then trains on the adversarial batch instead of the clean one.
struct AdversarialTraining {
  double epsilon = 0.05;
  double stepSize = 0.005;
  int64_t steps = 15;
};

struct Augmentations {
  /// Each example is replaced by its reverse complement (positions reversed, A<->T, C<->G) with probability 1/2.
  bool reverseComplement = false;
  /// Each example is shifted by a uniform offset in [-maxShift, maxShift]; vacated positions become all-zero.
  int64_t maxShift = 0;
  /// Standard deviation of the Gaussian noise added to every input entry (0: none).
  double inputNoise = 0.0;
  /// Mixup (Zhang et al.): one lambda ~ Beta(alpha, alpha) per batch, and every example and its labels mixed as
  /// lambda * own + (1 - lambda) * its partner's in a random permutation (0: none).
  double mixupAlpha = 0.0;
  /// Manifold mixup (Verma et al.): as mixup, but at a layer drawn uniformly per step from the input and the
  /// outputs of the model's activation layers; the Trainer runs it (0: none).
  double manifoldMixupAlpha = 0.0;
  std::optional<AdversarialTraining> adversarial;

  bool any() const {
    return reverseComplement || maxShift > 0 || inputNoise > 0.0 || mixupAlpha > 0.0 || manifoldMixupAlpha > 0.0 ||
           adversarial.has_value();
  }
};

/// One mixup draw for a batch: example i becomes lambda * own + (1 - lambda) * example partner[i]'s.
struct MixupDraw {
  double lambda = 1.0;
  std::vector<int64_t> partner;
};

/// lambda ~ Beta(alpha, alpha) and a random permutation of `count` partners (Fisher-Yates), as in Zhang et al.'s
/// code.
MixupDraw drawMixup(Random &random, double alpha, int64_t count);

/// Applies `draw` to the rows (first axis) of `array`: inputs, labels or a hidden layer.
void mixRows(HostArray<float> &array, const MixupDraw &draw);

/// The (count, count) matrix M of `draw`, M h = the mixed rows of h: lambda I + (1 - lambda) P.
HostArray<float> mixingMatrix(const MixupDraw &draw);

/// Parses "rc,shift=3,noise=0.1,mixup=0.2,manifold_mixup=0.2,pgd" with pgd's own
/// "pgd_epsilon=..,pgd_step=..,pgd_steps=.." (every item optional; "none" or "" is no augmentation). Throws
/// seqjit::Error naming the bad item, and `source` (the option or file the spec comes from).
Augmentations parseAugmentations(std::string_view source, std::string_view spec);

/// The spec parseAugmentations reads back to `augmentations` ("none" for none): what a checkpoint records.
std::string describeAugmentations(const Augmentations &augmentations);

/// Applies every host-side augmentation of `augmentations` to `batch` in the order reverse complement, shift,
/// mixup, noise, drawing from `random` (so a seeded stream per batch makes training reproducible).
void augmentBatch(Examples &batch, const Augmentations &augmentations, Random &random);

/// A draw from Beta(alpha, alpha) through two Gamma(alpha) draws (Marsaglia and Tsang).
double sampleSymmetricBeta(Random &random, double alpha);

} // namespace seqjit
