// seqjit evaluate: the data loss and the papers' metrics (per task and averaged) of trained weights on a data split.
#include "dsl/Error.h"
#include "runtime/Evaluation.h"
#include "runtime/HostLosses.h"
#include "runtime/Metrics.h"
#include "runtime/Stopwatch.h"
#include "runtime/core/AtomicFile.h"
#include "tools/Commands.h"
#include "tools/DataOptions.h"
#include "tools/ModelResolver.h"
#include "tools/ProgressLine.h"
#include "tools/TrainedModelOptions.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

namespace seqjit {

namespace {

struct EvaluateArguments {
  TrainedModelArguments trained;
  DataArguments data;
  std::string split = "test";
  std::string loss = "bce";
  std::string output;
};

void runEvaluate(const EvaluateArguments &args) {
  if (args.split != "train" && args.split != "valid" && args.split != "test")
    throw Error(fmt::format("--split must be train, valid or test, got '{}'", args.split));
  if (args.split != "test" && args.data.data.empty())
    throw Error("--split picks a split of --data; with --test FILE the file is the split");
  LossKind loss = parseLossKind(args.loss);
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Dataset> data = openSplit(args.data, args.split);
  if (!data)
    throw Error(args.data.data.empty() ? "no data: give --data D.h5 or --test FILE"
                                       : fmt::format("'{}' has no X_{}", args.data.data, args.split));
  ResolvedModel resolved = resolveModel(args.trained.model, modelOptionsFor(*data, args.trained.activation));
  const Graph &graph = resolved.model->graph();
  Parameters parameters = Parameters::loadNpz(graph, args.trained.weights);
  double loadSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  CompileOptions options;
  options.threads = args.trained.threads;
  CompiledModel model = compile(graph, options);
  double compileSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  DatasetOutputs result = forwardDataset(model, *data, parameters, ProgressLine("sequences"));

  fmt::print("seqjit evaluate: model {} ({}) with {} on {}: {} sequences\n", graph.name, resolved.origin,
             args.trained.weights, data->describe(), data->size());
  nlohmann::json json{{"loss", dataLoss(result.outputs, result.labels, loss)}};
  fmt::print("  loss ({}): {:.6f}\n", args.loss, json["loss"].get<double>());
  if (result.outputs.rank() <= 2) {
    for (const auto &[metric, perTask] : evaluateTasks(outputPredictions(result.outputs, loss), result.labels)) {
      std::vector<double> tasksOnly(perTask.begin(), perTask.end() - 1);
      json[metric] = {{"mean", std::isfinite(perTask.back()) ? nlohmann::json(perTask.back()) : nullptr},
                      {"per_task", tasksOnly}};
      std::string detail;
      if (tasksOnly.size() > 1)
        for (size_t task = 0; task < tasksOnly.size() && task < 12; ++task)
          detail += fmt::format("{}{:.4f}", task == 0 ? "  (tasks: " : " ", tasksOnly[task]);
      if (!detail.empty())
        detail += tasksOnly.size() > 12 ? " ...)" : ")";
      fmt::print("  {:<9} {:.4f}{}\n", metric + ":", perTask.back(), detail);
    }
  }
  double runSeconds = secondsSince(start);
  fmt::print("  time: load {:.2f} s, compile {:.2f} s, run {:.3f} s ({:.4f} ms per sequence)\n", loadSeconds,
             compileSeconds, runSeconds, 1e3 * runSeconds / static_cast<double>(std::max<int64_t>(data->size(), 1)));
  if (!args.output.empty()) {
    writeFileAtomically(args.output, json.dump(2) + "\n");
    fmt::print("  written to {}\n", args.output);
  }
}

} // namespace

void addEvaluateCommand(CLI::App &app) {
  auto args = std::make_shared<EvaluateArguments>();
  CLI::App *command = app.add_subcommand("evaluate", "Loss and metrics (AUROC, AUPR, accuracy, Pearson, Spearman) "
                                                     "of trained weights on a data split");
  addDeviceOption(*command);
  addTrainedModelOptions(command, args->trained, false);
  addDataOptions(command, args->data, {"test"});
  command->add_option("--split", args->split, "split of --data: test (default), valid or train");
  command->add_option("--loss", args->loss, "the loss the model was trained with (bce, mse, poisson, multinomial)");
  command->add_option("--out", args->output, "also write the values as JSON (per task and mean)");
  command->callback([args] { runEvaluate(*args); });
}

} // namespace seqjit
