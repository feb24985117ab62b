// CUDA device state: context, stream, transfers, and a best-fit caching pool of device memory.
#include "compiler/CudaDevice.h"

#include "dsl/Error.h"

#include <fmt/format.h>

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
  static std::unique_ptr<CudaDevice> device;
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
    if (driver->deviceGetCount(&count) != CudaDriver::kSuccess || count == 0) {
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
      device = std::move(candidate);
    } catch (const Error &error) {
      failure = error.what();
    }
  });
  why = failure;
  return device.get();
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
  blockBytes_[block] = rounded;
  bytesInUse_ += rounded;
  return block;
}

void CudaDevice::release(void *pointer) {
  if (!pointer)
    return;
  std::lock_guard<std::mutex> lock(poolMutex_);
  auto block = blockBytes_.find(pointer);
  if (block == blockBytes_.end())
    throw Error("CUDA: release of a pointer the device memory pool did not hand out");
  bytesInUse_ -= block->second;
  bytesCached_ += block->second;
  freeBlocks_.emplace(block->second, pointer);
}

void CudaDevice::releaseCachedBlocks() {
  // The stream may still be using freed blocks: they go back to the driver only after it is idle.
  driver_.streamSynchronize(stream_);
  for (auto &[bytes, block] : freeBlocks_) {
    driver_.memFree(reinterpret_cast<CudaDriver::DevicePointer>(block));
    blockBytes_.erase(block);
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
