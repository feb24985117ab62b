// Where seqjit keeps what it builds once and reuses: compiled programs and compiled model files.
#pragma once

#include <filesystem>

namespace seqjit {

/// $SEQJIT_CACHE_DIR, else $XDG_CACHE_HOME/seqjit, else ~/.cache/seqjit, else seqjit-cache in the temporary directory.
std::filesystem::path cacheRoot();

} // namespace seqjit
