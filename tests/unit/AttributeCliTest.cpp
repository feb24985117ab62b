// seqjit attribute and filters run as a user runs them: the maps written equal the reference interpreter's input
// gradients of the chosen output for the chosen sequences, with the interpretability metrics where the data holds
// the generating model; the filter motifs equal the windows aligned on the interpreter's first-layer activations;
// mistakes give one clear error line.
#include "CliRunner.h"
#include "Closeness.h"
#include "PlantedMotif.h"
#include "runtime/DinucleotideShuffle.h"
#include "runtime/GradientPrograms.h"
#include "runtime/Hdf5.h"
#include "runtime/Npy.h"
#include "runtime/ReferenceInterpreter.h"
#include "stdlib/AttributionConsistency.h"
#include "stdlib/FilterMotifs.h"
#include "stdlib/Interpretability.h"
#include "stdlib/Models.h"
#include "stdlib/MotifComparison.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace seqjit {
namespace {

namespace fs = std::filesystem;
using testing::expectOneError;
using ::testing::HasSubstr;
using testing::RunResult;

constexpr int64_t kSequences = 12, kLength = 200;

class AttributeCliTest : public testing::SeqjitDirectoryTest {
protected:
  AttributeCliTest() : SeqjitDirectoryTest("seqjit-attribute-cli") {}
  void SetUp() override {
    SeqjitDirectoryTest::SetUp();
    auto [x, y] = testing::plantedMotif(kSequences, kLength, 5);
    input_ = x;
    labels_ = y;
    // A generating model with a "motif" at positions 90..99 of every sequence: the metrics need both classes.
    models_ = HostArray<float>({kSequences, 4, kLength}, 0.25f);
    for (int64_t n = 0; n < kSequences; ++n)
      for (int64_t l = 90; l < 100; ++l)
        for (int64_t b = 0; b < 4; ++b)
          models_.data[(n * 4 + b) * kLength + l] = b == 1 ? 1.0f : 0.0f;
    writeHdf5File(path("data.h5"), {{"X_test", x}, {"Y_test", y, Hdf5Storage::Int8}, {"model_test", models_}});
    writeNpy(path("x.npy"), x);
    parameters_.saveNpz(path("w.npz"));
  }

  /// The interpreter's d output[0] / d input (float64) of rows `rows` of the input.
  HostArray<double> expectedSaliency(const std::vector<int64_t> &rows) const {
    HostArray<double> x({static_cast<int64_t>(rows.size()), 4, kLength});
    for (size_t i = 0; i < rows.size(); ++i)
      for (int64_t j = 0; j < 4 * kLength; ++j)
        x.data[i * 4 * kLength + j] = input_.data[rows[i] * 4 * kLength + j];
    HostArray<double> seed({x.shape[0], 1}, 1.0);
    return interpretInputGradient<double>(model_->graph(), false, x, seed, parameters_);
  }

