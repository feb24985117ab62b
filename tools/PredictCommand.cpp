// seqjit predict: a trained model's predictions for sequences from FASTA, BED, HDF5 or .npy, written as TSV or .npy.
#include "dsl/Error.h"
#include "runtime/Evaluation.h"
#include "runtime/HostLosses.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/SequenceFiles.h"
#include "runtime/Stopwatch.h"
#include "runtime/core/AtomicFile.h"
#include "tools/Commands.h"
#include "tools/ModelResolver.h"
#include "tools/ProgressLine.h"
#include "tools/TrainedModelOptions.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

namespace seqjit {

namespace {

struct PredictArguments {
  TrainedModelArguments trained;
  std::string input;
  std::string key = "X_test";
  std::string labels;
  std::string reference;
  std::string ambiguous = "zero";
  std::string loss = "bce";
  bool logits = false;
  std::string output;
};

/// The sequences to predict, and a name per sequence for the TSV: FASTA record names, BED intervals as
/// chrom:start-end, or indices.
struct PredictInput {
  std::unique_ptr<Dataset> data;
  std::function<std::string(int64_t)> name;
};

PredictInput openInput(const PredictArguments &args) {
  std::string extension = std::filesystem::path(args.input).extension().string();
  PredictInput input;
  AmbiguousBases ambiguous = parseAmbiguousBases(args.ambiguous);
  if (extension == ".fa" || extension == ".fasta" || extension == ".fna") {
    auto fasta = std::make_unique<FastaDataset>(args.input, args.labels, ambiguous);
    input.name = [names = fasta->names()](int64_t i) { return names[static_cast<size_t>(i)]; };
    input.data = std::move(fasta);
    return input;
  }
  if (extension == ".bed") {
    if (args.reference.empty())
      throw Error(fmt::format("--input '{}' is a BED file: give the reference genome with --reference", args.input));
    auto bed = std::make_unique<BedDataset>(args.input, args.reference, ambiguous, BedLabels::None);
    input.name = [bed = bed.get()](int64_t i) { return bed->intervalName(i); };
    input.data = std::move(bed);
    return input;
  }
  input.data = std::make_unique<UnlabelledDataset>(openSequenceRows(args.input, args.key, "--input"));
  input.name = [](int64_t i) { return std::to_string(i); };
  return input;
}

/// Predictions written as they come, a chunk of sequences at a time: a .npy of (N, outputs...) or a TSV with a
/// named row per sequence.
class PredictionWriter {
public:
  PredictionWriter(const std::string &path, std::vector<int64_t> shape) {
    if (std::filesystem::path(path).extension() == ".npy") {
      npy_.emplace(path, std::move(shape));
      return;
    }
    tsv_.emplace(path);
    std::string header = "name";
    for (int64_t column = 0; column < HostArray<float>::elementCount({shape.begin() + 1, shape.end()}); ++column)
      header += fmt::format("\toutput_{}", column);
    tsv_->write(header + "\n");
  }

  void append(const HostArray<float> &predictions, int64_t first, const std::function<std::string(int64_t)> &name) {
    if (npy_) {
      npy_->append(predictions);
      return;
    }
    int64_t count = predictions.shape.at(0), width = count == 0 ? 0 : predictions.size() / count;
    std::string text;
    for (int64_t row = 0; row < count; ++row) {
      text += name(first + row);
      for (int64_t column = 0; column < width; ++column)
        text += fmt::format("\t{:.6g}", predictions.data[row * width + column]);
      text += "\n";
    }
    tsv_->write(text);
  }

  void finish() {
    if (npy_)
      npy_->finish();
    else
      tsv_->commit();
  }

private:
  std::optional<NpyRowWriter> npy_;
  std::optional<AtomicFileWriter> tsv_;
};

void runPredict(const PredictArguments &args) {
  auto start = std::chrono::steady_clock::now();
  std::string extension = std::filesystem::path(args.output).extension().string();
  if (extension != ".tsv" && extension != ".npy")
    throw Error(fmt::format("--out '{}': write predictions as .tsv or .npy", args.output));
  LossKind loss = parseLossKind(args.loss);
  PredictInput input = openInput(args);
  ResolvedModel resolved =
      resolveModel(args.trained.model,
                   ModelFileOptions{args.trained.activation, input.data->inputShape().at(1), args.trained.outputs});
  const Graph &graph = resolved.model->graph();
  Parameters parameters = Parameters::loadNpz(graph, args.trained.weights);
  int64_t count = input.data->size();
  checkInputShape(graph, batchedShape(count, input.data->inputShape()), args.input);
  double loadSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  CompileOptions options;
  options.threads = args.trained.threads;
  CompiledModel model = compile(graph, options);
  double compileSeconds = secondsSince(start);

  start = std::chrono::steady_clock::now();
  PredictionWriter writer(args.output, batchedShape(count, graph.outputNode().shape));
  ProgressLine progress("sequences");
  forwardInChunks(model, *input.data, parameters, [&](int64_t first, Examples &, HostArray<float> &outputs) {
    writer.append(args.logits ? outputs : outputPredictions(outputs, loss), first, input.name);
    progress(first + outputs.shape.at(0), count);
  });
  writer.finish();
  double runSeconds = secondsSince(start);
  fmt::print("seqjit predict: model {} ({}), {} sequences from {}: {} {} written to {}\n", graph.name, resolved.origin,
             count, input.data->describe(), args.logits ? "outputs (logits)" : "predictions",
             count * HostArray<float>::elementCount(graph.outputNode().shape), args.output);
  fmt::print("  time: load {:.2f} s, compile {:.2f} s, run {:.3f} s ({:.4f} ms per sequence)\n", loadSeconds,
             compileSeconds, runSeconds, 1e3 * runSeconds / static_cast<double>(std::max<int64_t>(count, 1)));
}

} // namespace

void addPredictCommand(CLI::App &app) {
  auto args = std::make_shared<PredictArguments>();
  CLI::App *command = app.add_subcommand("predict", "Predictions of trained weights for FASTA, BED, HDF5 or .npy "
                                                    "sequences, as TSV or .npy");
  addDeviceOption(*command);
  addTrainedModelOptions(command, args->trained, true);
  command
      ->add_option(
          "--input", args->input,
          "sequences: FASTA (.fa, .fasta, .fna; --labels optional), BED (.bed with --reference; columns after the "
          "third ignored), "
          "HDF5 (.h5, with --key) or one-hot .npy (N, 4, L)")
      ->required();
  command->add_option("--key", args->key, "HDF5 dataset of the sequences (default X_test)");
  command->add_option("--labels", args->labels, "labels TSV of a FASTA input (not needed to predict)");
  command->add_option("--reference", args->reference, "reference genome FASTA for BED intervals");
  command->add_option("--ambiguous", args->ambiguous, "N and other IUPAC letters: zero (default) or uniform");
  command->add_option("--out", args->output, "predictions: .tsv (a row per sequence, named) or .npy")->required();
  command->add_option("--loss", args->loss,
                      "the loss the model was trained with: decides the prediction (sigmoid "
                      "for bce, exp for poisson, softmax for multinomial)");
  command->add_flag("--logits", args->logits, "write the raw model outputs instead");
  command->callback([args] { runPredict(*args); });
}

} // namespace seqjit
