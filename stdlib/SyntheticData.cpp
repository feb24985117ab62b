// Synthetic motif-embedding tasks: per-sequence Philox streams, PWM sampling, non-overlapping placement, HDF5 output.
#include "stdlib/SyntheticData.h"

#include "dsl/Error.h"
#include "runtime/Hdf5.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace seqjit {

namespace {

constexpr int64_t kBases = 4;
constexpr float kBackgroundProbability = 0.25f;
constexpr int64_t kTask1DefaultCount = 30000;
constexpr int64_t kTask3DefaultCount = 20000;
constexpr int64_t kProgressInterval = 1000;

// Random stream ids. Each sequence has its own stream (base + index), so that sequence i is the same whatever the
// count, the split or the thread that makes it; the two tasks use disjoint ranges, and Task 3's class order has a
// stream of its own.
constexpr uint64_t kTask1SequenceStreams = uint64_t{1} << 40;
constexpr uint64_t kTask3SequenceStreams = uint64_t{2} << 40;
constexpr uint64_t kTask3ClassOrderStream = uint64_t{3} << 40;

const std::array<const char *, 3> kSplitNames = {"train", "valid", "test"};

/// How many motif instances a sequence embeds: between minMotifs and maxMotifs, minMotifs + k with probability
/// probabilities[k], or uniformly (drawn exactly, by uniformInt) when probabilities is empty.
struct MotifCountLaw {
  int64_t minMotifs = 1, maxMotifs = 1;
  std::vector<double> probabilities;

