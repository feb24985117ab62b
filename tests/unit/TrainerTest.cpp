// The trainer: a run resumed from a checkpoint is bit-identical to the uninterrupted run; damaged, foreign and
// mismatched checkpoints are refused whole; the plateau and early-stopping bookkeeping follows Keras's rules; a small
// model learns a planted motif; the PGD attack stays in its ball and raises the loss.
#include "runtime/Trainer.h"
#include "ExpectError.h"
#include "PlantedMotif.h"
#include "runtime/Adversarial.h"
#include "runtime/Checkpoint.h"
#include "runtime/HostLosses.h"
#include "runtime/OneHot.h"
#include "runtime/Zip.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace seqjit {
namespace {

/// testing::plantedMotif as a dataset.
ArrayDataset plantedMotifData(int64_t count, int64_t length, uint64_t seed) {
  auto [input, labels] = testing::plantedMotif(count, length, seed);
  return ArrayDataset(std::move(input), std::move(labels), "planted motifs");
}

std::string temporaryPath(const std::string &name) {
  std::filesystem::path directory = std::filesystem::path(::testing::TempDir()) / "seqjit-trainer-test";
  std::filesystem::create_directories(directory);
  std::filesystem::remove(directory / name);
  return (directory / name).string();
}

struct Fixture {
  std::unique_ptr<Model> model = buildZooModel("cnn-local", {.activation = "exp"});
  const Graph &graph() const { return model->graph(); }
  ArrayDataset train = plantedMotifData(300, 200, 1);
  ArrayDataset valid = plantedMotifData(200, 200, 2);
  Objective objective = [] {
    Objective o;
    o.l2 = 1e-6;
    return o;
  }();
  Optimizer optimizer;

  TrainerOptions options(int64_t epochs, const std::string &checkpoint, bool resume) const {
    TrainerOptions options;
    options.epochs = epochs;
    options.seed = 17;
    options.checkpointPath = checkpoint;
    options.resume = resume;
    options.augmentations = parseAugmentations("--augment", "rc,shift=2,noise=0.01,mixup=0.2");
    options.plateau = PlateauDecay{0.5, 1, 1e-6}; // decays in these short runs, so the learning rate is resumed too
    options.threads = 1;
    return options;
  }
};

void expectIdentical(const std::map<std::string, HostArray<float>> &a,
                     const std::map<std::string, HostArray<float>> &b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto &[name, array] : a) {
    ASSERT_TRUE(b.contains(name)) << name;
    EXPECT_EQ(array.shape, b.at(name).shape) << name;
    EXPECT_TRUE(array.data == b.at(name).data) << name << " differs";
  }
}

TEST(Trainer, ResumedRunIsBitIdenticalToTheUninterruptedOne) {
  Fixture f;
  Parameters initial = Parameters::initialize(f.graph(), 5);
  std::string whole = temporaryPath("whole.seqjit"), parts = temporaryPath("parts.seqjit");
  TrainingResult uninterrupted =
      Trainer(f.graph(), f.objective, f.optimizer, f.options(3, whole, false)).fit(f.train, &f.valid, initial);
  Trainer(f.graph(), f.objective, f.optimizer, f.options(1, parts, false)).fit(f.train, &f.valid, initial);
  // The resumed run is given other initial weights: everything must come from the checkpoint.
  TrainingResult resumed = Trainer(f.graph(), f.objective, f.optimizer, f.options(3, parts, true))
                               .fit(f.train, &f.valid, Parameters::initialize(f.graph(), 99));

  expectIdentical(resumed.state.parameters.tensors(), uninterrupted.state.parameters.tensors());
  expectIdentical(resumed.state.optimizerSlots, uninterrupted.state.optimizerSlots);
  expectIdentical(resumed.bestParameters.tensors(), uninterrupted.bestParameters.tensors());
  EXPECT_EQ(resumed.state.step, uninterrupted.state.step);
  EXPECT_EQ(resumed.state.step, 9);
  ASSERT_EQ(resumed.progress.history.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(resumed.progress.history[i].train, uninterrupted.progress.history[i].train) << "epoch " << i + 1;
    EXPECT_EQ(resumed.progress.history[i].validation, uninterrupted.progress.history[i].validation);
    EXPECT_EQ(resumed.progress.history[i].learningRate, uninterrupted.progress.history[i].learningRate);
  }
  EXPECT_EQ(resumed.progress.learningRate, uninterrupted.progress.learningRate);
  EXPECT_EQ(resumed.progress.bestEpoch, uninterrupted.progress.bestEpoch);

  // The checkpoint of the whole run reads back to its final state.
  Trainer reader(f.graph(), f.objective, f.optimizer, f.options(3, whole, true));
  Checkpoint checkpoint = readCheckpoint(whole, f.graph(), f.objective, f.optimizer, reader.runFingerprint());
  EXPECT_EQ(checkpoint.progress.epochsDone, 3);
  EXPECT_EQ(checkpoint.state.step, 9);
  expectIdentical(checkpoint.state.optimizerSlots, uninterrupted.state.optimizerSlots);
}

