// The entry point of a model file: a C++ file the seqjit CLI compiles and loads (seqjit forward --model FILE.cpp).
//
//   #include "dsl/ModelFile.h"
//   SEQJIT_MODEL_FILE(options) {
//     auto m = std::make_unique<seqjit::Model>("my_cnn");
//     auto x = m->input(options.length ? options.length : 200);
//     ...
//     m->setOutput(x);
//     return m;
//   }
#pragma once

#include "dsl/Model.h"

#include <cstdint>
#include <memory>
#include <string>

namespace seqjit {

/// What the command line passes to a model file; empty / zero means "the file's own default".
struct ModelFileOptions {
  std::string activation;
  int64_t length = 0;
  int64_t outputs = 0;
};

/// The C symbol the CLI looks up in a compiled model file.
inline constexpr const char *kModelFileEntrySymbol = "seqjit_model_file_build";

} // namespace seqjit

/// Defines the model file's builder; the body returns std::unique_ptr<seqjit::Model>.
#define SEQJIT_MODEL_FILE(options)                                                                               \
  static std::unique_ptr<seqjit::Model> seqjitBuildModelFile(const seqjit::ModelFileOptions &options);            \
  extern "C" seqjit::Model *seqjit_model_file_build(const seqjit::ModelFileOptions *options) {                    \
    return seqjitBuildModelFile(*options).release();                                                              \
  }                                                                                                               \
  static std::unique_ptr<seqjit::Model> seqjitBuildModelFile(const seqjit::ModelFileOptions &options)
