// Tests of the Task 1 / Task 3 synthetic data generators: determinism, ground truth, PWM statistics, HDF5 output.
#include "stdlib/SyntheticData.h"

#include "ExpectError.h"
#include "runtime/Hdf5.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

using namespace seqjit;
using seqjit::testing::expectError;

namespace {

/// A path in the test's temporary directory; the prefix keeps clear of other tests' files there.
std::string temporaryPath(const std::string &name) {
  return (std::filesystem::path(::testing::TempDir()) / ("synthetic_data_test_" + name)).string();
}

const std::string kJasparFile =
    std::string(SEQJIT_SOURCE_DIR) + "/data/motifs/JASPAR_CORE_2016_vertebrates.meme";
const std::vector<std::string> kSplits = {"train", "valid", "test"};

const std::vector<Motif> &jaspar() {
  static const std::vector<Motif> motifs = readMemeFile(kJasparFile);
  return motifs;
}

SyntheticOptions smallOptions(uint64_t seed, int64_t count = 300) {
  SyntheticOptions options;
  options.count = count;
  options.seed = seed;
  return options;
}

const SyntheticData &task1() {
  static const SyntheticData data = generateTask1(jaspar(), smallOptions(7));
  return data;
}

const SyntheticData &task3() {
  static const SyntheticData data = generateTask3(jaspar(), smallOptions(7));
  return data;
}

/// The placements of sequence `row`, in order.
std::vector<MotifPlacement> placementsOf(const SyntheticSplit &split, int64_t row) {
  std::vector<MotifPlacement> found;
  for (const MotifPlacement &placement : split.placements)
    if (placement.sequence == row)
      found.push_back(placement);
  return found;
}

void expectSameSplits(const SyntheticData &a, const SyntheticData &b) {
  for (const std::string &name : kSplits) {
    const SyntheticSplit &x = a.splits.at(name), &y = b.splits.at(name);
    EXPECT_EQ(x.input.data, y.input.data) << name;
    EXPECT_EQ(x.labels.data, y.labels.data) << name;
    EXPECT_EQ(x.model.data, y.model.data) << name;
    ASSERT_EQ(x.placements.size(), y.placements.size()) << name;
    for (size_t k = 0; k < x.placements.size(); ++k) {
      EXPECT_EQ(x.placements[k].sequence, y.placements[k].sequence);
      EXPECT_EQ(x.placements[k].motif, y.placements[k].motif);
      EXPECT_EQ(x.placements[k].start, y.placements[k].start);
      EXPECT_EQ(x.placements[k].strand, y.placements[k].strand);
    }
  }
}

TEST(SyntheticData, Task1HasThePapersMotifsLabelsAndSplitSizes) {
  const SyntheticData &data = task1();
  EXPECT_EQ(data.task, "task1");
  EXPECT_EQ(data.labelNames, (std::vector<std::string>{"Arid3a", "CEBPB", "FOSL1", "Gabpa", "MAFK", "MAX", "MEF2A",
                                                       "NFYB", "SP1", "SRF", "STAT1", "YY1"}));
  ASSERT_EQ(data.motifNames.size(), 12u);
  EXPECT_EQ(data.motifNames[0], "MA0151.1 Arid3a");
  EXPECT_EQ(data.motifNames[11], "MA0095.2 YY1");
  std::map<std::string, int64_t> expected = {{"train", 210}, {"valid", 30}, {"test", 60}};
  for (const auto &[name, size] : expected) {
    const SyntheticSplit &split = data.splits.at(name);
    EXPECT_EQ(split.input.shape, (std::vector<int64_t>{size, 4, 200})) << name;
    EXPECT_EQ(split.model.shape, (std::vector<int64_t>{size, 4, 200})) << name;
    EXPECT_EQ(split.labels.shape, (std::vector<int64_t>{size, 12})) << name;
  }
}

TEST(SyntheticData, TheSameSeedGivesTheSameDataAndAnotherSeedOtherData) {
  expectSameSplits(generateTask1(jaspar(), smallOptions(7)), task1());
  expectSameSplits(generateTask3(jaspar(), smallOptions(7)), task3());
  SyntheticData other1 = generateTask1(jaspar(), smallOptions(8));
  SyntheticData other3 = generateTask3(jaspar(), smallOptions(8));
  EXPECT_NE(other1.splits.at("train").input.data, task1().splits.at("train").input.data);
  EXPECT_NE(other1.splits.at("test").labels.data, task1().splits.at("test").labels.data);
  EXPECT_NE(other3.splits.at("train").input.data, task3().splits.at("train").input.data);
  EXPECT_NE(other3.splits.at("train").labels.data, task3().splits.at("train").labels.data);
}

TEST(SyntheticData, ASequenceDependsOnlyOnTheSeedAndItsIndex) {
  // With twice the sequences, the first 210 of the training split are still sequences 0..209.
  SyntheticData larger = generateTask1(jaspar(), smallOptions(7, 600));
  const SyntheticSplit &small = task1().splits.at("train"), &big = larger.splits.at("train");
  ASSERT_EQ(big.input.shape[0], 420);
  int64_t rowSize = 4 * 200;
  EXPECT_TRUE(std::equal(small.input.data.begin(), small.input.data.end(), big.input.data.begin()));
  EXPECT_TRUE(std::equal(small.model.data.begin(), small.model.data.end(), big.model.data.begin()));
  EXPECT_FALSE(
      std::equal(small.input.data.begin(), small.input.data.begin() + rowSize, big.input.data.begin() + 210 * rowSize));
}

TEST(SyntheticData, InputIsExactlyOneHot) {
  for (const SyntheticData *data : {&task1(), &task3()})
    for (const std::string &name : kSplits) {
      const SyntheticSplit &split = data->splits.at(name);
      int64_t count = split.input.shape[0], length = split.input.shape[2];
      for (int64_t n = 0; n < count; ++n)
        for (int64_t position = 0; position < length; ++position) {
          float sum = 0;
          for (int64_t base = 0; base < 4; ++base) {
            float value = split.input.data[(n * 4 + base) * length + position];
            EXPECT_TRUE(value == 0.0f || value == 1.0f) << data->task << " " << name;
            sum += value;
          }
          ASSERT_EQ(sum, 1.0f) << data->task << " " << name << " sequence " << n << " position " << position;
        }
    }
}

TEST(SyntheticData, PlacementsFitDoNotOverlapAndComeInTheRightNumbers) {
  for (const SyntheticData *data : {&task1(), &task3()}) {
    int64_t minimum = data->task == "task1" ? 1 : 3;
    std::set<int64_t> strands;
    std::set<int64_t> countsSeen;
    for (const std::string &name : kSplits) {
      const SyntheticSplit &split = data->splits.at(name);
      int64_t count = split.input.shape[0], length = split.input.shape[2];
      for (const MotifPlacement &placement : split.placements) {
        ASSERT_GE(placement.sequence, 0);
        ASSERT_LT(placement.sequence, count);
        ASSERT_GE(placement.motif, 0);
        ASSERT_LT(placement.motif, static_cast<int64_t>(data->motifs.size()));
        EXPECT_EQ(placement.width, data->motifs[placement.motif].width());
        EXPECT_GE(placement.start, 0);
        EXPECT_LE(placement.start + placement.width, length);
        EXPECT_TRUE(placement.strand == 1 || placement.strand == -1);
        strands.insert(placement.strand);
      }
      for (int64_t n = 0; n < count; ++n) {
        std::vector<MotifPlacement> own = placementsOf(split, n);
        EXPECT_GE(static_cast<int64_t>(own.size()), minimum) << data->task << " " << name << " sequence " << n;
        EXPECT_LE(static_cast<int64_t>(own.size()), 5) << data->task << " " << name << " sequence " << n;
        countsSeen.insert(static_cast<int64_t>(own.size()));
        for (size_t k = 1; k < own.size(); ++k)
          EXPECT_GE(own[k].start, own[k - 1].start + own[k - 1].width) << data->task << " sequence " << n;
      }
    }
    EXPECT_EQ(strands, (std::set<int64_t>{-1, 1})) << data->task;
    EXPECT_EQ(static_cast<int64_t>(countsSeen.size()), 5 - minimum + 1) << data->task << ": every count occurs";
  }
}

TEST(SyntheticData, MotifCountsFollowThePapersLaws) {
  // Task 1 draws 1..5 motifs with Koo & Eddy's probabilities; Task 3 draws 3..5 uniformly. Each observed frequency
  // over 6000 sequences must lie within 5 standard errors of its probability.
  struct Law {
    const char *task;
    int64_t minimum;
    std::vector<double> probabilities;
  };
  const int64_t sequences = 6000;
  for (const Law &law :
       {Law{"task1", 1, {0.50, 0.25, 0.17, 0.05, 0.03}}, Law{"task3", 3, {1.0 / 3, 1.0 / 3, 1.0 / 3}}}) {
    SyntheticData data = std::string(law.task) == "task1" ? generateTask1(jaspar(), smallOptions(11, sequences))
                                                          : generateTask3(jaspar(), smallOptions(11, sequences));
    std::vector<int64_t> histogram(law.probabilities.size(), 0);
    for (const std::string &name : kSplits) {
      const SyntheticSplit &split = data.splits.at(name);
      std::vector<int64_t> perSequence(static_cast<size_t>(split.input.shape[0]), 0);
      for (const MotifPlacement &placement : split.placements)
        ++perSequence[placement.sequence];
      for (int64_t count : perSequence) {
        ASSERT_GE(count, law.minimum) << law.task;
        ASSERT_LT(count - law.minimum, static_cast<int64_t>(histogram.size())) << law.task;
        ++histogram[count - law.minimum];
      }
    }
    for (size_t k = 0; k < histogram.size(); ++k) {
      double p = law.probabilities[k], observed = static_cast<double>(histogram[k]) / sequences;
      EXPECT_NEAR(observed, p, 5 * std::sqrt(p * (1 - p) / sequences))
          << law.task << ": sequences with " << law.minimum + static_cast<int64_t>(k) << " motifs";
    }
  }
}

TEST(SyntheticData, Task1LabelsSayWhichMotifsAreEmbedded) {
  for (const std::string &name : kSplits) {
    const SyntheticSplit &split = task1().splits.at(name);
    for (int64_t n = 0; n < split.labels.shape[0]; ++n) {
      std::vector<float> expected(12, 0.0f);
      for (const MotifPlacement &placement : placementsOf(split, n))
        expected[placement.motif] = 1.0f;
      std::vector<float> labels(split.labels.data.begin() + n * 12, split.labels.data.begin() + (n + 1) * 12);
      EXPECT_EQ(labels, expected) << name << " sequence " << n;
    }
  }
}

TEST(SyntheticData, Task3PositivesEmbedCoreMotifsAndNegativesBackgroundOnes) {
  const SyntheticData &data = task3();
  EXPECT_EQ(data.labelNames, std::vector<std::string>{"positive"});
  ASSERT_EQ(data.motifNames.size(), 105u);
  EXPECT_EQ(data.motifNames[0], "MA0466.2 CEBPB");
  EXPECT_EQ(data.motifNames[4], "MA0095.2 YY1");
  int64_t positives = 0;
  for (const std::string &name : kSplits) {
    const SyntheticSplit &split = data.splits.at(name);
    ASSERT_EQ(split.labels.shape[1], 1);
    int64_t splitPositives = 0;
    for (int64_t n = 0; n < split.labels.shape[0]; ++n) {
      float label = split.labels.data[n];
      ASSERT_TRUE(label == 0.0f || label == 1.0f);
      splitPositives += label == 1.0f;
      for (const MotifPlacement &placement : placementsOf(split, n)) {
        if (label == 1.0f)
          EXPECT_LT(placement.motif, 5) << name << " positive " << n << " embeds a background motif";
        else
          EXPECT_GE(placement.motif, 5) << name << " negative " << n << " embeds a core motif";
      }
    }
    // The order is shuffled: every split holds both classes.
    EXPECT_GT(splitPositives, 0) << name;
    EXPECT_LT(splitPositives, split.labels.shape[0]) << name;
    positives += splitPositives;
  }
  EXPECT_EQ(positives, 150);
}

TEST(SyntheticData, ModelIsThePwmAtPlacementsAndUniformElsewhere) {
  for (const SyntheticData *data : {&task1(), &task3()})
    for (const std::string &name : kSplits) {
      const SyntheticSplit &split = data->splits.at(name);
      int64_t count = split.model.shape[0], length = split.model.shape[2];
      HostArray<float> expected({count, 4, length}, 0.25f);
      for (const MotifPlacement &placement : split.placements) {
        const Motif &motif = data->motifs[placement.motif];
        HostArray<float> matrix =
            placement.strand == 1 ? motif.probabilities : reverseComplementMatrix(motif.probabilities);
        for (int64_t column = 0; column < placement.width; ++column)
          for (int64_t base = 0; base < 4; ++base)
            expected.data[(placement.sequence * 4 + base) * length + placement.start + column] =
                matrix.data[column * 4 + base];
      }
      EXPECT_EQ(split.model.data, expected.data) << data->task << " " << name;
      // Every letter drawn must be possible under the generating model.
      for (int64_t i = 0; i < split.input.size(); ++i) {
        if (split.input.data[i] == 1.0f) {
          ASSERT_GT(split.model.data[i], 0.0f) << data->task << " " << name << " element " << i;
        }
      }
    }
}

TEST(SyntheticData, EmbeddedLettersFollowThePwmAndBackgroundIsUniform) {
  // About 2000 instances of each Task 1 motif (13,000 sequences of 1.86 motifs on average, over 12 motifs); each
  // observed letter frequency must be within 5 standard errors of its PWM probability (or exactly 0 where the
  // probability is 0).
  SyntheticData data = generateTask1(jaspar(), smallOptions(11, 13000));
  std::vector<HostArray<float>> counts;
  for (const Motif &motif : data.motifs)
    counts.emplace_back(std::vector<int64_t>{motif.width(), 4});
  std::vector<int64_t> instances(data.motifs.size(), 0);
  std::array<double, 4> background{};
  double backgroundTotal = 0;
  int64_t plusStrand = 0, allInstances = 0;
  for (const std::string &name : kSplits) {
    const SyntheticSplit &split = data.splits.at(name);
    int64_t length = split.input.shape[2];
    auto letterAt = [&](int64_t sequence, int64_t position) {
      for (int64_t base = 0; base < 4; ++base)
        if (split.input.data[(sequence * 4 + base) * length + position] == 1.0f)
          return base;
      return int64_t{-1};
    };
    std::vector<uint8_t> covered(static_cast<size_t>(split.input.shape[0] * length), 0);
    for (const MotifPlacement &placement : split.placements) {
      ++instances[placement.motif];
      ++allInstances;
      plusStrand += placement.strand == 1;
      for (int64_t column = 0; column < placement.width; ++column) {
        covered[placement.sequence * length + placement.start + column] = 1;
        // On '-' the motif's column j is read, complemented, at the mirrored position.
        int64_t letter = placement.strand == 1
                             ? letterAt(placement.sequence, placement.start + column)
                             : 3 - letterAt(placement.sequence, placement.start + placement.width - 1 - column);
        counts[placement.motif].data[column * 4 + letter] += 1;
      }
    }
    for (int64_t sequence = 0; sequence < split.input.shape[0]; ++sequence)
      for (int64_t position = 0; position < length; ++position)
        if (!covered[sequence * length + position]) {
          background[letterAt(sequence, position)] += 1;
          backgroundTotal += 1;
        }
  }
  for (size_t k = 0; k < data.motifs.size(); ++k) {
    ASSERT_GT(instances[k], 1500) << data.motifNames[k];
    const Motif &motif = data.motifs[k];
    for (int64_t column = 0; column < motif.width(); ++column)
      for (int64_t base = 0; base < 4; ++base) {
        double p = motif.probabilities.data[column * 4 + base];
        double observed = counts[k].data[column * 4 + base] / static_cast<double>(instances[k]);
        double standardError = std::sqrt(p * (1 - p) / static_cast<double>(instances[k]));
        EXPECT_LE(std::abs(observed - p), 5 * standardError + 1e-12)
            << data.motifNames[k] << " column " << column << " base " << base;
      }
  }
  for (int64_t base = 0; base < 4; ++base)
    EXPECT_NEAR(background[base] / backgroundTotal, 0.25, 5 * std::sqrt(0.25 * 0.75 / backgroundTotal));
  double plusFraction = static_cast<double>(plusStrand) / static_cast<double>(allInstances);
  EXPECT_NEAR(plusFraction, 0.5, 5 * std::sqrt(0.25 / static_cast<double>(allInstances)));
}

TEST(SyntheticData, MotifSimilarityFindsTheSameMotifOnEitherStrand) {
  const Motif &max = findMotif(jaspar(), "MA0058.3");
  const Motif &ctcf = findMotif(jaspar(), "MA0139.1");
  EXPECT_NEAR(motifSimilarity(max.probabilities, max.probabilities), 1.0, 1e-9);
  EXPECT_NEAR(motifSimilarity(ctcf.probabilities, reverseComplementMatrix(ctcf.probabilities)), 1.0, 1e-9);
  // A motif embedded in a wider one is found at its offset.
  HostArray<float> padded({ctcf.width() + 4, 4}, 0.25f);
  std::copy(ctcf.probabilities.data.begin(), ctcf.probabilities.data.end(), padded.data.begin() + 2 * 4);
  EXPECT_NEAR(motifSimilarity(padded, ctcf.probabilities), 1.0, 1e-9);
  EXPECT_LT(motifSimilarity(max.probabilities, ctcf.probabilities), kCoreMotifSimilarity);
  // A short partial overlap does not count: the first 6 columns of CTCF against CTCF shifted by 13 columns.
  HostArray<float> shifted({ctcf.width() + 13, 4}, 0.25f);
  std::copy(ctcf.probabilities.data.begin(), ctcf.probabilities.data.begin() + 6 * 4, shifted.data.begin() + 13 * 4);
  EXPECT_LT(motifSimilarity(shifted, ctcf.probabilities), 0.5);
}

TEST(SyntheticData, Task3BackgroundMotifsAreDistinctFromTheCoreAndFromEachOther) {
  std::vector<Motif> core;
  for (const std::string &id : task3CoreMotifIds())
    core.push_back(findMotif(jaspar(), id));
  std::vector<Motif> background = selectBackgroundMotifs(jaspar(), core);
  ASSERT_EQ(background.size(), 100u);
  std::map<std::string, size_t> fileOrder;
  for (size_t k = 0; k < jaspar().size(); ++k)
    fileOrder[jaspar()[k].id] = k;
  for (size_t k = 0; k < background.size(); ++k) {
    for (const Motif &c : core) {
      EXPECT_NE(background[k].id, c.id);
      EXPECT_LT(motifSimilarity(background[k].probabilities, c.probabilities), kCoreMotifSimilarity)
          << background[k].label() << " vs core " << c.label();
    }
    for (size_t j = 0; j < k; ++j) {
      EXPECT_LT(motifSimilarity(background[k].probabilities, background[j].probabilities), kBackgroundMotifSimilarity)
          << background[k].label() << " vs " << background[j].label();
    }
    if (k > 0) {
      EXPECT_LT(fileOrder[background[k - 1].id], fileOrder[background[k].id]) << "file order";
    }
  }
  // The rule excludes something: the 100 are not simply the first 100 non-core motifs of the file.
  EXPECT_GT(fileOrder[background.back().id], 100u + core.size());
  // Family members of the core motifs are among the excluded: they would put the positives' signal in negatives.
  std::vector<std::pair<std::string, std::string>> relatives = {{"MAX::MYC", "MA0058.3"}, {"USF1", "MA0058.3"},
                                                                {"ELK1", "MA0062.2"},     {"CEBPA", "MA0466.2"},
                                                                {"SP2", "MA0079.3"},      {"YY2", "MA0095.2"}};
  for (const auto &[relativeName, coreId] : relatives) {
    const Motif &relative = findMotif(jaspar(), relativeName);
    EXPECT_GE(motifSimilarity(relative.probabilities, findMotif(jaspar(), coreId).probabilities), kCoreMotifSimilarity)
        << relativeName << " vs " << coreId;
    EXPECT_TRUE(std::none_of(background.begin(), background.end(), [&](const Motif &m) { return m.id == relative.id; }))
        << relativeName;
  }
  // And Task 3 uses exactly these, after the 5 core motifs.
  for (size_t k = 0; k < background.size(); ++k)
    EXPECT_EQ(task3().motifNames[5 + k], background[k].label());
}

/// Task 3 written to a temporary HDF5 file named after the running test (ctest runs tests as parallel processes);
/// its path.
std::string writeTask3File() {
  std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::string path = temporaryPath(test + ".h5");
  writeSyntheticData(path, task3());
  return path;
}

TEST(SyntheticData, WritesNameListsThroughHdf5) {
  std::string path = writeTask3File();
  EXPECT_EQ(readHdf5Strings(path, "motif_names"), task3().motifNames);
  EXPECT_EQ(readHdf5Strings(path, "label_names"), task3().labelNames);
}

TEST(SyntheticData, WritesArraysThroughHdf5) {
  std::string path = writeTask3File();
  EXPECT_EQ(listHdf5Datasets(path),
            (std::vector<std::string>{"X_test", "X_train", "X_valid", "Y_test", "Y_train", "Y_valid", "label_names",
                                      "model_test", "model_train", "model_valid", "motif_names", "motifs_test",
                                      "motifs_train", "motifs_valid"}));
  for (const std::string &name : kSplits) {
    const SyntheticSplit &split = task3().splits.at(name);
    HostArray<float> x = readHdf5Dataset(path, "X_" + name);
    EXPECT_EQ(x.shape, split.input.shape);
    EXPECT_EQ(x.data, split.input.data);
    HostArray<float> y = readHdf5Dataset(path, "Y_" + name);
    EXPECT_EQ(y.shape, split.labels.shape);
    EXPECT_EQ(y.data, split.labels.data);
    HostArray<float> model = readHdf5Dataset(path, "model_" + name);
    EXPECT_EQ(model.data, split.model.data);
    HostArray<float> table = readHdf5Dataset(path, "motifs_" + name);
    ASSERT_EQ(table.shape, (std::vector<int64_t>{static_cast<int64_t>(split.placements.size()), 5}));
    for (size_t k = 0; k < split.placements.size(); ++k) {
      const MotifPlacement &placement = split.placements[k];
      EXPECT_EQ(table.data[k * 5 + 0], placement.sequence);
      EXPECT_EQ(table.data[k * 5 + 1], placement.motif);
      EXPECT_EQ(table.data[k * 5 + 2], placement.start);
      EXPECT_EQ(table.data[k * 5 + 3], placement.strand);
      EXPECT_EQ(table.data[k * 5 + 4], placement.width);
    }
  }
}

TEST(SyntheticData, ReportsProgressUpToTheTotal) {
  std::vector<std::pair<int64_t, int64_t>> calls;
  SyntheticOptions options = smallOptions(1, 2500);
  options.progress = [&](int64_t done, int64_t total) { calls.emplace_back(done, total); };
  generateTask1(jaspar(), options);
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), (std::pair<int64_t, int64_t>{2500, 2500}));
  for (size_t k = 1; k < calls.size(); ++k)
    EXPECT_GT(calls[k].first, calls[k - 1].first);
}

