// seqjit cache: what the persistent caches hold (compiled programs, compiled model files), and clearing them.
#include "runtime/core/CacheDirectory.h"
#include "runtime/core/ProgramCache.h"
#include "tools/Commands.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

namespace seqjit {

namespace {

namespace fs = std::filesystem;

std::string describeBytes(uint64_t bytes) {
  if (bytes < 1000 * 1000)
    return fmt::format("{:.1f} kB", bytes / 1e3);
  if (bytes < uint64_t{1000} * 1000 * 1000)
    return fmt::format("{:.1f} MB", bytes / 1e6);
  return fmt::format("{:.2f} GB", bytes / 1e9);
}

/// Files and bytes of the compiled model files.
std::pair<size_t, uint64_t> modelFileUsage(const fs::path &directory) {
  size_t files = 0;
  uint64_t bytes = 0;
  std::error_code error;
  for (const auto &file : fs::directory_iterator(directory, error))
    if (file.path().extension() == ".so") {
      ++files;
      std::error_code sizeError;
      bytes += file.file_size(sizeError);
    }
  return {files, bytes};
}

} // namespace

void addCacheCommand(CLI::App &app) {
  CLI::App *command = app.add_subcommand(
      "cache", "Show the compiled-program cache (SEQJIT_CACHE_DIR, SEQJIT_CACHE_MAX_BYTES, SEQJIT_CACHE=off), or "
               "clear it");
  auto clear = std::make_shared<bool>(false);
  command->add_flag("--clear", *clear, "remove every compiled program and compiled model file");
  command->callback([clear] {
    fs::path modelFiles = cacheRoot() / "model-files";
    std::optional<ProgramCache> cache = ProgramCache::fromEnvironment();
    if (!cache) {
      fmt::print("the compiled-program cache is off (SEQJIT_CACHE=off)\n");
      return;
    }
    if (*clear) {
      size_t programs = cache->clear();
      size_t models = 0;
      std::error_code error;
      for (const auto &file : fs::directory_iterator(modelFiles, error))
        if (file.path().extension() == ".so" && fs::remove(file.path(), error))
          ++models;
      fmt::print("removed {} compiled programs and {} compiled model files from {}\n", programs, models,
                 cacheRoot().string());
      return;
    }
    ProgramCache::Usage usage = cache->usage();
    auto [models, modelBytes] = modelFileUsage(modelFiles);
    fmt::print("compiled programs:    {} ({} entries, {} of at most {}; least recently used go first)\n",
               cache->directory().string(), usage.entries, describeBytes(usage.bytes),
               describeBytes(cache->maxBytes()));
    fmt::print("compiled model files: {} ({} files, {})\n", modelFiles.string(), models, describeBytes(modelBytes));
  });
}

} // namespace seqjit
