// seqjit filters: a trained model's first-layer filters as motifs (activation-aligned PWMs), written as MEME text.
#include "dsl/Error.h"
#include "runtime/Compile.h"
#include "runtime/OneHot.h"
#include "stdlib/FilterMotifs.h"
#include "stdlib/Logo.h"
#include "stdlib/Meme.h"
#include "stdlib/MotifComparison.h"
#include "stdlib/SyntheticData.h"
#include "tools/Commands.h"
#include "tools/ModelResolver.h"
#include "tools/TrainedModelOptions.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>

namespace seqjit {

namespace {

struct FiltersArguments {
  TrainedModelArguments trained;
  std::string input;
  std::string key = "X_test";
  int64_t limit = 0;
  FilterAlignment alignment;
  bool clip = false;
  std::string compare;
  double eValue = 0.1;
  std::string groundTruth;
  std::string logos;
  std::string out;
};

void runFilters(const FiltersArguments &args) {
  if (!args.groundTruth.empty() && args.compare.empty())
    throw Error("--ground-truth needs --compare DATABASE.meme to match the filters against");
  if (args.limit < 0)
    throw Error(fmt::format("--limit {}: give a positive number of sequences (0 or no --limit: all)", args.limit));
  std::string extension = std::filesystem::path(args.out).extension().string();
  if (extension != ".meme" && extension != ".txt")
    throw Error(fmt::format("--out '{}': filter motifs are written as MEME text (.meme or .txt)", args.out));
  HostArray<float> input = loadSequenceInput(args.input, args.key);
  if (args.alignment.window > input.shape[2] - 2)
    throw Error(fmt::format("--window {}: a window must fit strictly inside the {} nt sequences (at most {})",
                            args.alignment.window, input.shape[2], input.shape[2] - 2));
  if (args.limit > 0 && args.limit < input.shape[0]) {
    input.data.resize(static_cast<size_t>(args.limit * input.shape[1] * input.shape[2]));
    input.shape[0] = args.limit;
  }
  ResolvedModel resolved = resolveModel(
      args.trained.model, ModelFileOptions{args.trained.activation, input.shape.at(2), args.trained.outputs});
  const Graph &graph = resolved.model->graph();
  Parameters parameters = Parameters::loadNpz(graph, args.trained.weights);
  std::vector<Motif> motifs = modelFilterMotifs(graph, parameters, input, args.alignment, args.trained.threads);
  if (args.clip)
    for (Motif &motif : motifs)
      motif = clipToInformativeCore(motif);
  writeMemeFile(args.out, motifs);
  std::vector<Motif> database = args.compare.empty() ? std::vector<Motif>{} : readMemeFile(args.compare);
  std::vector<std::vector<MotifMatch>> matches =
      database.empty() ? std::vector<std::vector<MotifMatch>>{} : matchFilterCores(motifs, database, args.eValue);

  fmt::print("seqjit filters: {} filters of layer '{}' of model {} ({}) with {}, aligned on {} sequences of '{}'\n",
             motifs.size(), graph.nodes[firstActivationNode(graph)].name, graph.name, resolved.origin,
             args.trained.weights, input.shape[0], args.input);
  if (!args.logos.empty())
    std::filesystem::create_directories(args.logos);
  for (size_t f = 0; f < motifs.size(); ++f) {
    std::string best;
    if (!matches.empty() && !matches[f].empty()) {
      const MotifMatch &top = matches[f][0];
      best = fmt::format("  {} (E {:.2g}{})", database[top.target].label(), top.eValue, top.reverse ? ", -" : "");
    }
    if (!args.logos.empty())
      for (const char *format : {".svg", ".png"})
        writeLogo((std::filesystem::path(args.logos) / (motifs[f].id + format)).string(), informationHeights(motifs[f]),
                  {.title = fmt::format("{}: {} windows{}", motifs[f].id, motifs[f].sites, best),
                   .axisLabel = "bits",
                   .maximum = 2});
    fmt::print("  {:<9} {:>7} windows  {:<22}{}\n", motifs[f].id, motifs[f].sites,
               consensus(clipToInformativeCore(motifs[f])), best);
  }
  fmt::print("  written to {}{}\n", args.out, args.clip ? " (clipped to their informative cores)" : "");
  if (!args.logos.empty())
    fmt::print("  logos (SVG and PNG) in {}\n", args.logos);
  if (database.empty())
    return;
  const auto matched = std::count_if(matches.begin(), matches.end(), [](const auto &list) { return !list.empty(); });
  fmt::print("  filters matching a motif of {} (E <= {}): {:.3f}\n", args.compare, args.eValue,
             static_cast<double>(matched) / static_cast<double>(matches.size()));
  if (!args.groundTruth.empty()) {
    std::vector<std::string> names = groundTruthMotifNames(args.groundTruth, database);
    fmt::print("  filters matching the ground truth ({}): {:.3f}\n", fmt::join(names, ", "),
               fractionMatching(matches, database, names));
  }
}

} // namespace

void addFiltersCommand(CLI::App &app) {
  auto args = std::make_shared<FiltersArguments>();
  CLI::App *command =
      app.add_subcommand("filters", "First-layer filters as motifs: activation-aligned PWMs written as MEME text");
  addDeviceOption(*command);
  addTrainedModelOptions(command, args->trained, true);
  command->add_option("--input", args->input, "sequences to align on: .npy (N, 4, L) or HDF5 (dataset --key)")
      ->required();
  command->add_option("--key", args->key, "HDF5 dataset of the sequences (default X_test)");
  command->add_option("--limit", args->limit, "use only the first N sequences");
  command->add_option("--threshold", args->alignment.threshold,
                      "a window is taken where a filter's activation exceeds this fraction of its maximum (0.5)");
  command->add_option("--window", args->alignment.window, "positions per window, centred on the activation (20)");
  command->add_flag("--clip", args->clip,
                    "write each motif cut to its informative core (rows over 0.5 bits, padded by 3), as for Tomtom");
  command->add_option(
      "--compare", args->compare,
      "MEME database to match each filter's informative core against (Tomtom-style: Pearson "
      "columns, every offset, both strands), e.g. data/motifs/JASPAR_CORE_2016_vertebrates.meme");
  command->add_option("--evalue", args->eValue, "E-value threshold of a match (default 0.1, as the papers)");
  command->add_option("--ground-truth", args->groundTruth,
                      "motifs the filters should find: task1, task3, or comma-separated names; prints the fraction "
                      "of filters matching one");
  command->add_option("--logos", args->logos, "also draw each filter's logo (bits) as DIR/filter<k>.svg and .png");
  command->add_option("--out", args->out, "motifs as MEME text (.meme)")->required();
  command->callback([args] { runFilters(*args); });
}

} // namespace seqjit
