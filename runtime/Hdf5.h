// Reading and writing HDF5 files (the papers' X_train / Y_train / ... data), with the serial libhdf5 C API.
#pragma once

#include "runtime/ArrayRows.h"
#include "runtime/HostArray.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace seqjit {

/// The full names of every dataset in the file, groups included ("X_train", "group/inner"), sorted.
/// Throws seqjit::Error naming `path` if it is missing or not an HDF5 file.
std::vector<std::string> listHdf5Datasets(const std::string &path);

/// Reads a numeric dataset (any integer or floating-point type; HDF5 converts) as float, in its stored shape.
/// Throws seqjit::Error naming the file and key: for a missing key, the message lists the datasets that exist.
HostArray<float> readHdf5Dataset(const std::string &path, const std::string &key);

/// The shape of numeric dataset `key`, without reading it. Errors as readHdf5Dataset.
std::vector<int64_t> hdf5DatasetShape(const std::string &path, const std::string &key);

/// The most memory one Hdf5Rows holds: the whole dataset, or its chunk cache.
inline constexpr size_t kHdf5RowCacheBytes = size_t{256} << 20;

/// A numeric dataset kept open for reading rows a batch at a time: how a dataset larger than memory trains. One of
/// at most the memory it is given (as float, kHdf5RowCacheBytes by default) is read whole at the first read and served
/// from memory, so that shuffled batches cost no decompression and no HDF5 selection; a larger one is read a batch at a
/// time through a chunk cache of that size. Reads from several threads take turns (the serial libhdf5).
class Hdf5Rows : public ArrayRows {
public:
  /// Holds at most `memoryBytes` (see above); 0 holds nothing of its own (HDF5's default chunk cache), for a single
  /// read. Throws seqjit::Error naming the file and key for a missing key, a
  /// non-numeric dataset or a scalar.
  Hdf5Rows(const std::string &path, const std::string &key, size_t memoryBytes = kHdf5RowCacheBytes);
  ~Hdf5Rows() override;
  Hdf5Rows(const Hdf5Rows &) = delete;
  Hdf5Rows &operator=(const Hdf5Rows &) = delete;

  const std::vector<int64_t> &shape() const override;
  /// See ArrayRows::read; errors name the file and key.
  HostArray<float> read(std::span<const int64_t> rows) const override;
  std::string describe() const override;

private:
  struct Open;
  std::unique_ptr<Open> open_;
};

/// Hdf5Rows(path, key, 0).read(rows): one read of a few rows, without reading the whole dataset.
HostArray<float> readHdf5Rows(const std::string &path, const std::string &key, std::span<const int64_t> rows);

/// A variable-length string list (as writeHdf5File writes them). Throws seqjit::Error naming the file and key.
std::vector<std::string> readHdf5Strings(const std::string &path, const std::string &key);

/// How a numeric dataset is stored on disk (values are converted from float on the way out).
enum class Hdf5Storage { Float32, Int8, Int32 };

struct Hdf5Array {
  std::string name;
  HostArray<float> values;
  Hdf5Storage storage = Hdf5Storage::Float32;
};

struct Hdf5StringList {
  std::string name;
  std::vector<std::string> values;
};

/// Writes a new HDF5 file holding `arrays` and `strings`, atomically: to "<path>.partial", then renamed over
/// `path`. Throws seqjit::Error naming the file and dataset on failure, leaving no partial file behind.
void writeHdf5File(const std::string &path, const std::vector<Hdf5Array> &arrays,
                   const std::vector<Hdf5StringList> &strings = {});

} // namespace seqjit
