#include "runtime/core/ProgramCache.h"

#include "dsl/Error.h"
#include "runtime/core/AtomicFile.h"
#include "runtime/core/CacheDirectory.h"
#include "runtime/core/Crc32.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace seqjit {

namespace fs = std::filesystem;

namespace {

constexpr const char *kManifestHeader = "seqjit compiled program 1";
constexpr uint64_t kDefaultMaxBytes = uint64_t{2} << 30;
/// A temporary file this old belongs to a writer that died.
constexpr auto kAbandoned = std::chrono::hours(1);

struct Manifest {
  std::string target;
  uint64_t bytes = 0;
  uint32_t crc32 = 0;
};

std::string manifestText(const Manifest &m) {
  return fmt::format("{}\ntarget: {}\nbytes: {}\ncrc32: {:08x}\n", kManifestHeader, m.target, m.bytes, m.crc32);
}

std::optional<Manifest> parseManifest(const std::string &text) {
  std::istringstream in(text);
  std::string header, target, bytes, crc;
  if (!std::getline(in, header) || header != kManifestHeader || !std::getline(in, target) || !std::getline(in, bytes) ||
      !std::getline(in, crc) || target.rfind("target: ", 0) != 0 || bytes.rfind("bytes: ", 0) != 0 ||
      crc.rfind("crc32: ", 0) != 0)
    return std::nullopt;
  Manifest m;
  m.target = target.substr(8);
  char *end = nullptr;
  m.bytes = std::strtoull(bytes.c_str() + 7, &end, 10);
  if (*end != '\0')
    return std::nullopt;
  m.crc32 = static_cast<uint32_t>(std::strtoul(crc.c_str() + 7, &end, 16));
  if (*end != '\0' || crc.size() != 15)
    return std::nullopt;
  return m;
}

std::optional<std::string> readWhole(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A writer's temporary file (writeFileAtomically names it `<target>.tmp.<pid>.<n>`).
bool isTemporary(const fs::path &path) { return path.filename().string().find(".tmp.") != std::string::npos; }

uint64_t parseByteCount(const std::string &text) {
  char *end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  std::string suffix = end;
  uint64_t scale = suffix.empty() ? 1 : suffix == "K" ? 1 << 10 : suffix == "M" ? 1 << 20 : suffix == "G" ? 1 << 30 : 0;
  if (end == text.c_str() || scale == 0 || text[0] == '-')
    throw Error(
        fmt::format("SEQJIT_CACHE_MAX_BYTES must be a size in bytes, optionally with K, M or G (2G), got '{}'", text));
  return value * scale;
}

} // namespace

ProgramCache::ProgramCache(fs::path directory, uint64_t maxBytes)
    : directory_(std::move(directory)), maxBytes_(maxBytes) {}

std::optional<ProgramCache> ProgramCache::fromEnvironment() {
  if (const char *mode = std::getenv("SEQJIT_CACHE"); mode && std::string(mode) == "off")
    return std::nullopt;
  const char *max = std::getenv("SEQJIT_CACHE_MAX_BYTES");
  return ProgramCache(cacheRoot() / "programs", max && *max ? parseByteCount(max) : kDefaultMaxBytes);
}

std::optional<fs::path> ProgramCache::find(const std::string &key, const std::string &target,
                                           std::string &rejected) const {
  rejected.clear();
  fs::path library = directory_ / (key + ".so");
  fs::path manifestPath = directory_ / (key + ".manifest");
  std::optional<std::string> manifestBytes = readWhole(manifestPath);
  if (!manifestBytes)
    return std::nullopt; // not cached (or a writer has not finished it yet)
  auto reject = [&](std::string why) -> std::optional<fs::path> {
    rejected = std::move(why);
    std::error_code ignored;
    fs::remove(manifestPath, ignored);
    fs::remove(library, ignored);
    return std::nullopt;
  };
  std::optional<Manifest> manifest = parseManifest(*manifestBytes);
  if (!manifest)
    return reject("its manifest is damaged");
  if (manifest->target != target)
    return reject(fmt::format("it was built for another target ({})", manifest->target));
  std::optional<std::string> read = readWhole(library);
  if (!read)
    return reject("its shared object is missing");
  const std::string &bytes = *read;
  if (bytes.size() != manifest->bytes)
    return reject(fmt::format("its shared object has {} bytes, the manifest says {}", bytes.size(), manifest->bytes));
  if (crc32Of(bytes) != manifest->crc32)
    return reject("its shared object's checksum differs from the manifest's");
  std::error_code ignored;
  fs::last_write_time(manifestPath, fs::file_time_type::clock::now(), ignored); // recently used
  return library;
}

fs::path ProgramCache::store(const std::string &key, const std::string &target, const std::string &library) const {
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error)
    throw Error(fmt::format("cannot create the compiled-program cache {} ({}); set SEQJIT_CACHE_DIR to a writable "
                            "directory, or SEQJIT_CACHE=off",
                            directory_.string(), error.message()));
  fs::path libraryPath = directory_ / (key + ".so");
  writeFileAtomically(libraryPath.string(), library);
  writeFileAtomically((directory_ / (key + ".manifest")).string(),
                      manifestText({target, library.size(), crc32Of(library)}));
  evict();
  return libraryPath;
}

