// bench_attribution: throughput of the attribution maps (saliency, integrated gradients, DeepSHAP, ISM) of zoo
// models, with the weights, sequences, references and maps written out so that bench/torch_attribution.py computes
// the same maps in PyTorch and checks them.
#include "BenchSupport.h"
#include "runtime/Attribution.h"
#include "runtime/DinucleotideShuffle.h"
#include "runtime/OneHot.h"
#include "stdlib/Models.h"

#include <fmt/format.h>

#include <chrono>
#include <string>

namespace {

using namespace seqjit;
using namespace seqjit::bench;

constexpr const char *kUsage =
    "usage: bench_attribution [--model NAME]... [--batch N] [--sequences S] [--references R] [--steps K]\n"
    "                         [--reps R] [--warmup W] [--seed S] [--out-dir DIR] [--json FILE]\n"
    "  Times the compiled attribution maps of output 0 of each model (default cnn-deep; its zoo activation):\n"
    "    saliency  d output / d input of --batch sequences (default 100)\n"
    "    ig        integrated gradients of --sequences sequences (default 10), --references dinucleotide-shuffled\n"
    "              references each (default 10), --steps steps (default 20)\n"
    "    deepshap  DeepSHAP (DeepLIFT's rescale rule) of --sequences sequences against the same references\n"
    "    ism       naive in-silico mutagenesis of --sequences sequences (3 L mutants each)\n"
    "    ism_incremental  the same by incremental mutagenesis (only the windows a mutation changes)\n"
    "  Writes DIR/<model>/{weights.npz,input,few,references,saliency,ig,deepshap,ism,ism_incremental}.npy for "
    "bench/torch_attribution.py\n"
    "  and, with --json, appends one JSON object per model and method to FILE.\n";

struct AttributionBenchArguments {
  int64_t sequences = 10, references = 10, steps = 20;
};

void benchmarkModel(const std::string &name, const BenchArguments &args, const AttributionBenchArguments &extra,
                    JsonLines &json) {
  std::unique_ptr<Model> model = buildZooModel(name, {});
  const Graph &graph = model->graph();
  const ModelEntry &entry = findModel(name);
  const int64_t length = graph.inputNode().shape[1];
  Parameters parameters = Parameters::initialize(graph, args.seed);
  parameters.randomizeBatchNorm(graph, args.seed);
  HostArray<float> batch = randomOneHot(args.batch, length, args.seed);
  HostArray<float> few = randomOneHot(extra.sequences, length, args.seed + 1);
  HostArray<float> references = dinucleotideShuffles(few, extra.references, args.seed);

  fmt::print("bench_attribution: {} (L={}, {} activation), compiling...\n", name, length, entry.defaultActivation);
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  Attributor attributor(graph, parameters, 0, 100);
  // Programs compile on first use: one call of each on a single sequence is (nearly all) compile time.
  HostArray<float> one = randomOneHot(1, length, args.seed + 2);
  attributor.saliency(one);
  attributor.deepShap(one, one);
  attributor.outputs(one);
  attributor.incrementalMutagenesis(one);
  double compileSeconds = secondsSince(start);

  // The counted work of a call (see workFields): `passes` forward-pass equivalents of the convolutions and dense
  // layers for each of `examples` model inputs. A saliency map is a forward pass and an input gradient; DeepLIFT
  // runs the input and the reference forward and the multipliers back. Incremental ISM's work (a window of each
  // layer per mutant) is not counted: its row shows no GFLOP/s.
  struct Method {
    std::string name;
    int64_t sequences;
    std::function<HostArray<float>()> run;
    int64_t examples = 0;
    int passes = 0;
    HostArray<float> map = {};
  };
  const int64_t referenceCount = extra.sequences * extra.references;
  std::vector<Method> methods = {
      {"saliency", args.batch, [&] { return attributor.saliency(batch); }, args.batch, 2},
      {"ig", extra.sequences, [&] { return attributor.integratedGradients(few, references, extra.steps); },
       referenceCount * extra.steps, 2},
      {"deepshap", extra.sequences, [&] { return attributor.deepShap(few, references).hypothetical; }, referenceCount,
       3},
      {"ism", extra.sequences, [&] { return attributor.mutagenesis(few); }, extra.sequences * (3 * length + 1), 1},
      {"ism_incremental", extra.sequences, [&] { return attributor.incrementalMutagenesis(few); }},
  };
  for (Method &method : methods) {
    std::vector<double> seconds = timeRepetitions(args.warmup, args.reps, [&] { method.map = method.run(); });
    double medianSeconds = median(seconds);
    fmt::print("  {} {}: median {:.3f} s for {} sequences ({:.1f} sequences/s)\n", name, method.name, medianSeconds,
               method.sequences, method.sequences / medianSeconds);
    json.append(fmt::format(
        "{{\"side\": \"seqjit\", \"model\": \"{}\", \"method\": \"{}\", \"activation\": \"{}\", "
        "\"sequences\": {}, \"references\": {}, \"steps\": {}, \"reps\": {}, \"median_s\": "
        "{:.6g}, \"sequences_per_s\": {:.6g}, \"compile_s\": {:.6g}, \"peak_rss_mb\": {:.6g}{}}}",
        name, method.name, entry.defaultActivation, method.sequences, extra.references, extra.steps, args.reps,
        medianSeconds, method.sequences / medianSeconds, compileSeconds, peakResidentMegabytes(),
        method.passes ? workFields(multiplyAddsPerExample(graph), method.examples, method.passes) : std::string()));
  }
  writeBenchData(args.outputDirectory, name, parameters,
                 {{"input", &batch},
                  {"few", &few},
                  {"references", &references},
                  {"saliency", &methods[0].map},
                  {"ig", &methods[1].map},
                  {"deepshap", &methods[2].map},
                  {"ism", &methods[3].map},
                  {"ism_incremental", &methods[4].map}});
}

} // namespace

int main(int argc, char **argv) {
  return runBench([&] {
    BenchArguments args;
    args.models = {"cnn-deep"};
    args.reps = 3;
    args.outputDirectory = "bench/results/attribution-data";
    AttributionBenchArguments extra;
    parseBenchArguments(argc, argv, "bench_attribution", kUsage, args,
                        [&](const std::string &option, const std::string &value) {
                          if (option == "--sequences")
                            extra.sequences = parseInteger("bench_attribution", option, value, 1);
                          else if (option == "--references")
                            extra.references = parseInteger("bench_attribution", option, value, 1);
                          else if (option == "--steps")
                            extra.steps = parseInteger("bench_attribution", option, value, 1);
                          else
                            return false;
                          return true;
                        });
    JsonLines json("bench_attribution", args.jsonPath);
    for (const std::string &name : args.models)
      benchmarkModel(name, args, extra, json);
  });
}
