// seqjit attribute: attribution maps of one model output for sequences from .npy or HDF5, written as .npy, with the
// papers' interpretability AUROC / AUPR where the HDF5 file holds the generating model of synthetic data.
#include "compiler/MutationWindows.h"
#include "dsl/Error.h"
#include "runtime/Attribution.h"
#include "runtime/DinucleotideShuffle.h"
#include "runtime/FileExtension.h"
#include "runtime/Hdf5.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/Stopwatch.h"
#include "stdlib/AttributionConsistency.h"
#include "stdlib/Interpretability.h"
#include "stdlib/Logo.h"
#include "tools/Commands.h"
#include "tools/ModelResolver.h"
#include "tools/ProgressLine.h"
#include "tools/TrainedModelOptions.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>

namespace seqjit {

namespace {

struct AttributeArguments {
  TrainedModelArguments trained;
  std::string input;
  std::string key = "X_test";
  int64_t limit = 0;
  bool positives = false;
  std::string method = "saliency";
  int64_t output = 0;
  int64_t steps = 20;
  int64_t references = 10;
  int64_t samples = 25;
  double sigma = 0.1;
  uint64_t seed = 0;
  bool correct = false;
  bool hypothetical = false;
  bool naive = false;
  std::string out;
  std::string logos;
  int64_t logoCount = 5;
};

const std::vector<std::string> kMethods = {"saliency", "gradxinput", "smoothgrad", "ig", "deepshap", "ism"};

/// Whether `path` is a .npy file (any case, as loadSequenceInput reads it); otherwise it is HDF5.
bool isNpy(const std::string &path) { return lowercaseExtension(path) == ".npy"; }

/// "<prefix>_<split>" for an input key "X_<split>", or "" if the key does not have that form.
std::string companionKey(const std::string &key, const std::string &prefix) {
  return key.rfind("X_", 0) == 0 ? prefix + "_" + key.substr(2) : std::string();
}

/// The rows to attribute: every row, or with --positives those whose label for --output is 1 (the papers attribute
/// positive sequences), the first --limit of them.
std::vector<int64_t> rowsToAttribute(const AttributeArguments &args, int64_t count) {
  std::vector<int64_t> rows;
  if (args.positives) {
    std::string labelKey = companionKey(args.key, "Y");
    if (isNpy(args.input) || labelKey.empty())
      throw Error(fmt::format("--positives needs labels: an HDF5 --input whose --key X_<split> has a Y_<split>"));
    HostArray<float> labels = readHdf5Dataset(args.input, labelKey);
    const int64_t perRow = labels.shape.empty() || labels.shape[0] == 0 ? 0 : labels.size() / labels.shape[0];
    const int64_t labelRows = labels.shape.empty() ? 0 : labels.shape[0];
    if (labelRows != count || args.output >= perRow)
      throw Error(fmt::format("'{}': {} has {} rows of {} labels; expected {} rows with label {}", args.input, labelKey,
                              labelRows, perRow, count, args.output));
    for (int64_t n = 0; n < count; ++n)
      if (labels.data[n * perRow + args.output] > 0.5f)
        rows.push_back(n);
  } else {
    for (int64_t n = 0; n < count; ++n)
      rows.push_back(n);
  }
  if (args.limit > 0 && static_cast<int64_t>(rows.size()) > args.limit)
    rows.resize(static_cast<size_t>(args.limit));
  if (rows.empty())
    throw Error(fmt::format("no sequences to attribute in '{}' ({}{})", args.input, args.key,
                            args.positives ? fmt::format(": none labelled 1 for output {}", args.output) : ""));
  return rows;
}

/// Sequences are attributed a chunk at a time, so that memory holds one chunk whatever their number; a multiple of
/// againstShuffledReferences' block, so that the maps do not depend on it.
constexpr int64_t kAttributionChunk = 4096;
/// The maps the summary metrics (consistency, interpretability) are computed on: the first ones, up to this many.
constexpr int64_t kSummaryMaps = 10000;

/// attribute(block, references) of blocks of sequences, each against --references dinucleotide shuffles of itself
/// (seeded by --seed and the sequence's index among all attributed, the first of `input` being `firstIndex`), so
/// that the references never all sit in memory at once.
HostArray<float> againstShuffledReferences(
    const AttributeArguments &args, const HostArray<float> &input, int64_t firstIndex,
    const std::function<HostArray<float>(const HostArray<float> &, const HostArray<float> &)> &attribute) {
  constexpr int64_t kBlock = 256;
  const int64_t sequences = input.shape[0], row = input.shape[1] * input.shape[2];
  HostArray<float> map(input.shape);
  for (int64_t first = 0; first < sequences; first += kBlock) {
    const int64_t count = std::min(kBlock, sequences - first);
    HostArray<float> block(
        {count, input.shape[1], input.shape[2]},
        std::vector<float>(input.data.begin() + first * row, input.data.begin() + (first + count) * row));
    HostArray<float> blockMap =
        attribute(block, dinucleotideShuffles(block, args.references, args.seed, firstIndex + first));
    std::copy(blockMap.data.begin(), blockMap.data.end(), map.data.begin() + first * row);
  }
  return map;
}

/// The map of --method; with --correct, the gradient is corrected before any product with the input.
HostArray<float> attributionMap(const Attributor &attributor, const AttributeArguments &args,
                                const HostArray<float> &input, int64_t firstIndex) {
  if (args.method == "saliency" || args.method == "gradxinput" || args.method == "smoothgrad") {
    HostArray<float> gradient =
        args.method == "smoothgrad"
            ? attributor.smoothGrad(
                  input, {.samples = args.samples, .sigma = args.sigma, .seed = args.seed, .firstSequence = firstIndex})
            : attributor.saliency(input);
    if (args.correct)
      correctGradient(gradient);
    if (args.method == "gradxinput")
      for (int64_t i = 0; i < gradient.size(); ++i)
        gradient.data[i] *= input.data[i];
    return gradient;
  }
  if (args.method == "ig")
    return againstShuffledReferences(args, input, firstIndex,
                                     [&](const HostArray<float> &block, const HostArray<float> &references) {
                                       return attributor.integratedGradients(block, references, args.steps);
                                     });
  if (args.method == "deepshap")
    return againstShuffledReferences(
        args, input, firstIndex, [&](const HostArray<float> &block, const HostArray<float> &references) {
          HostArray<float> hypothetical = attributor.deepShap(block, references).hypothetical;
          if (!args.hypothetical)
            for (int64_t i = 0; i < hypothetical.size(); ++i)
              hypothetical.data[i] *= block.data[i];
          return hypothetical;
        });
  return args.naive ? attributor.mutagenesis(input) : attributor.incrementalMutagenesis(input);
}

/// A position's score for the interpretability metrics: the map at the observed base for gradient maps (gradient x
/// input, as the papers score saliency), the map summed over the bases for integrated gradients (already x (x - r))
/// and DeepSHAP (hypothetical contributions at the observed base), and minus the sum of a position's mutation effects
/// (the loss of output) for mutagenesis.
HostArray<float> scoredMap(const AttributeArguments &args, const HostArray<float> &map, const HostArray<float> &input) {
  const std::string &method = args.method;
  HostArray<float> scored = map;
  if (method == "saliency" || method == "smoothgrad" || (method == "deepshap" && args.hypothetical))
    for (int64_t i = 0; i < scored.size(); ++i)
      scored.data[i] *= input.data[i];
  if (method == "ism")
    for (float &v : scored.data)
      v = -v;
  return scored;
}

/// The HDF5 dataset of the generating model of the input's sequences (model_<split> for X_<split>), checked to match
/// the input, or "" if there is none: the interpretability metrics need it.
std::string generatingModelKey(const AttributeArguments &args, const std::vector<int64_t> &inputShape) {
  std::string key = isNpy(args.input) ? "" : companionKey(args.key, "model");
  if (key.empty())
    return key;
  std::vector<std::string> keys = listHdf5Datasets(args.input);
  if (std::find(keys.begin(), keys.end(), key) == keys.end())
    return "";
  std::vector<int64_t> shape = hdf5DatasetShape(args.input, key);
  if (shape.size() != 3 || shape[0] != inputShape[0] || shape[1] != 4 || shape[2] != inputShape[2])
    throw Error(fmt::format("'{}': {} has shape ({}); expected ({}, 4, {}) like {}", args.input, key,
                            fmt::join(shape, ", "), inputShape[0], inputShape[2], args.key));
  return key;
}

/// Refuses options that cannot work before anything is read or compiled.
void checkArguments(const AttributeArguments &args) {
  if (std::find(kMethods.begin(), kMethods.end(), args.method) == kMethods.end())
    throw Error(
        fmt::format("--method: unknown method '{}'; expected one of {}", args.method, fmt::join(kMethods, ", ")));
  if (!isNpy(args.out))
    throw Error(fmt::format("--out '{}': attribution maps are written as .npy", args.out));
  if (args.output < 0)
    throw Error(fmt::format("--output {}: the index of an output value is 0 or more", args.output));
  if (args.limit < 0)
    throw Error(fmt::format("--limit {}: give a positive number of sequences (0 or no --limit: all)", args.limit));
  if (args.logoCount < 0)
    throw Error(fmt::format("--logo-count {}: give 0 or more", args.logoCount));
  if (args.correct && (args.method == "ig" || args.method == "deepshap" || args.method == "ism"))
    throw Error(
        fmt::format("--correct applies to gradient maps (saliency, gradxinput, smoothgrad), not {}", args.method));
  if (args.hypothetical && args.method != "deepshap")
    throw Error(fmt::format("--hypothetical applies to --method deepshap, not {}", args.method));
  if (args.naive && args.method != "ism")
    throw Error(fmt::format("--naive applies to --method ism, not {}", args.method));
  if (args.method == "ig" && (args.references < 1 || args.steps < 1))
    throw Error(fmt::format("--references {} --steps {}: integrated gradients need at least one of each",
                            args.references, args.steps));
  if (args.method == "deepshap" && args.references < 1)
    throw Error(fmt::format("--references {}: DeepSHAP needs at least one reference", args.references));
  if (args.method == "smoothgrad" && (args.samples < 1 || !(args.sigma >= 0)))
    throw Error(fmt::format("--samples {} --sigma {}: SmoothGrad needs at least one sample and sigma >= 0",
                            args.samples, args.sigma));
}

void runAttribute(const AttributeArguments &args) {
  checkArguments(args);
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<ArrayRows> sequences = openSequenceRows(args.input, args.key, "--input");
  const std::vector<int64_t> rows = rowsToAttribute(args, sequences->shape().at(0));
  const int64_t count = static_cast<int64_t>(rows.size()), length = sequences->shape().at(2);
  const std::string modelKey = generatingModelKey(args, sequences->shape());
  ResolvedModel resolved =
      resolveModel(args.trained.model, ModelFileOptions{args.trained.activation, length, args.trained.outputs});
  const Graph &graph = resolved.model->graph();
  Parameters parameters = Parameters::loadNpz(graph, args.trained.weights);
  checkInputShape(graph, {count, 4, length}, args.input);

  if (args.method == "ism" && !args.naive) {
    try {
      planMutationWindows(graph);
    } catch (const Error &e) {
      throw Error(fmt::format("{}; --naive runs it", e.what()));
    }
  }
  double loadSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  Attributor attributor(graph, parameters, args.output, 100, args.trained.threads);
  double setupSeconds = secondsSince(start);
  fmt::print("seqjit attribute: {}{} of output {} of model {} ({}) with {}, for {} {}sequences of '{}'\n", args.method,
             args.hypothetical ? " (hypothetical contributions)" : "", args.output, graph.name, resolved.origin,
             args.trained.weights, count, args.positives ? "positive " : "", args.input);
  std::fflush(stdout);

  // The maps stream to --out a chunk at a time; the first kSummaryMaps stay for the logos and the summary metrics.
  start = std::chrono::steady_clock::now();
  const int64_t summaryCount = std::min(count, kSummaryMaps);
  HostArray<float> summaryInput({summaryCount, 4, length}), summaryMaps({summaryCount, 4, length});
  NpyRowWriter writer(args.out, {count, 4, length});
  ProgressLine progress("sequences");
  for (int64_t first = 0; first < count; first += kAttributionChunk) {
    std::span<const int64_t> chunkRows(rows.data() + first,
                                       static_cast<size_t>(std::min(kAttributionChunk, count - first)));
    HostArray<float> input = sequences->read(chunkRows);
    HostArray<float> map = attributionMap(attributor, args, input, first);
    writer.append(map);
    if (first < summaryCount) {
      const int64_t kept = std::min(summaryCount - first, input.shape[0]) * 4 * length;
      std::copy_n(input.data.begin(), kept, summaryInput.data.begin() + first * 4 * length);
      std::copy_n(map.data.begin(), kept, summaryMaps.data.begin() + first * 4 * length);
    }
    progress(first + input.shape[0], count);
  }
  writer.finish();
  double runSeconds = secondsSince(start);
  fmt::print("  {} maps written to {} ({} x 4 x {}){}\n", count, args.out, count, length,
             args.correct ? " (gradient-corrected)" : "");
  fmt::print("  time: load {:.2f} s, run {:.3f} s, compiling included ({:.4f} ms per sequence)\n", loadSeconds,
             setupSeconds + runSeconds, 1e3 * (setupSeconds + runSeconds) / static_cast<double>(count));
  if (!args.logos.empty()) {
    std::filesystem::create_directories(args.logos);
    const int64_t logos = std::min(args.logoCount, summaryCount), row = 4 * length;
    LogoStyle style;
    style.columnWidth = 6;
    for (int64_t n = 0; n < logos; ++n) {
      style.title =
          fmt::format("{}{} of output {}, sequence {} of {}", args.method,
                      args.hypothetical ? " (hypothetical contributions)" : "", args.output, rows[n], args.key);
      for (const char *format : {".svg", ".png"})
        writeLogo((std::filesystem::path(args.logos) / fmt::format("sequence{}{}", rows[n], format)).string(),
                  attributionHeights(summaryMaps.data.data() + n * row, length), style);
    }
    fmt::print("  logos of the first {} maps (SVG and PNG) in {}\n", logos, args.logos);
  }

  std::string which = summaryCount == count ? fmt::format("the {} maps", count)
                                            : fmt::format("the first {} of the {} maps", summaryCount, count);
  try {
    fmt::print("  consistency across {}: KLD 3-mer {:.4f}, k-attr-mean {:.4f}\n", which,
               kmerConsistency(summaryMaps, summaryInput), attributionVectorConsistency(summaryMaps, summaryInput));
  } catch (const Error &error) {
    fmt::print("  consistency across the maps: not defined ({})\n", error.what());
  }
  if (modelKey.empty())
    return;
  HostArray<float> models =
      readHdf5Rows(args.input, modelKey, std::span<const int64_t>(rows.data(), static_cast<size_t>(summaryCount)));
  InterpretabilityScores scores = interpretability(positionScores(scoredMap(args, summaryMaps, summaryInput)), models);
  fmt::print("  interpretability against {} ({} of {} sequences carry motifs{}): AUROC {:.4f}, AUPR {:.4f}\n", modelKey,
             scores.scored, summaryCount, summaryCount < count ? fmt::format(", the first of {}", count) : "",
             scores.meanAuroc, scores.meanAupr);
  fmt::print("  attribution SNR {:.3f} ({} sequences), motif localisation AUROC {:.4f} ({} motif instances)\n",
             scores.meanSnr, scores.snrScored, scores.localisationAuroc, scores.motifInstances);
}

} // namespace

void addAttributeCommand(CLI::App &app) {
  auto args = std::make_shared<AttributeArguments>();
  CLI::App *command = app.add_subcommand("attribute", "Attribution maps (saliency, gradient x input, SmoothGrad, "
                                                      "integrated gradients, DeepSHAP, in-silico mutagenesis) as .npy");
  addDeviceOption(*command);
  addTrainedModelOptions(command, args->trained, true);
  command->add_option("--input", args->input, "sequences: .npy (N, 4, L) or HDF5 (dataset --key)")->required();
  command->add_option("--key", args->key,
                      "HDF5 dataset of the sequences (default X_test); with synthetic data, model_<split> is the "
                      "ground truth of the interpretability metrics");
  command->add_option("--limit", args->limit, "attribute only the first N sequences (of those selected)");
  command->add_flag("--positives", args->positives,
                    "only the sequences labelled 1 for --output (Y_<split> of an HDF5 --input), as the papers do");
  command->add_option("--method", args->method, "saliency (default), gradxinput, smoothgrad, ig, deepshap or ism");
  command->add_option("--output", args->output, "index of the output to explain within one example (default 0)");
  command->add_option("--steps", args->steps, "integrated gradients: steps from each reference (default 20)");
  command->add_option("--references", args->references,
                      "ig and deepshap: dinucleotide-shuffled references per sequence (default 10)");
  command->add_flag("--hypothetical", args->hypothetical,
                    "deepshap: write the hypothetical contributions of all four bases at every position (default: "
                    "each position's contribution at its observed base)");
  command->add_flag("--naive", args->naive,
                    "ism: run the whole model on every mutant (default: incremental, only the positions a mutation "
                    "changes; the same map)");
  command->add_option("--samples", args->samples, "SmoothGrad: noisy copies per sequence (default 25)");
  command->add_option("--sigma", args->sigma, "SmoothGrad: noise standard deviation (default 0.1)");
  command->add_option("--seed", args->seed, "seed of the references and the noise (default 0)");
  command->add_flag("--correct", args->correct,
                    "gradient correction of saliency, gradxinput and smoothgrad: the gradient's mean over the bases is "
                    "subtracted at each position (before the product with the input)");
  command->add_option("--logos", args->logos,
                      "also draw the first --logo-count maps as logos, DIR/sequence<n>.svg and .png (n: the row of "
                      "--key); use gradxinput for the observed bases only, saliency --correct for all four");
  command->add_option("--logo-count", args->logoCount, "how many maps --logos draws (default 5)");
  command->add_option("--out", args->out, "attribution maps (N, 4, L) as .npy")->required();
  command->callback([args] { runAttribute(*args); });
}

} // namespace seqjit
