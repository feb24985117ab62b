#include "runtime/core/HostMemory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace seqjit {
namespace {

constexpr size_t kPage = size_t{64} << 10; ///< buffers are whole multiples of it

/// Mappings kept when freed: live ones by address (with their size), free ones by size.
class BufferPool {
public:
  void *allocate(size_t bytes) {
    size_t size = (bytes + kPage - 1) / kPage * kPage;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // A free buffer of the size, or up to twice it: no more than half a buffer is wasted.
      auto found = free_.lower_bound(size);
      if (found != free_.end() && found->first <= 2 * size) {
        void *pointer = found->second;
        live_[pointer] = found->first;
        cached_ -= found->first;
        free_.erase(found);
        return pointer;
      }
    }
    void *pointer = map(size);
    if (!pointer)
      return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    live_[pointer] = size;
    return pointer;
  }

  /// Whether `pointer` was the pool's (then it is free again).
  bool release(void *pointer) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = live_.find(pointer);
    if (found == live_.end())
      return false;
    free_.emplace(found->second, pointer);
    cached_ += found->second;
    live_.erase(found);
    while (cached_ > static_cast<size_t>(kPoolCacheBytes)) {
      auto largest = std::prev(free_.end());
      ::munmap(largest->second, largest->first);
      cached_ -= largest->first;
      free_.erase(largest);
    }
    return true;
  }

private:
  static void *map(size_t size) {
    void *mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return mapped == MAP_FAILED ? nullptr : mapped;
  }

  std::mutex mutex_;
  std::unordered_map<void *, size_t> live_;
  std::multimap<size_t, void *> free_;
  size_t cached_ = 0;
};

BufferPool &pool() {
  static BufferPool *instance = new BufferPool; // never destroyed: programs may free buffers during exit
  return *instance;
}

} // namespace

void keepFreedMemoryForReuse() {
#ifdef __GLIBC__
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
  });
#endif
}

extern "C" void *seqjit_host_alloc(int64_t bytes) { return seqjit_host_aligned_alloc(16, bytes); }

extern "C" void *seqjit_host_aligned_alloc(int64_t alignment, int64_t bytes) {
  if (bytes >= kPooledBufferBytes)
    return pool().allocate(static_cast<size_t>(bytes)); // page aligned
  void *pointer = nullptr;
  size_t align = std::max<size_t>(static_cast<size_t>(alignment), sizeof(void *));
  if (::posix_memalign(&pointer, align, static_cast<size_t>(std::max<int64_t>(bytes, 1))) != 0)
    return nullptr;
  return pointer;
}

extern "C" void seqjit_host_free(void *pointer) {
  if (pointer && !pool().release(pointer))
    std::free(pointer);
}

} // namespace seqjit
