// Work split into numbered chunks run by a few threads: the compiled programs are reentrant, so chunks of a batch
// run side by side.
#pragma once

#include "runtime/core/ParallelFor.h"

#include <cstdint>
#include <functional>

namespace seqjit {

/// Threads that call compiled programs side by side: workerThreads(requested) on the CPU; one where programs run on
/// a GPU (defaultDevice()), which runs them one at a time and is kept busiest by a whole batch per call.
int programThreads(int requested);

/// Runs body(0) .. body(chunks - 1) on up to `threads` threads (the caller's among them); each worker takes the next
/// chunk from a shared counter. With more than one thread, the programs they call run their loop nests on their own
/// thread (SerialKernels). The first exception thrown stops the remaining chunks and is rethrown here.
void runChunksInParallel(int64_t chunks, int threads, const std::function<void(int64_t)> &body);

} // namespace seqjit
