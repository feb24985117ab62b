// seqjit generate-data: writes the papers' synthetic motif tasks (Task 1, Task 3) with their ground truth as HDF5.
#include "dsl/Error.h"
#include "runtime/Stopwatch.h"
#include "stdlib/Meme.h"
#include "stdlib/SyntheticData.h"
#include "tools/Commands.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>

#ifndef SEQJIT_SOURCE_DIR
#error "SEQJIT_SOURCE_DIR must name the source directory (set by CMake)"
#endif

namespace seqjit {

namespace {

struct GenerateDataArguments {
  std::string task;
  std::string output;
  std::string motifs;
  uint64_t seed = 0;
  int64_t count = 0;
  int64_t length = 200;
  std::vector<double> fractions = {0.7, 0.1, 0.2};
};

/// The JASPAR file the repository ships, as the demo finds its data: $SEQJIT_DATA, else the source tree's data/.
std::string defaultMotifFile() {
  std::filesystem::path data = std::getenv("SEQJIT_DATA")
                                   ? std::filesystem::path(std::getenv("SEQJIT_DATA"))
                                   : std::filesystem::path(SEQJIT_SOURCE_DIR) / "data";
  return (data / "motifs" / "JASPAR_CORE_2016_vertebrates.meme").lexically_normal().string();
}

void runGenerateData(const GenerateDataArguments &args) {
  auto start = std::chrono::steady_clock::now();
  std::string motifFile = args.motifs.empty() ? defaultMotifFile() : args.motifs;
  // Said up front, naming the option: the reader's own error does not say where the path came from.
  if (!std::filesystem::exists(motifFile))
    throw Error(fmt::format("--motifs file '{}' does not exist{}", motifFile,
                            args.motifs.empty() ? " (the default; set SEQJIT_DATA or pass --motifs)" : ""));
  std::vector<Motif> motifs = readMemeFile(motifFile);

  SyntheticOptions options;
  options.count = args.count;
  options.length = args.length;
  options.seed = args.seed;
  options.trainFraction = args.fractions[0];
  options.validFraction = args.fractions[1];
  options.testFraction = args.fractions[2];
  options.progress = [&](int64_t done, int64_t total) {
    fmt::print(stderr, "\rgenerating {}: {}/{} sequences", args.task, done, total);
    if (done == total)
      fmt::print(stderr, "\n");
  };
  SyntheticData data = args.task == "task1" ? generateTask1(motifs, options) : generateTask3(motifs, options);
  double generateSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  writeSyntheticData(args.output, data);
  double writeSeconds = secondsSince(start);

  const SyntheticSplit &train = data.splits.at("train");
  int64_t total = 0;
  for (const auto &[name, split] : data.splits)
    total += split.input.shape[0];
  fmt::print("seqjit generate-data: {} (seed {}) -> {}\n", args.task, args.seed, args.output);
  fmt::print("  {} sequences x {} nt; {} motifs from {} can appear; labels: {}\n", total, train.input.shape[2],
             data.motifs.size(), motifFile,
             data.labelNames.size() == 1 ? data.labelNames[0] : fmt::format("{} TFs", data.labelNames.size()));
  for (const char *name : {"train", "valid", "test"}) {
    const SyntheticSplit &split = data.splits.at(name);
    int64_t count = split.labels.shape[0], labels = split.labels.shape[1];
    std::string positives;
    for (int64_t label = 0; label < labels; ++label) {
      int64_t positive = 0;
      for (int64_t n = 0; n < count; ++n)
        positive += split.labels.data[n * labels + label] > 0.5f;
      positives += fmt::format("{}{} {}", label == 0 ? "" : ", ", data.labelNames[label], positive);
    }
    fmt::print("  {:<5} {:>6} sequences, {:>6} motif instances; positive sequences per label: {}\n", name, count,
               split.placements.size(), positives);
  }
  fmt::print("  time: generate {:.2f} s, write {:.2f} s\n", generateSeconds, writeSeconds);
}

} // namespace

void addGenerateDataCommand(CLI::App &app) {
  auto args = std::make_shared<GenerateDataArguments>();
  CLI::App *command = app.add_subcommand(
      "generate-data", "Generate a synthetic motif task of the papers (Koo & Eddy Task 1, Koo & Ploenzke Task 3) as "
                       "HDF5 with its ground truth (generating model, motif placements)");
  command->add_option("task", args->task, "task1 (30,000 sequences, 12 TF labels) or task3 (20,000, binary)")
      ->required()
      ->check(CLI::IsMember({"task1", "task3"}));
  command->add_option("--out", args->output, "HDF5 file to write (X_/Y_/model_/motifs_ train, valid, test)")
      ->required();
  command->add_option("--seed", args->seed, "random seed; the same seed gives the same data (default 0)");
  command->add_option("--count", args->count, "number of sequences (default: the paper's)")
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  command->add_option("--length", args->length, "sequence length in nucleotides (default 200)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  command->add_option("--split", args->fractions, "train, valid and test fractions (default 0.7 0.1 0.2)")
      ->expected(3)
      ->delimiter(',');
  command->add_option("--motifs", args->motifs,
                      "MEME motif file (default: $SEQJIT_DATA/motifs/JASPAR_CORE_2016_vertebrates.meme, "
                      "SEQJIT_DATA defaulting to the source tree's data/)");
  command->callback([args] { runGenerateData(*args); });
}

} // namespace seqjit
