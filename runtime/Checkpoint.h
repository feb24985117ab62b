// Training checkpoints: one file holding the weights, optimizer state, power vectors, best weights, the trainer's
// progress (epoch, learning rate, early-stopping and plateau counts, history) and the run's fingerprint, written
// atomically and refused whole when damaged or written by a different run.
#pragma once

#include "runtime/Trainer.h"

#include <map>
#include <string>

namespace seqjit {

/// Everything a checkpoint holds. The random number generators need no state of their own: every draw of a run
/// comes from Philox streams keyed by (seed, purpose) and numbered by epoch or step, so the epoch count and the step
/// count in `state` are the RNG state.
struct Checkpoint {
  std::map<std::string, std::string> fingerprint;
  TrainState state;
  Parameters bestParameters;
  TrainingProgress progress;
};

/// Writes `checkpoint` to `path` atomically (a ZIP of .npy arrays and a JSON record, each entry with a CRC-32):
/// a reader sees the previous checkpoint or this one, never a mixture, whenever the process dies.
void writeCheckpoint(const std::string &path, const Checkpoint &checkpoint);

/// Reads a checkpoint of a run of `graph` whose fingerprint is `fingerprint`. Throws seqjit::Error naming the file
/// for a missing, truncated or corrupted file (CRC mismatch), one that is not a seqjit checkpoint or has another
/// format version, a fingerprint that differs (naming each differing item, as written and as now), and any array
/// missing or of the wrong shape. Nothing is returned half-loaded.
Checkpoint readCheckpoint(const std::string &path, const Graph &graph, const Objective &objective,
                          const Optimizer &optimizer, const std::map<std::string, std::string> &fingerprint);

/// The history as JSON text: a list of epochs, each {"epoch", "learning_rate", "seconds", "train": {...},
/// "validation": {...}, "monitored"}, with NaN written as null.
std::string historyJson(const TrainingProgress &progress, const std::string &monitor);

} // namespace seqjit
