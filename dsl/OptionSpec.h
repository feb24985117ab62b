// The "key=value,flag,..." specs of options (an optimizer's, a prior's, the augmentations), parsed one way; the
// caller names where a spec comes from (a command-line option, a file) for the messages.
#pragma once

#include "dsl/Error.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

namespace seqjit {

/// `text` as a Number, or seqjit::Error "<option>: '<key>' needs a number, got '<text>'".
template <typename Number> Number parseNumber(std::string_view option, std::string_view key, std::string_view text) {
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size())
    throw Error(fmt::format("{}: '{}' needs a number, got '{}'", option, key, text));
  return value;
}

/// Calls handle(key, value) for every item of a comma-separated spec: "key=value", or a bare flag "key" with an
/// empty value. `handle` returns false for a key it does not know; the error then lists `knownKeys`.
template <typename Handler>
void forEachOptionItem(std::string_view option, std::string_view spec, std::string_view knownKeys, Handler handle) {
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (item.empty())
      continue;
    size_t equals = item.find('=');
    std::string_view key = item.substr(0, equals);
    std::string_view value = equals == std::string_view::npos ? std::string_view() : item.substr(equals + 1);
    if (!handle(key, value))
      throw Error(fmt::format("{}: unknown key '{}'; expected {}", option, key, knownKeys));
  }
}

} // namespace seqjit
