#include "runtime/core/CacheDirectory.h"

#include <cstdlib>

namespace seqjit {

std::filesystem::path cacheRoot() {
  auto set = [](const char *name) -> const char * {
    const char *value = std::getenv(name);
    return value && *value ? value : nullptr;
  };
  if (const char *configured = set("SEQJIT_CACHE_DIR"))
    return configured;
  if (const char *xdg = set("XDG_CACHE_HOME"))
    return std::filesystem::path(xdg) / "seqjit";
  if (const char *home = set("HOME"))
    return std::filesystem::path(home) / ".cache" / "seqjit";
  return std::filesystem::temp_directory_path() / "seqjit-cache";
}

} // namespace seqjit
