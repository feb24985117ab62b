// Reading datasets from HDF5 files (the papers' X_train / Y_train / ... data files), with the serial libhdf5 C API.
#pragma once

#include "runtime/HostArray.h"

#include <string>
#include <vector>

namespace seqjit {

/// The full names of every dataset in the file, groups included ("X_train", "group/inner"), sorted.
/// Throws seqjit::Error naming `path` if it is missing or not an HDF5 file.
std::vector<std::string> listHdf5Datasets(const std::string &path);

/// Reads a numeric dataset (any integer or floating-point type; HDF5 converts) as float, in its stored shape.
/// Throws seqjit::Error naming the file and key: for a missing key, the message lists the datasets that exist.
HostArray<float> readHdf5Dataset(const std::string &path, const std::string &key);

} // namespace seqjit
