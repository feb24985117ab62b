// The GPU seqjit runs on: its primary context, the one stream all work goes to, and a pool of device memory.
#pragma once

#include "runtime/core/CudaDriver.h"

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace seqjit {

class CudaDevice {
public:
  /// The first GPU, initialised on the first call; nullptr with `why` saying what is missing (no driver, no device,
  /// a failed initialisation).
  static CudaDevice *get(std::string &why);

  const CudaDriver &driver() const { return driver_; }
  const std::string &name() const { return name_; }
  /// 90 for sm_90.
  int computeCapability() const { return computeCapability_; }
  void *context() const { return context_; }
  /// Every kernel and copy goes to this one stream, so work is ordered and freed memory can be reused at once.
  void *stream() const { return stream_; }
  /// Compiled programs run one at a time: they share the stream and the pool.
  std::mutex &executionMutex() { return executionMutex_; }

  /// Makes the device's context current on the calling thread.
  void makeCurrent() const;

  /// Device memory of at least `bytes` bytes (256-byte aligned), from the pool or the driver. When the driver has
  /// none left, the pool's free blocks are given back and the allocation tried again; then throws seqjit::Error.
  void *allocate(size_t bytes);
  /// Returns a block from allocate() to the pool. Work already queued on the stream may still use it: later work,
  /// on the same stream, runs after it. Throws seqjit::Error for a pointer the pool did not hand out or that is
  /// already free (two owners would then share one block).
  void release(void *pointer);
  /// release() for destructors: a refused pointer is reported on stderr instead of thrown.
  void releaseQuietly(void *pointer) noexcept;
  /// Bytes held by the pool: in use, and free for reuse.
  size_t bytesInUse() const;
  size_t bytesCached() const;

  void copyToDevice(void *device, const void *host, size_t bytes);
  void copyToHost(void *host, const void *device, size_t bytes);
  /// Waits for everything queued on the stream; throws seqjit::Error if any of it failed.
  void synchronize();

  /// Throws seqjit::Error "<what> failed: <error name>" unless `result` is success.
  void check(CudaDriver::Result result, const std::string &what) const;

private:
  explicit CudaDevice(const CudaDriver &driver) : driver_(driver) {}
  void releaseCachedBlocks();

  const CudaDriver &driver_;
  std::string name_;
  int computeCapability_ = 0;
  void *context_ = nullptr;
  void *stream_ = nullptr;
  std::mutex executionMutex_;
  mutable std::mutex poolMutex_;
  struct Block {
    size_t bytes = 0;
    bool inUse = false;
  };
  std::unordered_map<void *, Block> blocks_; ///< every block the pool owns
  std::multimap<size_t, void *> freeBlocks_; ///< by size, for best fit
  size_t bytesInUse_ = 0;
  size_t bytesCached_ = 0;
};

} // namespace seqjit
