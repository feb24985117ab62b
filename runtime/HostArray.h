// A dense row-major array in host memory: the currency of the runtime, the interpreter and file I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <numeric>
#include <vector>

namespace seqjit {

template <typename T> struct HostArray {
  std::vector<int64_t> shape;
  std::vector<T> data;

  HostArray() = default;
  explicit HostArray(std::vector<int64_t> shape_, T fill = T(0))
      : shape(std::move(shape_)), data(elementCount(shape), fill) {}
  HostArray(std::vector<int64_t> shape_, std::vector<T> data_) : shape(std::move(shape_)), data(std::move(data_)) {}

  static int64_t elementCount(const std::vector<int64_t> &shape) {
    return std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
  }
  int64_t size() const { return static_cast<int64_t>(data.size()); }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }

  template <typename U> HostArray<U> cast() const {
    return HostArray<U>(shape, std::vector<U>(data.begin(), data.end()));
  }
};

} // namespace seqjit
