// Names, state slots and the command-line syntax of the optimizers.
#include "dsl/Optimizer.h"

#include "dsl/OptionSpec.h"

namespace seqjit {

std::string_view optimizerKindName(OptimizerKind kind) {
  switch (kind) {
  case OptimizerKind::Adam:
    return "adam";
  case OptimizerKind::AdamW:
    return "adamw";
  case OptimizerKind::Sgd:
    return "sgd";
  }
  return "unknown";
}

std::vector<std::string> optimizerSlots(const Optimizer &optimizer) {
  if (optimizer.kind != OptimizerKind::Sgd)
    return {"exp_avg", "exp_avg_sq"};
  if (optimizer.momentum != 0.0)
    return {"momentum_buffer"};
  return {};
}

Optimizer parseOptimizer(std::string_view option, std::string_view spec) {
  std::string_view name = spec.substr(0, spec.find(','));
  Optimizer optimizer;
  if (name == "adam")
    optimizer.kind = OptimizerKind::Adam;
  else if (name == "adamw") {
    optimizer.kind = OptimizerKind::AdamW;
    optimizer.weightDecay = 1e-2; // torch.optim.AdamW's default
  } else if (name == "sgd") {
    optimizer.kind = OptimizerKind::Sgd;
    optimizer.learningRate = 1e-2; // Keras' default; torch.optim.SGD has none
  } else
    throw Error(fmt::format("{}: unknown optimizer '{}'; expected adam, adamw or sgd", option, name));
  bool adam = optimizer.kind != OptimizerKind::Sgd;
  std::string_view keys = adam ? "lr, beta1, beta2, eps, weight_decay or clip"
                               : "lr, momentum, nesterov, "
                                 "weight_decay or clip";
  spec = spec.size() > name.size() ? spec.substr(name.size() + 1) : std::string_view();
  forEachOptionItem(option, spec, keys, [&](std::string_view key, std::string_view value) {
    auto number = [&] { return parseNumber<double>(option, key, value); };
    if (key == "lr")
      optimizer.learningRate = number();
    else if (key == "weight_decay")
      optimizer.weightDecay = number();
    else if (key == "clip")
      optimizer.clipNorm = number();
    else if (adam && key == "beta1")
      optimizer.beta1 = number();
    else if (adam && key == "beta2")
      optimizer.beta2 = number();
    else if (adam && key == "eps")
      optimizer.eps = number();
    else if (!adam && key == "momentum")
      optimizer.momentum = number();
    else if (!adam && key == "nesterov" && value.empty())
      optimizer.nesterov = true;
    else
      return false;
    return true;
  });
  if (optimizer.learningRate <= 0.0)
    throw Error(fmt::format("{}: lr must be positive, got {}", option, optimizer.learningRate));
  if (optimizer.beta1 < 0.0 || optimizer.beta1 >= 1.0 || optimizer.beta2 < 0.0 || optimizer.beta2 >= 1.0)
    throw Error(fmt::format("{}: beta1 and beta2 must lie in [0, 1)", option));
  if (optimizer.eps <= 0.0 || optimizer.weightDecay < 0.0 || optimizer.momentum < 0.0 || optimizer.clipNorm < 0.0)
    throw Error(fmt::format("{}: eps must be positive; weight_decay, momentum and clip must not be negative", option));
  if (optimizer.nesterov && optimizer.momentum == 0.0)
    throw Error(fmt::format("{}: nesterov needs a momentum", option));
  return optimizer;
}

std::string describeOptimizer(const Optimizer &optimizer) {
  std::string spec = fmt::format("{},lr={},weight_decay={}", optimizerKindName(optimizer.kind), optimizer.learningRate,
                                 optimizer.weightDecay);
  if (optimizer.kind == OptimizerKind::Sgd)
    spec += fmt::format(",momentum={}{}", optimizer.momentum, optimizer.nesterov ? ",nesterov" : "");
  else
    spec += fmt::format(",beta1={},beta2={},eps={}", optimizer.beta1, optimizer.beta2, optimizer.eps);
  if (optimizer.clipNorm > 0.0)
    spec += fmt::format(",clip={}", optimizer.clipNorm);
  return spec;
}

} // namespace seqjit
