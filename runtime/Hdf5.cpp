// HDF5 dataset listing and reading with RAII handles and HDF5's own error printing silenced.
#include "runtime/Hdf5.h"

#include "dsl/Error.h"

#include <fmt/format.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <optional>
#include <utility>

namespace seqjit {

namespace {

/// Closes an HDF5 identifier with the matching close function when it goes out of scope.
class Handle {
public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  Handle(Handle &&other) noexcept : id_(std::exchange(other.id_, hid_t{-1})), close_(other.close_) {}
  Handle &operator=(Handle &&other) noexcept {
    std::swap(id_, other.id_);
    std::swap(close_, other.close_);
    return *this;
  }
  ~Handle() {
    if (id_ >= 0)
      close_(id_);
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

/// HDF5 prints its error stack to stderr by default; our errors already say what went wrong.
void silenceHdf5Errors() {
  static bool silenced = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)silenced;
}

Handle openFile(const std::string &path) {
  silenceHdf5Errors();
  std::error_code ignored;
  if (!std::filesystem::exists(path, ignored))
    throw Error(fmt::format("cannot open HDF5 file '{}': no such file", path));
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw Error(fmt::format("'{}' is not an HDF5 file (or is truncated)", path));
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid())
    throw Error(fmt::format("cannot open HDF5 file '{}' (corrupt or truncated?)", path));
  return file;
}

// A template because the link-info struct changed name between HDF5 1.10 and 1.12; deduction picks the right one.
template <typename LinkInfo> herr_t collectDataset(hid_t group, const char *name, const LinkInfo *info, void *names) {
  // Soft and external links may dangle; only hard links name objects stored in this file.
  if (info->type != H5L_TYPE_HARD)
    return 0;
  Handle object(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
  if (object.valid() && H5Iget_type(object.get()) == H5I_DATASET)
    static_cast<std::vector<std::string> *>(names)->push_back(name);
  return 0;
}

std::vector<std::string> datasetsOf(hid_t file, const std::string &path) {
  std::vector<std::string> names;
  if (H5Lvisit(file, H5_INDEX_NAME, H5_ITER_NATIVE, collectDataset, &names) < 0)
    throw Error(fmt::format("cannot list the datasets of HDF5 file '{}'", path));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string joinKeys(const std::vector<std::string> &keys) {
  std::string text;
  for (const std::string &key : keys)
    text += (text.empty() ? "" : ", ") + key;
  return text.empty() ? "(none)" : text;
}

} // namespace

std::vector<std::string> listHdf5Datasets(const std::string &path) {
  Handle file = openFile(path);
  return datasetsOf(file.get(), path);
}

namespace {

/// An open numeric dataset of a file, with its shape; the errors name the file and key.
struct NumericDataset {
  Handle file;
  Handle dataset;
  std::vector<int64_t> shape;
  std::string name; ///< its name in the file (the key without a leading '/')
};

NumericDataset openNumericDataset(const std::string &path, const std::string &key) {
  Handle file = openFile(path);
  std::vector<std::string> datasets = datasetsOf(file.get(), path);
  std::string normalized = key;
  while (!normalized.empty() && normalized.front() == '/')
    normalized.erase(normalized.begin());
  if (std::find(datasets.begin(), datasets.end(), normalized) == datasets.end())
    throw Error(fmt::format("HDF5 file '{}' has no dataset '{}'; it has: {}", path, key, joinKeys(datasets)));

  Handle dataset(H5Dopen2(file.get(), normalized.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.valid())
    throw Error(fmt::format("HDF5 file '{}': cannot open dataset '{}'", path, key));
  Handle type(H5Dget_type(dataset.get()), H5Tclose);
  H5T_class_t typeClass = H5Tget_class(type.get());
  if (typeClass != H5T_INTEGER && typeClass != H5T_FLOAT)
    throw Error(
        fmt::format("HDF5 file '{}': dataset '{}' is not numeric (expected an integer or float type)", path, key));
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0)
    throw Error(fmt::format("HDF5 file '{}': dataset '{}' has no simple dataspace", path, key));
  std::vector<hsize_t> dimensions(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dimensions.data(), nullptr);
  return {std::move(file), std::move(dataset), std::vector<int64_t>(dimensions.begin(), dimensions.end()), normalized};
}

void readInto(const NumericDataset &opened, hid_t memorySpace, hid_t fileSpace, HostArray<float> &array,
              const std::string &path, const std::string &key) {
  // Asking for native float makes HDF5 convert integer and double data on the way in.
  if (!array.data.empty() &&
      H5Dread(opened.dataset.get(), H5T_NATIVE_FLOAT, memorySpace, fileSpace, H5P_DEFAULT, array.data.data()) < 0)
    throw Error(fmt::format("HDF5 file '{}': reading dataset '{}' failed (corrupt or truncated file?)", path, key));
}

hid_t storageType(Hdf5Storage storage) {
  switch (storage) {
  case Hdf5Storage::Float32:
    return H5T_IEEE_F32LE;
  case Hdf5Storage::Int8:
    return H5T_STD_I8LE;
  case Hdf5Storage::Int32:
    return H5T_STD_I32LE;
  }
  return H5T_IEEE_F32LE;
}

/// Link creation properties that make the groups of a name like "group/inner" on the way.
Handle intermediateGroups() {
  Handle properties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(properties.get(), 1);
  return properties;
}

/// Dataset creation properties without object timestamps, so that the same arrays always give the same bytes.
Handle untimedDatasetProperties() {
  Handle properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(properties.get(), false);
  return properties;
}

void writeNumeric(hid_t file, const Hdf5Array &entry, const std::string &path) {
  std::vector<hsize_t> dimensions(entry.values.shape.begin(), entry.values.shape.end());
  Handle space(H5Screate_simple(static_cast<int>(dimensions.size()), dimensions.data(), nullptr), H5Sclose);
  Handle dataset(H5Dcreate2(file, entry.name.c_str(), storageType(entry.storage), space.get(),
                            intermediateGroups().get(), untimedDatasetProperties().get(), H5P_DEFAULT),
                 H5Dclose);
  if (!space.valid() || !dataset.valid() ||
      (!entry.values.data.empty() &&
       H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, entry.values.data.data()) < 0))
    throw Error(fmt::format("cannot write dataset '{}' to HDF5 file '{}'", entry.name, path));
}

void writeStrings(hid_t file, const Hdf5StringList &entry, const std::string &path) {
  std::vector<const char *> pointers;
  for (const std::string &value : entry.values)
    pointers.push_back(value.c_str());
  hsize_t count = pointers.size();
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  Handle dataset(H5Dcreate2(file, entry.name.c_str(), type.get(), space.get(), intermediateGroups().get(),
                            untimedDatasetProperties().get(), H5P_DEFAULT),
                 H5Dclose);
  if (!dataset.valid() ||
      (count > 0 && H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0))
    throw Error(fmt::format("cannot write dataset '{}' to HDF5 file '{}'", entry.name, path));
}

} // namespace

HostArray<float> readHdf5Dataset(const std::string &path, const std::string &key) {
  NumericDataset opened = openNumericDataset(path, key);
  HostArray<float> array(opened.shape);
  readInto(opened, H5S_ALL, H5S_ALL, array, path, key);
  return array;
}

std::vector<int64_t> hdf5DatasetShape(const std::string &path, const std::string &key) {
  return openNumericDataset(path, key).shape;
}

struct Hdf5Rows::Open {
  std::string path, key;
  NumericDataset opened;
  std::mutex mutex;
  bool fitsInMemory = false;
  std::optional<HostArray<float>> whole; ///< where it fits: all of it, read at the first read
};

namespace {

/// Reopens a chunked dataset with a chunk cache that holds it whole, up to `memoryBytes`.
void cacheChunks(NumericDataset &opened, const std::string &path, const std::string &key, size_t memoryBytes) {
  Handle creation(H5Dget_create_plist(opened.dataset.get()), H5Pclose);
  if (!creation.valid() || H5Pget_layout(creation.get()) != H5D_CHUNKED)
    return;
  const int rank = static_cast<int>(opened.shape.size());
  std::vector<hsize_t> chunk(static_cast<size_t>(rank));
  if (H5Pget_chunk(creation.get(), rank, chunk.data()) != rank)
    return;
  Handle type(H5Dget_type(opened.dataset.get()), H5Tclose);
  // The chunks cover the dataset, its edges rounded up to whole chunks.
  double elements = 1, chunkElements = 1;
  for (int d = 0; d < rank; ++d) {
    const double size = static_cast<double>(opened.shape[static_cast<size_t>(d)]),
                 along = static_cast<double>(std::max<hsize_t>(1, chunk[static_cast<size_t>(d)]));
    elements *= std::ceil(size / along) * along;
    chunkElements *= along;
  }
  const double elementBytes = static_cast<double>(H5Tget_size(type.get()));
  const size_t bytes = static_cast<size_t>(std::min(elements * elementBytes, double(memoryBytes)));
  const size_t chunks = static_cast<size_t>(std::ceil(bytes / std::max(1.0, chunkElements * elementBytes)));
  Handle access(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
  // HDF5 asks for about a hundred hash slots per cached chunk, an odd number.
  H5Pset_chunk_cache(access.get(), std::max<size_t>(521, chunks * 100) | 1, bytes, H5D_CHUNK_CACHE_W0_DEFAULT);
  // An open dataset keeps the cache it was first opened with: close it, then open it again with this one.
  opened.dataset = Handle(-1, H5Dclose);
  opened.dataset = Handle(H5Dopen2(opened.file.get(), opened.name.c_str(), access.get()), H5Dclose);
  if (!opened.dataset.valid())
    throw Error(fmt::format("HDF5 file '{}': cannot open dataset '{}'", path, key));
}

} // namespace

Hdf5Rows::Hdf5Rows(const std::string &path, const std::string &key, size_t memoryBytes)
    : open_(new Open{path, key, openNumericDataset(path, key), {}, false, {}}) {
  if (open_->opened.shape.empty())
    throw Error(fmt::format("HDF5 file '{}': dataset '{}' is a scalar; it has no rows to read", path, key));
  double bytes = sizeof(float);
  for (int64_t size : open_->opened.shape)
    bytes *= static_cast<double>(size);
  open_->fitsInMemory = memoryBytes > 0 && bytes <= double(memoryBytes);
  if (!open_->fitsInMemory && memoryBytes > 0)
    cacheChunks(open_->opened, path, key, memoryBytes);
}

Hdf5Rows::~Hdf5Rows() = default;

const std::vector<int64_t> &Hdf5Rows::shape() const { return open_->opened.shape; }

std::string Hdf5Rows::describe() const { return fmt::format("'{}', dataset '{}'", open_->path, open_->key); }

HostArray<float> Hdf5Rows::read(std::span<const int64_t> rows) const {
  const std::string &path = open_->path, &key = open_->key;
  const NumericDataset &opened = open_->opened;
  std::lock_guard<std::mutex> lock(open_->mutex);
  std::vector<int64_t> shape = opened.shape;
  int64_t count = shape[0];
  shape[0] = static_cast<int64_t>(rows.size());
  HostArray<float> array(shape);
  if (rows.empty())
    return array;
  const int64_t rowSize = array.size() / static_cast<int64_t>(rows.size());
  auto checkRow = [&](int64_t row) {
    if (row < 0 || row >= count)
      throw Error(fmt::format("HDF5 file '{}': row {} of dataset '{}' is out of range (it has {} rows)", path, row, key,
                              count));
  };
  if (open_->fitsInMemory) {
    if (!open_->whole) {
      HostArray<float> whole(opened.shape);
      readInto(opened, H5S_ALL, H5S_ALL, whole, path, key);
      open_->whole = std::move(whole);
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      checkRow(rows[i]);
      std::copy_n(open_->whole->data.begin() + rows[i] * rowSize, rowSize,
                  array.data.begin() + static_cast<int64_t>(i) * rowSize);
    }
    return array;
  }
  // One read of a union of row hyperslabs: HDF5 returns the selected rows in file order, so read the rows sorted
  // and put each where the caller asked for it.
  std::vector<int64_t> order(rows.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return rows[a] < rows[b]; });
  Handle fileSpace(H5Dget_space(opened.dataset.get()), H5Sclose);
  H5Sselect_none(fileSpace.get());
  std::vector<hsize_t> start(opened.shape.size(), 0), extent(opened.shape.begin(), opened.shape.end());
  std::vector<int64_t> distinct;
  for (int64_t index : order) {
    int64_t row = rows[index];
    checkRow(row);
    if (!distinct.empty() && distinct.back() == row)
      continue;
    distinct.push_back(row);
    start[0] = static_cast<hsize_t>(row);
    extent[0] = 1;
    H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_OR, start.data(), nullptr, extent.data(), nullptr);
  }
  std::vector<int64_t> distinctShape = shape;
  distinctShape[0] = static_cast<int64_t>(distinct.size());
  HostArray<float> sorted(distinctShape);
  std::vector<hsize_t> memoryDimensions(distinctShape.begin(), distinctShape.end());
  Handle memorySpace(H5Screate_simple(static_cast<int>(memoryDimensions.size()), memoryDimensions.data(), nullptr),
                     H5Sclose);
  readInto(opened, memorySpace.get(), fileSpace.get(), sorted, path, key);
  for (size_t i = 0, d = 0; i < order.size(); ++i) {
    int64_t row = rows[order[i]];
    while (distinct[d] != row)
      ++d;
    std::copy_n(sorted.data.begin() + static_cast<int64_t>(d) * rowSize, rowSize,
                array.data.begin() + order[i] * rowSize);
  }
  return array;
}

HostArray<float> readHdf5Rows(const std::string &path, const std::string &key, std::span<const int64_t> rows) {
  return Hdf5Rows(path, key, 0).read(rows);
}

std::vector<std::string> readHdf5Strings(const std::string &path, const std::string &key) {
  Handle file = openFile(path);
  Handle dataset(H5Dopen2(file.get(), key.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.valid())
    throw Error(fmt::format("HDF5 file '{}' has no dataset '{}'; it has: {}", path, key,
                            joinKeys(datasetsOf(file.get(), path))));
  Handle fileType(H5Dget_type(dataset.get()), H5Tclose);
  if (H5Tget_class(fileType.get()) != H5T_STRING)
    throw Error(fmt::format("HDF5 file '{}': dataset '{}' does not hold strings", path, key));
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  hssize_t count = H5Sget_simple_extent_npoints(space.get());
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  // HDF5 does not convert between ASCII and UTF-8: read in the file's character set.
  H5Tset_cset(type.get(), H5Tget_cset(fileType.get()));
  std::vector<char *> pointers(static_cast<size_t>(std::max<hssize_t>(count, 0)), nullptr);
  if (count > 0 && H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0)
    throw Error(
        fmt::format("HDF5 file '{}': reading strings '{}' failed (is it a variable-length string list?)", path, key));
  std::vector<std::string> values;
  for (char *pointer : pointers)
    values.emplace_back(pointer ? pointer : "");
  if (count > 0)
    H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, pointers.data());
  return values;
}

void writeHdf5File(const std::string &path, const std::vector<Hdf5Array> &arrays,
                   const std::vector<Hdf5StringList> &strings) {
  silenceHdf5Errors();
  // Written beside the target and renamed over it, so that a reader never sees half a file.
  std::string temporary = path + ".partial";
  {
    Handle file(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!file.valid())
      throw Error(fmt::format("cannot create HDF5 file '{}'", path));
    try {
      for (const Hdf5Array &entry : arrays)
        writeNumeric(file.get(), entry, path);
      for (const Hdf5StringList &entry : strings)
        writeStrings(file.get(), entry, path);
      if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0)
        throw Error(fmt::format("cannot write HDF5 file '{}'", path));
    } catch (...) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      throw;
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::filesystem::remove(temporary, error);
    throw Error(fmt::format("cannot write HDF5 file '{}': {}", path, error.message()));
  }
}

} // namespace seqjit
