// The kernel profile (--profile, SEQJIT_PROFILE=1): a CPU program compiled while it is enabled times each of its
// loop nests, and each entry point as a whole, through two runtime functions it imports (compiler/LoopNestOutlining.h
// instruments it). Each timed region passes a descriptor, a string constant of the program holding what it costs
// per call; this file collects the times by descriptor and prints the table.
#pragma once

#include "runtime/core/FmaPeak.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace seqjit {

/// Called by an instrumented program before a timed region: returns the start time (ns, steady clock).
extern "C" int64_t seqjit_profile_enter(const char *descriptor);
/// ... and after it, with what enter returned.
extern "C" void seqjit_profile_exit(const char *descriptor, int64_t start);

/// The names under which programs import them.
inline constexpr const char *kProfileEnterFunction = "seqjit_profile_enter";
inline constexpr const char *kProfileExitFunction = "seqjit_profile_exit";

/// What a timed region is and costs per call, as the compiler worked it out.
struct KernelCost {
  std::string function; ///< the program's function it is in (or is)
  int nest = -1;        ///< its index among the function's loop nests; -1 for the function as a whole
  std::string kind;     ///< of a nest: "kernel", "fill", "copy" or "loops" (compiler/LoopNestCost.h)
  std::string layers;   ///< the layers its operations come from ("conv1 + bn1"; "conv1.grad" for a VJP)
  double flops = 0;     ///< floating-point operations it executes, an FMA counting two per lane
  double bytes = 0;     ///< bytes of the buffers it reads or writes, each counted once
};

/// The descriptor string of `cost` (tab-separated fields) and back; decoding throws seqjit::Error for a malformed one.
std::string encodeKernelCost(const KernelCost &cost);
KernelCost decodeKernelCost(const std::string &descriptor);

/// Whether programs compiled from now on are instrumented: enableKernelProfile() was called, or SEQJIT_PROFILE=1.
/// Throws seqjit::Error for a SEQJIT_PROFILE other than 1, 0 or empty.
bool kernelProfileEnabled();
void enableKernelProfile();

/// The times collected for one descriptor (equal descriptors of different programs are one).
struct KernelTime {
  KernelCost cost;
  uint64_t calls = 0;
  double seconds = 0;
  /// seconds, by the number of kernel threads the region's parallel loop ran on (1: the calling thread alone).
  std::map<int, double> secondsOnThreads;
};

/// Everything timed since the process started (or since resetKernelProfile()), in no particular order.
std::vector<KernelTime> kernelTimes();
void resetKernelProfile();

/// The table --profile prints: every loop nest by time, with its share of the time in nests, calls, GFLOP/s, bytes
/// moved and % of the FMA peak of the threads it ran on (`onePeak`: one thread's peak; a nest on T threads is held
/// to T times it); then each entry point's total and the part of it outside its nests. Empty where nothing was timed.
std::string formatKernelProfile(const std::vector<KernelTime> &times, const FmaPeak &onePeak);

/// formatKernelProfile() of everything timed so far, against one thread's FMA peak measured now (about 0.1 s), or a
/// line saying that no profiled program ran.
std::string kernelProfileReport();

} // namespace seqjit
