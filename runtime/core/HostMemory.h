// How compiled programs get the host memory of their buffers: MLIR's generic allocation functions, bound to seqjit's
// host allocator (runtime/core/NativeProgram.h's imports).
#pragma once

#include <cstddef>
#include <cstdint>

namespace seqjit {

/// Compiled programs allocate their intermediate buffers (megabytes each, hundreds of megabytes for large batches)
/// and free them before returning. The large ones (kPooledBufferBytes and up) are mappings kept in a pool when freed
/// and handed out again, so that a program's later calls, and the other programs of the process (a batch of
/// another size), fault no page in again: glibc would map and unmap every buffer above 32 MiB on every call.
/// Smaller buffers come from malloc, told to keep its freed memory for reuse (buffers up to 32 MiB from the heap, up
/// to 512 MiB of free heap kept mapped). Idempotent; called before the first program runs.
void keepFreedMemoryForReuse();

/// Buffers of this size and up come from the pool.
inline constexpr int64_t kPooledBufferBytes = int64_t{2} << 20;
/// The most freed memory the pool keeps mapped; it unmaps the largest free buffers beyond.
inline constexpr int64_t kPoolCacheBytes = int64_t{2} << 30;

/// MLIR's generic allocation functions (finalize-memref-to-llvm{use-generic-functions}), as the CPU programs call
/// them; thread-safe. Alignment is a power of two up to 4096.
extern "C" void *seqjit_host_alloc(int64_t bytes);
extern "C" void *seqjit_host_aligned_alloc(int64_t alignment, int64_t bytes);
extern "C" void seqjit_host_free(void *pointer);

/// The names compiled programs call them by.
inline constexpr const char *kAllocFunction = "_mlir_memref_to_llvm_alloc";
inline constexpr const char *kAlignedAllocFunction = "_mlir_memref_to_llvm_aligned_alloc";
inline constexpr const char *kFreeFunction = "_mlir_memref_to_llvm_free";

} // namespace seqjit