TEST(Trainer, RefusesDamagedForeignAndMismatchedCheckpoints) {
  Fixture f;
  Parameters initial = Parameters::initialize(f.graph(), 5);
  std::string path = temporaryPath("good.seqjit");
  Trainer trainer(f.graph(), f.objective, f.optimizer, f.options(1, path, false));
  trainer.fit(f.train, &f.valid, initial);
  std::string bytes = readWholeFile(path);
  auto fingerprint = trainer.runFingerprint();
  auto read = [&](const std::string &file) {
    return [&, file] { readCheckpoint(file, f.graph(), f.objective, f.optimizer, fingerprint); };
  };

  std::string truncated = temporaryPath("truncated.seqjit");
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  testing::expectError(read(truncated), {"truncated.seqjit"});

  std::string corrupted = temporaryPath("corrupted.seqjit");
  std::string flipped = bytes;
  flipped[flipped.size() / 3] ^= 0x5a; // inside some stored array
  std::ofstream(corrupted, std::ios::binary) << flipped;
  testing::expectError(read(corrupted), {"corrupted.seqjit", "CRC"});

  std::string foreign = temporaryPath("foreign.seqjit");
  initial.saveNpz(foreign);
  testing::expectError(read(foreign), {"foreign.seqjit", "not a seqjit checkpoint"});

  testing::expectError(read(temporaryPath("missing.seqjit")), {"missing.seqjit"});

  auto otherSeed = fingerprint;
  otherSeed["seed"] = "18";
  testing::expectError([&] { readCheckpoint(path, f.graph(), f.objective, f.optimizer, otherSeed); },
                       {"different run", "seed", "'17'", "'18'"});
  Optimizer sgd = parseOptimizer("--optimizer", "sgd,momentum=0.9");
  testing::expectError(
      [&] {
        Trainer other(f.graph(), f.objective, sgd, f.options(2, path, true));
        other.fit(f.train, &f.valid, initial);
      },
      {"different run", "optimizer", "adam", "sgd"});
  auto relu = buildZooModel("cnn-local", {.activation = "relu", .outputs = 2});
  auto reluFingerprint = fingerprint;
  reluFingerprint["parameters"] = "other";
  testing::expectError([&] { readCheckpoint(path, relu->graph(), f.objective, f.optimizer, reluFingerprint); },
                       {"different run", "parameters"});
}

TEST(Trainer, PlateauAndEarlyStoppingFollowKerasRules) {
  TrainerOptions options;
  options.plateau = PlateauDecay{0.5, 2, 0.2};
  options.earlyStoppingPatience = 3;
  TrainingProgress progress;
  progress.learningRate = 1.0;
  // AUROC-like values: higher is better; NaN never improves.
  std::vector<double> values = {0.6, 0.7, 0.7, 0.65, 0.8, std::nan(""), 0.79, 0.5};
  std::vector<bool> improved = {true, true, false, false, true, false, false, false};
  std::vector<double> rates = {1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25};
  std::vector<bool> stopped = {false, false, false, false, false, false, false, true};
  for (size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE("epoch " + std::to_string(i + 1));
    EXPECT_EQ(recordEpochOutcome(progress, static_cast<int64_t>(i + 1), values[i], true, options), improved[i]);
    EXPECT_DOUBLE_EQ(progress.learningRate, rates[i]);
    EXPECT_EQ(progress.stoppedEarly, stopped[i]);
  }
  EXPECT_EQ(progress.bestEpoch, 5);
  EXPECT_DOUBLE_EQ(progress.bestValue, 0.8);
  // The floor: 0.25 * 0.5 would go below min_lr 0.2.
  TrainingProgress low;
  low.learningRate = 0.25;
  recordEpochOutcome(low, 1, 1.0, false, options);
  recordEpochOutcome(low, 2, 2.0, false, options);
  recordEpochOutcome(low, 3, 3.0, false, options);
  EXPECT_DOUBLE_EQ(low.learningRate, 0.2);
  EXPECT_EQ(low.bestEpoch, 1) << "for the loss, lower is better";

  // A gain below min_delta (1e-4) is a new best for early stopping but not for the plateau.
  TrainingProgress small;
  small.learningRate = 1.0;
  options.plateau->patience = 1;
  recordEpochOutcome(small, 1, 0.5, true, options);
  EXPECT_TRUE(recordEpochOutcome(small, 2, 0.50005, true, options));
  EXPECT_EQ(small.epochsWithoutImprovement, 0);
  EXPECT_DOUBLE_EQ(small.learningRate, 0.5) << "the plateau saw no improvement";
  recordEpochOutcome(small, 3, 0.6, true, options);
  EXPECT_DOUBLE_EQ(small.learningRate, 0.5);
  EXPECT_DOUBLE_EQ(small.plateauBest, 0.6);
}

