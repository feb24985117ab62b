// A value built on first use, once, whichever thread asks first: programs an object may never need (an Attributor
// compiles only what its methods use).
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <utility>

namespace seqjit {

template <typename T> class Lazy {
public:
  explicit Lazy(std::function<T()> build) : build_(std::move(build)) {}

  /// The value, built by the first call; a build that throws is retried by the next call.
  const T &get() const {
    std::call_once(once_, [&] { value_.emplace(build_()); });
    return *value_;
  }

private:
  std::function<T()> build_;
  mutable std::once_flag once_;
  mutable std::optional<T> value_;
};

} // namespace seqjit
