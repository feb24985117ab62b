// Incremental ISM: the unmutated values of every segment output once per block of sequences, then per batch of
// mutants the changed windows segment by segment (each read from the windows before it and the unmutated values
// around them), and the head on the unmutated tensors with the windows spliced in.
#include "runtime/IncrementalMutagenesis.h"

#include "dsl/Error.h"
#include "runtime/ParallelChunks.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace seqjit {
namespace {

int64_t elementsOf(const Shape &shape) { return HostArray<float>::elementCount(shape); }

/// The batch's mutants: one sequence's (position, base) pairs.
struct Mutant {
  int64_t position, base;
};

/// What one batch of mutants of sequence `sequence` reads: the sequence, the unmutated values of the cached nodes for
/// its block of sequences (row `row`), and the changed windows computed so far.
struct BatchState {
  const float *sequence;
  int64_t row;
  const std::map<int, HostArray<float>> *cache;
  std::map<int, HostArray<float>> fresh; ///< (batch, C, width) per segment output
};

} // namespace

CompiledMutationWindows::CompiledMutationWindows(Graph graph, MutationWindowPlan plan, int64_t batch, Program program)
    : graph_(std::move(graph)), plan_(std::move(plan)), batch_(batch), program_(std::move(program)) {}

CompiledMutationWindows CompiledMutationWindows::compile(const Graph &graph, int64_t batch) {
  if (batch <= 0)
    throw Error(fmt::format("incremental mutagenesis of '{}': batch must be positive, got {}", graph.name, batch));
  MutationWindowPlan plan = planMutationWindows(graph);
  std::vector<std::string> entryPoints{kNodeValuesFunction, kHeadFunction};
  for (size_t k = 0; k < plan.segments.size(); ++k)
    if (!plan.segments[k].onHost)
      entryPoints.push_back(windowFunctionName(k));
  Program program = Program::compile(
      [&](mlir::MLIRContext &context) { return buildMutationWindowModule(context, graph, plan, batch); },
      "incremental mutagenesis of model '" + graph.name + "'", false, entryPoints);
  return CompiledMutationWindows(graph, std::move(plan), batch, std::move(program));
}

