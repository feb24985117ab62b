// Training steps on the CPU: the compiled @train_step (forward, loss, backward, clipping, optimizer update, running
// statistics in one program), and the same program on the reference interpreter (the oracle it is tested against).
#pragma once

#include "compiler/TrainStep.h"
#include "runtime/Compile.h"
#include "runtime/ProgramInterpreter.h"

#include <map>
#include <memory>
#include <string>

namespace seqjit {

/// Everything a training run carries from one step to the next (and a checkpoint saves).
struct TrainState {
  Parameters parameters;                                  ///< weights and batch-norm running statistics
  std::map<std::string, HostArray<float>> optimizerSlots; ///< by optimizerSlotNames; zeros before the first step
  std::map<std::string, HostArray<float>> powerVectors;   ///< the spectral norm's, by PowerVector name
  int64_t step = 0;                                       ///< optimizer steps taken
};

/// The state before the first step: `parameters`, zero optimizer slots, and seeded power vectors when the
/// objective has a spectral norm.
TrainState initialTrainState(const Graph &graph, const Objective &objective, const Optimizer &optimizer,
                             Parameters parameters, uint64_t seed);

/// Manifold mixup at one node: its value h (B, ...) becomes `matrix` (B, B) times h over the batch axis.
struct BatchMix {
  int node = -1;
  HostArray<float> matrix;
};

/// One training batch: the input (B, C, L), the labels (B, outputs...) and, with objective.labelMask, their mask;
/// with `mix`, the step mixes the batch at a hidden node (the labels given must be mixed the same way).
struct TrainBatch {
  const HostArray<float> &input;
  const HostArray<float> &labels;
  const HostArray<float> *mask = nullptr;
  const BatchMix *mix = nullptr;
};

/// What a step reports: the kLossTerms before the update and the gradient norm before clipping.
struct StepReport {
  std::map<std::string, double> terms;
  double gradientNorm = 0.0;
};

/// The dropout masks of step `step` (1-based) of a run with dropout seed `seed`, one per dropoutNodes(graph), each
/// (batch, node shape...) of 0 and 1 / (1 - rate), drawn from Philox stream step * 1024 + (the node's index).
std::vector<HostArray<float>> dropoutMasks(const Graph &graph, int64_t batch, uint64_t seed, int64_t step);

class CompiledTrainStep {
public:
  /// Compiles @train_step for batches of exactly options.batch sequences (float32); with `mixedNode` >= 0, for
  /// batches that mix at that node (TrainBatch::mix), and only for those.
  static CompiledTrainStep compile(const Graph &graph, const Objective &objective, const Optimizer &optimizer,
                                   const ProgramOptions &options, int mixedNode = -1);

  /// Advances `state` by one step on `batch` with learning rate `learningRate` (a schedule may change it between
  /// steps) and dropout seed `dropoutSeed`. Throws seqjit::Error, leaving `state` untouched, on a batch or state of
  /// the wrong shape, or when the loss or an update comes out NaN or infinite (traced as CompiledLossGradient::run
  /// traces it).
  StepReport run(TrainState &state, const TrainBatch &batch, double learningRate, uint64_t dropoutSeed) const;
  double compileSeconds() const { return program_.compileSeconds(); }

private:
  CompiledTrainStep(Graph graph, Objective objective, Optimizer optimizer, ProgramOptions options, int mixedNode,
                    Program program);
  Graph graph_;
  Objective objective_;
  Optimizer optimizer_;
  ProgramOptions options_;
  int mixedNode_;
  Program program_;
};

/// @train_step on the reference interpreter, computing in T (the state stays float32 between steps), for a batch
/// of any size.
template <typename T>
StepReport interpretTrainStep(const Graph &graph, const Objective &objective, const Optimizer &optimizer,
                              bool batchNormTraining, TrainState &state, const TrainBatch &batch, double learningRate,
                              uint64_t dropoutSeed, const InterpretOptions &interpretOptions = {});

} // namespace seqjit
