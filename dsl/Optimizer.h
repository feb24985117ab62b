// How a training step turns gradients into new weights: Adam, AdamW or SGD with momentum, with gradient clipping,
// each exactly as PyTorch's torch.optim defines it (so a checkpoint's optimizer state means the same thing).
//
//   seqjit::Optimizer adam;                                          // Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8
//   seqjit::Optimizer sgd = seqjit::parseOptimizer("optimizer", "sgd,lr=0.01,momentum=0.9,clip=1");
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace seqjit {

enum class OptimizerKind {
  Adam,  ///< torch.optim.Adam: weight decay adds weightDecay * p to the gradient
  AdamW, ///< torch.optim.AdamW: p *= 1 - lr * weightDecay before the Adam update
  Sgd,   ///< torch.optim.SGD: momentum buffer b = momentum * b + g (g at the first step), p -= lr * b
};

struct Optimizer {
  OptimizerKind kind = OptimizerKind::Adam;
  double learningRate = 1e-3;
  double beta1 = 0.9;       ///< Adam, AdamW
  double beta2 = 0.999;     ///< Adam, AdamW
  double eps = 1e-8;        ///< Adam, AdamW (PyTorch's default; Keras uses 1e-7)
  double weightDecay = 0.0; ///< Adam, SGD: L2 on the gradient; AdamW: decoupled (parseOptimizer defaults it to 0.01)
  double momentum = 0.0;    ///< SGD
  bool nesterov = false;    ///< SGD: p -= lr * (g + momentum * b)
  /// Gradients are scaled by min(1, clipNorm / (norm + 1e-6)), norm the L2 norm over every trainable gradient
  /// (torch.nn.utils.clip_grad_norm_); 0 disables clipping.
  double clipNorm = 0.0;
};

std::string_view optimizerKindName(OptimizerKind kind);

/// The optimizer state tensors ("slots") one trainable parameter carries, as suffixes of its state_dict name:
/// Adam and AdamW keep "exp_avg" and "exp_avg_sq", SGD with momentum "momentum_buffer", plain SGD none.
std::vector<std::string> optimizerSlots(const Optimizer &optimizer);

/// Parses "adam|adamw|sgd[,lr=..][,beta1=..][,beta2=..][,eps=..][,weight_decay=..][,momentum=..][,nesterov]
/// [,clip=..]". Throws seqjit::Error naming the bad item, or a key the chosen optimizer does not have, and `option`
/// (where the spec comes from: a command-line option, a file).
Optimizer parseOptimizer(std::string_view option, std::string_view spec);

/// The spec parseOptimizer reads back to `optimizer`, every hyperparameter spelled out: for logs and checkpoints.
std::string describeOptimizer(const Optimizer &optimizer);

} // namespace seqjit