HostArray<float> CompiledMutationWindows::run(const HostArray<float> &input, const Parameters &parameters,
                                              int64_t output, int threads) const {
  checkInputShape(graph_, input.shape, "mutagenesis input");
  if (input.shape[1] != 4)
    throw Error(fmt::format("mutagenesis needs one-hot DNA input (N, 4, L); model '{}' takes {} channels", graph_.name,
                            input.shape[1]));
  const int64_t length = input.shape[2], row = 4 * length, outputs = elementsOf(graph_.outputNode().shape);
  if (output < 0 || output >= outputs)
    throw Error(
        fmt::format("model '{}': output {} to explain is out of range (0 to {})", graph_.name, output, outputs - 1));
  const std::vector<BufferView> parameterBuffers = parameterViews(graph_, parameters);
  auto call = [&](const std::string &function, const std::vector<HostArray<float> *> &arguments,
                  const std::vector<HostArray<float> *> &results) {
    std::vector<BufferView> views, resultViews;
    for (HostArray<float> *array : arguments)
      views.push_back({array->data.data(), array->shape});
    views.insert(views.end(), parameterBuffers.begin(), parameterBuffers.end());
    for (HostArray<float> *array : results)
      resultViews.push_back({array->data.data(), array->shape});
    program_.call(function, views, resultViews);
  };
  auto full = [&](int id) { return HostArray<float>(batchedShape(batch_, graph_.nodes.at(id).shape)); };

  // Positions [first, first + count) of node `id` for mutant `i` of the batch, every channel, into `destination`
  // (channels x count): zero outside the node's positions, the changed window where it reaches, the unmutated value
  // elsewhere.
  auto gather = [&](const BatchState &state, const Mutant &mutant, int64_t i, int id, int64_t first, int64_t count,
                    float *destination) {
    const Node &node = graph_.nodes.at(id);
    const int64_t channels = node.shape.at(0), nodeLength = node.shape.at(1);
    // The part of [first, first + count) inside [0, nodeLength), empty (low = high) when they do not meet.
    const int64_t low = std::clamp(std::clamp<int64_t>(first, 0, nodeLength), first, first + count);
    const int64_t high = std::clamp(std::clamp(first + count, int64_t{0}, nodeLength), low, first + count);
    const float *unmutated =
        id == 0 ? state.sequence : state.cache->at(id).data.data() + state.row * channels * nodeLength;
    const HostArray<float> *fresh = id == 0 ? nullptr : &state.fresh.at(id);
    const int64_t freshStart = id == 0 ? 0 : plan_.start[id][mutant.position], freshWidth = plan_.width[id];
    const int64_t freshLow = std::clamp(freshStart, low, high),
                  freshHigh = std::clamp(freshStart + freshWidth, low, high);
    for (int64_t c = 0; c < channels; ++c) {
      float *to = destination + c * count; // position p at to[p - first]
      const float *from = unmutated + c * nodeLength;
      std::fill(to, to + (low - first), 0.0f);
      std::copy(from + low, from + high, to + (low - first));
      std::fill(to + (high - first), to + count, 0.0f);
      if (id == 0) {
        if (mutant.position >= low && mutant.position < high)
          to[mutant.position - first] = c == mutant.base ? 1.0f : 0.0f;
        continue;
      }
      const float *changed = fresh->data.data() + (i * channels + c) * freshWidth; // position p at p - freshStart
      std::copy(changed + (freshLow - freshStart), changed + (freshHigh - freshStart), to + (freshLow - first));
    }
  };

  // A conv reading the sequence changes by its weights times the change of the mutated column.
  auto hostConv = [&](BatchState &state, const std::vector<Mutant> &mutants, int id) {
    const Node &node = graph_.nodes.at(id);
    const auto &a = std::get<Conv1dAttrs>(node.op.attributes);
    const HostArray<float> &weight = parameters.at(node.name + ".weight");
    const int64_t filters = node.shape[0], nodeLength = node.shape[1], width = plan_.width[id];
    const int64_t padLeft = a.padding == Padding::Same ? samePaddingLeft(length, a.width, a.stride, a.dilation) : 0;
    HostArray<float> fresh({batch_, filters, width});
    for (size_t i = 0; i < mutants.size(); ++i) {
      const Mutant &m = mutants[i];
      for (int64_t j = 0; j < width; ++j) {
        const int64_t position = plan_.start[id][m.position] + j;
        if (position < 0 || position >= nodeLength)
          continue;
        const int64_t offset = m.position - (position * a.stride - padLeft); // tap * dilation, if it reads it
        const bool reads = offset >= 0 && offset % a.dilation == 0 && offset / a.dilation < a.width;
        for (int64_t f = 0; f < filters; ++f) {
          double value = state.cache->at(id).data[(state.row * filters + f) * nodeLength + position];
          if (reads)
            for (int64_t c = 0; c < 4; ++c) {
              const float change = (c == m.base ? 1.0f : 0.0f) - state.sequence[c * length + m.position];
              value += static_cast<double>(weight.data[(f * 4 + c) * a.width + offset / a.dilation]) * change;
            }
          fresh.data[(i * filters + f) * width + j] = static_cast<float>(value);
        }
      }
    }
    state.fresh[id] = std::move(fresh);
  };

  // The model's output for each mutant of the batch.
  auto mutantOutputs = [&](BatchState &state, const std::vector<Mutant> &mutants) {
    for (size_t k = 0; k < plan_.segments.size(); ++k) {
      const MutationWindowPlan::Segment &segment = plan_.segments[k];
      const int last = segment.nodes.back();
      if (segment.onHost) {
        hostConv(state, mutants, last);
        continue;
      }
      std::vector<HostArray<float>> windows;
      for (int id : graph_.nodes.at(segment.nodes[0]).inputs) {
        const int64_t channels = graph_.nodes.at(id).shape.at(0);
        HostArray<float> window({batch_, channels, segment.inputWidth});
        for (size_t i = 0; i < mutants.size(); ++i)
          gather(state, mutants[i], static_cast<int64_t>(i), id, segment.inputStart[mutants[i].position],
                 segment.inputWidth, window.data.data() + i * channels * segment.inputWidth);
        windows.push_back(std::move(window));
      }
      HostArray<float> fresh({batch_, graph_.nodes.at(last).shape.at(0), plan_.width[last]});
      std::vector<HostArray<float> *> arguments;
      for (HostArray<float> &window : windows)
        arguments.push_back(&window);
      call(windowFunctionName(k), arguments, {&fresh});
      state.fresh[last] = std::move(fresh);
    }
    std::vector<HostArray<float>> frontier;
    for (int id : plan_.frontier) {
      const Node &node = graph_.nodes.at(id);
      HostArray<float> spliced = full(id);
      for (size_t i = 0; i < mutants.size(); ++i)
        gather(state, mutants[i], static_cast<int64_t>(i), id, 0, node.shape[1],
               spliced.data.data() + i * node.shape[0] * node.shape[1]);
      frontier.push_back(std::move(spliced));
    }
    HostArray<float> result = full(graph_.output);
    std::vector<HostArray<float> *> arguments;
    for (HostArray<float> &tensor : frontier)
      arguments.push_back(&tensor);
    call(kHeadFunction, arguments, {&result});
    return result;
  };

  HostArray<float> maps(input.shape);
  for (int64_t first = 0; first < input.shape[0]; first += batch_) {
    const int64_t count = std::min(batch_, input.shape[0] - first);
    HostArray<float> block(batchedShape(batch_, graph_.inputNode().shape));
    std::copy_n(input.data.begin() + first * row, count * row, block.data.begin());
    std::map<int, HostArray<float>> cache;
    std::vector<HostArray<float> *> cachedResults;
    for (int id : plan_.cached)
      cache.emplace(id, full(id));
    for (int id : plan_.cached)
      cachedResults.push_back(&cache.at(id));
    call(kNodeValuesFunction, {&block}, cachedResults);
    // The unmutated outputs from the head on the unmutated values, as the mutants' come from it.
    std::vector<HostArray<float>> frontier;
    std::vector<HostArray<float> *> frontierArguments;
    for (int id : plan_.frontier)
      frontier.push_back(cache.at(id)); // a frontier node is a segment's output
    for (HostArray<float> &tensor : frontier)
      frontierArguments.push_back(&tensor);
    HostArray<float> wildType = full(graph_.output);
    call(kHeadFunction, frontierArguments, {&wildType});

    for (int64_t n = 0; n < count; ++n) {
      const float *x = input.data.data() + (first + n) * row;
      std::vector<Mutant> mutants;
      for (int64_t l = 0; l < length; ++l)
        for (int64_t b = 0; b < 4; ++b)
          if (x[b * length + l] != 1.0f)
            mutants.push_back({l, b});
      const int64_t batches = (static_cast<int64_t>(mutants.size()) + batch_ - 1) / batch_;
      runChunksInParallel(batches, threads, [&](int64_t index) {
        const auto begin = mutants.begin() + index * batch_;
        const std::vector<Mutant> chunk(begin, begin + std::min<int64_t>(batch_, mutants.end() - begin));
        BatchState state{x, n, &cache, {}};
        HostArray<float> outputsOfChunk = mutantOutputs(state, chunk);
        for (size_t i = 0; i < chunk.size(); ++i)
          maps.data[(first + n) * row + chunk[i].base * length + chunk[i].position] =
              outputsOfChunk.data[i * outputs + output] - wildType.data[n * outputs + output];
      });
    }
  }
  return maps;
}

} // namespace seqjit
