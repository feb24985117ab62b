// Tomtom-style motif comparison: discretised Pearson column scores, exact null distributions of their sums by
// convolution, best offset per target corrected for the offsets tried.
#include "stdlib/MotifComparison.h"

#include "dsl/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <numeric>

namespace seqjit {

namespace {

constexpr int64_t kBins = static_cast<int64_t>(2.0 / kColumnScoreResolution) + 1; // correlations -1 .. 1

void checkMatrix(const Motif &motif, const std::string &role) {
  if (motif.probabilities.rank() != 2 || motif.probabilities.shape[1] != 4 || motif.width() < 1)
    throw Error(fmt::format("motif comparison: {} motif '{}' is not a (W, 4) matrix", role, motif.label()));
}

int64_t discretised(double correlation) {
  return std::clamp<int64_t>(std::lround((correlation + 1.0) / kColumnScoreResolution), 0, kBins - 1);
}

/// The columns of a motif on one strand, each 4 floats.
std::vector<const float *> columnsOf(const HostArray<float> &matrix) {
  std::vector<const float *> columns;
  for (int64_t j = 0; j < matrix.shape[0]; ++j)
    columns.push_back(matrix.data.data() + j * 4);
  return columns;
}

/// P(sum of the discretised scores of query columns a..b >= s) under independent database columns, for every
/// contiguous range of the query, built by convolving the columns' score histograms.
class NullTails {
public:
  NullTails(const std::vector<const float *> &query, const std::vector<const float *> &pool) {
    const int64_t width = static_cast<int64_t>(query.size());
    std::vector<std::vector<double>> histograms(width, std::vector<double>(kBins, 0.0));
    for (int64_t i = 0; i < width; ++i)
      for (const float *column : pool)
        histograms[i][discretised(columnCorrelation(query[i], column))] += 1.0 / static_cast<double>(pool.size());
    tails_.assign(width, std::vector<std::vector<double>>(width));
    for (int64_t a = 0; a < width; ++a) {
      std::vector<double> density{1.0};
      for (int64_t b = a; b < width; ++b) {
        std::vector<double> next(density.size() + kBins - 1, 0.0);
        for (size_t s = 0; s < density.size(); ++s)
          if (density[s] != 0)
            for (int64_t k = 0; k < kBins; ++k)
              next[s + k] += density[s] * histograms[b][k];
        density = std::move(next);
        std::vector<double> &tail = tails_[a][b];
        tail.assign(density.size() + 1, 0.0);
        for (size_t s = density.size(); s-- > 0;)
          tail[s] = tail[s + 1] + density[s];
      }
    }
  }

  double tail(int64_t a, int64_t b, int64_t sum) const {
    const std::vector<double> &t = tails_[a][b];
    return sum <= 0 ? 1.0 : sum >= static_cast<int64_t>(t.size()) ? 0.0 : std::min(1.0, t[sum]);
  }

private:
  std::vector<std::vector<std::vector<double>>> tails_; // [a][b][s]
};

/// Benjamini-Hochberg q-values of `pValues`.
std::vector<double> qValues(const std::vector<double> &pValues) {
  const size_t n = pValues.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return pValues[x] < pValues[y]; });
  std::vector<double> q(n);
  double running = 1.0;
  for (size_t k = n; k-- > 0;) {
    running = std::min(running, pValues[order[k]] * static_cast<double>(n) / static_cast<double>(k + 1));
    q[order[k]] = running;
  }
  return q;
}

