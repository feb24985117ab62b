// Arrays read a few rows at a time, whatever file holds them (.npy or HDF5): how a command streams data larger than
// memory through a program, a batch at a time.
#pragma once

#include "runtime/HostArray.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace seqjit {

class ArrayRows {
public:
  virtual ~ArrayRows() = default;
  /// The array's shape; rows run along the first axis.
  virtual const std::vector<int64_t> &shape() const = 0;
  /// Rows `rows` (indices along the first axis, any order, repeats allowed) as one array (rows.size(), rest of the
  /// shape...) in the order asked, converted to float. Throws seqjit::Error naming the file for a row out of range
  /// or a failed read.
  virtual HostArray<float> read(std::span<const int64_t> rows) const = 0;
  /// Names the array in messages: "'x.npy'", "'d.h5', dataset 'X_train'".
  virtual std::string describe() const = 0;
};

/// Rows [first, first + count) of `rows`.
HostArray<float> readRowRange(const ArrayRows &rows, int64_t first, int64_t count);

/// Opens an array by its file's extension (any case): a .npy file, or dataset `hdf5Key` of an .h5/.hdf5 file.
/// Throws seqjit::Error naming `option` (the command-line option that gave the path), the file and the extensions
/// read, for another extension; errors of the readers otherwise.
std::unique_ptr<ArrayRows> openArrayRows(const std::string &path, const std::string &hdf5Key,
                                         const std::string &option);

} // namespace seqjit
