// The calling convention of compiled programs: MLIR's C interface behind one packed entry point per function.
#pragma once

#include "runtime/core/BufferView.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace seqjit {

/// `void entry(void **arguments)`: arguments[0] points to the pointer to the results' memref descriptors (one after
/// the other, every field 8 bytes), arguments[1 + i] to the pointer to argument i's descriptor.
using PackedFunction = void (*)(void **);

/// The results' memref descriptors after a call: {allocated, aligned, offset, sizes[rank], strides[rank]} each.
struct ResultDescriptors {
  std::vector<int64_t> words;
  std::vector<size_t> offsets;
  const int64_t *of(size_t result) const { return &words[offsets[result]]; }
};

/// Calls `entry` (compiled function `function`) on the arguments' buffers at `argumentData` (host or device
/// addresses; `arguments` gives their shapes), returning the descriptors of results shaped like `results`.
ResultDescriptors callPacked(PackedFunction entry, const std::vector<BufferView> &arguments,
                             const std::vector<void *> &argumentData, const std::vector<BufferView> &results);

/// Throws seqjit::Error unless every result has the shape `results` expects.
void checkResultShapes(const std::string &function, const std::vector<BufferView> &results,
                       const ResultDescriptors &descriptors);

/// On the CPU: copies each result into `results`, then frees the buffers the program allocated for them (a result
/// may be an argument, or share its buffer with another result).
void takeHostResults(const ResultDescriptors &descriptors, const std::vector<BufferView> &arguments,
                     const std::vector<BufferView> &results, size_t elementBytes);

int64_t elementCount(const std::vector<int64_t> &shape);

} // namespace seqjit