  int64_t draw(Random &random) const {
    if (probabilities.empty())
      return minMotifs + static_cast<int64_t>(random.uniformInt(static_cast<uint64_t>(maxMotifs - minMotifs + 1)));
    // Inversion of the cumulative probabilities; a draw past a sum rounded below 1 takes the last count.
    double u = random.uniformDouble(), running = 0;
    for (size_t k = 0; k + 1 < probabilities.size(); ++k)
      if (u < (running += probabilities[k]))
        return minMotifs + static_cast<int64_t>(k);
    return maxMotifs;
  }
};

// Koo & Eddy's Task 1 generator (code/generate_data/task1_generate_synthetic_dataset.ipynb of
// p-koo/exponential_activations) draws the count as the bin of U(0,1) in cumsum(0, .5, .25, .17, .05, .3): one
// motif half the time, five in 3%. Most sequences carry one or two motifs (mean 1.86).
const MotifCountLaw kTask1MotifCounts = {
    .minMotifs = 1, .maxMotifs = 5, .probabilities = {0.50, 0.25, 0.17, 0.05, 0.03}};
// Task 3 (Koo & Ploenzke 2021 as the issue states it): 3 to 5 motifs, uniformly.
const MotifCountLaw kTask3MotifCounts = {.minMotifs = 3, .maxMotifs = 5, .probabilities = {}};

/// A motif ready for sampling: its matrix on both strands, with cumulative rows.
struct SamplingMotif {
  int64_t width = 0;
  std::array<HostArray<float>, 2> matrix;        ///< [0]: '+' strand, [1]: '-' (reverse complement).
  std::array<std::vector<double>, 2> cumulative; ///< Running sums along each row, same layout.
};

SamplingMotif prepareForSampling(const Motif &motif) {
  SamplingMotif prepared;
  prepared.width = motif.width();
  prepared.matrix = {motif.probabilities, reverseComplementMatrix(motif.probabilities)};
  for (int strand = 0; strand < 2; ++strand) {
    const std::vector<float> &values = prepared.matrix[strand].data;
    std::vector<double> &sums = prepared.cumulative[strand];
    sums.resize(values.size());
    for (int64_t row = 0; row < prepared.width; ++row) {
      double running = 0;
      for (int64_t base = 0; base < kBases; ++base)
        sums[row * kBases + base] = running += values[row * kBases + base];
    }
  }
  return prepared;
}

/// A base drawn from one row of probabilities. Rounding may leave the last running sum a hair below 1; a draw past
/// it goes to the last base that has any probability, never to one with none.
int64_t sampleBase(Random &random, const double *cumulative, const float *probabilities) {
  double draw = random.uniformDouble() * cumulative[kBases - 1];
  for (int64_t base = 0; base < kBases; ++base)
    if (draw < cumulative[base] && probabilities[base] > 0)
      return base;
  for (int64_t base = kBases - 1; base > 0; --base)
    if (probabilities[base] > 0)
      return base;
  return 0;
}

struct SplitLayout {
  std::array<int64_t, 3> begin{}; ///< First global sequence index of each split.
  std::array<int64_t, 3> size{};
};

SplitLayout layoutSplits(int64_t count, const SyntheticOptions &options, const std::string &task) {
  std::array<double, 3> fractions = {options.trainFraction, options.validFraction, options.testFraction};
  for (size_t split = 0; split < 3; ++split)
    if (!(fractions[split] >= 0 && fractions[split] <= 1))
      throw Error(fmt::format("synthetic {}: the {} fraction is {}; expected a number in [0, 1]", task,
                              kSplitNames[split], fractions[split]));
  double total = fractions[0] + fractions[1] + fractions[2];
  if (std::abs(total - 1.0) > 1e-6)
    throw Error(fmt::format("synthetic {}: the train, valid and test fractions {}, {}, {} sum to {:.6g}; expected 1",
                            task, fractions[0], fractions[1], fractions[2], total));
  SplitLayout layout;
  layout.size[0] = std::min<int64_t>(count, std::llround(static_cast<double>(count) * fractions[0]));
  layout.size[1] = std::min<int64_t>(count - layout.size[0], std::llround(static_cast<double>(count) * fractions[1]));
  layout.size[2] = count - layout.size[0] - layout.size[1];
  layout.begin = {0, layout.size[0], layout.size[0] + layout.size[1]};
  return layout;
}

/// Everything a generator run needs besides what differs per task.
struct Generation {
  std::string task;
  int64_t count = 0;
  int64_t length = 0;
  uint64_t seed = 0;
  uint64_t streamBase = 0;
  std::vector<SamplingMotif> motifs;
  SplitLayout layout;
};

/// A generation of `task` with the options' count (or `defaultCount`), length and seed, drawing sequence i from
/// stream streamBase + i.
Generation startGeneration(std::string task, int64_t defaultCount, uint64_t streamBase,
                           const SyntheticOptions &options) {
  Generation generation;
  generation.task = std::move(task);
  generation.count = options.count == 0 ? defaultCount : options.count;
  generation.length = options.length;
  generation.seed = options.seed;
  generation.streamBase = streamBase;
  return generation;
}

/// Checks the options shared by both tasks and that `maxMotifs` instances of the widest motif of `pools` fit.
void checkOptions(const Generation &generation, int64_t maxMotifs) {
  if (generation.count < 1)
    throw Error(
        fmt::format("synthetic {}: count {} sequences; expected at least 1", generation.task, generation.count));
  int64_t widest = 0;
  for (const SamplingMotif &motif : generation.motifs)
    widest = std::max(widest, motif.width);
  if (generation.length < maxMotifs * widest)
    throw Error(fmt::format("synthetic {}: length {} nt is too short: up to {} motifs of up to {} nt must fit without "
                            "overlapping (need at least {} nt)",
                            generation.task, generation.length, maxMotifs, widest, maxMotifs * widest));
}

/// Draws sequence `index` (global generation order) into row `row` of `split`: a number of instances drawn from
/// `counts`, of motifs drawn uniformly with replacement from `pool`. Returns the motifs embedded.
std::vector<int64_t> sampleSequence(const Generation &generation, int64_t index, const std::vector<int64_t> &pool,
                                    const MotifCountLaw &counts, SyntheticSplit &split, int64_t row) {
  Random random(generation.seed, generation.streamBase + static_cast<uint64_t>(index));
  int64_t length = generation.length;
  int64_t count = counts.draw(random);
  std::vector<int64_t> chosen(count), strands(count);
  int64_t totalWidth = 0;
  for (int64_t j = 0; j < count; ++j) {
    chosen[j] = pool[random.uniformInt(pool.size())];
    strands[j] = random.uniformInt(2) == 0 ? 1 : -1;
    totalWidth += generation.motifs[chosen[j]].width;
  }
  // Uniform over every non-overlapping placement of the instances in draw order (the draw order is itself random):
  // `count` distinct slots among free + count, sorted, give the gaps before each instance (stars and bars).
  int64_t free = length - totalWidth;
  std::vector<int64_t> slots;
  while (static_cast<int64_t>(slots.size()) < count) {
    int64_t slot = static_cast<int64_t>(random.uniformInt(static_cast<uint64_t>(free + count)));
    if (std::find(slots.begin(), slots.end(), slot) == slots.end())
      slots.push_back(slot);
  }
  std::sort(slots.begin(), slots.end());

  float *input = split.input.data.data() + row * kBases * length;
  float *model = split.model.data.data() + row * kBases * length;
  std::vector<int64_t> letters(length);
  for (int64_t position = 0; position < length; ++position)
    letters[position] = static_cast<int64_t>(random.uniformInt(kBases));
  std::fill(model, model + kBases * length, kBackgroundProbability);
  int64_t widthBefore = 0;
  for (int64_t j = 0; j < count; ++j) {
    const SamplingMotif &motif = generation.motifs[chosen[j]];
    int64_t start = slots[j] - j + widthBefore;
    widthBefore += motif.width;
    int strand = strands[j] == 1 ? 0 : 1;
    for (int64_t column = 0; column < motif.width; ++column) {
      const float *probabilities = motif.matrix[strand].data.data() + column * kBases;
      letters[start + column] = sampleBase(random, motif.cumulative[strand].data() + column * kBases, probabilities);
      for (int64_t base = 0; base < kBases; ++base)
        model[base * length + start + column] = probabilities[base];
    }
    split.placements.push_back({row, chosen[j], start, strands[j], motif.width});
  }
  std::fill(input, input + kBases * length, 0.0f);
  for (int64_t position = 0; position < length; ++position)
    input[letters[position] * length + position] = 1.0f;
  return chosen;
}

/// Runs `sampleOne(index, split, row)` for every sequence, in order, with the splits allocated and progress told.
template <typename SampleOne>
SyntheticData generate(const Generation &generation, int64_t labelCount, const SyntheticOptions &options,
                       SampleOne sampleOne) {
  SyntheticData data;
  data.task = generation.task;
  for (size_t split = 0; split < 3; ++split) {
    int64_t size = generation.layout.size[split];
    SyntheticSplit &target = data.splits[kSplitNames[split]];
    target.input = HostArray<float>({size, kBases, generation.length});
    target.model = HostArray<float>({size, kBases, generation.length});
    target.labels = HostArray<float>({size, labelCount});
  }
  for (int64_t index = 0; index < generation.count; ++index) {
    size_t split = index < generation.layout.begin[1] ? 0 : index < generation.layout.begin[2] ? 1 : 2;
    sampleOne(index, data.splits[kSplitNames[split]], index - generation.layout.begin[split]);
    if (options.progress && ((index + 1) % kProgressInterval == 0 || index + 1 == generation.count))
      options.progress(index + 1, generation.count);
  }
  return data;
}

const Motif &requireMotif(const std::vector<Motif> &motifs, const std::string &id, const std::string &task) {
  for (const Motif &motif : motifs)
    if (motif.id == id)
      return motif;
  throw Error(fmt::format("synthetic {} needs JASPAR motif {}, which the {} motifs given lack (use the JASPAR 2016 "
                          "vertebrate collection, JASPAR_CORE_2016_vertebrates.meme)",
                          task, id, motifs.size()));
}

double columnCorrelation(const float *a, const float *b) {
  double meanA = 0, meanB = 0;
  for (int64_t base = 0; base < kBases; ++base) {
    meanA += a[base] / 4.0;
    meanB += b[base] / 4.0;
  }
  double product = 0, squaresA = 0, squaresB = 0;
  for (int64_t base = 0; base < kBases; ++base) {
    product += (a[base] - meanA) * (b[base] - meanB);
    squaresA += (a[base] - meanA) * (a[base] - meanA);
    squaresB += (b[base] - meanB) * (b[base] - meanB);
  }
  if (squaresA <= 0 || squaresB <= 0)
    return 0;
  return product / std::sqrt(squaresA * squaresB);
}

} // namespace

