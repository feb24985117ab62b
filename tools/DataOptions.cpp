// Data options: one HDF5 file for every split, or one sequence file (FASTA or BED) per split.
#include "tools/DataOptions.h"

#include "dsl/Error.h"
#include "runtime/FileExtension.h"
#include "runtime/Hdf5.h"
#include "runtime/SequenceFiles.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace seqjit {

namespace {

/// The sequence file and labels option of `split` (const or not, as `arguments` is).
template <typename Arguments> auto splitFiles(Arguments &arguments, const std::string &split) {
  using Pointer = decltype(&arguments.train);
  if (split == "train")
    return std::pair<Pointer, Pointer>{&arguments.train, &arguments.trainLabels};
  if (split == "valid")
    return std::pair<Pointer, Pointer>{&arguments.valid, &arguments.validLabels};
  return std::pair<Pointer, Pointer>{&arguments.test, &arguments.testLabels};
}

} // namespace

void addDataOptions(CLI::App *command, DataArguments &arguments, const std::vector<std::string> &splits) {
  command->add_option("--data", arguments.data,
                      "HDF5 file in the papers' layout: X_train (N, 4, L), Y_train (N, tasks), X_valid, Y_valid, "
                      "X_test, Y_test");
  for (const std::string &split : splits) {
    auto [file, labels] = splitFiles(arguments, split);
    command->add_option("--" + split, *file,
                        fmt::format("{} sequences instead of --data: FASTA (.fa, .fasta, .fna; needs --{}-labels) "
                                    "or BED intervals (.bed: chrom, start, end, labels...; needs --reference)",
                                    split, split));
    command->add_option("--" + split + "-labels", *labels,
                        "labels TSV for a FASTA file: name, then one column per task");
  }
  command->add_option("--reference", arguments.reference,
                      "reference genome FASTA for BED intervals (.fai made if "
                      "missing)");
  command->add_option("--ambiguous", arguments.ambiguous,
                      "N and other IUPAC letters in FASTA/BED input: zero (all-zero column, default) or uniform "
                      "(the letter's bases share 1: N = 0.25 each)");
}

std::unique_ptr<Dataset> openSplit(const DataArguments &arguments, const std::string &split) {
  auto [file, labels] = splitFiles(arguments, split);
  if (!arguments.data.empty()) {
    if (!file->empty())
      throw Error(fmt::format("give either --data or --{}, not both", split));
    std::vector<std::string> keys = listHdf5Datasets(arguments.data);
    bool hasInput = std::find(keys.begin(), keys.end(), "X_" + split) != keys.end();
    if (!hasInput && split != "train")
      return nullptr;
    return std::make_unique<Hdf5SplitDataset>(arguments.data, "X_" + split, "Y_" + split);
  }
  if (file->empty())
    return nullptr;
  std::string extension = lowercaseExtension(*file);
  bool bed = extension == ".bed";
  if (bed && !labels->empty())
    throw Error(
        fmt::format("--{}-labels applies to FASTA files; a BED file carries its labels in columns 4...", split));
  if (bed && arguments.reference.empty())
    throw Error(fmt::format("--{} '{}' is a BED file: its sequences come from a reference genome, give --reference",
                            split, *file));
  if (!bed && labels->empty())
    throw Error(fmt::format("--{} '{}' needs its labels: give --{}-labels TSV (name, then a column per task)", split,
                            *file, split));
  return openSequenceDataset(*file, bed ? arguments.reference : *labels, parseAmbiguousBases(arguments.ambiguous));
}

} // namespace seqjit
