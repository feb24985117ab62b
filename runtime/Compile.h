// seqjit::compile: a model's forward pass compiled (runtime/Program.h), callable on host arrays of any batch size.
#pragma once

#include "dsl/Model.h"
#include "runtime/HostArray.h"
#include "runtime/Parameters.h"
#include "runtime/Program.h"

#include <memory>

namespace seqjit {

struct CompileOptions {
  /// Sequences per step. Each of `threads` workers runs a chunk of ceil(batch / threads) sequences, the size
  /// the code is specialised for; larger inputs run in more chunks, and the last chunk is zero-padded.
  int64_t batch = 100;
  /// Worker threads; 0 means SEQJIT_NUM_THREADS, or else every hardware thread.
  int threads = 0;
};

class CompiledModel {
public:
  CompiledModel(Graph graph, Program program, int64_t chunk, int threads);

  /// Output (N, ...) for input (N, C, L). Throws seqjit::Error on a shape mismatch with the model's input.
  HostArray<float> forward(const HostArray<float> &input, const Parameters &parameters) const;

  const Graph &graph() const { return graph_; }
  /// Sequences per call of the compiled code, and how many calls run at once.
  int64_t chunk() const { return chunk_; }
  int threads() const { return threads_; }
  /// Seconds spent lowering through MLIR and generating machine code.
  double compileSeconds() const { return program_.compileSeconds(); }

private:
  Graph graph_;
  Program program_;
  int64_t chunk_;
  int threads_;
};

/// Compiles the forward (inference) program of `graph`.
CompiledModel compile(const Graph &graph, const CompileOptions &options = {});
inline CompiledModel compile(const Model &model, const CompileOptions &options = {}) {
  return compile(model.graph(), options);
}

/// Every parameter of `graph` in parameterOrder, as the compiled functions take them. Throws seqjit::Error naming a
/// parameter whose shape differs from the model's.
std::vector<BufferView> parameterViews(const Graph &graph, const Parameters &parameters);

/// The same, named as messages name them ("parameter 'conv1.weight'").
std::vector<NamedArray> parameterArguments(const Graph &graph, const Parameters &parameters);

/// Throws seqjit::Error unless `input` is (N, C, L) with the graph's C and L; `source` names the input in the message.
void checkInputShape(const Graph &graph, const std::vector<int64_t> &shape, const std::string &source);

/// (batch, shape...): the shape of a batch of examples of `shape`.
std::vector<int64_t> batchedShape(int64_t batch, const Shape &shape);

/// Throws seqjit::Error "<what> has shape (...), expected (...)" unless found == expected.
void checkShape(const std::vector<int64_t> &found, const std::vector<int64_t> &expected, const std::string &what);

} // namespace seqjit