const std::vector<std::string> &task1MotifIds() {
  static const std::vector<std::string> ids = {"MA0151.1", "MA0466.2", "MA0477.1", "MA0062.2", "MA0496.1", "MA0058.3",
                                               "MA0052.3", "MA0502.1", "MA0079.3", "MA0083.3", "MA0137.3", "MA0095.2"};
  return ids;
}

const std::vector<std::string> &task3CoreMotifIds() {
  static const std::vector<std::string> ids = {"MA0466.2", "MA0062.2", "MA0058.3", "MA0079.3", "MA0095.2"};
  return ids;
}

double motifSimilarity(const HostArray<float> &a, const HostArray<float> &b) {
  int64_t widthA = a.shape.at(0), widthB = b.shape.at(0);
  int64_t minimumOverlap =
      std::max(std::min({kMinimumMotifOverlap, widthA, widthB}), std::min(widthA, widthB) - kMotifOverhang);
  std::array<HostArray<float>, 2> strandsOfB = {b, reverseComplementMatrix(b)};
  double best = -1;
  for (const HostArray<float> &other : strandsOfB)
    // Column j of `other` faces column j + offset of `a`.
    for (int64_t offset = minimumOverlap - widthB; offset <= widthA - minimumOverlap; ++offset) {
      int64_t first = std::max<int64_t>(0, offset), last = std::min(widthA, offset + widthB);
      if (last - first < minimumOverlap)
        continue;
      double sum = 0;
      for (int64_t column = first; column < last; ++column)
        sum += columnCorrelation(a.data.data() + column * kBases, other.data.data() + (column - offset) * kBases);
      best = std::max(best, sum / static_cast<double>(last - first));
    }
  return best;
}

