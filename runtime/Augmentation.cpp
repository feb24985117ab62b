// Host-side augmentations of a training batch (N, 4, L), drawn from one seeded stream.
#include "runtime/Augmentation.h"

#include "dsl/Error.h"
#include "dsl/OptionSpec.h"

#include <fmt/format.h>

#include <cmath>
#include <utility>
#include <vector>

namespace seqjit {

namespace {

constexpr std::string_view kKnownKeys =
    "rc, shift=N, noise=SD, mixup=ALPHA, manifold_mixup=ALPHA, pgd, pgd_epsilon=E, pgd_step=S, pgd_steps=N or none";

/// Gamma(shape, 1) by Marsaglia and Tsang's squeeze method; shape < 1 through Gamma(shape + 1) * U^(1 / shape).
double sampleGamma(Random &random, double shape) {
  if (shape < 1.0) {
    double u = random.uniformDouble();
    return sampleGamma(random, shape + 1.0) * std::pow(u > 0.0 ? u : 1e-300, 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = random.normal(), v = 1.0 + c * x;
    if (v <= 0.0)
      continue;
    v = v * v * v;
    double u = random.uniformDouble();
    if (u < 1.0 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v)))
      return d * v;
  }
}

void reverseComplement(float *example, int64_t length) {
  std::vector<float> copy(example, example + 4 * length);
  for (int64_t base = 0; base < 4; ++base)
    for (int64_t position = 0; position < length; ++position)
      example[base * length + position] = copy[(3 - base) * length + (length - 1 - position)];
}

void shift(float *example, int64_t length, int64_t offset) {
  std::vector<float> copy(example, example + 4 * length);
  for (int64_t base = 0; base < 4; ++base)
    for (int64_t position = 0; position < length; ++position) {
      int64_t source = position - offset;
      example[base * length + position] = source >= 0 && source < length ? copy[base * length + source] : 0.0f;
    }
}

} // namespace

MixupDraw drawMixup(Random &random, double alpha, int64_t count) {
  MixupDraw draw{sampleSymmetricBeta(random, alpha), std::vector<int64_t>(static_cast<size_t>(count))};
  for (int64_t i = 0; i < count; ++i)
    draw.partner[i] = i;
  for (int64_t i = count - 1; i > 0; --i)
    std::swap(draw.partner[i], draw.partner[random.uniformInt(static_cast<uint64_t>(i + 1))]);
  return draw;
}

void mixRows(HostArray<float> &array, const MixupDraw &draw) {
  int64_t count = array.shape[0], rowSize = count == 0 ? 0 : array.size() / count;
  HostArray<float> original = array;
  for (int64_t i = 0; i < count; ++i)
    for (int64_t j = 0; j < rowSize; ++j)
      array.data[i * rowSize + j] =
          static_cast<float>(draw.lambda * original.data[i * rowSize + j] +
                             (1.0 - draw.lambda) * original.data[draw.partner[i] * rowSize + j]);
}

HostArray<float> mixingMatrix(const MixupDraw &draw) {
  auto count = static_cast<int64_t>(draw.partner.size());
  HostArray<float> matrix({count, count});
  for (int64_t i = 0; i < count; ++i) {
    matrix.data[i * count + i] += static_cast<float>(draw.lambda);
    matrix.data[i * count + draw.partner[i]] += static_cast<float>(1.0 - draw.lambda);
  }
  return matrix;
}

double sampleSymmetricBeta(Random &random, double alpha) {
  double a = sampleGamma(random, alpha), b = sampleGamma(random, alpha);
  return a + b > 0.0 ? a / (a + b) : 0.5;
}

