// Device choice and the CPU fallback.
#include "runtime/core/Device.h"

#include "dsl/Error.h"
#include "runtime/core/CudaDevice.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>

namespace seqjit {

namespace {

std::mutex defaultMutex;
std::optional<Device> chosenDefault;

} // namespace

Device parseDevice(const std::string &name, const std::string &source) {
  if (name == "cpu")
    return Device::Cpu;
  if (name == "cuda")
    return Device::Cuda;
  throw Error(fmt::format("{}: unknown device '{}' (expected cpu or cuda)", source, name));
}

const char *deviceName(Device device) { return device == Device::Cuda ? "cuda" : "cpu"; }

std::string describeDevice(Device device) {
  std::string why;
  CudaDevice *gpu = device == Device::Cuda ? CudaDevice::get(why) : nullptr;
  if (!gpu)
    return deviceName(device);
  return fmt::format("cuda ({}, sm_{})", gpu->name(), gpu->computeCapability());
}

Device usableDevice(Device requested) {
  if (requested == Device::Cpu)
    return Device::Cpu;
  std::string why;
  if (CudaDevice::get(why))
    return Device::Cuda;
  if (std::getenv("SEQJIT_REQUIRE_GPU"))
    throw Error(fmt::format("CUDA was asked for and SEQJIT_REQUIRE_GPU is set, but {}", why));
  static std::once_flag warned;
  std::call_once(
      warned, [&] { std::fprintf(stderr, "seqjit: CUDA was asked for, but %s; running on the CPU\n", why.c_str()); });
  return Device::Cpu;
}

Device defaultDevice() {
  std::lock_guard<std::mutex> lock(defaultMutex);
  if (!chosenDefault) {
    const char *fromEnvironment = std::getenv("SEQJIT_DEVICE");
    Device requested =
        fromEnvironment && *fromEnvironment ? parseDevice(fromEnvironment, "SEQJIT_DEVICE") : Device::Cpu;
    chosenDefault = usableDevice(requested);
  }
  return *chosenDefault;
}

void setDefaultDevice(Device requested) {
  Device usable = usableDevice(requested);
  std::lock_guard<std::mutex> lock(defaultMutex);
  chosenDefault = usable;
}

} // namespace seqjit