std::vector<Motif> selectBackgroundMotifs(const std::vector<Motif> &motifs, const std::vector<Motif> &core,
                                          int64_t count) {
  std::vector<Motif> chosen;
  auto similarToAny = [](const Motif &candidate, const std::vector<Motif> &others, double threshold) {
    return std::any_of(others.begin(), others.end(), [&](const Motif &other) {
      return motifSimilarity(candidate.probabilities, other.probabilities) >= threshold;
    });
  };
  for (const Motif &motif : motifs) {
    if (static_cast<int64_t>(chosen.size()) == count)
      break;
    bool isCore = std::any_of(core.begin(), core.end(), [&](const Motif &c) { return c.id == motif.id; });
    if (!isCore && !similarToAny(motif, core, kCoreMotifSimilarity) &&
        !similarToAny(motif, chosen, kBackgroundMotifSimilarity))
      chosen.push_back(motif);
  }
  if (static_cast<int64_t>(chosen.size()) < count)
    throw Error(fmt::format("only {} of the {} motifs qualify as background motifs (not core, with similarity "
                            "below {} to the core motifs and below {} to each other); {} are needed",
                            chosen.size(), motifs.size(), kCoreMotifSimilarity, kBackgroundMotifSimilarity, count));
  return chosen;
}

SyntheticData generateTask1(const std::vector<Motif> &motifs, const SyntheticOptions &options) {
  Generation generation = startGeneration("task1", kTask1DefaultCount, kTask1SequenceStreams, options);
  std::vector<Motif> taskMotifs;
  for (const std::string &id : task1MotifIds())
    taskMotifs.push_back(requireMotif(motifs, id, generation.task));
  for (const Motif &motif : taskMotifs)
    generation.motifs.push_back(prepareForSampling(motif));
  checkOptions(generation, kTask1MotifCounts.maxMotifs);
  generation.layout = layoutSplits(generation.count, options, generation.task);

  std::vector<int64_t> pool(taskMotifs.size());
  for (size_t k = 0; k < pool.size(); ++k)
    pool[k] = static_cast<int64_t>(k);
  int64_t labelCount = static_cast<int64_t>(taskMotifs.size());
  SyntheticData data =
      generate(generation, labelCount, options, [&](int64_t index, SyntheticSplit &split, int64_t row) {
        // Label k is motif k: a label says whether its motif is present at least once.
        for (int64_t motif : sampleSequence(generation, index, pool, kTask1MotifCounts, split, row))
          split.labels.data[row * labelCount + motif] = 1.0f;
      });
  data.motifs = std::move(taskMotifs);
  for (const Motif &motif : data.motifs) {
    data.motifNames.push_back(motif.label());
    data.labelNames.push_back(motif.name);
  }
  return data;
}

