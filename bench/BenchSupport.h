// What the bench executables share: their common options, the timing loop, the median, the peak RSS and the
// JSON-lines file that bench/run_*.sh collect both sides' results in.
#pragma once

#include "compiler/ContractionKernels.h"
#include "dsl/Error.h"
#include "dsl/Graph.h"
#include "dsl/MultiplyAdds.h"
#include "runtime/Npy.h"
#include "runtime/Parameters.h"
#include "runtime/Stopwatch.h"
#include "runtime/core/KernelProfile.h"

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <variant>
#include <string>
#include <vector>

namespace seqjit::bench {

/// The options every bench takes (a bench adds its own through parseBenchArguments' `extra`).
struct BenchArguments {
  std::vector<std::string> models; ///< --model, repeatable; the first one given replaces the defaults.
  int64_t batch = 100;
  int reps = 10;
  int warmup = 1;
  uint64_t seed = 1;
  std::string outputDirectory; ///< --out-dir: where the data for the torch side goes.
  std::string jsonPath;        ///< --json; empty: no JSON lines.
};

/// `text` as an integer >= minimum; otherwise throws seqjit::Error naming `tool` and `option`.
inline int64_t parseInteger(const std::string &tool, const std::string &option, const std::string &text,
                            int64_t minimum) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used != text.size() || value < minimum)
    throw Error(fmt::format("{}: {} expects an integer >= {}, got '{}'", tool, option, minimum, text));
  return value;
}

/// An option of a bench's own: returns false if it does not know `option`.
using ExtraOption = std::function<bool(const std::string &option, const std::string &value)>;

/// Parses the common options into `args` (whose fields hold the defaults), hands any other "--option value" to
/// `extra`, and prints `usage` and exits on -h / --help. Throws seqjit::Error on a missing value or unknown option.
inline void parseBenchArguments(int argc, char **argv, const std::string &tool, const std::string &usage,
                                BenchArguments &args, const ExtraOption &extra = {}) {
  bool modelsGiven = false;
  for (int i = 1; i < argc; ++i) {
    std::string option = argv[i];
    if (option == "-h" || option == "--help") {
      fmt::print("{}", usage);
      std::exit(0);
    }
    if (i + 1 >= argc)
      throw Error(fmt::format("{}: option '{}' needs a value (see --help)", tool, option));
    std::string value = argv[++i];
    if (option == "--model") {
      if (!modelsGiven)
        args.models.clear();
      modelsGiven = true;
      args.models.push_back(value);
    } else if (option == "--batch") {
      args.batch = parseInteger(tool, option, value, 1);
    } else if (option == "--reps") {
      args.reps = static_cast<int>(parseInteger(tool, option, value, 1));
    } else if (option == "--warmup") {
      args.warmup = static_cast<int>(parseInteger(tool, option, value, 0));
    } else if (option == "--seed") {
      args.seed = static_cast<uint64_t>(parseInteger(tool, option, value, 0));
    } else if (option == "--out-dir") {
      args.outputDirectory = value;
    } else if (option == "--json") {
      args.jsonPath = value;
    } else if (!extra || !extra(option, value)) {
      throw Error(fmt::format("{}: unknown option '{}' (see --help)", tool, option));
    }
  }
}

/// The process's peak resident set so far (ru_maxrss), in MB.
inline double peakResidentMegabytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0; // Linux reports kilobytes.
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

/// Runs `step` `warmup` times untimed, then `reps` times timed (printing each), and returns the seconds of each.
inline std::vector<double> timeRepetitions(int warmup, int reps, const std::function<void()> &step) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i)
    step();
  std::vector<double> seconds;
  for (int i = 0; i < reps; ++i) {
    auto start = Clock::now();
    step();
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    fmt::print("  rep {}/{}: {:.1f} ms\n", i + 1, reps, seconds.back() * 1e3);
    std::fflush(stdout);
  }
  return seconds;
}

/// Writes what the torch side needs to run on the same numbers: DIR/<model>/weights.npz (state_dict names) and
/// one DIR/<model>/<name>.npy per array. Returns DIR/<model>.
inline std::filesystem::path writeBenchData(const std::string &outputDirectory, const std::string &model,
                                            const Parameters &parameters,
                                            const std::map<std::string, const HostArray<float> *> &arrays) {
  std::filesystem::path directory = std::filesystem::path(outputDirectory) / model;
  std::filesystem::create_directories(directory);
  parameters.saveNpz((directory / "weights.npz").string());
  for (const auto &[name, array] : arrays)
    writeNpy((directory / (name + ".npy")).string(), *array);
  return directory;
}

/// The --json file, opened for appending; with an empty path every append is a no-op.
class JsonLines {
public:
  JsonLines(const std::string &tool, const std::string &path) {
    if (path.empty())
      return;
    file_ = std::fopen(path.c_str(), "a");
    if (!file_)
      throw Error(fmt::format("{}: cannot open '{}' for appending", tool, path));
  }
  JsonLines(const JsonLines &) = delete;
  JsonLines &operator=(const JsonLines &) = delete;
  ~JsonLines() {
    if (file_)
      std::fclose(file_);
  }
  /// Appends `object` (one JSON object, no newline) as a line and flushes it.
  void append(const std::string &object) {
    if (!file_)
      return;
    fmt::print(file_, "{}\n", object);
    std::fflush(file_);
  }

private:
  std::FILE *file_ = nullptr;
};

/// The JSON fields every seqjit row adds for the % of peak: "flops" (per timed call, from `multiplyAdds` and the
/// passes it counts) and "vector_bits" (the kernels' vector width).
inline std::string workFields(double multiplyAdds, int64_t batch, int passes) {
  return fmt::format(", \"flops\": {:.6g}, \"vector_bits\": {}", 2.0 * multiplyAdds * static_cast<double>(batch) * passes,
                     cpuVectorTarget().vectorBits);
}

/// A bench's main: runs `body`, prints the kernel profile on stderr where SEQJIT_PROFILE=1, and turns an exception
/// into "error: ..." on stderr and exit status 1.
inline int runBench(const std::function<void()> &body) {
  try {
    body();
    if (kernelProfileEnabled())
      fmt::print(stderr, "{}", kernelProfileReport());
    return 0;
  } catch (const std::exception &error) {
    fmt::print(stderr, "error: {}\n", error.what());
    return 1;
  }
}

} // namespace seqjit::bench
