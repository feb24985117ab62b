// The training loop around the compiled train step: epochs of shuffled mini-batches, augmentations, validation with
// the papers' metrics, learning-rate decay on plateau, early stopping with best-weights restore, checkpoints every
// epoch and bit-identical resume.
#pragma once

#include "runtime/Augmentation.h"
#include "runtime/Dataset.h"
#include "runtime/TrainStep.h"

#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace seqjit {

/// Keras's ReduceLROnPlateau: after `patience` epochs without an improvement of more than `minDelta` of the monitored
/// value, the learning rate is multiplied by `factor` (never below `minLearningRate`) and the count starts again.
struct PlateauDecay {
  double factor = 0.2;
  int64_t patience = 3;
  double minLearningRate = 1e-7;
  double minDelta = 1e-4;
};

struct TrainerOptions {
  int64_t epochs = 10;
  int64_t batch = 100;
  uint64_t seed = 0;
  /// The validation value that decides the best epoch, the plateau and early stopping: "loss" (lower is better) or
  /// one of evaluateTasks' metrics, averaged over tasks (higher is better). Without validation data the training
  /// loss is monitored.
  std::string monitor = "auroc";
  std::optional<PlateauDecay> plateau = PlateauDecay{};
  /// Stop after this many epochs without improvement; 0 never stops early.
  int64_t earlyStoppingPatience = 10;
  /// At the end, the parameters of the best epoch (by `monitor`) replace the last ones.
  bool restoreBestWeights = true;
  Augmentations augmentations;
  /// Written atomically after every epoch when not empty; fit() resumes from it when `resume` is set.
  std::string checkpointPath;
  /// The history as JSON (historyJson), written atomically after every epoch when not empty.
  std::string historyPath;
  bool resume = false;
  /// Worker threads of the validation forward pass (0: SEQJIT_NUM_THREADS or all).
  int threads = 0;
};

/// One epoch of the history: the training terms are means over its steps, the validation values are for the whole
/// validation set (loss = the data loss, metrics averaged over tasks).
struct EpochRecord {
  int64_t epoch = 0;
  double learningRate = 0.0;
  double seconds = 0.0;
  std::map<std::string, double> train;
  std::map<std::string, double> validation;
  double monitored = 0.0;
};

/// Where a run stands after a whole number of epochs: everything resume needs beyond the TrainState.
struct TrainingProgress {
  int64_t epochsDone = 0;
  double learningRate = 0.0;
  double bestValue = std::numeric_limits<double>::quiet_NaN();
  int64_t bestEpoch = 0;
  int64_t epochsWithoutImprovement = 0;                          ///< early stopping's count
  double plateauBest = std::numeric_limits<double>::quiet_NaN(); ///< the plateau decay's own best
  int64_t plateauWait = 0;                                       ///< the plateau decay's count
  bool stoppedEarly = false;
  std::vector<EpochRecord> history;
};

/// What fit() returns: the final state (best weights restored if asked), the best parameters and the progress.
struct TrainingResult {
  TrainState state;
  Parameters bestParameters;
  TrainingProgress progress;
};

/// Live progress for a display: called after every step (batchesDone < batches) and once at the end of each epoch
/// (epochEnded set, the record filled in).
struct TrainingEvent {
  int64_t epoch = 0, epochs = 0;
  int64_t batchesDone = 0, batches = 0;
  double meanLoss = 0.0;
  double learningRate = 0.0;
  bool epochEnded = false;
  const EpochRecord *record = nullptr;
  bool improved = false;
};
using TrainingObserver = std::function<void(const TrainingEvent &)>;

class Trainer {
public:
  /// Compiles the train step (batch options.batch, batch norm on batch statistics, dropout drawn per step) and the
  /// validation forward pass. Throws seqjit::Error on an objective or option the trainer cannot run.
  Trainer(const Graph &graph, Objective objective, Optimizer optimizer, TrainerOptions options);
  ~Trainer();

  /// Trains on `train`, validating on `validation` (may be null) after every epoch, from `initial` parameters or,
  /// with options.resume, from options.checkpointPath (refused, naming what differs, if it was written by a
  /// different model, objective, optimizer, batch size, seed or augmentation). The data must match the model's
  /// input and output shapes (errors name the dataset).
  TrainingResult fit(const Dataset &train, const Dataset *validation, const Parameters &initial,
                     const TrainingObserver &observer = {}) const;

  /// The data loss and metrics of `parameters` on `data` (eval mode: running statistics, no dropout):
  /// "loss" and evaluateTasks' means.
  std::map<std::string, double> evaluate(const Dataset &data, const Parameters &parameters) const;

  /// Compile time of the train step and the forward pass, in seconds.
  double compileSeconds() const;

  /// runFingerprint of this trainer's run.
  std::map<std::string, std::string> runFingerprint() const;

private:
  /// One optimizer step on `examples`, with manifold mixup when it is on (the labels and the input or a hidden
  /// layer mixed).
  StepReport runStep(TrainState &state, Examples &examples, double learningRate, uint64_t dropoutSeed,
                     uint64_t augmentSeed) const;

  struct Programs;
  Graph graph_;
  Objective objective_;
  Optimizer optimizer_;
  TrainerOptions options_;
  std::map<std::string, std::string> fingerprint_;
  std::unique_ptr<Programs> programs_;
};

/// The line-by-line description of a run that a checkpoint must match to be resumed: the model's parameter shapes,
/// the objective, the optimizer, the batch size, the seed, the augmentations, the monitor, the plateau decay and
/// the early-stopping patience (not the epoch count, which a resumed run may extend).
std::map<std::string, std::string> runFingerprint(const Graph &graph, const Objective &objective,
                                                  const Optimizer &optimizer, const TrainerOptions &options);

/// The bookkeeping after an epoch whose monitored value is `monitored`, as Keras's EarlyStopping (min_delta 0) and
/// ReduceLROnPlateau (its own best, min_delta) do it: a new best (NaN never is one) resets early stopping's count,
/// otherwise it grows and stops the run at the patience; the plateau count likewise, multiplying the learning rate
/// by the factor when it reaches its patience. Returns whether the monitored value is a new best.
bool recordEpochOutcome(TrainingProgress &progress, int64_t epoch, double monitored, bool increases,
                        const TrainerOptions &options);

/// True when a larger value of `monitor` is better (every metric), false for "loss".
bool monitorIncreases(const std::string &monitor);

} // namespace seqjit
