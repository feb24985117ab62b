// seqjit filters: a trained model's first-layer filters as motifs (activation-aligned PWMs), written as MEME text.
#include "dsl/Error.h"
#include "runtime/Compile.h"
#include "runtime/OneHot.h"
#include "stdlib/FilterMotifs.h"
#include "stdlib/Meme.h"
#include "tools/Commands.h"
#include "tools/ModelResolver.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

namespace seqjit {

namespace {

struct FiltersArguments {
  std::string model;
  std::string weights;
  std::string activation;
  int64_t outputs = 0;
  std::string input;
  std::string key = "X_test";
  int64_t limit = 0;
  FilterAlignment alignment;
  bool clip = false;
  std::string out;
  int threads = 0;
};

/// The letters of a motif, upper case where one base has probability >= 0.5, else 'n'.
std::string consensus(const Motif &motif) {
  std::string letters;
  for (int64_t j = 0; j < motif.width(); ++j) {
    const float *row = motif.probabilities.data.data() + j * 4;
    int64_t best = std::max_element(row, row + 4) - row;
    letters += row[best] >= 0.5f ? "ACGT"[best] : 'n';
  }
  return letters;
}

void runFilters(const FiltersArguments &args) {
  std::string extension = std::filesystem::path(args.out).extension().string();
  if (extension != ".meme" && extension != ".txt")
    throw Error(fmt::format("--out '{}': filter motifs are written as MEME text (.meme or .txt)", args.out));
  HostArray<float> input = loadSequenceInput(args.input, args.key);
  if (args.limit > 0 && args.limit < input.shape[0]) {
    input.data.resize(static_cast<size_t>(args.limit * input.shape[1] * input.shape[2]));
    input.shape[0] = args.limit;
  }
  ResolvedModel resolved = resolveModel(args.model, ModelFileOptions{args.activation, input.shape.at(2), args.outputs});
  const Graph &graph = resolved.model->graph();
  Parameters parameters = Parameters::loadNpz(graph, args.weights);
  const int layer = firstActivationNode(graph);
  if (graph.nodes[layer].shape.size() != 2 || graph.nodes[layer].shape[1] != input.shape[2])
    throw Error(fmt::format("model '{}': layer '{}' has shape ({}), not (filters, {}) positions aligned with the "
                            "input",
                            graph.name, graph.nodes[layer].name, fmt::join(graph.nodes[layer].shape, ", "),
                            input.shape[2]));
  CompiledModel firstLayer = compile(graphUpTo(graph, layer), {.batch = 100, .threads = args.threads});
  HostArray<float> activations = firstLayer.forward(input, parameters);
  std::vector<Motif> motifs = filterMotifs(activations, input, args.alignment);
  if (args.clip)
    for (Motif &motif : motifs)
      motif = clipToInformativeCore(motif);
  writeMemeFile(args.out, motifs);

  fmt::print("seqjit filters: {} filters of layer '{}' of model {} ({}) with {}, aligned on {} sequences of '{}'\n",
             motifs.size(), graph.nodes[layer].name, graph.name, resolved.origin, args.weights, input.shape[0],
             args.input);
  for (const Motif &motif : motifs)
    fmt::print("  {:<9} {:>7} windows  {}\n", motif.id, motif.sites, consensus(clipToInformativeCore(motif)));
  fmt::print("  written to {}{}\n", args.out, args.clip ? " (clipped to their informative cores)" : "");
}

} // namespace

void addFiltersCommand(CLI::App &app) {
  auto args = std::make_shared<FiltersArguments>();
  CLI::App *command =
      app.add_subcommand("filters", "First-layer filters as motifs: activation-aligned PWMs written as MEME text");
  command->add_option("model", args->model, "stdlib model name or model file (.cpp), as trained")->required();
  command->add_option("--weights", args->weights, "trained weights (.npz, e.g. a run's weights.npz)")->required();
  command->add_option("--input", args->input, "sequences to align on: .npy (N, 4, L) or HDF5 (dataset --key)")
      ->required();
  command->add_option("--key", args->key, "HDF5 dataset of the sequences (default X_test)");
  command->add_option("--limit", args->limit, "use only the first N sequences");
  command->add_option("--threshold", args->alignment.threshold,
                      "a window is taken where a filter's activation exceeds this fraction of its maximum (0.5)");
  command->add_option("--window", args->alignment.window, "positions per window, centred on the activation (20)");
  command->add_flag("--clip", args->clip,
                    "write each motif cut to its informative core (rows over 0.5 bits, padded by 3), as for Tomtom");
  command->add_option("--activation", args->activation, "first-layer activation the model was trained with");
  command->add_option("--outputs", args->outputs, "number of outputs the model was trained with");
  command->add_option("--out", args->out, "motifs as MEME text (.meme)")->required();
  command->add_option("--threads", args->threads, "worker threads (default: all)");
  command->callback([args] { runFilters(*args); });
}

} // namespace seqjit