std::string lowercase(std::string text) {
  for (char &c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

} // namespace

double columnCorrelation(const float *a, const float *b) {
  double meanA = (a[0] + a[1] + a[2] + a[3]) / 4.0, meanB = (b[0] + b[1] + b[2] + b[3]) / 4.0;
  double covariance = 0, varianceA = 0, varianceB = 0;
  for (int k = 0; k < 4; ++k) {
    covariance += (a[k] - meanA) * (b[k] - meanB);
    varianceA += (a[k] - meanA) * (a[k] - meanA);
    varianceB += (b[k] - meanB) * (b[k] - meanB);
  }
  if (varianceA < 1e-12 || varianceB < 1e-12)
    return 0.0;
  return covariance / std::sqrt(varianceA * varianceB);
}

std::vector<std::vector<MotifMatch>> compareMotifs(const std::vector<Motif> &queries,
                                                   const std::vector<Motif> &database,
                                                   const MotifComparisonOptions &options) {
  if (database.empty())
    throw Error("motif comparison: the database has no motifs");
  // Both strands of every database motif, and all their columns: the null of a query column's score.
  std::vector<std::array<HostArray<float>, 2>> strands;
  std::vector<const float *> pool;
  for (const Motif &target : database) {
    checkMatrix(target, "database");
    strands.push_back({target.probabilities, reverseComplementMatrix(target.probabilities)});
  }
  for (const auto &both : strands)
    for (const HostArray<float> &matrix : both)
      for (const float *column : columnsOf(matrix))
        pool.push_back(column);

  std::vector<std::vector<MotifMatch>> results;
  for (const Motif &query : queries) {
    checkMatrix(query, "query");
    const std::vector<const float *> q = columnsOf(query.probabilities);
    const int64_t width = static_cast<int64_t>(q.size());
    const NullTails tails(q, pool);
    std::vector<MotifMatch> best(database.size());
    std::vector<double> pValues(database.size(), 1.0);
    for (size_t t = 0; t < database.size(); ++t) {
      MotifMatch &match = best[t];
      match.target = static_cast<int64_t>(t);
      double lowest = 2.0;
      int64_t tests = 0;
      for (int strand = 0; strand < 2; ++strand) {
        const std::vector<const float *> columns = columnsOf(strands[t][strand]);
        const int64_t targetWidth = static_cast<int64_t>(columns.size());
        for (int64_t offset = -(width - 1); offset <= targetWidth - 1; ++offset) {
          const int64_t first = std::max<int64_t>(0, -offset), last = std::min(width - 1, targetWidth - 1 - offset);
          if (last - first + 1 < options.minOverlap)
            continue;
          ++tests;
          int64_t sum = 0;
          double score = 0;
          for (int64_t i = first; i <= last; ++i) {
            double correlation = columnCorrelation(q[i], columns[i + offset]);
            sum += discretised(correlation);
            score += correlation;
          }
          double p = tails.tail(first, last, sum);
          if (p < lowest || (p == lowest && score > match.score)) {
            lowest = p;
            match.offset = offset;
            match.reverse = strand == 1;
            match.overlap = last - first + 1;
            match.score = score;
          }
        }
      }
      // The best of `tests` offsets and strands: 1 - (1 - p)^tests (Tomtom's correction), computed stably.
      pValues[t] = tests == 0 ? 1.0 : -std::expm1(static_cast<double>(tests) * std::log1p(-std::min(lowest, 1.0)));
    }
    std::vector<double> adjusted = qValues(pValues);
    std::vector<MotifMatch> reported;
    for (size_t t = 0; t < database.size(); ++t) {
      best[t].pValue = pValues[t];
      best[t].eValue = pValues[t] * static_cast<double>(database.size());
      best[t].qValue = adjusted[t];
      if (best[t].eValue <= options.eValueThreshold)
        reported.push_back(best[t]);
    }
    std::sort(reported.begin(), reported.end(),
              [](const MotifMatch &x, const MotifMatch &y) { return x.pValue < y.pValue; });
    results.push_back(std::move(reported));
  }
  return results;
}

double fractionMatching(const std::vector<std::vector<MotifMatch>> &matches, const std::vector<Motif> &database,
                        const std::vector<std::string> &names) {
  if (matches.empty())
    return 0.0;
  std::vector<std::string> wanted;
  for (const std::string &name : names)
    wanted.push_back(lowercase(name));
  int64_t matching = 0;
  for (const std::vector<MotifMatch> &list : matches)
    matching += std::any_of(list.begin(), list.end(), [&](const MotifMatch &m) {
      return std::find(wanted.begin(), wanted.end(), lowercase(database[m.target].name)) != wanted.end();
    });
  return static_cast<double>(matching) / static_cast<double>(matches.size());
}

} // namespace seqjit
