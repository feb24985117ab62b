// Opening .npy and HDF5 arrays behind one row-reading interface.
#include "runtime/ArrayRows.h"

#include "dsl/Error.h"
#include "runtime/FileExtension.h"
#include "runtime/Hdf5.h"
#include "runtime/Npy.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

namespace seqjit {

HostArray<float> readRowRange(const ArrayRows &rows, int64_t first, int64_t count) {
  std::vector<int64_t> indices(static_cast<size_t>(count));
  std::iota(indices.begin(), indices.end(), first);
  return rows.read(indices);
}

std::unique_ptr<ArrayRows> openArrayRows(const std::string &path, const std::string &hdf5Key,
                                         const std::string &option) {
  std::string extension = lowercaseExtension(path);
  if (extension == ".npy")
    return std::make_unique<NpyRows>(path);
  if (extension == ".h5" || extension == ".hdf5")
    return std::make_unique<Hdf5Rows>(path, hdf5Key);
  throw Error(fmt::format("{} '{}': unknown extension '{}' (expected .npy, .h5 or .hdf5)", option, path, extension));
}

} // namespace seqjit