void ProgramCache::evict() const {
  struct Entry {
    fs::file_time_type used;
    std::string key;
    uint64_t bytes = 0;
  };
  std::map<std::string, Entry> entries;
  uint64_t total = 0;
  std::error_code error;
  auto now = fs::file_time_type::clock::now();
  for (const auto &file : fs::directory_iterator(directory_, error)) {
    std::error_code fileError;
    uint64_t size = file.file_size(fileError);
    if (fileError)
      continue;
    const fs::path &path = file.path();
    if (isTemporary(path)) {
      if (now - file.last_write_time(fileError) > kAbandoned)
        fs::remove(path, fileError);
      continue;
    }
    if (path.extension() != ".so" && path.extension() != ".manifest")
      continue;
    total += size;
    Entry &entry = entries[path.stem().string()];
    entry.key = path.stem().string();
    entry.bytes += size;
    if (path.extension() == ".manifest")
      entry.used = file.last_write_time(fileError);
  }
  if (total <= maxBytes_)
    return;
  std::vector<Entry> byAge;
  for (auto &[key, entry] : entries)
    byAge.push_back(entry);
  // Entries without a manifest (being written, or orphaned) count as oldest; the newest entry stays.
  std::sort(byAge.begin(), byAge.end(), [](const Entry &a, const Entry &b) { return a.used < b.used; });
  for (size_t i = 0; i + 1 < byAge.size() && total > maxBytes_; ++i) {
    fs::remove(directory_ / (byAge[i].key + ".manifest"), error);
    fs::remove(directory_ / (byAge[i].key + ".so"), error);
    total -= byAge[i].bytes;
  }
}

ProgramCache::Usage ProgramCache::usage() const {
  Usage usage;
  std::error_code error;
  for (const auto &file : fs::directory_iterator(directory_, error)) {
    std::error_code fileError;
    uint64_t size = file.file_size(fileError);
    if (fileError)
      continue;
    usage.bytes += size;
    if (file.path().extension() == ".manifest")
      ++usage.entries;
  }
  return usage;
}

size_t ProgramCache::clear() const {
  size_t removed = 0;
  std::error_code error;
  std::vector<fs::path> files;
  for (const auto &file : fs::directory_iterator(directory_, error))
    files.push_back(file.path());
  for (const fs::path &file : files) {
    std::string extension = file.extension().string();
    if (extension != ".so" && extension != ".manifest" && !isTemporary(file))
      continue;
    if (fs::remove(file, error) && extension == ".manifest")
      ++removed;
  }
  return removed;
}

} // namespace seqjit
