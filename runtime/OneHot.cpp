// One-hot validation and the single entry point for reading sequence input files.
#include "runtime/OneHot.h"

#include "dsl/Error.h"
#include "dsl/ShapeFunctions.h"
#include "runtime/ArrayRows.h"
#include "runtime/FileExtension.h"
#include "runtime/Hdf5.h"
#include "runtime/Npy.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace seqjit {

void validateOneHot(const HostArray<float> &x, const std::string &source, std::span<const int64_t> rows) {
  if (x.rank() != 3 || x.shape[1] != 4)
    throw Error(fmt::format("{}: sequence input has shape {}; expected (N, 4, L) one-hot DNA (rows A C G T)", source,
                            shapeToString(x.shape)));
  if (x.size() != HostArray<float>::elementCount(x.shape))
    throw Error(
        fmt::format("{}: shape {} does not match the {} stored values", source, shapeToString(x.shape), x.size()));
  const int64_t examples = x.shape[0];
  const int64_t length = x.shape[2];
  for (int64_t example = 0; example < examples; ++example) {
    const float *base = x.data.data() + example * 4 * length;
    for (int64_t position = 0; position < length; ++position) {
      float column[4];
      int ones = 0;
      int zeros = 0;
      for (int channel = 0; channel < 4; ++channel) {
        column[channel] = base[channel * length + position];
        ones += column[channel] == 1.0f;
        zeros += column[channel] == 0.0f;
      }
      bool oneHot = ones == 1 && zeros == 3;
      bool unknownBase = zeros == 4;
      if (!oneHot && !unknownBase)
        throw Error(fmt::format("{}: example {}, position {}: column (A, C, G, T) = ({}, {}, {}, {}) is not "
                                "one-hot; expected exactly one 1 and three 0s, or all 0s for N",
                                source, rows.empty() ? example : rows[example], position, column[0], column[1],
                                column[2], column[3]));
    }
  }
}

namespace {

/// Sequence rows checked as they are read.
class OneHotRows : public ArrayRows {
public:
  explicit OneHotRows(std::unique_ptr<ArrayRows> rows) : rows_(std::move(rows)) {
    const std::vector<int64_t> &shape = rows_->shape();
    if (shape.size() != 3 || shape[1] != 4)
      throw Error(fmt::format("{}: sequence input has shape {}; expected (N, 4, L) one-hot DNA (rows A C G T)",
                              rows_->describe(), shapeToString(shape)));
  }
  const std::vector<int64_t> &shape() const override { return rows_->shape(); }
  HostArray<float> read(std::span<const int64_t> rows) const override {
    HostArray<float> x = rows_->read(rows);
    validateOneHot(x, rows_->describe(), rows);
    return x;
  }
  std::string describe() const override { return rows_->describe(); }

private:
  std::unique_ptr<ArrayRows> rows_;
};

} // namespace

HostArray<float> loadSequenceInput(const std::string &path, const std::string &hdf5Key) {
  std::string extension = lowercaseExtension(path);
  HostArray<float> x;
  std::string source;
  if (extension == ".npy") {
    x = readNpy<float>(path);
    source = fmt::format("'{}'", path);
  } else if (extension == ".h5" || extension == ".hdf5") {
    std::string key = hdf5Key.empty() ? "X_test" : hdf5Key;
    x = readHdf5Dataset(path, key);
    source = fmt::format("'{}', dataset '{}'", path, key);
  } else {
    throw Error(fmt::format("cannot read sequences from '{}': unknown extension '{}' (expected .npy, .h5 or .hdf5)",
                            path, extension));
  }
  validateOneHot(x, source);
  return x;
}

std::unique_ptr<ArrayRows> openSequenceRows(const std::string &path, const std::string &hdf5Key,
                                            const std::string &option) {
  return std::make_unique<OneHotRows>(openArrayRows(path, hdf5Key.empty() ? "X_test" : hdf5Key, option));
}

HostArray<float> randomOneHot(int64_t count, int64_t length, uint64_t seed) {
  HostArray<float> x({count, 4, length});
  Random random(seed, /*stream=*/0x1e4); // A stream of its own, apart from the parameters'.
  for (int64_t n = 0; n < count; ++n)
    for (int64_t position = 0; position < length; ++position)
      x.data[(n * 4 + random.uniformInt(4)) * length + position] = 1.0f;
  return x;
}

} // namespace seqjit
