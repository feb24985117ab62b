// The one exception type every user-facing mistake becomes: it names the layer, file or line at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace seqjit {

/// A user error (bad shape, attribute, file or sequence). Internal invariants assert instead.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

} // namespace seqjit
