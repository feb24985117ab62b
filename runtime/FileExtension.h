// A file's extension as the readers and writers dispatch on it: any case.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>

namespace seqjit {

/// The extension of `path`, dot included, in lower case (".npy" for "X.NPY"; "" without one).
inline std::string lowercaseExtension(const std::string &path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

} // namespace seqjit
