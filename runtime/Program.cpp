#include "runtime/Program.h"

#include "dsl/Error.h"
#include "runtime/ParallelChunks.h"
#include "runtime/core/NativeProgram.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace seqjit {
namespace {

void checkAgainst(const TensorSpec &spec, const std::vector<int64_t> &shape, const std::string &what,
                  const std::string &program) {
  if (shape != spec.shape)
    throw Error(fmt::format("{}: {} has shape ({}), the program takes ({})", program, what, fmt::join(shape, ", "),
                            fmt::join(spec.shape, ", ")));
}

void checkCount(size_t given, size_t expected, const char *what, const FunctionSignature &signature,
                const std::string &program) {
  if (given != expected)
    throw Error(fmt::format("{}: {} {} given to {}; it has {}", program, given, what, signature.describe(), expected));
}

/// `build`() loaded as a Program, counted in the compile tally once it is ready to call.
Program loadCounted(const std::function<Artifact()> &build) {
  auto start = std::chrono::steady_clock::now();
  Artifact artifact = build();
  Program program = Program::load(artifact);
  countCompile(artifact, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return program;
}

} // namespace

Program Program::compile(const ModuleBuilder &build, const std::string &name, bool float64,
                         const std::vector<std::string> &entryPoints, const ArtifactOptions &options) {
  return loadCounted([&] { return buildArtifact(build, name, float64, entryPoints, options); });
}

Program Program::compileGraph(const Graph &graph, const ImportOptions &importOptions, const ArtifactOptions &options) {
  return loadCounted([&] { return buildGraphArtifact(graph, importOptions, options); });
}

Program Program::load(const Artifact &artifact) {
  std::vector<std::string> entryPoints;
  for (const FunctionSignature &function : artifact.signature.functions)
    entryPoints.push_back(function.name);
  Program program;
  program.name_ = artifact.name;
  program.signature_ = artifact.signature;
  program.compileSeconds_ = artifact.loweringSeconds + artifact.codegenSeconds;
  size_t elementBytes = artifact.signature.elementBytes;
  program.native_ = artifact.file.empty()
                        ? NativeProgram::loadBytes(artifact.bytes, entryPoints, elementBytes, artifact.device)
                        : NativeProgram::load(artifact.file, entryPoints, elementBytes, artifact.device);
  return program;
}

Device Program::device() const { return native_->device(); }

void Program::call(const std::string &function, const std::vector<BufferView> &arguments,
                   const std::vector<BufferView> &results) const {
  const FunctionSignature &signature = signature_.function(function);
  checkCount(arguments.size(), signature.arguments.size(), "arguments", signature, name_);
  checkCount(results.size(), signature.results.size(), "results", signature, name_);
  for (size_t i = 0; i < arguments.size(); ++i)
    checkAgainst(signature.arguments[i], arguments[i].shape, "argument '" + signature.arguments[i].name + "'", name_);
  for (size_t i = 0; i < results.size(); ++i)
    checkAgainst(signature.results[i], results[i].shape, "result '" + signature.results[i].name + "'", name_);
  native_->call(function, arguments, results);
}

std::vector<HostArray<float>> Program::run(const std::string &function, const std::vector<NamedArray> &arguments,
                                           const std::function<void()> &interpret) const {
  if (signature_.elementBytes != sizeof(float))
    throw Error(fmt::format("{}: compiled for float64; run() takes float32 arrays", name_));
  const FunctionSignature &signature = signature_.function(function);
  checkCount(arguments.size(), signature.arguments.size(), "arguments", signature, name_);
  std::vector<BufferView> argumentViews, resultViews;
  for (size_t i = 0; i < arguments.size(); ++i) {
    checkAgainst(signature.arguments[i], arguments[i].array->shape, arguments[i].name, name_);
    argumentViews.push_back({const_cast<float *>(arguments[i].array->data.data()), arguments[i].array->shape});
  }
  std::vector<HostArray<float>> results;
  for (const TensorSpec &spec : signature.results)
    results.emplace_back(spec.shape);
  for (HostArray<float> &result : results)
    resultViews.push_back({result.data.data(), result.shape});
  native_->call(function, argumentViews, resultViews);
  if (!std::all_of(results.begin(), results.end(), allFinite))
    diagnoseNonFinite(name_, arguments, interpret);
  return results;
}

HostArray<float> Program::runInChunks(const std::string &function, const HostArray<float> &batch,
                                      const std::vector<BufferView> &shared, int threads) const {
  if (signature_.elementBytes != sizeof(float))
    throw Error(fmt::format("{}: compiled for float64; runInChunks() takes float32 arrays", name_));
  const FunctionSignature &signature = signature_.function(function);
  checkCount(shared.size() + 1, signature.arguments.size(), "arguments", signature, name_);
  checkCount(1, signature.results.size(), "results", signature, name_);
  const TensorSpec &chunkInput = signature.arguments.front(), &chunkOutput = signature.results.front();
  if (chunkInput.shape.empty() || chunkOutput.shape.empty() || chunkOutput.shape[0] != chunkInput.shape[0])
    throw Error(fmt::format("{}: {} does not run in chunks: it is not batch-first ({})", name_, function,
                            signature.describe()));
  const int64_t chunk = chunkInput.shape[0];
  std::vector<int64_t> rowShape(chunkInput.shape.begin() + 1, chunkInput.shape.end());
  if (batch.shape.empty() || std::vector<int64_t>(batch.shape.begin() + 1, batch.shape.end()) != rowShape)
    throw Error(fmt::format("{}: {} has shape ({}), the program takes (N, {})", name_, chunkInput.name,
                            fmt::join(batch.shape, ", "), fmt::join(rowShape, ", ")));
  for (size_t i = 0; i < shared.size(); ++i)
    checkAgainst(signature.arguments[i + 1], shared[i].shape, "argument '" + signature.arguments[i + 1].name + "'",
                 name_);
  const int64_t examples = batch.shape[0];
  const int64_t inputStride = HostArray<float>::elementCount(rowShape);
  const int64_t outputStride = HostArray<float>::elementCount(chunkOutput.shape) / chunk;
  std::vector<int64_t> outputShape = chunkOutput.shape;
  outputShape[0] = examples;
  HostArray<float> output(outputShape);
  const int64_t chunks = (examples + chunk - 1) / chunk;
  runChunksInParallel(chunks, std::max<int64_t>(1, std::min<int64_t>(threads, chunks)), [&](int64_t index) {
    std::vector<BufferView> arguments{BufferView{}};
    arguments.insert(arguments.end(), shared.begin(), shared.end());
    const int64_t start = index * chunk, count = std::min(chunk, examples - start);
    const float *in = batch.data.data() + start * inputStride;
    float *out = output.data.data() + start * outputStride;
    if (count == chunk) {
      arguments[0] = {const_cast<float *>(in), chunkInput.shape};
      native_->call(function, arguments, {{out, chunkOutput.shape}});
      return;
    }
    // The last chunk runs zero-padded; only its real rows are kept.
    std::vector<float> paddedInput(chunk * inputStride, 0.0f), paddedOutput(chunk * outputStride);
    std::memcpy(paddedInput.data(), in, count * inputStride * sizeof(float));
    arguments[0] = {paddedInput.data(), chunkInput.shape};
    native_->call(function, arguments, {{paddedOutput.data(), chunkOutput.shape}});
    std::memcpy(out, paddedOutput.data(), count * outputStride * sizeof(float));
  });
  return output;
}

} // namespace seqjit
