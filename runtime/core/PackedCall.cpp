#include "runtime/core/PackedCall.h"

#include "dsl/Error.h"
#include "runtime/core/HostMemory.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace seqjit {

namespace {

/// The memref descriptor of a contiguous buffer: {allocated, aligned, offset, sizes[rank], strides[rank]}.
std::vector<int64_t> descriptor(void *data, const std::vector<int64_t> &shape) {
  size_t rank = shape.size();
  std::vector<int64_t> d(3 + 2 * rank);
  d[0] = d[1] = reinterpret_cast<int64_t>(data);
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    d[3 + i] = shape[i];
    d[3 + rank + i] = stride;
    stride *= shape[i];
  }
  return d;
}

} // namespace

int64_t elementCount(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t extent : shape)
    count *= extent;
  return count;
}

ResultDescriptors callPacked(PackedFunction entry, const std::vector<BufferView> &arguments,
                             const std::vector<void *> &argumentData, const std::vector<BufferView> &results) {
  ResultDescriptors out;
  size_t resultWords = 0;
  for (const BufferView &r : results) {
    out.offsets.push_back(resultWords);
    resultWords += 3 + 2 * r.shape.size();
  }
  out.words.assign(resultWords, 0);
  std::vector<std::vector<int64_t>> argumentDescriptors;
  argumentDescriptors.reserve(arguments.size());
  for (size_t a = 0; a < arguments.size(); ++a)
    argumentDescriptors.push_back(descriptor(argumentData[a], arguments[a].shape));
  // The C interface takes pointers to descriptors (the results' first); the packed call takes pointers to those.
  std::vector<void *> descriptorPointers{out.words.data()};
  for (auto &d : argumentDescriptors)
    descriptorPointers.push_back(d.data());
  std::vector<void *> packed;
  for (void *&p : descriptorPointers)
    packed.push_back(&p);
  entry(packed.data());
  return out;
}

void checkResultShapes(const std::string &function, const std::vector<BufferView> &results,
                       const ResultDescriptors &descriptors) {
  for (size_t r = 0; r < results.size(); ++r)
    for (size_t i = 0; i < results[r].shape.size(); ++i)
      if (int64_t found = descriptors.of(r)[3 + i]; found != results[r].shape[i])
        throw Error(fmt::format("compiled function '{}' returned dimension {} of result {} of size {}, expected {}",
                                function, i, r, found, results[r].shape[i]));
}

void takeHostResults(const ResultDescriptors &descriptors, const std::vector<BufferView> &arguments,
                     const std::vector<BufferView> &results, size_t elementBytes) {
  std::vector<void *> freed;
  for (size_t r = 0; r < results.size(); ++r) {
    const int64_t *d = descriptors.of(r);
    auto *allocated = reinterpret_cast<char *>(d[0]);
    auto *aligned = reinterpret_cast<char *>(d[1]);
    std::memcpy(results[r].data, aligned + d[2] * elementBytes, elementCount(results[r].shape) * elementBytes);
    bool isArgument =
        std::any_of(arguments.begin(), arguments.end(), [&](const BufferView &a) { return a.data == allocated; });
    if (!isArgument && std::find(freed.begin(), freed.end(), allocated) == freed.end()) {
      freed.push_back(allocated);
      seqjit_host_free(allocated); // the programs' allocator (runtime/core/HostMemory.h)
    }
  }
}

} // namespace seqjit
