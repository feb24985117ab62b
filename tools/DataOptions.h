// The command-line options that name training, validation and test data: an HDF5 file in the papers' layout, or
// FASTA files with label TSVs, or BED files with a reference genome.
#pragma once

#include "runtime/Dataset.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace seqjit {

struct DataArguments {
  std::string data; ///< HDF5 with X_train/Y_train, X_valid/Y_valid, X_test/Y_test
  std::string train, trainLabels, valid, validLabels, test, testLabels;
  std::string reference;
  std::string ambiguous = "zero";
};

/// Registers --data, --reference and --ambiguous, and for each split in `splits` ("train", "valid", "test")
/// --<split> FILE and --<split>-labels TSV.
void addDataOptions(CLI::App *command, DataArguments &arguments, const std::vector<std::string> &splits);

/// The dataset of `split`, or null when the arguments give none for it (an HDF5 file without X_<split>).
/// Throws seqjit::Error for conflicting options or unreadable data, naming the file.
std::unique_ptr<Dataset> openSplit(const DataArguments &arguments, const std::string &split);

} // namespace seqjit
