// seqjit predict: a trained model's predictions for sequences from FASTA, BED, HDF5 or .npy, written as TSV or .npy.
#include "dsl/Error.h"
#include "runtime/core/AtomicFile.h"
#include "runtime/Evaluation.h"
#include "runtime/HostLosses.h"
#include "runtime/Npy.h"
#include "runtime/OneHot.h"
#include "runtime/SequenceFiles.h"
#include "tools/Commands.h"
#include "tools/ModelResolver.h"
#include "tools/TrainedModelOptions.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

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
  std::vector<std::string> names;
};

PredictInput openInput(const PredictArguments &args) {
  std::string extension = std::filesystem::path(args.input).extension().string();
  PredictInput input;
  AmbiguousBases ambiguous = parseAmbiguousBases(args.ambiguous);
  if (extension == ".fa" || extension == ".fasta" || extension == ".fna") {
    auto fasta = std::make_unique<FastaDataset>(args.input, args.labels, ambiguous);
    input.names = fasta->names();
    input.data = std::move(fasta);
    return input;
  }
  if (extension == ".bed") {
    if (args.reference.empty())
      throw Error(fmt::format("--input '{}' is a BED file: give the reference genome with --reference", args.input));
    auto bed = std::make_unique<BedDataset>(args.input, args.reference, ambiguous, BedLabels::None);
    for (int64_t i = 0; i < bed->size(); ++i)
      input.names.push_back(bed->intervalName(i));
    input.data = std::move(bed);
    return input;
  }
  HostArray<float> sequences = loadSequenceInput(args.input, args.key);
  int64_t count = sequences.shape.at(0);
  input.data = std::make_unique<ArrayDataset>(std::move(sequences), HostArray<float>({count, 0}),
                                              fmt::format("'{}'", args.input));
  for (int64_t i = 0; i < input.data->size(); ++i)
    input.names.push_back(std::to_string(i));
  return input;
}

std::string predictionsTsv(const HostArray<float> &predictions, const std::vector<std::string> &names) {
  int64_t count = predictions.shape.at(0), width = count == 0 ? 0 : predictions.size() / count;
  std::string text = "name";
  for (int64_t column = 0; column < width; ++column)
    text += fmt::format("\toutput_{}", column);
  text += "\n";
  for (int64_t row = 0; row < count; ++row) {
    text += names[row];
    for (int64_t column = 0; column < width; ++column)
      text += fmt::format("\t{:.6g}", predictions.data[row * width + column]);
    text += "\n";
  }
  return text;
}

void runPredict(const PredictArguments &args) {
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
  checkInputShape(graph, batchedShape(input.data->size(), input.data->inputShape()), args.input);
  CompileOptions options;
  options.threads = args.trained.threads;
  CompiledModel model = compile(graph, options);
  HostArray<float> outputs = forwardDataset(model, *input.data, parameters).outputs;
  HostArray<float> predictions = args.logits ? outputs : outputPredictions(outputs, loss);
  if (extension == ".npy")
    writeNpy(args.output, predictions);
  else
    writeFileAtomically(args.output, predictionsTsv(predictions, input.names));
  fmt::print("seqjit predict: model {} ({}), {} sequences from {}: {} {} written to {}\n", graph.name, resolved.origin,
             input.data->size(), input.data->describe(), args.logits ? "outputs (logits)" : "predictions",
             predictions.size(), args.output);
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
