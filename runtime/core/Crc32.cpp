#include "runtime/core/Crc32.h"

#include <zlib.h>

#include <algorithm>

namespace seqjit {

uint32_t crc32Of(const std::string &bytes) {
  // zlib's crc32 takes a uInt length: fed in chunks so that inputs above 4 GiB still work.
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t offset = 0;
  while (offset < bytes.size()) {
    size_t chunk = std::min<size_t>(bytes.size() - offset, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef *>(bytes.data() + offset), static_cast<uInt>(chunk));
    offset += chunk;
  }
  return static_cast<uint32_t>(crc);
}

} // namespace seqjit
