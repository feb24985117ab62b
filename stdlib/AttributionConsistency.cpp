// The two consistency metrics of Majdandzic et al. 2022, following their code's steps (see the header).
#include "stdlib/AttributionConsistency.h"

#include "dsl/Error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

namespace seqjit {
namespace {

void checkShapes(const HostArray<float> &map, const HostArray<float> &sequences, const char *metric) {
  if (map.rank() != 3 || map.shape[1] != 4 || map.shape != sequences.shape || map.shape[0] == 0)
    throw Error(fmt::format("{}: attribution maps ({}) and sequences ({}) must both be (N, 4, L) with N > 0", metric,
                            fmt::join(map.shape, ", "), fmt::join(sequences.shape, ", ")));
}

/// One sequence's map, gradient-corrected: (L, 4) as doubles, position-major.
std::vector<std::array<double, 4>> corrected(const HostArray<float> &map, int64_t n) {
  const int64_t length = map.shape[2];
  std::vector<std::array<double, 4>> vectors(static_cast<size_t>(length));
  for (int64_t l = 0; l < length; ++l) {
    double mean = 0;
    for (int64_t b = 0; b < 4; ++b)
      mean += map.data[(n * 4 + b) * length + l] / 4.0;
    for (int64_t b = 0; b < 4; ++b)
      vectors[l][b] = map.data[(n * 4 + b) * length + l] - mean;
  }
  return vectors;
}

double norm(const std::array<double, 4> &v) { return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3]); }

/// The base at position l of sequence n, or -1 where the column is not one-hot.
int baseAt(const HostArray<float> &sequences, int64_t n, int64_t l) {
  const int64_t length = sequences.shape[2];
  int base = -1, ones = 0;
  double sum = 0;
  for (int b = 0; b < 4; ++b) {
    const float v = sequences.data[(n * 4 + b) * length + l];
    sum += v;
    if (v == 1.0f) {
      base = b;
      ++ones;
    }
  }
  return ones == 1 && sum == 1.0 ? base : -1;
}

/// numpy.quantile's default (linear interpolation between order statistics).
double quantileOf(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (position - static_cast<double>(below)) * (values[above] - values[below]);
}

/// Adds the k-mers of positions [first, last] of sequence n to `counts` (4^k entries).
void countKmers(const HostArray<float> &sequences, int64_t n, int64_t first, int64_t last, int64_t k,
                std::vector<double> &counts) {
  for (int64_t start = first; start + k - 1 <= last; ++start) {
    int64_t index = 0;
    bool valid = true;
    for (int64_t j = 0; j < k && valid; ++j) {
      const int base = baseAt(sequences, n, start + j);
      valid = base >= 0;
      index = index * 4 + base;
    }
    if (valid)
      counts[static_cast<size_t>(index)] += 1.0;
  }
}

} // namespace

double kmerConsistency(const HostArray<float> &map, const HostArray<float> &sequences,
                       const KmerConsistencyOptions &options) {
  checkShapes(map, sequences, "KLD k-mer consistency");
  const int64_t length = map.shape[2];
  if (options.k < 1 || options.k > 8 || options.k > length || !(options.quantile >= 0 && options.quantile < 1) ||
      options.extension < 0)
    throw Error(fmt::format("KLD k-mer consistency: k {} (1 to 8, at most L = {}), quantile {} (in [0, 1)), extension "
                            "{} (0 or more)",
                            options.k, length, options.quantile, options.extension));
  const size_t kmers = size_t{1} << (2 * options.k);
  std::vector<double> selected(kmers, 0.0), everywhere(kmers, 0.0);
  for (int64_t n = 0; n < map.shape[0]; ++n) {
    countKmers(sequences, n, 0, length - 1, options.k, everywhere);
    std::vector<std::array<double, 4>> vectors = corrected(map, n);
    std::vector<double> norms;
    double total = 0;
    for (const auto &v : vectors) {
      norms.push_back(norm(v));
      total += norms.back() * norms.back();
    }
    if (total == 0)
      continue; // a map of zeros points nowhere
    for (double &r : norms)
      r /= std::sqrt(total);
    const double cutoff = quantileOf(norms, options.quantile);
    // Runs of positions above the cutoff, each extended to the right, merged where they overlap.
    int64_t runStart = -1, mergedFirst = -1, mergedLast = -1;
    auto closeRun = [&](int64_t first, int64_t last) {
      last = std::min(last + options.extension, length - 1);
      if (mergedFirst >= 0 && first <= mergedLast) {
        mergedLast = std::max(mergedLast, last);
        return;
      }
      if (mergedFirst >= 0 && mergedLast - mergedFirst + 1 >= options.k)
        countKmers(sequences, n, mergedFirst, mergedLast, options.k, selected);
      mergedFirst = first;
      mergedLast = last;
    };
    for (int64_t l = 0; l <= length; ++l) {
      const bool above = l < length && norms[l] > cutoff;
      if (above && runStart < 0)
        runStart = l;
      if (!above && runStart >= 0) {
        closeRun(runStart, l - 1);
        runStart = -1;
      }
    }
    if (mergedFirst >= 0 && mergedLast - mergedFirst + 1 >= options.k)
      countKmers(sequences, n, mergedFirst, mergedLast, options.k, selected);
  }
  double selectedTotal = 0, everywhereTotal = 0;
  for (size_t i = 0; i < kmers; ++i) {
    selectedTotal += selected[i];
    everywhereTotal += everywhere[i];
  }
  if (selectedTotal == 0 || everywhereTotal == 0)
    throw Error("KLD k-mer consistency: no k-mers were selected (maps of zeros, or sequences without one-hot "
                "stretches of k positions)");
  double divergence = 0;
  for (size_t i = 0; i < kmers; ++i)
    if (selected[i] > 0) {
      const double p = selected[i] / selectedTotal, q = everywhere[i] / everywhereTotal;
      divergence += p * std::log(p / q); // q > 0: every selected k-mer is also counted everywhere
    }
  return divergence;
}

