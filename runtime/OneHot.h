// Loading one-hot DNA input (N, 4, L) from .npy or HDF5 and checking that it really is one-hot.
#pragma once

#include "runtime/ArrayRows.h"
#include "runtime/HostArray.h"

#include <memory>
#include <span>
#include <string>

namespace seqjit {

/// Checks that `x` has shape (N, 4, L) and that every position of every example is a one-hot column (one 1,
/// three 0s) or all zeros (an N base). Otherwise throws seqjit::Error naming `source`, the example (as its entry
/// of `rows`, the rows `x` was read from, when given), the position and the column found. Models trained on one-hot
/// input silently give nonsense on anything else, hence the check.
void validateOneHot(const HostArray<float> &x, const std::string &source, std::span<const int64_t> rows = {});

/// Loads sequences from a .npy file, or from dataset `hdf5Key` (default "X_test" when empty) of an .h5/.hdf5
/// file, and validates them with validateOneHot. Other extensions are refused with a seqjit::Error.
HostArray<float> loadSequenceInput(const std::string &path, const std::string &hdf5Key = {});

/// The same sequences read a batch at a time (see ArrayRows): the shape is checked on opening, each batch with
/// validateOneHot as it is read. `option` names the path's command-line option in errors.
std::unique_ptr<ArrayRows> openSequenceRows(const std::string &path, const std::string &hdf5Key,
                                            const std::string &option);

/// Uniformly random one-hot DNA (count, 4, length) from a seeded Philox stream: inputs for tests and benchmarks.
HostArray<float> randomOneHot(int64_t count, int64_t length, uint64_t seed);

} // namespace seqjit
