// seqjit report: one HTML page about a trained model on the test split of an HDF5 data set: its test metrics per
// task, its first-layer filters as logos with their best database matches, and attribution logos of a few positive
// test sequences with the interpretability metrics where the data holds the generating model.
#include "dsl/Error.h"
#include "runtime/core/AtomicFile.h"
#include "runtime/Attribution.h"
#include "runtime/Evaluation.h"
#include "runtime/Hdf5.h"
#include "runtime/HostLosses.h"
#include "runtime/Metrics.h"
#include "runtime/OneHot.h"
#include "stdlib/FilterMotifs.h"
#include "stdlib/Interpretability.h"
#include "stdlib/Logo.h"
#include "stdlib/SyntheticData.h"
#include "tools/Commands.h"
#include "tools/DataOptions.h"
#include "tools/ModelResolver.h"
#include "tools/TrainedModelOptions.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>

namespace seqjit {

namespace {

struct ReportArguments {
  TrainedModelArguments trained;
  std::string data;
  int64_t output = 0;
  int64_t sequences = 3;
  int64_t alignOn = 2000;
  std::string compare;
  std::string groundTruth;
  double eValue = 0.1;
  std::string out;
};

std::string escaped(const std::string &text) {
  std::string result;
  for (char c : text)
    result += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : c == '"' ? "&quot;" : std::string(1, c);
  return result;
}

std::string base64(const std::string &bytes) {
  static const char *kDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t chunk = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size())
      chunk |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size())
      chunk |= static_cast<uint8_t>(bytes[i + 2]);
    for (size_t k = 0; k < 4; ++k)
      text += k <= bytes.size() - i ? kDigits[(chunk >> (18 - 6 * k)) & 63] : '=';
  }
  return text;
}

/// A logo as an <img> of its SVG: each logo stays its own document, so cairo's glyph ids cannot collide.
std::string logoImage(const HostArray<float> &heights, const LogoStyle &style, const std::string &alt) {
  return fmt::format("<img alt=\"{}\" src=\"data:image/svg+xml;base64,{}\">", escaped(alt),
                     base64(renderLogo(heights, style, "svg")));
}

