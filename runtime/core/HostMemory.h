// How the host's allocator treats the buffers compiled programs allocate and free on every call.
#pragma once

namespace seqjit {

/// Compiled programs malloc their intermediate buffers (megabytes each) and free them before returning. By default
/// glibc serves such sizes with mmap or trims them off the heap when freed, so every call faults every page in
/// again: a quarter of a training step and a third of a forward pass went to the kernel. Freed memory is kept for
/// reuse instead: buffers up to 32 MiB (glibc's maximum) come from the heap, and up to 512 MiB of free heap stay
/// mapped. Idempotent; called before the first program runs.
void keepFreedMemoryForReuse();

} // namespace seqjit
