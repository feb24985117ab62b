#include "runtime/core/HostMemory.h"

#include <mutex>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace seqjit {

void keepFreedMemoryForReuse() {
#ifdef __GLIBC__
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
  });
#endif
}

} // namespace seqjit