bool hasDataset(const std::string &path, const std::string &key) {
  std::vector<std::string> keys = listHdf5Datasets(path);
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::string metricsSection(const DatasetOutputs &outputs, const std::vector<std::string> &taskNames) {
  std::map<std::string, std::vector<double>> metrics =
      evaluateTasks(outputPredictions(outputs.outputs, LossKind::BinaryCrossEntropy), outputs.labels);
  std::string html = "<h2>Test metrics</h2>\n<table>\n<tr><th>task</th>";
  for (const std::string &metric : kMetricNames)
    html += "<th>" + metric + "</th>";
  html += "</tr>\n";
  const size_t tasks = metrics.at("auroc").size() - 1;
  for (size_t t = 0; t <= tasks; ++t) {
    std::string name = t == tasks ? "mean" : t < taskNames.size() ? escaped(taskNames[t]) : std::to_string(t);
    html += fmt::format("<tr{}><td>{}</td>", t == tasks ? " class=\"mean\"" : "", name);
    for (const std::string &metric : kMetricNames)
      html += fmt::format("<td>{:.4f}</td>", metrics.at(metric)[t]);
    html += "</tr>\n";
  }
  html +=
      fmt::format("</table>\n<p>loss (BCE) {:.4f} over {} sequences</p>\n",
                  dataLoss(outputs.outputs, outputs.labels, LossKind::BinaryCrossEntropy), outputs.outputs.shape[0]);
  return html;
}

std::string filtersSection(const ReportArguments &args, const Graph &graph, const Parameters &parameters,
                           const HostArray<float> &input) {
  std::vector<Motif> motifs = modelFilterMotifs(graph, parameters, input, {}, args.trained.threads);
  std::vector<Motif> database = args.compare.empty() ? std::vector<Motif>{} : readMemeFile(args.compare);
  std::vector<std::vector<MotifMatch>> matches =
      database.empty() ? std::vector<std::vector<MotifMatch>>{} : matchFilterCores(motifs, database, args.eValue);
  std::string html = fmt::format("<h2>First-layer filters</h2>\n<p>Activation-aligned PWMs from the first {} test "
                                 "sequences (windows where a filter exceeds half its maximum).",
                                 input.shape[0]);
  if (!database.empty()) {
    const auto matched = std::count_if(matches.begin(), matches.end(), [](const auto &l) { return !l.empty(); });
    html += fmt::format(" Matched against {} (E &le; {}): {} of {} filters match a motif", escaped(args.compare),
                        args.eValue, matched, motifs.size());
    if (!args.groundTruth.empty())
      html += fmt::format("; fraction matching the ground truth: {:.3f}",
                          fractionMatching(matches, database, groundTruthMotifNames(args.groundTruth, database)));
    html += ".";
  }
  html += "</p>\n<table>\n<tr><th>filter</th><th>windows</th><th>logo (bits)</th><th>best match</th></tr>\n";
  for (size_t f = 0; f < motifs.size(); ++f) {
    std::string best = "&ndash;";
    if (!matches.empty() && !matches[f].empty()) {
      const MotifMatch &top = matches[f][0];
      best = fmt::format("{} (E {:.2g}{})", escaped(database[top.target].label()), top.eValue,
                         top.reverse ? ", reverse strand" : "");
    }
    LogoStyle style;
    style.columnWidth = 12;
    style.plotHeight = 50;
    style.maximum = 2;
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", motifs[f].id, motifs[f].sites,
                        logoImage(informationHeights(motifs[f]), style, motifs[f].id), best);
  }
  return html + "</table>\n";
}

std::string attributionSection(const ReportArguments &args, const Attributor &attributor, const HostArray<float> &all,
                               const HostArray<float> &labels) {
  const int64_t perRow = labels.shape[0] == 0 ? 0 : labels.size() / labels.shape[0];
  std::vector<int64_t> rows;
  for (int64_t n = 0; n < labels.shape[0] && static_cast<int64_t>(rows.size()) < args.sequences; ++n)
    if (args.output < perRow && labels.data[n * perRow + args.output] > 0.5f)
      rows.push_back(n);
  std::string html = fmt::format("<h2>Attribution maps</h2>\n<p>Gradient &times; input of output {} for the first {} "
                                 "positive test sequences.",
                                 args.output, rows.size());
  if (rows.empty())
    return html + " There are none.</p>\n";
  const int64_t row = all.shape[1] * all.shape[2];
  HostArray<float> input({static_cast<int64_t>(rows.size()), all.shape[1], all.shape[2]});
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy_n(all.data.begin() + rows[i] * row, row, input.data.begin() + static_cast<int64_t>(i) * row);
  HostArray<float> map = attributor.gradientTimesInput(input);
  if (hasDataset(args.data, "model_test")) {
    InterpretabilityScores scores = interpretability(positionScores(map), readHdf5Rows(args.data, "model_test", rows));
    html +=
        fmt::format(" Interpretability against the generating model: AUROC {:.4f}, AUPR {:.4f}; attribution SNR "
                    "{:.3f}; motif localisation AUROC {:.4f} ({} motif instances).",
                    scores.meanAuroc, scores.meanAupr, scores.meanSnr, scores.localisationAuroc, scores.motifInstances);
  }
  html += "</p>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    LogoStyle style;
    style.columnWidth = 5;
    style.plotHeight = 60;
    style.title = fmt::format("test sequence {}", rows[i]);
    html += "<figure>" +
            logoImage(attributionHeights(map.data.data() + static_cast<int64_t>(i) * row, all.shape[2]), style,
                      style.title) +
            "</figure>\n";
  }
  return html;
}

