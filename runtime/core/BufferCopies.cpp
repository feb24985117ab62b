#include "runtime/core/BufferCopies.h"

#include "runtime/core/ParallelFor.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace seqjit {

namespace {

/// Pieces of a contiguous copy handed to one thread at a time.
constexpr int64_t kCopyPieceBytes = int64_t{1} << 16;

struct ByteCopy {
  char *target;
  const char *source;
  int64_t bytes;
};

void copyPieces(void *context, int64_t first, int64_t last) {
  const auto *copy = static_cast<const ByteCopy *>(context);
  const int64_t begin = first * kCopyPieceBytes, end = std::min(copy->bytes, last * kCopyPieceBytes);
  std::memcpy(copy->target + begin, copy->source + begin, static_cast<size_t>(end - begin));
}

/// A copy as rows of `rowBytes` contiguous bytes, indexed by the outer dimensions (sizes and byte strides).
struct RowCopy {
  const char *source;
  char *target;
  int64_t rowBytes;
  std::vector<int64_t> sizes, sourceStrides, targetStrides;

  /// Copies rows [first, last) in row-major order of the outer dimensions.
  void run(int64_t first, int64_t last) const {
    const size_t outer = sizes.size();
    std::vector<int64_t> index(outer);
    const char *from = source;
    char *to = target;
    int64_t rest = first;
    for (size_t d = outer; d-- > 0;) {
      index[d] = rest % sizes[d];
      rest /= sizes[d];
      from += index[d] * sourceStrides[d];
      to += index[d] * targetStrides[d];
    }
    for (int64_t row = first; row < last; ++row) {
      std::memcpy(to, from, static_cast<size_t>(rowBytes));
      for (size_t d = outer; d-- > 0;) {
        from += sourceStrides[d];
        to += targetStrides[d];
        if (++index[d] < sizes[d])
          break;
        from -= sizes[d] * sourceStrides[d];
        to -= sizes[d] * targetStrides[d];
        index[d] = 0;
      }
    }
  }
};

void copyRows(void *context, int64_t first, int64_t last) { static_cast<const RowCopy *>(context)->run(first, last); }

} // namespace

extern "C" void seqjit_copy_bytes(void *target, const void *source, int64_t bytes) {
  if (bytes < kParallelCopyBytes) {
    std::memcpy(target, source, static_cast<size_t>(bytes));
    return;
  }
  ByteCopy copy{static_cast<char *>(target), static_cast<const char *>(source), bytes};
  seqjit_parallel_for(copyPieces, &copy, 0, (bytes + kCopyPieceBytes - 1) / kCopyPieceBytes, 1);
}

extern "C" void seqjit_memref_copy(int64_t elementBytes, const UnrankedDescriptor *source,
                                   const UnrankedDescriptor *target) {
  const int64_t rank = source->rank;
  auto fields = [](const UnrankedDescriptor *memref) { return static_cast<const int64_t *>(memref->descriptor); };
  const int64_t *from = fields(source), *to = fields(target);
  auto data = [&](const int64_t *descriptor) {
    char *aligned;
    std::memcpy(&aligned, &descriptor[1], sizeof aligned);
    return aligned + descriptor[2] * elementBytes;
  };
  RowCopy copy{data(from), data(to), elementBytes, {}, {}, {}};
  // Dimensions from the innermost out: those contiguous in both buffers join the row; the rest index rows.
  bool contiguous = true;
  for (int64_t d = rank - 1; d >= 0; --d) {
    const int64_t size = from[3 + d], sourceStride = from[3 + rank + d] * elementBytes,
                  targetStride = to[3 + rank + d] * elementBytes;
    if (size == 0)
      return;
    if (size == 1)
      continue;
    if (contiguous && sourceStride == copy.rowBytes && targetStride == copy.rowBytes) {
      copy.rowBytes *= size;
      continue;
    }
    contiguous = false;
    copy.sizes.insert(copy.sizes.begin(), size);
    copy.sourceStrides.insert(copy.sourceStrides.begin(), sourceStride);
    copy.targetStrides.insert(copy.targetStrides.begin(), targetStride);
  }
  int64_t rows = 1;
  for (int64_t size : copy.sizes)
    rows *= size;
  if (rows * copy.rowBytes >= kParallelCopyBytes && rows > 1)
    seqjit_parallel_for(copyRows, &copy, 0, rows, 1);
  else
    copy.run(0, rows);
}

} // namespace seqjit
