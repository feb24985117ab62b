// Model resolution: stdlib registry lookup, or compile-and-dlopen of a model file (cached by content hash).
#include "tools/ModelResolver.h"

#include "dsl/Error.h"
#include "runtime/core/CacheDirectory.h"
#include "stdlib/Models.h"

#include <fmt/format.h>

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#ifndef SEQJIT_SOURCE_DIR
#error "SEQJIT_SOURCE_DIR must name the directory holding dsl/ (set by CMake)"
#endif

namespace seqjit {
namespace fs = std::filesystem;

namespace {

bool isModelFile(const std::string &argument) {
  std::string extension = fs::path(argument).extension().string();
  return extension == ".cpp" || extension == ".cc" || extension == ".cxx";
}

std::string readText(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

fs::path cacheDirectory() { return cacheRoot() / "model-files"; }

std::string includeRoot() {
  if (const char *configured = std::getenv("SEQJIT_INCLUDE_DIR"))
    return configured;
  return SEQJIT_SOURCE_DIR;
}

/// Every DSL header, concatenated in name order: a model file compiled against other headers (another
/// OpSpec or Graph layout) must not be loaded from the cache, or the two sides would disagree on the ABI.
std::string dslHeadersText() {
  std::vector<fs::path> headers;
  std::error_code error;
  for (const auto &entry : fs::directory_iterator(fs::path(includeRoot()) / "dsl", error))
    if (entry.path().extension() == ".h")
      headers.push_back(entry.path());
  std::sort(headers.begin(), headers.end());
  std::string text;
  for (const fs::path &header : headers)
    text += header.filename().string() + "\n" + readText(header);
  return text;
}

/// Compiles `source` into a shared object unless an identical build is cached; returns its path.
fs::path compileModelFile(const fs::path &source) {
  std::string compiler = std::getenv("CXX") ? std::getenv("CXX") : "c++";
  std::string flags = fmt::format("-std=c++20 -O1 -shared -fPIC -I{}", includeRoot());
  std::string key =
      fmt::format("{:016x}", std::hash<std::string>{}(readText(source) + compiler + flags + dslHeadersText()));
  fs::path directory = cacheDirectory();
  std::error_code error;
  fs::create_directories(directory, error);
  if (error)
    throw Error(fmt::format("model file {}: cannot create the cache directory {} ({}); set SEQJIT_CACHE_DIR to a "
                            "writable directory",
                            source.string(), directory.string(), error.message()));
  fs::path library = directory / (source.stem().string() + "-" + key + ".so");
  if (fs::exists(library))
    return library;
  // Per-process names: parallel runs (a job array) may compile the same file at once.
  std::string unique = fmt::format("{}.{}", key, getpid());
  fs::path log = directory / (unique + ".log");
  fs::path partial = directory / (unique + ".so.partial");
  std::string command = fmt::format("{} {} '{}' -o '{}'", compiler, flags, source.string(), partial.string());
  fmt::print(stderr, "seqjit: compiling model file {} ...\n", source.string());
  int status = std::system(fmt::format("{} > '{}' 2>&1", command, log.string()).c_str());
  std::string messages = readText(log);
  fs::remove(log, error);
  if (status != 0) {
    fs::remove(partial, error);
    throw Error(
        fmt::format("model file {} does not compile; the compiler ({}) says:\n{}", source.string(), command, messages));
  }
  fs::rename(partial, library, error); // Atomic: a concurrent run never loads a half-written object.
  if (error)
    throw Error(fmt::format("model file {}: cannot store the compiled model in {} ({})", source.string(),
                            library.string(), error.message()));
  return library;
}

} // namespace

ResolvedModel resolveModel(const std::string &nameOrFile, const ModelFileOptions &options) {
  if (!isModelFile(nameOrFile)) {
    ModelOptions zooOptions;
    zooOptions.activation = options.activation;
    zooOptions.length = options.length;
    zooOptions.outputs = options.outputs;
    return {buildZooModel(nameOrFile, zooOptions), "stdlib", nullptr};
  }
  fs::path source(nameOrFile);
  if (!fs::is_regular_file(source))
    throw Error(fmt::format("model file {} does not exist", nameOrFile));
  fs::path library = compileModelFile(fs::absolute(source));
  void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw Error(fmt::format("model file {}: cannot load {}: {}", nameOrFile, library.string(), dlerror()));
  std::shared_ptr<void> owner(handle, [](void *h) { dlclose(h); });
  using Entry = Model *(*)(const ModelFileOptions *);
  auto entry = reinterpret_cast<Entry>(dlsym(handle, kModelFileEntrySymbol));
  if (!entry)
    throw Error(fmt::format("model file {} defines no model: use SEQJIT_MODEL_FILE(options) {{ ... }} from "
                            "dsl/ModelFile.h",
                            nameOrFile));
  // seqjit::Error from the DSL (a shape error naming the layer and line) passes through as it is; anything else
  // the file throws (std::vector::at, a failed allocation) would otherwise end the process by std::terminate.
  std::unique_ptr<Model> model;
  try {
    model.reset(entry(&options));
  } catch (const Error &) {
    throw;
  } catch (const std::exception &e) {
    throw Error(fmt::format("model file {} threw while building its model: {}", nameOrFile, e.what()));
  } catch (...) {
    throw Error(fmt::format("model file {} threw a non-standard exception while building its model", nameOrFile));
  }
  if (!model)
    throw Error(fmt::format("model file {} returned no model", nameOrFile));
  try {
    model->graph(); // Throws now, naming the model, if the file forgot setOutput().
  } catch (const Error &e) {
    throw Error(fmt::format("model file {}: {}", nameOrFile, e.what()));
  }
  return {std::move(model), source.string(), owner};
}

ModelFileOptions modelOptionsFor(const Dataset &data, const std::string &activation, int64_t outputs) {
  int64_t tasks = 1;
  for (int64_t extent : data.labelShape())
    tasks *= extent;
  return ModelFileOptions{activation, data.inputShape().at(1), outputs > 0 ? outputs : tasks};
}

} // namespace seqjit