double attributionVectorConsistency(const HostArray<float> &map, const HostArray<float> &sequences,
                                    const VectorConsistencyOptions &options) {
  checkShapes(map, sequences, "k-attr-mean consistency");
  const int64_t sequencesCount = map.shape[0], length = map.shape[2];
  if (options.window < 1 || options.window > length || !(options.kept > 0 && options.kept <= 1) ||
      !(options.bin >= 0.001 && options.bin <= std::numbers::pi / 3) || options.neighbourhood < 1)
    throw Error(fmt::format("k-attr-mean consistency: window {} (1 to L = {}), kept fraction {} (in (0, 1]), bin {} "
                            "(0.001 to pi / 3), neighbourhood {} (1 or more)",
                            options.window, length, options.kept, options.bin, options.neighbourhood));
  const int64_t bins = static_cast<int64_t>(std::numbers::pi / options.bin);
  static const double kAxes[3][4] = {
      {-1 / std::sqrt(2.0), 1 / std::sqrt(2.0), 0, 0},
      {-1 / std::sqrt(6.0), -1 / std::sqrt(6.0), 2 / std::sqrt(6.0), 0},
      {-1 / std::sqrt(12.0), -1 / std::sqrt(12.0), -1 / std::sqrt(12.0), 3 / std::sqrt(12.0)}};
  struct Point {
    std::array<double, 3> e;
    double radius;
    bool oneHot;
  };
  std::vector<Point> points;
  for (int64_t n = 0; n < sequencesCount; ++n) {
    std::vector<std::array<double, 4>> vectors = corrected(map, n);
    double total = 0;
    for (const auto &v : vectors)
      total += norm(v);
    for (int64_t l = 0; l < length; ++l) {
      std::array<double, 4> summed{};
      for (int64_t j = 0; j < options.window; ++j)
        for (int b = 0; b < 4; ++b)
          summed[b] += total > 0 ? vectors[(l + j) % length][b] / total : 0.0;
      Point point{{}, 0, baseAt(sequences, n, l) >= 0};
      for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 4; ++b)
          point.e[a] += kAxes[a][b] * summed[b];
        point.radius += point.e[a] * point.e[a];
      }
      point.radius = std::sqrt(point.radius);
      points.push_back(point);
    }
  }
  // The cutoff is the (kept * N * L)-th longest vector of all; those longer, at one-hot positions, are kept.
  std::vector<double> radii;
  for (const Point &p : points)
    radii.push_back(p.radius);
  std::sort(radii.begin(), radii.end());
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(options.kept * static_cast<double>(radii.size())));
  const double cutoff = radii[radii.size() - static_cast<size_t>(rank)];
  std::vector<double> histogram(static_cast<size_t>(bins * bins), 0.0);
  double weight = 0;
  for (const Point &p : points) {
    if (!p.oneHot || !(p.radius > cutoff))
      continue;
    const double x = p.e[1], y = p.e[2], z = p.e[0]; // their code's rotation of the axes
    double azimuth = std::atan2(y, x);
    if (x == 0)
      azimuth = std::numbers::pi / 2; // as their code sets it
    azimuth = azimuth / 2 + std::numbers::pi / 2;
    const double polar = std::acos(std::clamp(z / p.radius, -1.0, 1.0));
    const int64_t i = std::min(static_cast<int64_t>(azimuth / options.bin), bins - 1);
    const int64_t j = std::min(static_cast<int64_t>(polar / options.bin), bins - 1);
    histogram[static_cast<size_t>(i * bins + j)] += p.radius * p.radius;
    weight += p.radius * p.radius;
  }
  if (weight == 0)
    throw Error("k-attr-mean consistency: no attribution vector was kept (maps of zeros, or no one-hot positions)");
  const double area = options.bin * options.bin;
  auto density = [&](int64_t i, int64_t j) { return histogram[static_cast<size_t>(i * bins + j)] / weight / area; };
  double entropy = 0;
  for (int64_t i = 1; i < bins - 1; ++i)
    for (int64_t j = 1; j < bins - 1; ++j) {
      const double p = density(i, j);
      if (p <= 0)
        continue;
      double prior = 0;
      int64_t counted = 0;
      // Their code's neighbourhood, bins i-3 .. i+2 within 1 .. bins-1 (bin 0 is left out, the last bin is not).
      for (int64_t di = -options.neighbourhood; di < options.neighbourhood; ++di)
        for (int64_t dj = -options.neighbourhood; dj < options.neighbourhood; ++dj)
          if (i + di > 0 && i + di < bins && j + dj > 0 && j + dj < bins) {
            prior += density(i + di, j + dj);
            ++counted;
          }
      entropy += p * std::log(p / (prior / static_cast<double>(counted)));
    }
  return entropy * area;
}

} // namespace seqjit
