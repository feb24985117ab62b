// CRC-32 (zlib's, the one ZIP archives and the compiled-program cache's manifests record).
#pragma once

#include <cstdint>
#include <string>

namespace seqjit {

uint32_t crc32Of(const std::string &bytes);

} // namespace seqjit
