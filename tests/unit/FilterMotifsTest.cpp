// Filter motifs: activation-aligned windows recover a planted k-mer exactly, skip windows that leave the sequence,
// fall back to uniform without enough windows; clipping keeps the informative core with its padding; the first
// activation layer of a zoo model is found and the graph cut there.
#include "stdlib/FilterMotifs.h"
#include "ExpectError.h"
#include "runtime/OneHot.h"
#include "stdlib/Models.h"

#include <gtest/gtest.h>

namespace seqjit {
namespace {

constexpr int64_t kLength = 60;

TEST(FilterMotifs, AlignedWindowsRecoverAPlantedKmer) {
  // Filter 0 fires (10) at the centre of "GATTACA" planted in each sequence, and weakly (4, under half the
  // maximum) elsewhere; filter 1 fires once only.
  const std::string kmer = "GATTACA";
  const int64_t sequences = 30;
  HostArray<float> input = randomOneHot(sequences, kLength, 3);
  HostArray<float> activations({sequences, 2, kLength}, 0.0f);
  std::vector<int64_t> centres;
  int64_t usable = 0;
  for (int64_t n = 0; n < sequences; ++n) {
    const int64_t start = 1 + (n * 7) % (kLength - 8); // some windows leave the sequence, some do not
    for (int64_t j = 0; j < 7; ++j)
      for (int64_t b = 0; b < 4; ++b)
        input.data[(n * 4 + b) * kLength + start + j] = std::string("ACGT")[b] == kmer[j] ? 1.0f : 0.0f;
    const int64_t centre = start + 3;
    activations.data[(n * 2 + 0) * kLength + centre] = 10.0f;
    activations.data[(n * 2 + 0) * kLength + (centre + 20) % kLength] = 4.0f;
    const int64_t windowStart = centre - 10;
    usable += windowStart > 0 && windowStart + 20 < kLength;
    centres.push_back(centre);
  }
  activations.data[(0 * 2 + 1) * kLength + 30] = 1.0f;

  std::vector<Motif> motifs = filterMotifs(activations, input, {.threshold = 0.5, .window = 20});
  ASSERT_EQ(motifs.size(), 2u);
  EXPECT_EQ(motifs[0].id, "filter0");
  EXPECT_EQ(motifs[0].sites, usable);
  ASSERT_GE(usable, 2);
  // The k-mer occupies window rows 7..13 (the centre, k-mer row 3, sits at row 10).
  for (int64_t j = 0; j < 7; ++j)
    for (int64_t b = 0; b < 4; ++b)
      EXPECT_FLOAT_EQ(motifs[0].probabilities.data[(7 + j) * 4 + b], std::string("ACGT")[b] == kmer[j] ? 1.0f : 0.0f)
          << "row " << 7 + j << " base " << b;
  // Every row is a distribution.
  for (int64_t j = 0; j < 20; ++j) {
    double sum = 0;
    for (int64_t b = 0; b < 4; ++b)
      sum += motifs[0].probabilities.data[j * 4 + b];
    EXPECT_NEAR(sum, 1.0, 1e-6);
  }
  EXPECT_EQ(motifs[1].sites, 1);
  EXPECT_EQ(motifs[1].probabilities.data, std::vector<float>(80, 0.25f));
}

TEST(FilterMotifs, ClippingKeepsTheInformativeCoreWithItsPadding) {
  Motif motif;
  motif.id = "filter3";
  motif.probabilities = HostArray<float>({20, 4}, 0.25f);
  for (int64_t j : {5, 8})
    for (int64_t b = 0; b < 4; ++b)
      motif.probabilities.data[j * 4 + b] = b == 2 ? 0.85f : 0.05f; // about 1.15 bits
  Motif clipped = clipToInformativeCore(motif);
  EXPECT_EQ(clipped.width(), 3 + 4 + 3); // rows 2..11
  EXPECT_EQ(clipped.id, "filter3");
  EXPECT_FLOAT_EQ(clipped.probabilities.data[3 * 4 + 2], 0.85f);
  EXPECT_FLOAT_EQ(clipped.probabilities.data[6 * 4 + 2], 0.85f);
  // Near the edge the padding is cut short; a motif with nothing informative stays whole.
  for (int64_t b = 0; b < 4; ++b)
    motif.probabilities.data[1 * 4 + b] = b == 0 ? 1.0f : 0.0f;
  EXPECT_EQ(clipToInformativeCore(motif).width(), 12); // rows 0..11
  Motif flat = motif;
  flat.probabilities = HostArray<float>({20, 4}, 0.25f);
  EXPECT_EQ(clipToInformativeCore(flat).width(), 20);
}

TEST(FilterMotifs, FirstActivationOfAZooModelAndTheGraphCutThere) {
  auto model = buildZooModel("cnn-deep", {.activation = "exp"});
  const Graph &graph = model->graph();
  int node = firstActivationNode(graph);
  EXPECT_EQ(graph.nodes[node].name, "act1");
  Graph cut = graphUpTo(graph, node);
  EXPECT_EQ(cut.output, node);
  EXPECT_EQ(cut.nodes.size(), static_cast<size_t>(node) + 1);
  EXPECT_EQ(cut.outputNode().shape, (Shape{32, 200}));
}

TEST(FilterMotifs, RefusesMismatchedShapes) {
  testing::expectError(
      [] {
        filterMotifs(HostArray<float>({2, 3, 50}), HostArray<float>({2, 4, 60}));
      },
      {"activations (2, 3, 50) and input (2, 4, 60) do not match"});
}

} // namespace
} // namespace seqjit