TEST(SyntheticData, EmptySplitsAreAllowed) {
  SyntheticOptions options = smallOptions(3, 50);
  options.trainFraction = 0.8;
  options.validFraction = 0.2;
  options.testFraction = 0;
  SyntheticData data = generateTask3(jaspar(), options);
  EXPECT_EQ(data.splits.at("train").input.shape[0], 40);
  EXPECT_EQ(data.splits.at("valid").input.shape[0], 10);
  EXPECT_EQ(data.splits.at("test").input.shape[0], 0);
  std::string path = temporaryPath("empty_split.h5");
  writeSyntheticData(path, data);
  EXPECT_EQ(hdf5DatasetShape(path, "X_test"), (std::vector<int64_t>{0, 4, 200}));
  EXPECT_EQ(hdf5DatasetShape(path, "motifs_test"), (std::vector<int64_t>{0, 5}));
}

TEST(SyntheticData, BadOptionsAndMissingMotifsAreErrors) {
  SyntheticOptions shortLength = smallOptions(0);
  shortLength.length = 60;
  expectError([&] { generateTask1(jaspar(), shortLength); }, {"task1", "60 nt", "too short", "at least 80 nt"});
  SyntheticOptions badFractions = smallOptions(0);
  badFractions.testFraction = 0.3;
  expectError([&] { generateTask3(jaspar(), badFractions); }, {"task3", "sum to 1.1", "expected 1"});
  SyntheticOptions negative = smallOptions(0);
  negative.count = -5;
  expectError([&] { generateTask1(jaspar(), negative); }, {"task1", "-5", "at least 1"});
  std::vector<Motif> withoutYy1;
  for (const Motif &motif : jaspar())
    if (motif.id != "MA0095.2")
      withoutYy1.push_back(motif);
  expectError([&] { generateTask1(withoutYy1, smallOptions(0)); }, {"task1", "MA0095.2"});
  expectError([&] { generateTask3(withoutYy1, smallOptions(0)); }, {"task3", "MA0095.2"});
  std::vector<Motif> tooFew(jaspar().begin(), jaspar().begin() + 50);
  for (const std::string &id : task3CoreMotifIds())
    tooFew.push_back(findMotif(jaspar(), id));
  expectError([&] { generateTask3(tooFew, smallOptions(0)); }, {"background motifs", "100"});
}

} // namespace
