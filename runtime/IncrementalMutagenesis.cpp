// Incremental ISM: the unmutated values of every segment output (and of every convolution computed from the change)
// once per block of sequences, then per batch of mutants the changed windows segment by segment (a window program
// reads the windows before it and the unmutated values around them; a convolution computed from the change adds its
// taps times the changed columns onto its unmutated values), and the head on the unmutated tensors with the windows
// spliced in.
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
  for (size_t k = 0; k < plan.segments.size(); ++k) {
    if (plan.segments[k].fromChange)
      entryPoints.push_back(deltaFunctionName(k));
    if (hasWindowFunction(plan.segments[k]))
      entryPoints.push_back(windowFunctionName(k));
  }
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

  // The taps of each convolution computed from a change (on the host or by its @delta_<k>), (C_in, taps x filters).
  std::map<size_t, HostArray<float>> taps;
  for (size_t k = 0; k < plan_.segments.size(); ++k)
    if (plan_.segments[k].fromChange || plan_.segments[k].onHost) {
      const Node &conv = graph_.nodes.at(plan_.segments[k].nodes[0]);
      const int64_t filters = conv.shape[0], inputChannels = graph_.nodes.at(conv.inputs[0]).shape[0],
                    width = std::get<Conv1dAttrs>(conv.op.attributes).width;
      taps.emplace(
          k, HostArray<float>({inputChannels, width * filters},
                              deltaTaps(parameters.at(conv.name + ".weight").data, filters, inputChannels, width)));
    }

  // Mutant `i`'s window of conv `id` (positions start + [0, width)): the unmutated values plus `sums` (width x
  // filters, position-major) inside the conv's positions, zero outside.
  auto addOntoUnmutated = [&](const BatchState &state, int id, int64_t i, int64_t start, const std::vector<float> &sums,
                              HostArray<float> &window) {
    const int64_t filters = graph_.nodes.at(id).shape[0], convLength = graph_.nodes.at(id).shape[1],
                  width = plan_.width[id];
    const int64_t low = std::clamp<int64_t>(-start, 0, width),
                  high = std::clamp<int64_t>(convLength - start, low, width);
    const float *unmutated = state.cache->at(id).data.data() + state.row * filters * convLength;
    float *to = window.data.data() + i * filters * width;
    for (int64_t f = 0; f < filters; ++f)
      for (int64_t o = low; o < high; ++o)
        to[f * width + o] = unmutated[f * convLength + start + o] + sums[o * filters + f];
  };

  // Adds `products` (row t * filters + f: tap t of filter f times the change of input position p) into `sums` (conv
  // `id`'s window positions from `start`, x filters) at the output each tap reaches: output o reads input
  // o * stride - padLeft + t * dilation. Outputs outside the conv's positions are left out.
  auto addTapProducts = [&](int id, int64_t p, const float *products, int64_t start, std::vector<float> &sums) {
    const Node &conv = graph_.nodes.at(id);
    const auto &a = std::get<Conv1dAttrs>(conv.op.attributes);
    const int64_t inputLength = graph_.nodes.at(conv.inputs[0]).shape[1], filters = conv.shape[0],
                  width = plan_.width[id];
    const int64_t padLeft =
        a.padding == Padding::Same ? samePaddingLeft(inputLength, a.width, a.stride, a.dilation) : 0;
    const int64_t low = std::clamp<int64_t>(-start, 0, width),
                  high = std::clamp<int64_t>(conv.shape[1] - start, low, width);
    for (int64_t t = 0; t < a.width; ++t) {
      const int64_t reach = p + padLeft - t * a.dilation;
      const int64_t o = reach >= 0 && reach % a.stride == 0 ? reach / a.stride - start : -1;
      if (o < low || o >= high)
        continue;
      const float *row = products + t * filters;
      float *to = sums.data() + o * filters;
      for (int64_t f = 0; f < filters; ++f)
        to[f] += row[f];
    }
  };

  // A conv reading the sequence changes by its taps times the change of the mutated column.
  auto hostConv = [&](BatchState &state, const std::vector<Mutant> &mutants, size_t k) {
    const int id = plan_.segments[k].nodes[0];
    const Node &node = graph_.nodes.at(id);
    const int64_t filters = node.shape[0], width = plan_.width[id],
                  tapCount = std::get<Conv1dAttrs>(node.op.attributes).width;
    const float *table = taps.at(k).data.data();
    HostArray<float> fresh({batch_, filters, width});
    std::vector<float> column(tapCount * filters), sums(width * filters);
    for (size_t i = 0; i < mutants.size(); ++i) {
      const Mutant &m = mutants[i];
      std::fill(column.begin(), column.end(), 0.0f);
      for (int64_t c = 0; c < 4; ++c) {
        const float change = (c == m.base ? 1.0f : 0.0f) - state.sequence[c * length + m.position];
        if (change == 0.0f)
          continue;
        const float *row = table + c * tapCount * filters; // (taps x filters) of input channel c
        for (int64_t e = 0; e < tapCount * filters; ++e)
          column[e] += row[e] * change;
      }
      const int64_t start = plan_.start[id][m.position];
      std::fill(sums.begin(), sums.end(), 0.0f);
      addTapProducts(id, m.position, column.data(), start, sums);
      addOntoUnmutated(state, id, static_cast<int64_t>(i), start, sums, fresh);
    }
    state.fresh[id] = std::move(fresh);
  };

  // The window of segment k's conv: the unmutated values plus each tap times the changed columns of its input.
  auto convolutionFromChange = [&](BatchState &state, const std::vector<Mutant> &mutants, size_t k) {
    const Node &conv = graph_.nodes.at(plan_.segments[k].nodes[0]);
    const int input = conv.inputs[0];
    const int64_t channels = graph_.nodes.at(input).shape[0], inputLength = graph_.nodes.at(input).shape[1];
    const int64_t changeWidth = plan_.width[input], filters = conv.shape[0], width = plan_.width[conv.id];
    const float *unmutatedInput = state.cache->at(input).data.data() + state.row * channels * inputLength;
    const HostArray<float> &freshInput = state.fresh.at(input);
    // The changed columns position-major, (batch x changeWidth, channels), zero outside the input's positions.
    HostArray<float> change({batch_ * changeWidth, channels});
    for (size_t i = 0; i < mutants.size(); ++i) {
      const int64_t start = plan_.start[input][mutants[i].position];
      const int64_t low = std::clamp<int64_t>(-start, 0, changeWidth),
                    high = std::clamp<int64_t>(inputLength - start, low, changeWidth);
      const float *fresh = freshInput.data.data() + i * channels * changeWidth;
      for (int64_t j = low; j < high; ++j) {
        float *to = change.data.data() + (i * changeWidth + j) * channels;
        for (int64_t c = 0; c < channels; ++c)
          to[c] = fresh[c * changeWidth + j] - unmutatedInput[c * inputLength + start + j];
      }
    }
    const int64_t tapRows = std::get<Conv1dAttrs>(conv.op.attributes).width * filters;
    HostArray<float> products({batch_ * changeWidth, tapRows});
    call(deltaFunctionName(k), {&change, &taps.at(k)}, {&products});

    HostArray<float> window({batch_, filters, width});
    std::vector<float> sums(width * filters);
    for (size_t i = 0; i < mutants.size(); ++i) {
      const int64_t inputStart = plan_.start[input][mutants[i].position],
                    convStart = plan_.start[conv.id][mutants[i].position];
      std::fill(sums.begin(), sums.end(), 0.0f);
      for (int64_t j = 0; j < changeWidth; ++j)
        if (inputStart + j >= 0 && inputStart + j < inputLength)
          addTapProducts(conv.id, inputStart + j, products.data.data() + (i * changeWidth + j) * tapRows, convStart,
                         sums);
      addOntoUnmutated(state, conv.id, static_cast<int64_t>(i), convStart, sums, window);
    }
    return window;
  };

  // The model's output for each mutant of the batch.
  auto mutantOutputs = [&](BatchState &state, const std::vector<Mutant> &mutants) {
    for (size_t k = 0; k < plan_.segments.size(); ++k) {
      const MutationWindowPlan::Segment &segment = plan_.segments[k];
      const int last = segment.nodes.back();
      if (segment.onHost) {
        hostConv(state, mutants, k);
        continue;
      }
      std::vector<HostArray<float>> windows;
      if (segment.fromChange) {
        windows.push_back(convolutionFromChange(state, mutants, k));
        if (!hasWindowFunction(segment)) {
          state.fresh[last] = std::move(windows.back());
          continue;
        }
      } else {
        for (int id : graph_.nodes.at(segment.nodes[0]).inputs) {
          const int64_t channels = graph_.nodes.at(id).shape.at(0);
          HostArray<float> window({batch_, channels, segment.inputWidth});
          for (size_t i = 0; i < mutants.size(); ++i)
            gather(state, mutants[i], static_cast<int64_t>(i), id, segment.inputStart[mutants[i].position],
                   segment.inputWidth, window.data.data() + i * channels * segment.inputWidth);
          windows.push_back(std::move(window));
        }
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
