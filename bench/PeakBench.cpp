// bench_peak: the machine's measured FMA peak (runtime/core/FmaPeak.h), the bound the other benchmarks' "% of peak"
// divides by, on 1 thread and on --threads threads at once; the best of --trials runs.
#include "runtime/core/FmaPeak.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

int main(int argc, char **argv) {
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), trials = 5;
  std::string json;
  for (int i = 1; i < argc; ++i) {
    std::string option = argv[i];
    if (option == "-h" || option == "--help") {
      std::printf("usage: bench_peak [--threads N] [--trials T] [--json FILE]\n"
                  "  The FMA peak in GFLOP/s at the widest vector width the CPU executes, on 1 and N threads\n"
                  "  (default: every hardware thread); the best of T trials (default 5). --json appends one object.\n");
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_peak: %s needs a value\n", option.c_str());
      return 2;
    }
    std::string value = argv[++i];
    if (option == "--threads")
      threads = std::atoi(value.c_str());
    else if (option == "--trials")
      trials = std::atoi(value.c_str());
    else if (option == "--json")
      json = value;
    else {
      std::fprintf(stderr, "bench_peak: unknown option %s\n", option.c_str());
      return 2;
    }
    if ((option == "--threads" || option == "--trials") && std::atoi(value.c_str()) < 1) {
      std::fprintf(stderr, "bench_peak: %s must be a positive number, got '%s'\n", option.c_str(), value.c_str());
      return 2;
    }
  }
  seqjit::FmaPeak one = seqjit::measureFmaPeak(1, 20'000'000, trials);
  if (one.vectorBits == 0) {
    std::fprintf(stderr, "bench_peak: the CPU has neither AVX-512 nor AVX2 with FMA\n");
    return 1;
  }
  seqjit::FmaPeak all = seqjit::measureFmaPeak(threads, 20'000'000, trials);
  fmt::print("FMA peak ({}, float32): {:.1f} GFLOP/s on 1 thread, {:.1f} GFLOP/s on {} threads\n", one.vector,
             one.gflops, all.gflops, threads);
  if (!json.empty()) {
    std::FILE *out = std::fopen(json.c_str(), "a");
    if (!out) {
      std::fprintf(stderr, "bench_peak: cannot write %s\n", json.c_str());
      return 1;
    }
    fmt::print(out,
               "{{\"side\": \"peak\", \"vector\": \"{}\", \"vector_bits\": {}, \"threads\": {}, "
               "\"gflops\": {:.6g}, \"gflops_1_thread\": {:.6g}}}\n",
               one.vector, one.vectorBits, threads, all.gflops, one.gflops);
    std::fclose(out);
  }
  return 0;
}
