// The buffer copies of compiled programs, which they import (runtime/core/NativeProgram.h): MLIR lowers a copy whose
// source or target is not one contiguous block (a sequence into the middle of its padded buffer, a slice of a batch)
// to a call of `memrefCopy`, and seqjit's emitter hands large contiguous copies to seqjit_copy_bytes
// (compiler/ParallelNestDispatch.h). Large copies share their rows across the kernel threads
// (runtime/core/ParallelFor.h).
#pragma once

#include <cstdint>

namespace seqjit {

/// MLIR's unranked memref: the rank and a pointer to the ranked descriptor {allocated, aligned, offset,
/// sizes[rank], strides[rank]} (offset, sizes and strides in elements).
struct UnrankedDescriptor {
  int64_t rank;
  void *descriptor;
};

/// Copies `source` into `target` (same rank and sizes, elements of `elementBytes` bytes, not overlapping), as MLIR's
/// memrefCopy does.
extern "C" void seqjit_memref_copy(int64_t elementBytes, const UnrankedDescriptor *source,
                                   const UnrankedDescriptor *target);

/// The function compiled programs call for a strided copy.
inline constexpr const char *kStridedCopyFunction = "memrefCopy";

/// memcpy(target, source, bytes), shared across the kernel threads when large.
extern "C" void seqjit_copy_bytes(void *target, const void *source, int64_t bytes);

/// The function compiled programs call for a large contiguous copy.
inline constexpr const char *kCopyBytesFunction = "seqjit_copy_bytes";

/// Copies of at least this many bytes are worth sharing across the kernel threads.
inline constexpr int64_t kParallelCopyBytes = int64_t{1} << 18;

} // namespace seqjit