  HostArray<float> input_, labels_, models_;
  std::unique_ptr<Model> model_ = buildZooModel("cnn-local", {.activation = "exp"});
  Parameters parameters_ = [this] {
    Parameters p = Parameters::initialize(model_->graph(), 2);
    p.randomizeBatchNorm(model_->graph(), 3);
    return p;
  }();
};

const std::string kModel = "cnn-local --activation exp --weights w.npz";

TEST_F(AttributeCliTest, SaliencyOfEverySequenceEqualsTheInterpreterAndIsScored) {
  RunResult result = run("attribute " + kModel + " --input data.h5 --method saliency --out s.npy --threads 1");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  std::vector<int64_t> all;
  for (int64_t n = 0; n < kSequences; ++n)
    all.push_back(n);
  HostArray<float> written = readNpy<float>(path("s.npy"));
  HostArray<double> expected = expectedSaliency(all);
  ASSERT_EQ(written.shape, expected.shape);
  EXPECT_LE(testing::relativeError(written.data, expected.data), 1e-4);

  // The metrics line scores gradient x input against model_test.
  HostArray<float> scored = written;
  for (int64_t i = 0; i < scored.size(); ++i)
    scored.data[i] *= input_.data[i];
  InterpretabilityScores scores = interpretability(positionScores(scored), models_);
  EXPECT_THAT(result.output, HasSubstr(fmt::format("({} of {} sequences carry motifs): AUROC {:.4f}, AUPR {:.4f}",
                                                   kSequences, kSequences, scores.meanAuroc, scores.meanAupr)));
  EXPECT_THAT(result.output, HasSubstr(fmt::format(
                                 "attribution SNR {:.3f} ({} sequences), motif localisation AUROC {:.4f} ({} motif "
                                 "instances)",
                                 scores.meanSnr, scores.snrScored, scores.localisationAuroc, scores.motifInstances)));
  // The consistency line, on the written maps and the sequences they explain.
  EXPECT_THAT(result.output,
              HasSubstr(fmt::format("consistency across the {} maps: KLD 3-mer {:.4f}, k-attr-mean {:.4f}", kSequences,
                                    kmerConsistency(written, input_), attributionVectorConsistency(written, input_))));
}

TEST_F(AttributeCliTest, DeepShapEqualsTheInterpretersDeepLiftAgainstTheDocumentedShuffles) {
  constexpr int64_t sequences = 2, references = 3, row = 4 * kLength;
  RunResult result =
      run("attribute " + kModel +
          " --input data.h5 --limit 2 --method deepshap --references 3 --seed 4 --out d.npy --threads 1");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  RunResult all = run("attribute " + kModel +
                      " --input data.h5 --limit 2 --method deepshap --hypothetical --references 3 --seed 4 --out h.npy "
                      "--threads 1");
  ASSERT_EQ(all.exitCode, 0) << all.output;
  EXPECT_THAT(all.output, HasSubstr("deepshap (hypothetical contributions) of output 0"));

  // Each sequence against its 3 shuffles (--seed 4, streams by row), DeepLIFT on the interpreter in double.
  HostArray<float> x({sequences, 4, kLength}, std::vector<float>(input_.data.begin(), input_.data.begin() + 2 * row));
  HostArray<float> shuffles = dinucleotideShuffles(x, references, 4, 0);
  HostArray<double> repeated(shuffles.shape), seed({sequences * references, 1}, 1.0);
  for (int64_t i = 0; i < sequences * references; ++i)
    std::copy_n(x.data.begin() + (i / references) * row, row, repeated.data.begin() + i * row);
  DeepLiftResult<double> exact =
      interpretDeepLift<double>(model_->graph(), repeated, shuffles.cast<double>(), seed, parameters_);
  HostArray<double> hypothetical(x.shape), observed(x.shape);
  for (int64_t i = 0; i < sequences * references; ++i)
    for (int64_t l = 0; l < kLength; ++l) {
      double fromReference = 0;
      for (int64_t c = 0; c < 4; ++c)
        fromReference += exact.multipliers.data[i * row + c * kLength + l] * shuffles.data[i * row + c * kLength + l];
      for (int64_t c = 0; c < 4; ++c) {
        const int64_t at = (i / references) * row + c * kLength + l;
        const double h = (exact.multipliers.data[i * row + c * kLength + l] - fromReference) / references;
        hypothetical.data[at] += h;
        observed.data[at] += h * x.data[at];
      }
    }
  EXPECT_LE(testing::relativeError(readNpy<float>(path("h.npy")).data, hypothetical.data), 1e-3);
  EXPECT_LE(testing::relativeError(readNpy<float>(path("d.npy")).data, observed.data), 1e-3);
}

TEST_F(AttributeCliTest, IsmIncrementalAndNaiveEqualTheInterpretersForwardPassOfEveryMutant) {
  RunResult incremental =
      run("attribute " + kModel + " --input data.h5 --limit 1 --method ism --out i.npy --threads 1");
  ASSERT_EQ(incremental.exitCode, 0) << incremental.output;
  RunResult naive = run("attribute " + kModel + " --input data.h5 --limit 1 --method ism --naive --out n.npy");
  ASSERT_EQ(naive.exitCode, 0) << naive.output;
  const int64_t row = 4 * kLength;
  HostArray<double> sequence({1, 4, kLength}, std::vector<double>(input_.data.begin(), input_.data.begin() + row));
  const double wildType = interpretForward<double>(model_->graph(), parameters_.tensors(), sequence).data[0];
  std::vector<double> expected(row);
  for (int64_t l = 0; l < kLength; ++l)
    for (int64_t b = 0; b < 4; ++b) {
      if (sequence.data[b * kLength + l] == 1.0)
        continue;
      HostArray<double> mutant = sequence;
      for (int64_t c = 0; c < 4; ++c)
        mutant.data[c * kLength + l] = c == b ? 1.0 : 0.0;
      expected[b * kLength + l] =
          interpretForward<double>(model_->graph(), parameters_.tensors(), mutant).data[0] - wildType;
    }
  EXPECT_LE(testing::relativeError(readNpy<float>(path("i.npy")).data, expected), 1e-4);
  EXPECT_LE(testing::relativeError(readNpy<float>(path("n.npy")).data, expected), 1e-4);
}

TEST_F(AttributeCliTest, PositivesAndLimitPickTheLabelledRowsInOrder) {
  RunResult result =
      run("attribute " + kModel + " --input data.h5 --positives --limit 3 --method saliency --out p.npy --threads 1");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  std::vector<int64_t> positives;
  for (int64_t n = 0; n < kSequences && positives.size() < 3; ++n)
    if (labels_.data[n] > 0.5f)
      positives.push_back(n);
  ASSERT_EQ(positives.size(), 3u) << "the planted data has at least 3 positives";
  HostArray<float> written = readNpy<float>(path("p.npy"));
  HostArray<double> expected = expectedSaliency(positives);
  ASSERT_EQ(written.shape, expected.shape);
  EXPECT_LE(testing::relativeError(written.data, expected.data), 1e-4);
  EXPECT_THAT(result.output, HasSubstr("for 3 positive sequences"));

  // Logos of the first two maps, named by their rows of X_test, as SVG and PNG.
  RunResult drawn = run("attribute " + kModel +
                        " --input data.h5 --positives --limit 3 --out p.npy --logos logos --logo-count 2 --threads 1");
  ASSERT_EQ(drawn.exitCode, 0) << drawn.output;
  for (int64_t n : {positives[0], positives[1]}) {
    std::ifstream png(path(fmt::format("logos/sequence{}.png", n)), std::ios::binary);
    char signature[8] = {};
    png.read(signature, 8);
    EXPECT_EQ(std::string(signature + 1, 3), "PNG") << n;
    EXPECT_TRUE(fs::exists(path(fmt::format("logos/sequence{}.svg", n)))) << n;
  }
  EXPECT_FALSE(fs::exists(path(fmt::format("logos/sequence{}.png", positives[2]))));
}

TEST_F(AttributeCliTest, FiltersAreTheAlignedWindowsOfTheInterpretersActivations) {
  RunResult result = run("filters " + kModel + " --input data.h5 --out f.meme --threads 1");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  std::vector<Motif> written = readMemeFile(path("f.meme"));
  // The first layer's activations from the reference interpreter, aligned independently of the compiled cut graph.
  const Graph &graph = model_->graph();
  const int layer = firstActivationNode(graph);
  std::vector<HostArray<float>> nodes = interpretAll<float>(graph, parameters_.tensors(), input_);
  std::vector<Motif> expected = filterMotifs(nodes[layer], input_);
  ASSERT_EQ(written.size(), expected.size());
  ASSERT_EQ(written.size(), static_cast<size_t>(graph.nodes[layer].shape[0]));
  for (size_t f = 0; f < written.size(); ++f) {
    EXPECT_EQ(written[f].id, expected[f].id);
    ASSERT_EQ(written[f].probabilities.shape, expected[f].probabilities.shape);
    for (int64_t i = 0; i < expected[f].probabilities.size(); ++i)
      EXPECT_NEAR(written[f].probabilities.data[i], expected[f].probabilities.data[i], 2e-6) << "filter " << f;
  }
  EXPECT_THAT(result.output, HasSubstr("layer 'act1'"));
  RunResult drawn = run("filters " + kModel + " --input data.h5 --out f.meme --logos logos --threads 1");
  ASSERT_EQ(drawn.exitCode, 0) << drawn.output;
  for (const Motif &motif : written)
    EXPECT_TRUE(fs::exists(path("logos/" + motif.id + ".png")) && fs::exists(path("logos/" + motif.id + ".svg")))
        << motif.id;
  expectOneError(run("filters " + kModel + " --input data.h5 --out f.pwm"), {"'f.pwm'", "MEME text"});
  expectOneError(run("filters " + kModel + " --input data.h5 --out f.meme --ground-truth task1"),
                 {"--ground-truth needs --compare"});
}

TEST_F(AttributeCliTest, FiltersComparedWithADatabaseReportTheFractionsMatching) {
  // The database: two of the written filters' own cores and a JASPAR motif; each of those two filters must find
  // its own core, so at least 2 of the 24 filters match the ground truth named by their ids.
  RunResult first = run("filters " + kModel + " --input data.h5 --out f.meme --clip --threads 1");
  ASSERT_EQ(first.exitCode, 0) << first.output;
  std::vector<Motif> cores = readMemeFile(path("f.meme"));
  std::vector<Motif> database = {cores[0], cores[5]};
  database[0].name = "first";
  database[1].name = "sixth";
  writeMemeFile(path("db.meme"), database);
  RunResult result = run("filters " + kModel +
                         " --input data.h5 --out g.meme --compare db.meme --ground-truth first,sixth --threads 1");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  std::vector<std::vector<MotifMatch>> matches = compareMotifs(cores, database);
  EXPECT_FALSE(matches[0].empty());
  EXPECT_FALSE(matches[5].empty());
  EXPECT_THAT(result.output, HasSubstr(fmt::format("filters matching the ground truth (first, sixth): {:.3f}",
                                                   fractionMatching(matches, database, {"first", "sixth"}))));
  EXPECT_THAT(result.output, HasSubstr("filter0 "));
  EXPECT_THAT(result.output, HasSubstr("first (E "));
}

/// The bytes of base64 `text` (no validation: the report's encoder is what is under test).
std::string decodeBase64(const std::string &text) {
  const std::string digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=')
      break;
    buffer = (buffer << 6) | static_cast<uint32_t>(digits.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return bytes;
}

TEST_F(AttributeCliTest, ReportHasTheMetricsTheFilterLogosAndTheMapLogos) {
  RunResult result = run("report " + kModel + " --data data.h5 --out r.html --threads 1");
  ASSERT_EQ(result.exitCode, 0) << result.output;
  std::ifstream in(path("r.html"));
  std::stringstream text;
  text << in.rdbuf();
  const std::string html = text.str();
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  // The mean AUROC of the metrics table is what seqjit evaluate reports.
  RunResult evaluated = run("evaluate " + kModel + " --data data.h5 --threads 1");
  ASSERT_EQ(evaluated.exitCode, 0) << evaluated.output;
  std::smatch found;
  ASSERT_TRUE(std::regex_search(evaluated.output, found, std::regex(R"(auroc:\s+([0-9.]+))")));
  EXPECT_NE(html.find("<tr class=\"mean\"><td>mean</td><td>" + found[1].str() + "</td>"), std::string::npos);
  // One logo per filter (24) and one per drawn positive sequence (3), each an SVG document.
  int64_t positives = 0;
  for (float y : labels_.data)
    positives += y > 0.5f;
  // (Found by hand: std::regex recurses per character and would overflow the stack on these long strings.)
  const std::string prefix = "src=\"data:image/svg+xml;base64,";
  std::vector<std::string> images;
  for (size_t at = html.find(prefix); at != std::string::npos; at = html.find(prefix, at + 1)) {
    const size_t start = at + prefix.size();
    images.push_back(html.substr(start, html.find('"', start) - start));
  }
  EXPECT_EQ(static_cast<int64_t>(images.size()), 24 + std::min<int64_t>(3, positives));
  for (const std::string &encoded : {images.front(), images.back()}) {
    std::string svg = decodeBase64(encoded);
    EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
  }
  EXPECT_NE(html.find("Interpretability against the generating model: AUROC"), std::string::npos);
  EXPECT_NE(html.find("; attribution SNR "), std::string::npos);
  EXPECT_NE(html.find("; motif localisation AUROC "), std::string::npos);
  expectOneError(run("report " + kModel + " --data data.h5 --out r.htm"), {"'r.htm'", ".html"});
  expectOneError(run("report " + kModel + " --data data.h5 --ground-truth task3 --out r.html"),
                 {"--ground-truth needs --compare"});
}

TEST_F(AttributeCliTest, MistakesGiveOneClearError) {
  expectOneError(run("attribute " + kModel + " --input data.h5 --method deeplift --out a.npy"),
                 {"--method: unknown method 'deeplift'", "saliency, gradxinput, smoothgrad, ig, deepshap, ism"});
  expectOneError(run("attribute " + kModel + " --input data.h5 --method ig --hypothetical --out a.npy"),
                 {"--hypothetical applies to --method deepshap, not ig"});
  expectOneError(run("attribute " + kModel + " --input data.h5 --naive --out a.npy"),
                 {"--naive applies to --method ism, not saliency"});
  expectOneError(run("attribute " + kModel + " --input data.h5 --method deepshap --references 0 --out a.npy"),
                 {"--references 0", "DeepSHAP needs at least one reference"});
  expectOneError(run("attribute " + kModel + " --input data.h5 --out a.tsv"), {"'a.tsv'", "written as .npy"});
  expectOneError(run("attribute " + kModel + " --input x.npy --positives --out a.npy"), {"--positives needs labels"});
  expectOneError(run("attribute " + kModel + " --input data.h5 --output 1 --out a.npy"),
                 {"output 1 to explain is out of range"});
  expectOneError(run("attribute " + kModel + " --input data.h5 --positives --output -1 --out a.npy"), {"--output -1"});
  expectOneError(run("attribute " + kModel + " --input data.h5 --limit -3 --out a.npy"), {"--limit -3"});
  expectOneError(run("attribute " + kModel + " --input data.h5 --method ig --correct --out a.npy"),
                 {"--correct applies to gradient maps", "not ig"});
  HostArray<float> negatives({kSequences, 1});
  writeHdf5File(path("none.h5"), {{"X_test", input_}, {"Y_test", negatives, Hdf5Storage::Int8}});
  expectOneError(run("attribute " + kModel + " --input none.h5 --positives --out a.npy"),
                 {"no sequences to attribute", "none labelled 1 for output 0"});
  HostArray<float> fewModels({kSequences - 1, 4, kLength}, 0.25f);
  writeHdf5File(path("short.h5"), {{"X_test", input_}, {"model_test", fewModels}});
  expectOneError(run("attribute " + kModel + " --input short.h5 --out a.npy --threads 1"),
                 {"model_test has shape (11, 4, 200); expected (12, 4, 200)"});
  expectOneError(run("filters " + kModel + " --input data.h5 --window 199 --out f.meme"),
                 {"--window 199", "at most 198"});
  expectOneError(run("attribute " + kModel + " --input data.h5 --method ig --references 0 --out a.npy"),
                 {"--references 0 --steps 20", "at least one of each"});
}

} // namespace
} // namespace seqjit