SyntheticData generateTask3(const std::vector<Motif> &motifs, const SyntheticOptions &options) {
  Generation generation = startGeneration("task3", kTask3DefaultCount, kTask3SequenceStreams, options);
  std::vector<Motif> core;
  for (const std::string &id : task3CoreMotifIds())
    core.push_back(requireMotif(motifs, id, generation.task));
  std::vector<Motif> taskMotifs = core;
  for (Motif &motif : selectBackgroundMotifs(motifs, core))
    taskMotifs.push_back(std::move(motif));
  for (const Motif &motif : taskMotifs)
    generation.motifs.push_back(prepareForSampling(motif));
  checkOptions(generation, kTask3MotifCounts.maxMotifs);
  generation.layout = layoutSplits(generation.count, options, generation.task);

  std::vector<int64_t> corePool, backgroundPool;
  for (int64_t k = 0; k < static_cast<int64_t>(taskMotifs.size()); ++k)
    (k < static_cast<int64_t>(core.size()) ? corePool : backgroundPool).push_back(k);
  // Exactly half positives, in an order of their own stream: a Fisher-Yates shuffle of count / 2 ones.
  std::vector<uint8_t> positive(static_cast<size_t>(generation.count), 0);
  std::fill(positive.begin(), positive.begin() + generation.count / 2, 1);
  Random order(generation.seed, kTask3ClassOrderStream);
  for (int64_t i = generation.count - 1; i > 0; --i)
    std::swap(positive[i], positive[order.uniformInt(static_cast<uint64_t>(i + 1))]);

  SyntheticData data = generate(generation, 1, options, [&](int64_t index, SyntheticSplit &split, int64_t row) {
    sampleSequence(generation, index, positive[index] ? corePool : backgroundPool, kTask3MotifCounts, split, row);
    split.labels.data[row] = positive[index] ? 1.0f : 0.0f;
  });
  data.motifs = std::move(taskMotifs);
  for (const Motif &motif : data.motifs)
    data.motifNames.push_back(motif.label());
  data.labelNames = {"positive"};
  return data;
}

void writeSyntheticData(const std::string &path, const SyntheticData &data) {
  std::vector<Hdf5Array> arrays;
  for (const char *name : kSplitNames) {
    auto found = data.splits.find(name);
    if (found == data.splits.end())
      throw Error(fmt::format("cannot write synthetic data to '{}': it has no '{}' split", path, name));
    const SyntheticSplit &split = found->second;
    HostArray<float> table({static_cast<int64_t>(split.placements.size()), 5});
    for (size_t k = 0; k < split.placements.size(); ++k) {
      const MotifPlacement &placement = split.placements[k];
      std::array<int64_t, 5> row = {placement.sequence, placement.motif, placement.start, placement.strand,
                                    placement.width};
      std::copy(row.begin(), row.end(), table.data.begin() + static_cast<int64_t>(k) * 5);
    }
    std::string suffix = std::string("_") + name;
    arrays.push_back({"X" + suffix, split.input, Hdf5Storage::Float32});
    arrays.push_back({"Y" + suffix, split.labels, Hdf5Storage::Int8});
    arrays.push_back({"model" + suffix, split.model, Hdf5Storage::Float32});
    arrays.push_back({"motifs" + suffix, std::move(table), Hdf5Storage::Int32});
  }
  writeHdf5File(path, arrays, {{"motif_names", data.motifNames}, {"label_names", data.labelNames}});
}

std::vector<std::string> groundTruthMotifNames(const std::string &spec, const std::vector<Motif> &database) {
  std::vector<std::string> names;
  if (spec == "task1" || spec == "task3") {
    for (const std::string &id : spec == "task1" ? task1MotifIds() : task3CoreMotifIds())
      names.push_back(findMotif(database, id).name);
    return names;
  }
  for (size_t start = 0; start <= spec.size();) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    if (comma > start)
      names.push_back(spec.substr(start, comma - start));
    start = comma + 1;
  }
  return names;
}

} // namespace seqjit
