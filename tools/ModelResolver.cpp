// Model resolution: stdlib registry lookup, or compile-and-dlopen of a model file (cached by content hash).
#include "tools/ModelResolver.h"

#include "dsl/Error.h"
#include "stdlib/Models.h"

#include <fmt/format.h>

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

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

fs::path cacheDirectory() {
  if (const char *configured = std::getenv("SEQJIT_CACHE_DIR"))
    return fs::path(configured) / "model-files";
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"))
    return fs::path(xdg) / "seqjit" / "model-files";
  if (const char *home = std::getenv("HOME"))
    return fs::path(home) / ".cache" / "seqjit" / "model-files";
  return fs::temp_directory_path() / "seqjit-model-files";
}

std::string includeRoot() {
  if (const char *configured = std::getenv("SEQJIT_INCLUDE_DIR"))
    return configured;
  return SEQJIT_SOURCE_DIR;
}

/// Compiles `source` into a shared object unless an identical build is cached; returns its path.
fs::path compileModelFile(const fs::path &source) {
  std::string compiler = std::getenv("CXX") ? std::getenv("CXX") : "c++";
  std::string flags = fmt::format("-std=c++20 -O1 -shared -fPIC -I{}", includeRoot());
  std::string key = fmt::format("{:016x}", std::hash<std::string>{}(readText(source) + compiler + flags +
                                                                     readText(fs::path(includeRoot()) / "dsl" /
                                                                              "Model.h")));
  fs::path directory = cacheDirectory();
  fs::create_directories(directory);
  fs::path library = directory / (source.stem().string() + "-" + key + ".so");
  if (fs::exists(library))
    return library;
  fs::path log = directory / (key + ".log");
  fs::path partial = directory / (key + ".so.partial");
  std::string command = fmt::format("{} {} '{}' -o '{}' > '{}' 2>&1", compiler, flags, source.string(),
                                    partial.string(), log.string());
  fmt::print(stderr, "seqjit: compiling model file {} ...\n", source.string());
  int status = std::system(command.c_str());
  std::string messages = readText(log);
  fs::remove(log);
  if (status != 0)
    throw Error(fmt::format("model file {} does not compile ({}):\n{}", source.string(), command, messages));
  fs::rename(partial, library); // Atomic: a concurrent run never loads a half-written object.
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
  std::unique_ptr<Model> model(entry(&options));
  if (!model)
    throw Error(fmt::format("model file {} returned no model", nameOrFile));
  model->graph(); // Throws now, naming the model, if the file forgot setOutput().
  return {std::move(model), source.string(), owner};
}

} // namespace seqjit
