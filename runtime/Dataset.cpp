// In-memory and HDF5-backed datasets: shape checks at opening, batches gathered by index.
#include "runtime/Dataset.h"

#include "dsl/Error.h"
#include "runtime/Hdf5.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace seqjit {

namespace {

std::vector<int64_t> exampleShape(const std::vector<int64_t> &shape) {
  return std::vector<int64_t>(shape.begin() + 1, shape.end());
}

void checkExampleShapes(const std::vector<int64_t> &input, const std::vector<int64_t> &labels,
                        const std::string &inputName, const std::string &labelName, const std::string &source) {
  if (input.size() != 3 || input[1] != 4)
    throw Error(fmt::format("{}: {} has shape ({}), expected (N, 4, L): one-hot sequences with rows A, C, G, T", source,
                            inputName, fmt::join(input, ", ")));
  if (labels.empty())
    throw Error(fmt::format("{}: {} is a scalar, expected (N, tasks...)", source, labelName));
  if (labels[0] != input[0])
    throw Error(fmt::format("{}: {} has {} examples but {} has {}", source, inputName, input[0], labelName, labels[0]));
}

/// Rows `indices` of `array` (row = everything after the first axis).
HostArray<float> gatherRows(const HostArray<float> &array, std::span<const int64_t> indices,
                            const std::string &source) {
  std::vector<int64_t> shape = array.shape;
  int64_t count = shape[0];
  int64_t rowSize = count == 0 ? 0 : array.size() / count;
  shape[0] = static_cast<int64_t>(indices.size());
  HostArray<float> rows(shape);
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] < 0 || indices[i] >= count)
      throw Error(fmt::format("{}: example {} is out of range (it has {})", source, indices[i], count));
    std::copy_n(array.data.begin() + indices[i] * rowSize, rowSize,
                rows.data.begin() + static_cast<int64_t>(i) * rowSize);
  }
  return rows;
}

} // namespace

ArrayDataset::ArrayDataset(HostArray<float> input, HostArray<float> labels, std::string description)
    : input_(std::move(input)), labels_(std::move(labels)), description_(std::move(description)) {
  checkExampleShapes(input_.shape, labels_.shape, "the input", "the labels", description_);
}

int64_t ArrayDataset::size() const { return input_.shape[0]; }
std::vector<int64_t> ArrayDataset::inputShape() const { return exampleShape(input_.shape); }
std::vector<int64_t> ArrayDataset::labelShape() const { return exampleShape(labels_.shape); }
std::string ArrayDataset::describe() const { return description_; }

Examples ArrayDataset::read(std::span<const int64_t> indices) const {
  return {gatherRows(input_, indices, description_), gatherRows(labels_, indices, description_)};
}

Hdf5SplitDataset::Hdf5SplitDataset(std::string path, std::string inputKey, std::string labelKey)
    : path_(std::move(path)), inputKey_(std::move(inputKey)), labelKey_(std::move(labelKey)) {
  std::vector<int64_t> input = hdf5DatasetShape(path_, inputKey_);
  std::vector<int64_t> labels = hdf5DatasetShape(path_, labelKey_);
  checkExampleShapes(input, labels, fmt::format("'{}'", inputKey_), fmt::format("'{}'", labelKey_),
                     fmt::format("HDF5 file '{}'", path_));
  size_ = input[0];
  inputShape_ = exampleShape(input);
  labelShape_ = exampleShape(labels);
  inputRows_ = std::make_shared<const Hdf5Rows>(path_, inputKey_);
  labelRows_ = std::make_shared<const Hdf5Rows>(path_, labelKey_);
}

int64_t Hdf5SplitDataset::size() const { return size_; }
std::vector<int64_t> Hdf5SplitDataset::inputShape() const { return inputShape_; }
std::vector<int64_t> Hdf5SplitDataset::labelShape() const { return labelShape_; }
std::string Hdf5SplitDataset::describe() const { return fmt::format("'{}' ({}, {})", path_, inputKey_, labelKey_); }

Examples Hdf5SplitDataset::read(std::span<const int64_t> indices) const {
  return {inputRows_->read(indices), labelRows_->read(indices)};
}

UnlabelledDataset::UnlabelledDataset(std::unique_ptr<ArrayRows> input) : input_(std::move(input)) {
  checkExampleShapes(input_->shape(), {input_->shape().at(0), 0}, "the input", "the labels", input_->describe());
}

int64_t UnlabelledDataset::size() const { return input_->shape()[0]; }
std::vector<int64_t> UnlabelledDataset::inputShape() const { return exampleShape(input_->shape()); }
std::vector<int64_t> UnlabelledDataset::labelShape() const { return {0}; }
std::string UnlabelledDataset::describe() const { return input_->describe(); }

Examples UnlabelledDataset::read(std::span<const int64_t> indices) const {
  return {input_->read(indices), HostArray<float>({static_cast<int64_t>(indices.size()), 0})};
}

Examples readAll(const Dataset &dataset) {
  std::vector<int64_t> indices(static_cast<size_t>(dataset.size()));
  for (size_t i = 0; i < indices.size(); ++i)
    indices[i] = static_cast<int64_t>(i);
  return dataset.read(indices);
}

} // namespace seqjit
