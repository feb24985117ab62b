// HDF5 dataset listing and reading with RAII handles and HDF5's own error printing silenced.
#include "runtime/Hdf5.h"

#include "dsl/Error.h"

#include <fmt/format.h>
#include <hdf5.h>

#include <algorithm>
#include <filesystem>
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
template <typename LinkInfo>
herr_t collectDataset(hid_t group, const char *name, const LinkInfo *info, void *names) {
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

HostArray<float> readHdf5Dataset(const std::string &path, const std::string &key) {
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
    throw Error(fmt::format("HDF5 file '{}': dataset '{}' is not numeric (expected an integer or float type)",
                            path, key));
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0)
    throw Error(fmt::format("HDF5 file '{}': dataset '{}' has no simple dataspace", path, key));
  std::vector<hsize_t> dimensions(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dimensions.data(), nullptr);

  HostArray<float> array;
  array.shape.assign(dimensions.begin(), dimensions.end());
  array.data.resize(HostArray<float>::elementCount(array.shape));
  // Asking for native float makes HDF5 convert integer and double data on the way in.
  if (!array.data.empty() &&
      H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.data.data()) < 0)
    throw Error(fmt::format("HDF5 file '{}': reading dataset '{}' failed (corrupt or truncated file?)", path, key));
  return array;
}

} // namespace seqjit
