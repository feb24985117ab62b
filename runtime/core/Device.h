// Where compiled programs run: the CPU, or a CUDA GPU (SEQJIT_DEVICE, the CLI's --device), with a CPU fallback.
#pragma once

#include <string>

namespace seqjit {

enum class Device { Cpu, Cuda };

/// "cpu" or "cuda"; throws seqjit::Error naming `source` (an option or variable) otherwise.
Device parseDevice(const std::string &name, const std::string &source);
const char *deviceName(Device device);

/// "cpu", or the GPU as "cuda (NVIDIA H200, sm_90)": what the commands print.
std::string describeDevice(Device device);

/// The device programs are compiled for unless their options say otherwise: what setDefaultDevice() chose, else
/// SEQJIT_DEVICE, else the CPU. A request for CUDA where no GPU can be used (no driver, no device) gives the CPU,
/// after one message on stderr saying why.
Device defaultDevice();

/// Makes `requested` the default (after the same fallback check), e.g. from --device.
void setDefaultDevice(Device requested);

/// `requested`, or the CPU with the one-time message if it is CUDA and no GPU can be used; with SEQJIT_REQUIRE_GPU
/// set (the GPU suite and benchmark), throws seqjit::Error saying why instead.
Device usableDevice(Device requested);

} // namespace seqjit
