// Gradient programs on the CPU: loss gradients (data loss, L2, Fourier prior) and input gradients, compiled by the
// JIT, and the same programs on the reference interpreter (the oracle the compiled ones are tested against).
#pragma once

#include "compiler/Programs.h"
#include "runtime/Compile.h"

#include <map>
#include <memory>
#include <string>

namespace seqjit {

/// The loss terms (kLossTerms: loss, data_loss, fourier_prior, l2_penalty) and the gradient of `loss` for every
/// trainable parameter, by PyTorch state_dict name.
template <typename T> struct LossGradients {
  std::map<std::string, double> terms;
  std::map<std::string, HostArray<T>> gradients;
};

class CompiledLossGradient {
public:
  /// Compiles @loss_gradient for batches of exactly options.batch sequences (options.float64 must be false).
  static CompiledLossGradient compile(const Graph &graph, const Objective &objective, const ProgramOptions &options);

  /// Throws seqjit::Error if input is not (batch, C, L), labels not (batch, outputs...), or a parameter is off.
  LossGradients<float> run(const HostArray<float> &input, const HostArray<float> &labels,
                           const Parameters &parameters) const;
  double compileSeconds() const;

private:
  CompiledLossGradient(Graph graph, std::unique_ptr<JitModule> module, int64_t batch);
  Graph graph_;
  std::shared_ptr<JitModule> module_;
  int64_t batch_;
};

/// @loss_gradient on the reference interpreter, in T, for a batch of any size.
template <typename T>
LossGradients<T> interpretLossGradient(const Graph &graph, const Objective &objective, bool batchNormTraining,
                                       const HostArray<T> &input, const HostArray<T> &labels,
                                       const Parameters &parameters);

class CompiledInputGradient {
public:
  /// Compiles @input_gradient for batches of exactly options.batch sequences.
  static CompiledInputGradient compile(const Graph &graph, const ProgramOptions &options);
  /// d <seed, output> / d input, shape of input; `output` (if given) receives the model's output.
  HostArray<float> run(const HostArray<float> &input, const HostArray<float> &seed, const Parameters &parameters,
                       HostArray<float> *output = nullptr) const;

private:
  CompiledInputGradient(Graph graph, std::unique_ptr<JitModule> module, int64_t batch);
  Graph graph_;
  std::shared_ptr<JitModule> module_;
  int64_t batch_;
};

/// @input_gradient on the reference interpreter, in T.
template <typename T>
HostArray<T> interpretInputGradient(const Graph &graph, bool batchNormTraining, const HostArray<T> &input,
                                    const HostArray<T> &seed, const Parameters &parameters);

} // namespace seqjit
