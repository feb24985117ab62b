// The persistent compiled-program cache: shared objects keyed by a hash of everything that determines their code.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace seqjit {

/// One directory of entries `<key>.so` + `<key>.manifest` (format, target, size, CRC-32 of the shared object).
/// Entries are written to a temporary file and renamed into place, the shared object before its manifest, so that a
/// reader sees a whole entry or none, and several processes may store the same entry at once. Hits refresh an
/// entry's time; storing evicts the least recently used entries beyond the size bound.
class ProgramCache {
public:
  ProgramCache(std::filesystem::path directory, uint64_t maxBytes);

  /// The cache at cacheRoot()/programs bounded by SEQJIT_CACHE_MAX_BYTES (default 2 GiB), or none when SEQJIT_CACHE
  /// is "off". Throws seqjit::Error for a malformed SEQJIT_CACHE_MAX_BYTES.
  static std::optional<ProgramCache> fromEnvironment();

  /// The shared object of entry `key` if it is whole and was built for `target`. A truncated, corrupted or foreign
  /// entry is removed and none returned, with `rejected` saying what was wrong. (The directory is trusted as the
  /// user's own files are: an entry is checked when found, and loaded by its path.)
  std::optional<std::filesystem::path> find(const std::string &key, const std::string &target,
                                            std::string &rejected) const;

  /// Stores the shared object `library` under `key`, then keeps the cache within its bound. Returns the entry's
  /// path. Throws seqjit::Error if the directory cannot be written.
  std::filesystem::path store(const std::string &key, const std::string &target, const std::string &library) const;

  struct Usage {
    size_t entries = 0;
    uint64_t bytes = 0;
  };
  Usage usage() const;
  /// Removes every entry (programs already loaded keep running); returns how many.
  size_t clear() const;

  const std::filesystem::path &directory() const { return directory_; }
  uint64_t maxBytes() const { return maxBytes_; }

private:
  void evict() const;
  std::filesystem::path directory_;
  uint64_t maxBytes_;
};

} // namespace seqjit
