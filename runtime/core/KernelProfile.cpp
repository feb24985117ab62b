#include "runtime/core/KernelProfile.h"

#include "dsl/Error.h"
#include "runtime/core/ParallelFor.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <unordered_map>

namespace seqjit {

namespace {

std::atomic<bool> enabled{false};

/// The times by descriptor (their costs decoded when the table is made).
std::mutex collectedMutex;
std::unordered_map<std::string, KernelTime> &collected() {
  static std::unordered_map<std::string, KernelTime> byDescriptor;
  return byDescriptor;
}

int64_t nowNanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

extern "C" int64_t seqjit_profile_enter(const char *) {
  forgetLastParallelNest();
  return nowNanoseconds();
}

extern "C" void seqjit_profile_exit(const char *descriptor, int64_t start) {
  double seconds = static_cast<double>(nowNanoseconds() - start) * 1e-9;
  int threads = threadsOfLastParallelNest();
  std::lock_guard<std::mutex> lock(collectedMutex);
  KernelTime &entry = collected()[descriptor];
  entry.calls += 1;
  entry.seconds += seconds;
  entry.secondsOnThreads[threads] += seconds;
}

std::string encodeKernelCost(const KernelCost &cost) {
  auto clean = [](std::string text) {
    std::replace(text.begin(), text.end(), '\t', ' ');
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
  };
  return fmt::format("{}\t{}\t{}\t{}\t{:.17g}\t{:.17g}", clean(cost.function), cost.nest, clean(cost.kind),
                     clean(cost.layers), cost.flops, cost.bytes);
}

KernelCost decodeKernelCost(const std::string &descriptor) {
  std::vector<std::string> fields;
  std::stringstream stream(descriptor);
  for (std::string field; std::getline(stream, field, '\t');)
    fields.push_back(field);
  if (fields.size() != 6)
    throw Error(fmt::format("a kernel profile descriptor has {} fields, not 6: '{}'", fields.size(), descriptor));
  KernelCost cost;
  cost.function = fields[0];
  cost.kind = fields[2];
  cost.layers = fields[3];
  try {
    cost.nest = std::stoi(fields[1]);
    cost.flops = std::stod(fields[4]);
    cost.bytes = std::stod(fields[5]);
  } catch (const std::exception &) {
    throw Error(fmt::format("a kernel profile descriptor has a malformed number: '{}'", descriptor));
  }
  return cost;
}

bool kernelProfileEnabled() {
  if (enabled.load())
    return true;
  const char *configured = std::getenv("SEQJIT_PROFILE");
  std::string value = configured ? configured : "";
  if (value != "" && value != "0" && value != "1")
    throw Error(fmt::format("SEQJIT_PROFILE must be 1 (profile) or 0, got '{}'", value));
  return value == "1";
}

void enableKernelProfile() { enabled.store(true); }

std::vector<KernelTime> kernelTimes() {
  std::lock_guard<std::mutex> lock(collectedMutex);
  std::vector<KernelTime> times;
  for (const auto &[descriptor, entry] : collected()) {
    times.push_back(entry);
    times.back().cost = decodeKernelCost(descriptor);
  }
  return times;
}

void resetKernelProfile() {
  std::lock_guard<std::mutex> lock(collectedMutex);
  collected().clear();
}

std::string formatKernelProfile(const std::vector<KernelTime> &times, const FmaPeak &onePeak) {
  std::vector<const KernelTime *> nests, entries;
  double nestSeconds = 0, entrySeconds = 0;
  for (const KernelTime &time : times) {
    (time.cost.nest >= 0 ? nests : entries).push_back(&time);
    (time.cost.nest >= 0 ? nestSeconds : entrySeconds) += time.seconds;
  }
  if (times.empty())
    return "";
  auto bySeconds = [](const KernelTime *a, const KernelTime *b) { return a->seconds > b->seconds; };
  std::sort(nests.begin(), nests.end(), bySeconds);
  std::sort(entries.begin(), entries.end(), bySeconds);
  std::string text = fmt::format(
      "kernel profile: {} loop nests of {} entry points, {:.1f} ms in entry points (FMA peak {:.1f} GFLOP/s per "
      "thread, {}, float32)\n",
      nests.size(), entries.size(), entrySeconds * 1e3, onePeak.gflops, onePeak.vector);
  text += fmt::format("  {:>9} {:>6} {:>8} {:>8} {:>7} {:>9}  {}\n", "time ms", "share", "calls", "GFLOP/s", "% peak",
                      "MB moved", "nest kind: layers");
  for (const KernelTime *nest : nests) {
    double flops = nest->cost.flops * static_cast<double>(nest->calls);
    double capacity = 0; // FLOPs the threads it ran on could have done in its time
    for (const auto &[threads, seconds] : nest->secondsOnThreads)
      capacity += seconds * threads * onePeak.gflops * 1e9;
    std::string gflops = nest->seconds > 0 ? fmt::format("{:.2f}", flops / nest->seconds / 1e9) : "-";
    std::string ofPeak = capacity > 0 ? fmt::format("{:.1f}%", 100 * flops / capacity) : "-";
    text += fmt::format("  {:>9.3f} {:>5.1f}% {:>8} {:>8} {:>7} {:>9.2f}  {} #{} {}: {}\n", nest->seconds * 1e3,
                        nestSeconds > 0 ? 100 * nest->seconds / nestSeconds : 0.0, nest->calls, gflops, ofPeak,
                        nest->cost.bytes * static_cast<double>(nest->calls) / 1e6, nest->cost.function, nest->cost.nest,
                        nest->cost.kind, nest->cost.layers.empty() ? "-" : nest->cost.layers);
  }
  text += fmt::format("  {:>9} {:>8} {:>14}  {}\n", "time ms", "calls", "outside nests", "entry point");
  for (const KernelTime *entry : entries) {
    double inside = 0;
    for (const KernelTime *nest : nests)
      if (nest->cost.function == entry->cost.function)
        inside += nest->seconds;
    text += fmt::format("  {:>9.3f} {:>8} {:>11.3f} ms  {}\n", entry->seconds * 1e3, entry->calls,
                        std::max(0.0, entry->seconds - inside) * 1e3, entry->cost.function);
  }
  return text;
}

std::string kernelProfileReport() {
  std::vector<KernelTime> times = kernelTimes();
  if (times.empty())
    return "kernel profile: no program compiled for the profile ran (the profile times CPU programs compiled while it "
           "is enabled)\n";
  return formatKernelProfile(times, measureFmaPeak(1, 5'000'000, 3));
}

} // namespace seqjit
