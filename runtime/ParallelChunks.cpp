// A shared-counter pool of worker threads over numbered chunks.
#include "runtime/ParallelChunks.h"

#include "dsl/Error.h"
#include "runtime/core/Device.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace seqjit {

int workerThreads(int requested) {
  if (requested > 0)
    return requested;
  if (const char *configured = std::getenv("SEQJIT_NUM_THREADS")) {
    int value = std::atoi(configured);
    if (value <= 0)
      throw Error(fmt::format("SEQJIT_NUM_THREADS must be a positive number, got '{}'", configured));
    return value;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

int programThreads(int requested) { return defaultDevice() == Device::Cuda ? 1 : workerThreads(requested); }

void runChunksInParallel(int64_t chunks, int threads, const std::function<void(int64_t)> &body) {
  std::atomic<int64_t> next{0};
  std::exception_ptr failure;
  std::mutex failureMutex;
  auto worker = [&] {
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
