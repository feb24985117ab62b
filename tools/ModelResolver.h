// Turns a --model argument into a Model: a stdlib name, or a C++ model file compiled and loaded on the fly.
#pragma once

#include "dsl/ModelFile.h"
#include "runtime/Dataset.h"

#include <memory>
#include <string>

namespace seqjit {

struct ResolvedModel {
  std::unique_ptr<Model> model;
  std::string origin;            ///< "stdlib" or the compiled file's path.
  std::shared_ptr<void> library; ///< Keeps a model file's shared object loaded while the model lives.
};

/// A name from modelZoo(), or a path ending in .cpp/.cc/.cxx that uses SEQJIT_MODEL_FILE. Model files are
/// compiled with the system C++ compiler against seqjit's headers and cached by content hash.
/// Throws seqjit::Error with the compiler's messages when the file does not compile.
ResolvedModel resolveModel(const std::string &nameOrFile, const ModelFileOptions &options);

/// The options that build a model for `data`: its sequence length, and `outputs` outputs, or if 0 one per task of
/// the data's labels.
ModelFileOptions modelOptionsFor(const Dataset &data, const std::string &activation, int64_t outputs = 0);

} // namespace seqjit
