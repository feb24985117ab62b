// Writing a file so that readers see either the old contents or the complete new ones, never a torn write.
#pragma once

#include <string>
#include <string_view>

namespace seqjit {

/// Writes `bytes` to a temporary file in the directory of `path`, flushes it to disk, then renames it over
/// `path` (rename is atomic within one file system). Throws seqjit::Error naming `path` on failure, leaving any
/// existing file untouched and no temporary behind.
void writeFileAtomically(const std::string &path, std::string_view bytes);

} // namespace seqjit
