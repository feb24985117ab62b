// How a loop nest on buffers reads or writes one buffer: each index as a linear function of the loop dimensions.
#pragma once

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace seqjit {

/// sum over d of coefficients[d] * d, plus constant: one index as a function of the loop dimensions.
struct LinearForm {
  llvm::SmallVector<int64_t> coefficients;
  int64_t constant = 0;
};

/// `expr` as a linear form over `dims` dimensions, or nullopt if it is not linear (mod, floordiv, symbols).
std::optional<LinearForm> linearForm(mlir::AffineExpr expr, unsigned dims);

/// The indices of one buffer access.
struct BufferAccess {
  mlir::Value buffer;
  llvm::SmallVector<LinearForm> indices; ///< one per dimension of the buffer
  bool unitLastStride = false;           ///< the last dimension is contiguous, in whole bytes: vector loads apply

  /// Whether some index moves with loop dimension `dim` (false for dim < 0, "no dimension").
  bool dependsOn(int dim) const;
  /// Whether consecutive iterations of `dim` are consecutive elements: only the last index moves, by one.
  bool vectorisableAlong(unsigned dim) const;
};

/// The buffer that `value` is a view of (through subviews, casts, reshapes, transposes: any op making one buffer of
/// one other), or value itself.
mlir::Value underlyingBuffer(mlir::Value value);

/// The access of `buffer` (a memref) through an indexing map, or nullopt if the map is not linear.
std::optional<BufferAccess> bufferAccess(mlir::Value buffer, mlir::AffineMap map);

} // namespace seqjit
