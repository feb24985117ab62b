// A shared-counter pool of worker threads over numbered chunks.
#include "runtime/ParallelChunks.h"

#include "dsl/Error.h"
#include "runtime/core/Device.h"
#include "runtime/core/ParallelFor.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace seqjit {

int programThreads(int requested) { return defaultDevice() == Device::Cuda ? 1 : workerThreads(requested); }

void runChunksInParallel(int64_t chunks, int threads, const std::function<void(int64_t)> &body) {
  std::atomic<int64_t> next{0};
  std::exception_ptr failure;
  std::mutex failureMutex;
  const bool sideBySide = threads > 1 && chunks > 1;
  auto worker = [&] {
    // Programs side by side already use the cores: their loop nests stay on their own threads.
    std::optional<SerialKernels> serial;
    if (sideBySide)
      serial.emplace();
    for (int64_t index = next++; index < chunks; index = next++) {
      try {
        body(index);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failureMutex);
        if (!failure)
          failure = std::current_exception();
        next = chunks;
      }
    }
  };
  std::vector<std::thread> workers;
  for (int64_t t = 1; t < std::min<int64_t>(threads, chunks); ++t)
    workers.emplace_back(worker);
  worker();
  for (std::thread &t : workers)
    t.join();
  if (failure)
    std::rethrow_exception(failure);
}

} // namespace seqjit
