// A fork-join pool for compiled loop nests. A program runs hundreds of nests per call, many of them tens of
// microseconds long, so the workers spin for a while after each nest before they sleep: waking a sleeping thread
// costs more than most nests.
#include "runtime/core/ParallelFor.h"

#include "dsl/Error.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace seqjit {

namespace {

void relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

/// How long an idle worker spins before it sleeps.
constexpr auto kSpinTime = std::chrono::microseconds(200);

thread_local int serialDepth = 0;
thread_local int lastNestThreads = 1;
std::atomic<uint64_t> dispatched{0};

class KernelPool {
public:
  explicit KernelPool(int threads) : threads_(threads) {
    for (int id = 1; id < threads; ++id)
      workers_.emplace_back([this, id] { work(id); });
  }

  ~KernelPool() {
    stopping_ = true;
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    for (std::thread &worker : workers_)
      worker.join();
  }

  int threads() const { return threads_; }

  /// Runs the nest across the pool, or returns false (and runs nothing) when another nest holds it.
  bool tryRun(ParallelTask task, void *context, int64_t begin, int64_t end, int64_t step) {
    std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
    if (!lock.owns_lock())
      return false;
    job_ = {task, context, begin, end, step, (end - begin + step - 1) / step};
    remaining_.store(threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    runPart(0);
    while (remaining_.load(std::memory_order_acquire) != 0)
      relax();
    dispatched.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

private:
  struct Job {
    ParallelTask task;
    void *context;
    int64_t begin, end, step, iterations;
  };

  /// Part `id` of the current job: iterations [id * n / T, (id + 1) * n / T).
  void runPart(int id) const {
    const int64_t first = job_.iterations * id / threads_, last = job_.iterations * (id + 1) / threads_;
    if (first < last)
      job_.task(job_.context, job_.begin + first * job_.step, std::min(job_.end, job_.begin + last * job_.step));
  }

  void work(int id) {
    SerialKernels inside; // a nest's own calls (a large copy in it) stay on its thread
    uint32_t seen = 0;
    for (;;) {
      uint32_t now = generation_.load(std::memory_order_acquire);
      auto spinUntil = std::chrono::steady_clock::now() + kSpinTime;
      for (int spins = 0; now == seen; now = generation_.load(std::memory_order_acquire)) {
        if (++spins % 64 != 0) {
          relax();
        } else if (std::chrono::steady_clock::now() > spinUntil) {
          generation_.wait(seen, std::memory_order_acquire);
        }
      }
      seen = now;
      if (stopping_)
        return;
      runPart(id);
      remaining_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex busy_;
  Job job_{};
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> remaining_{0};
  std::atomic<bool> stopping_{false};
};

std::mutex poolMutex;
std::shared_ptr<KernelPool> poolInstance;

std::shared_ptr<KernelPool> pool() {
  std::lock_guard<std::mutex> lock(poolMutex);
  if (!poolInstance)
    poolInstance = std::make_shared<KernelPool>(workerThreads(0));
  return poolInstance;
}

} // namespace

extern "C" void seqjit_parallel_for(ParallelTask task, void *context, int64_t begin, int64_t end, int64_t step) {
  if (end - begin > step && serialDepth == 0) {
    std::shared_ptr<KernelPool> kernels = pool();
    if (kernels->threads() > 1) {
      SerialKernels inside; // as the workers do
      if (kernels->tryRun(task, context, begin, end, step)) {
        lastNestThreads = static_cast<int>(std::min<int64_t>(kernels->threads(), (end - begin + step - 1) / step));
        return;
      }
    }
  }
  lastNestThreads = 1;
  task(context, begin, end);
}

int threadsOfLastParallelNest() { return lastNestThreads; }

void forgetLastParallelNest() { lastNestThreads = 1; }

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

int kernelThreads() { return pool()->threads(); }

void setKernelThreads(int threads) {
  if (threads < 1)
    throw Error(fmt::format("kernel threads must be at least 1, got {}", threads));
  std::shared_ptr<KernelPool> old;
  {
    std::lock_guard<std::mutex> lock(poolMutex);
    if (poolInstance && poolInstance->threads() == threads)
      return;
    old = std::move(poolInstance);
    poolInstance = std::make_shared<KernelPool>(threads);
  }
  // A nest still running on the old pool holds a reference; the last one joins its workers.
}

uint64_t parallelNestsDispatched() { return dispatched.load(std::memory_order_relaxed); }

SerialKernels::SerialKernels() { ++serialDepth; }
SerialKernels::~SerialKernels() { --serialDepth; }

} // namespace seqjit