TEST(Trainer, LearnsAPlantedMotifWithAndWithoutManifoldMixupAndRestoresTheBestWeights) {
  Fixture f;
  ArrayDataset train = plantedMotifData(2000, 200, 3);
  TrainerOptions options;
  options.epochs = 5;
  options.seed = 4;
  options.threads = 1;
  Parameters initial = Parameters::initialize(f.graph(), 6);
  Optimizer optimizer = parseOptimizer("--optimizer", "adam,lr=0.003");
  Trainer trainer(f.graph(), f.objective, optimizer, options);
  TrainingResult plain = trainer.fit(train, &f.valid, initial);
  ASSERT_EQ(plain.progress.history.size(), 5u);
  EXPECT_GT(plain.progress.bestValue, 0.9) << "CNN-local with an exp first layer should find a planted 7-mer";
  EXPECT_LT(plain.progress.history.back().train.at("loss"), plain.progress.history.front().train.at("loss"));
  // The returned weights are the best epoch's: evaluating them gives that epoch's AUROC.
  EXPECT_DOUBLE_EQ(trainer.evaluate(f.valid, plain.state.parameters).at("auroc"), plain.progress.bestValue);

  options.augmentations = parseAugmentations("--augment", "manifold_mixup=0.2");
  TrainingResult mixed = Trainer(f.graph(), f.objective, optimizer, options).fit(train, &f.valid, initial);
  EXPECT_GT(mixed.progress.bestValue, 0.8) << "mixing hidden layers must not stop CNN-local from learning";
  EXPECT_EQ(mixed.state.step, 100);
  EXPECT_NE(mixed.progress.history.front().train.at("loss"), plain.progress.history.front().train.at("loss"))
      << "manifold mixup changed nothing";
}

TEST(Trainer, RefusesDataThatDoesNotFitTheModel) {
  Fixture f;
  TrainerOptions options;
  options.threads = 1;
  Trainer trainer(f.graph(), f.objective, f.optimizer, options);
  Parameters initial = Parameters::initialize(f.graph(), 1);
  ArrayDataset shortSequences = plantedMotifData(200, 150, 1);
  testing::expectError([&] { trainer.fit(shortSequences, nullptr, initial); },
                       {"training data", "planted motifs", "(4, 150)", "(4, 200)"});
  ArrayDataset twoTasks(randomOneHot(200, 200, 1), HostArray<float>({200, 2}), "two tasks");
  testing::expectError([&] { trainer.fit(f.train, &twoTasks, initial); }, {"validation data", "labels", "(2)"});
  ArrayDataset tiny = plantedMotifData(50, 200, 1);
  testing::expectError([&] { trainer.fit(tiny, nullptr, initial); }, {"50 examples", "fewer than one batch"});
  TrainerOptions badMonitor;
  badMonitor.monitor = "f1";
  testing::expectError([&] { Trainer(f.graph(), f.objective, f.optimizer, badMonitor); }, {"cannot monitor 'f1'"});
}

TEST(Adversarial, StaysInTheBallAndRaisesTheLoss) {
  Fixture f;
  const int64_t batch = 20;
  Parameters parameters = Parameters::initialize(f.graph(), 8);
  CompiledModel forward = compile(f.graph(), {.batch = batch, .threads = 1});
  auto gradient = CompiledInputGradient::compile(f.graph(), {.batch = batch, .batchNormTraining = false});
  std::vector<int64_t> indices(batch);
  for (int64_t i = 0; i < batch; ++i)
    indices[i] = i;
  Examples examples = f.valid.read(indices);
  AdversarialTraining attack;
  Random random(1, 2);
  HostArray<float> adversarial =
      adversarialInput(forward, gradient, examples, parameters, LossKind::BinaryCrossEntropy, attack, random);
  float largest = 0.0f;
  for (int64_t i = 0; i < adversarial.size(); ++i)
    largest = std::max(largest, std::abs(adversarial.data[i] - examples.input.data[i]));
  EXPECT_LE(largest, 0.05f + 1e-6f);
  EXPECT_GT(largest, 0.04f) << "15 steps of 0.005 reach the ball's edge";
  double clean = dataLoss(forward.forward(examples.input, parameters), examples.labels, LossKind::BinaryCrossEntropy);
  double attacked = dataLoss(forward.forward(adversarial, parameters), examples.labels, LossKind::BinaryCrossEntropy);
  EXPECT_GT(attacked, clean);
}

} // namespace
} // namespace seqjit
