// The elementwise loop nest after a contraction (batch norm, an activation), applied to the contraction kernel's
// accumulators before they are stored: one pass over the output instead of two.
#pragma once

#include "compiler/BufferAccess.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <optional>

namespace seqjit {

/// An all-parallel linalg.generic on buffers, after a contraction with nothing but allocations, pure ops and linalg
/// ops on other buffers in between, that reads the contraction's output elementwise (identity map) and writes one
/// output through the identity map without reading it.
struct KernelEpilogue {
  mlir::linalg::GenericOp op;
  /// op's inputs with their indices over the contraction's loop dimensions; nullopt marks the contraction's output.
  llvm::SmallVector<std::optional<BufferAccess>> inputs;
  BufferAccess out;     ///< op's output, over the contraction's loop dimensions
  bool inPlace = false; ///< op overwrites the contraction's output (else the kernel stores both)
};

/// The epilogue of `contraction` (a linalg.generic on buffers whose output access over its loop dimensions is
/// `contractionOut`), if the op right after it is one and neither reads nor writes what the kernel is still using.
std::optional<KernelEpilogue> matchKernelEpilogue(mlir::linalg::GenericOp contraction,
                                                  const BufferAccess &contractionOut);

/// The epilogue's body applied to `value`, the contraction's output at one position (a scalar, or a vector of
/// consecutive positions); `load` gives each other input at the same position, with value's type.
mlir::Value applyKernelEpilogue(mlir::OpBuilder &b, mlir::Location loc, const KernelEpilogue &epilogue,
                                mlir::Value value, llvm::function_ref<mlir::Value(const BufferAccess &)> load);

} // namespace seqjit
