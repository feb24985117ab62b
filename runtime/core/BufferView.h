// A contiguous row-major host (or device) buffer handed to or filled by a compiled program.
#pragma once

#include <cstdint>
#include <vector>

namespace seqjit {

struct BufferView {
  void *data = nullptr;
  std::vector<int64_t> shape;
};

} // namespace seqjit