Augmentations parseAugmentations(std::string_view source, std::string_view spec) {
  Augmentations augmentations;
  if (spec == "none")
    return augmentations;
  AdversarialTraining adversarial;
  bool pgd = false, pgdKeys = false;
  forEachOptionItem(source, spec, kKnownKeys, [&](std::string_view key, std::string_view value) {
    auto number = [&] { return parseNumber<double>(source, key, value); };
    if (key == "rc" && value.empty())
      augmentations.reverseComplement = true;
    else if (key == "shift")
      augmentations.maxShift = parseNumber<int64_t>(source, key, value);
    else if (key == "noise")
      augmentations.inputNoise = number();
    else if (key == "mixup")
      augmentations.mixupAlpha = number();
    else if (key == "manifold_mixup")
      augmentations.manifoldMixupAlpha = number();
    else if (key == "pgd" && value.empty())
      pgd = true;
    else if (key == "pgd_epsilon")
      adversarial.epsilon = number(), pgdKeys = true;
    else if (key == "pgd_step")
      adversarial.stepSize = number(), pgdKeys = true;
    else if (key == "pgd_steps")
      adversarial.steps = parseNumber<int64_t>(source, key, value), pgdKeys = true;
    else
      return false;
    return true;
  });
  if (augmentations.maxShift < 0 || !(augmentations.inputNoise >= 0.0) || !(augmentations.mixupAlpha >= 0.0) ||
      !(augmentations.manifoldMixupAlpha >= 0.0))
    throw Error(fmt::format("{}: shift, noise, mixup and manifold_mixup must not be negative", source));
  if (augmentations.mixupAlpha > 0.0 && augmentations.manifoldMixupAlpha > 0.0)
    throw Error(fmt::format("{}: choose mixup or manifold_mixup (which includes mixing the input)", source));
  if (pgdKeys && !pgd)
    throw Error(fmt::format("{}: pgd_epsilon, pgd_step and pgd_steps need 'pgd'", source));
  if (pgd) {
    if (!(adversarial.epsilon > 0.0) || !(adversarial.stepSize > 0.0) || adversarial.steps < 1)
      throw Error(fmt::format("{}: pgd needs a positive epsilon and step size and at least one step", source));
    augmentations.adversarial = adversarial;
  }
  return augmentations;
}

std::string describeAugmentations(const Augmentations &augmentations) {
  std::string spec;
  auto add = [&](const std::string &item) { spec += (spec.empty() ? "" : ",") + item; };
  if (augmentations.reverseComplement)
    add("rc");
  if (augmentations.maxShift > 0)
    add(fmt::format("shift={}", augmentations.maxShift));
  if (augmentations.inputNoise > 0.0)
    add(fmt::format("noise={}", augmentations.inputNoise));
  if (augmentations.mixupAlpha > 0.0)
    add(fmt::format("mixup={}", augmentations.mixupAlpha));
  if (augmentations.manifoldMixupAlpha > 0.0)
    add(fmt::format("manifold_mixup={}", augmentations.manifoldMixupAlpha));
  if (const auto &pgd = augmentations.adversarial)
    add(fmt::format("pgd,pgd_epsilon={},pgd_step={},pgd_steps={}", pgd->epsilon, pgd->stepSize, pgd->steps));
  return spec.empty() ? "none" : spec;
}

void augmentBatch(Examples &batch, const Augmentations &augmentations, Random &random) {
  HostArray<float> &input = batch.input;
  int64_t count = input.shape.at(0), length = input.shape.at(2);
  for (int64_t i = 0; i < count; ++i) {
    float *example = input.data.data() + i * 4 * length;
    if (augmentations.reverseComplement && random.uniform() < 0.5f)
      reverseComplement(example, length);
    if (augmentations.maxShift > 0) {
      int64_t offset = static_cast<int64_t>(random.uniformInt(static_cast<uint64_t>(2 * augmentations.maxShift + 1))) -
                       augmentations.maxShift;
      shift(example, length, offset);
    }
  }
  if (augmentations.mixupAlpha > 0.0 && count > 1) {
    MixupDraw draw = drawMixup(random, augmentations.mixupAlpha, count);
    mixRows(batch.input, draw);
    mixRows(batch.labels, draw);
  }
  if (augmentations.inputNoise > 0.0)
    for (float &value : input.data)
      value += static_cast<float>(augmentations.inputNoise) * random.normal();
}

} // namespace seqjit
