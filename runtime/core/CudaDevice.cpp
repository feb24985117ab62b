// CUDA device state: context, stream, transfers, and a best-fit caching pool of device memory.
#include "runtime/core/CudaDevice.h"

#include "dsl/Error.h"

#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <memory>

namespace seqjit {

namespace {

/// Blocks are rounded up to this granularity, so that buffers of nearly the same size share blocks.
constexpr size_t kGranularity = 512;
/// A free block is reused only for requests of at least this fraction of its size.
constexpr size_t kMaximumWasteFactor = 2;

} // namespace

CudaDevice *CudaDevice::get(std::string &why) {
  static std::once_flag once;
  // Never destroyed: kernel caches of programs that outlive main() (statics, threads still running at exit) keep a
  // reference to it, and the driver tears the context down itself.
  static CudaDevice *device = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    const CudaDriver *driver = CudaDriver::load(failure);
    if (!driver)
      return;
    if (CudaDriver::Result result = driver->init(0); result != CudaDriver::kSuccess) {
      failure = fmt::format("the CUDA driver does not start: cuInit failed with {}", driver->describe(result));
      return;
    }
    int count = 0;
    if (CudaDriver::Result result = driver->deviceGetCount(&count); result != CudaDriver::kSuccess) {
      failure = fmt::format("the CUDA driver cannot count its GPUs: {}", driver->describe(result));
      return;
    }
    if (count == 0) {
      failure = "the CUDA driver sees no GPU";
      return;
    }
    auto candidate = std::unique_ptr<CudaDevice>(new CudaDevice(*driver));
    try {
      int ordinal = 0;
      candidate->check(driver->deviceGet(&ordinal, 0), "cuDeviceGet");
      char name[256] = {};
      candidate->check(driver->deviceGetName(name, sizeof name, ordinal), "cuDeviceGetName");
      candidate->name_ = name;
      int major = 0, minor = 0;
      candidate->check(driver->deviceGetAttribute(&major, CudaDriver::kComputeCapabilityMajor, ordinal),
                       "cuDeviceGetAttribute");
      candidate->check(driver->deviceGetAttribute(&minor, CudaDriver::kComputeCapabilityMinor, ordinal),
                       "cuDeviceGetAttribute");
      candidate->computeCapability_ = 10 * major + minor;
      candidate->check(driver->primaryContextRetain(&candidate->context_, ordinal), "cuDevicePrimaryCtxRetain");
      candidate->makeCurrent();
      candidate->check(driver->streamCreate(&candidate->stream_, CudaDriver::kNonBlockingStream), "cuStreamCreate");
      device = candidate.release();
    } catch (const Error &error) {
      failure = error.what();
    }
  });
  why = failure;
  return device;
}

void CudaDevice::check(CudaDriver::Result result, const std::string &what) const {
  if (result != CudaDriver::kSuccess)
    throw Error(fmt::format("CUDA: {} failed: {}", what, driver_.describe(result)));
}

void CudaDevice::makeCurrent() const { check(driver_.contextSetCurrent(context_), "cuCtxSetCurrent"); }

void *CudaDevice::allocate(size_t bytes) {
  size_t rounded = (std::max<size_t>(bytes, 1) + kGranularity - 1) / kGranularity * kGranularity;
  std::lock_guard<std::mutex> lock(poolMutex_);
  auto fit = freeBlocks_.lower_bound(rounded);
  if (fit != freeBlocks_.end() && fit->first <= kMaximumWasteFactor * rounded) {
    void *block = fit->second;
    bytesCached_ -= fit->first;
    bytesInUse_ += fit->first;
    freeBlocks_.erase(fit);
    blocks_[block].inUse = true;
    return block;
  }
  CudaDriver::DevicePointer pointer = 0;
  CudaDriver::Result result = driver_.memAlloc(&pointer, rounded);
  if (result == CudaDriver::kOutOfMemory && !freeBlocks_.empty()) {
    releaseCachedBlocks();
    result = driver_.memAlloc(&pointer, rounded);
  }
  if (result != CudaDriver::kSuccess) {
    size_t freeBytes = 0, totalBytes = 0;
    driver_.memGetInfo(&freeBytes, &totalBytes);
    throw Error(fmt::format("CUDA: cannot allocate {:.1f} MiB of device memory: {} ({:.1f} MiB in use by seqjit, "
                            "{:.1f} of {:.1f} MiB free on the device)",
                            rounded / 1048576.0, driver_.describe(result), bytesInUse_ / 1048576.0,
                            freeBytes / 1048576.0, totalBytes / 1048576.0));
  }
  void *block = reinterpret_cast<void *>(pointer);
  blocks_[block] = {rounded, true};
  bytesInUse_ += rounded;
  return block;
}

void CudaDevice::release(void *pointer) {
  if (!pointer)
    return;
  std::lock_guard<std::mutex> lock(poolMutex_);
  auto block = blocks_.find(pointer);
  if (block == blocks_.end())
    throw Error("CUDA: release of a pointer the device memory pool did not hand out");
  if (!block->second.inUse)
    throw Error("CUDA: a device buffer released twice");
  block->second.inUse = false;
  bytesInUse_ -= block->second.bytes;
  bytesCached_ += block->second.bytes;
  freeBlocks_.emplace(block->second.bytes, pointer);
}

void CudaDevice::releaseQuietly(void *pointer) noexcept {
  try {
    release(pointer);
  } catch (const std::exception &error) {
    std::fprintf(stderr, "seqjit: %s\n", error.what());
  }
}

void CudaDevice::releaseCachedBlocks() {
  // The stream may still be using freed blocks: they go back to the driver only after it is idle.
  driver_.streamSynchronize(stream_);
  for (auto &[bytes, block] : freeBlocks_) {
    driver_.memFree(reinterpret_cast<CudaDriver::DevicePointer>(block));
    blocks_.erase(block);
  }
  freeBlocks_.clear();
  bytesCached_ = 0;
}

size_t CudaDevice::bytesInUse() const {
  std::lock_guard<std::mutex> lock(poolMutex_);
  return bytesInUse_;
}

size_t CudaDevice::bytesCached() const {
  std::lock_guard<std::mutex> lock(poolMutex_);
  return bytesCached_;
}

void CudaDevice::copyToDevice(void *device, const void *host, size_t bytes) {
  check(driver_.memcpyHostToDeviceAsync(reinterpret_cast<CudaDriver::DevicePointer>(device), host, bytes, stream_),
        "cuMemcpyHtoDAsync");
}

void CudaDevice::copyToHost(void *host, const void *device, size_t bytes) {
  check(driver_.memcpyDeviceToHostAsync(host, reinterpret_cast<CudaDriver::DevicePointer>(device), bytes, stream_),
        "cuMemcpyDtoHAsync");
}

void CudaDevice::synchronize() { check(driver_.streamSynchronize(stream_), "running the compiled kernels"); }

} // namespace seqjit
