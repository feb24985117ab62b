// Gradient programs on the CPU: loss gradients (data loss, L2, Fourier prior) and input gradients, compiled by the
// JIT, and the same programs on the reference interpreter (the oracle the compiled ones are tested against).
#pragma once

#include "compiler/Programs.h"
#include "runtime/Compile.h"
#include "runtime/ProgramInterpreter.h"

#include <map>
#include <memory>
#include <string>

namespace seqjit {

/// The loss terms (kLossTerms), the gradient of `loss` for every trainable parameter by PyTorch state_dict name,
/// and the spectral-norm penalty's updated power vectors (by PowerVector name; empty without the penalty).
template <typename T> struct LossGradients {
  std::map<std::string, double> terms;
  std::map<std::string, HostArray<T>> gradients;
  std::map<std::string, HostArray<T>> powerVectors;
};

/// What a loss gradient takes besides the input, the labels and the parameters: the labels' 0/1 mask (required
/// with objective.labelMask, refused without), the power vectors (required with objective.spectralNorm; start
/// from initialPowerVectors and pass each step's updated ones to the next) and the kLossTermScales (required with
/// ProgramOptions::scaledLossTerms, refused without).
template <typename T> struct LossExtras {
  const HostArray<T> *mask = nullptr;
  const std::map<std::string, HostArray<T>> *powerVectors = nullptr;
  const std::vector<T> *termScales = nullptr;
};

/// Random unit vectors, one per PowerVector of the graph, from the seeded generator (PyTorch's spectral_norm
/// starts from normalised normal draws too).
template <typename T> std::map<std::string, HostArray<T>> initialPowerVectors(const Graph &graph, uint64_t seed);

class CompiledLossGradient {
public:
  /// Compiles @loss_gradient for batches of exactly options.batch sequences (options.float64 must be false).
  static CompiledLossGradient compile(const Graph &graph, const Objective &objective, const ProgramOptions &options);

  /// Throws seqjit::Error if input is not (batch, C, L), labels or mask not (batch, outputs...), a parameter or
  /// power vector is off, or the loss or a gradient comes out NaN or infinite from finite arguments: the batch is
  /// then rerun on the reference interpreter, and the message names the first op and layer that produced it.
  LossGradients<float> run(const HostArray<float> &input, const HostArray<float> &labels, const Parameters &parameters,
                           const LossExtras<float> &extras = {}) const;
  double compileSeconds() const { return program_.compileSeconds(); }

private:
  CompiledLossGradient(Graph graph, Objective objective, ProgramOptions options, Program program);
  Graph graph_;
  Objective objective_;
  ProgramOptions options_;
  Program program_;
};

/// @loss_gradient on the reference interpreter, in T, for a batch of any size.
template <typename T>
LossGradients<T> interpretLossGradient(const Graph &graph, const Objective &objective, bool batchNormTraining,
                                       const HostArray<T> &input, const HostArray<T> &labels,
                                       const Parameters &parameters, const LossExtras<T> &extras = {},
                                       const InterpretOptions &interpretOptions = {});

class CompiledInputGradient {
public:
  /// Compiles @input_gradient for batches of exactly options.batch sequences.
  static CompiledInputGradient compile(const Graph &graph, const ProgramOptions &options);
  /// d <seed, output> / d input, shape of input; `output` (if given) receives the model's output. Non-finite
  /// results from finite arguments are diagnosed as CompiledLossGradient::run does.
  HostArray<float> run(const HostArray<float> &input, const HostArray<float> &seed, const Parameters &parameters,
                       HostArray<float> *output = nullptr) const;

private:
  CompiledInputGradient(Graph graph, ProgramOptions options, Program program);
  Graph graph_;
  ProgramOptions options_;
  Program program_;
};

/// @input_gradient on the reference interpreter, in T.
template <typename T>
HostArray<T> interpretInputGradient(const Graph &graph, bool batchNormTraining, const HostArray<T> &input,
                                    const HostArray<T> &seed, const Parameters &parameters,
                                    const InterpretOptions &interpretOptions = {});

/// What @deeplift returns for a batch: the model's output on the input and on the reference, and the multipliers of
/// the input (like it), with sum(multipliers * (input - reference)) = <seed, output - referenceOutput> per example.
template <typename T> struct DeepLiftResult { HostArray<T> output, referenceOutput, multipliers; };

class CompiledDeepLift {
public:
  /// Compiles @deeplift for batches of exactly options.batch sequences (batch norm on running statistics).
  static CompiledDeepLift compile(const Graph &graph, const ProgramOptions &options);
  /// Throws seqjit::Error if input or reference is not (batch, C, L) or the seed not (batch, outputs...);
  /// non-finite results from finite arguments are diagnosed as CompiledLossGradient::run does.
  DeepLiftResult<float> run(const HostArray<float> &input, const HostArray<float> &reference,
                            const HostArray<float> &seed, const Parameters &parameters) const;

private:
  CompiledDeepLift(Graph graph, ProgramOptions options, Program program);
  Graph graph_;
  ProgramOptions options_;
  Program program_;
};

/// @deeplift on the reference interpreter, in T.
template <typename T>
DeepLiftResult<T> interpretDeepLift(const Graph &graph, const HostArray<T> &input, const HostArray<T> &reference,
                                    const HostArray<T> &seed, const Parameters &parameters,
                                    const InterpretOptions &interpretOptions = {});

} // namespace seqjit