void runReport(const ReportArguments &args) {
  if (std::filesystem::path(args.out).extension() != ".html")
    throw Error(fmt::format("--out '{}': the report is written as .html", args.out));
  if (args.output < 0 || args.sequences < 0 || args.alignOn < 1)
    throw Error(fmt::format("--output {}, --sequences {}, --align-on {}: expected >= 0, >= 0 and >= 1", args.output,
                            args.sequences, args.alignOn));
  if (!args.groundTruth.empty() && args.compare.empty())
    throw Error("--ground-truth needs --compare DATABASE.meme to match the filters against");
  DataArguments dataArguments;
  dataArguments.data = args.data;
  std::unique_ptr<Dataset> test = openSplit(dataArguments, "test");
  if (!test)
    throw Error(fmt::format("'{}' has no X_test to report on", args.data));
  ResolvedModel resolved = resolveModel(args.trained.model, modelOptionsFor(*test, args.trained.activation));
  const Graph &graph = resolved.model->graph();
  Parameters parameters = Parameters::loadNpz(graph, args.trained.weights);
  // Made first: it checks --output against the model before anything is printed (its programs compile on first use).
  Attributor attributor(graph, parameters, args.output, 100, args.trained.threads);

  fmt::print("seqjit report: model {} ({}) with {} on {}\n", graph.name, resolved.origin, args.trained.weights,
             test->describe());
  DatasetOutputs outputs =
      forwardDataset(compile(graph, {.batch = 100, .threads = args.trained.threads}), *test, parameters);
  std::vector<std::string> taskNames =
      hasDataset(args.data, "label_names") ? readHdf5Strings(args.data, "label_names") : std::vector<std::string>{};
  HostArray<float> all = loadSequenceInput(args.data, "X_test");
  HostArray<float> alignOn = all;
  if (alignOn.shape[0] > args.alignOn) {
    alignOn.data.resize(static_cast<size_t>(args.alignOn * alignOn.shape[1] * alignOn.shape[2]));
    alignOn.shape[0] = args.alignOn;
  }

  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>seqjit report: {}</title>\n"
      "<style>body{{font-family:sans-serif;margin:2em;max-width:1400px}}table{{border-collapse:collapse}}"
      "td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}tr.mean td{{font-weight:bold}}"
      "figure{{margin:0.5em 0}}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p>Weights {}; test split of {}.</p>\n",
      escaped(graph.name), escaped(graph.name), escaped(args.trained.weights), escaped(args.data));
  html += metricsSection(outputs, taskNames);
  html += filtersSection(args, graph, parameters, alignOn);
  html += attributionSection(args, attributor, all, outputs.labels);
  html += "</body>\n</html>\n";
  writeFileAtomically(args.out, html);
  fmt::print("  written to {}\n", args.out);
}

} // namespace

void addReportCommand(CLI::App &app) {
  auto args = std::make_shared<ReportArguments>();
  CLI::App *command = app.add_subcommand(
      "report", "One HTML page about a trained model: test metrics, filter logos and matches, attribution logos");
  addDeviceOption(*command);
  addTrainedModelOptions(command, args->trained, false);
  command->add_option("--data", args->data, "HDF5 file with X_test, Y_test (and model_test for synthetic data)")
      ->required();
  command->add_option("--output", args->output, "output explained by the attribution maps (default 0)");
  command->add_option("--sequences", args->sequences, "positive test sequences whose maps are drawn (default 3)");
  command->add_option("--align-on", args->alignOn, "test sequences the filters are aligned on (default 2000)");
  command->add_option("--compare", args->compare, "MEME database the filters are matched against, e.g. JASPAR");
  command->add_option("--ground-truth", args->groundTruth, "task1, task3 or names: the motifs the filters should find");
  command->add_option("--evalue", args->eValue, "E-value threshold of a match (default 0.1)");
  command->add_option("--out", args->out, "the report (.html)")->required();
  command->callback([args] { runReport(*args); });
}

} // namespace seqjit
