// The kernel threads: a pool on which compiled CPU programs run the iterations of their parallel loop nests
// (compiler/LoopNestOutlining.h marks them, compiler/ParallelNestDispatch.h makes the calls). Every iteration of such
// a loop writes its own outputs, so a program's results do not depend on how many threads share its loops.
#pragma once

#include <cstdint>

namespace seqjit {

/// Runs the iterations begin, begin + step, ... below `end` of a parallel loop nest.
using ParallelTask = void (*)(void *context, int64_t begin, int64_t end);

/// The runtime function compiled programs call (through an import slot, runtime/core/NativeProgram.h) for a parallel
/// loop nest: `task` runs on contiguous ranges of the iterations begin, begin + step, ... below `end` (step > 0), one
/// range per kernel thread, the caller's among them; returns when all are done. It runs the whole range on the
/// calling thread where the pool has one thread, the range has one iteration, the caller is inside SerialKernels, or
/// another thread's nest holds the pool.
extern "C" void seqjit_parallel_for(ParallelTask task, void *context, int64_t begin, int64_t end, int64_t step);

/// The name under which programs import it.
inline constexpr const char *kParallelForFunction = "seqjit_parallel_for";

/// The worker threads to use: `requested` if positive, else SEQJIT_NUM_THREADS, else every hardware thread.
/// Throws seqjit::Error for a SEQJIT_NUM_THREADS that is not a positive number.
int workerThreads(int requested);

/// Threads of the pool (workerThreads(0) until set).
int kernelThreads();
/// Sets the pool's threads (at least 1); waits for a nest running on it to finish.
void setKernelThreads(int threads);

/// The threads the last seqjit_parallel_for called on this thread ran its nest on (1 where it ran on the caller alone,
/// and after forgetLastParallelNest()): the kernel profile (runtime/core/KernelProfile.h) asks after each nest.
int threadsOfLastParallelNest();
void forgetLastParallelNest();

/// Parallel loop nests split across threads since the process started (a nest run on one thread is not counted).
uint64_t parallelNestsDispatched();

/// While one lives, compiled programs called on this thread run their parallel loop nests on this thread alone: for
/// threads that already run programs side by side (runtime/ParallelChunks.h).
class SerialKernels {
public:
  SerialKernels();
  ~SerialKernels();
  SerialKernels(const SerialKernels &) = delete;
  SerialKernels &operator=(const SerialKernels &) = delete;
};

} // namespace seqjit
