// The fill that only sets a kernel's starting values: see InitialFill.h.
#include "compiler/InitialFill.h"

#include "compiler/BufferAccess.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace seqjit {

linalg::FillOp initialFill(linalg::LinalgOp op, OpOperand &init) {
  // An allocation of the function's own: no other value can alias it unseen (an argument might be another's view).
  Value buffer = underlyingBuffer(init.get());
  auto type = dyn_cast<MemRefType>(buffer.getType());
  if (!buffer.getDefiningOp<memref::AllocOp>())
    return {};
  AffineMap map = op.getMatchingIndexingMap(&init);
  if (!type || !type.hasStaticShape() || !map.isProjectedPermutation())
    return {};
  SmallVector<int64_t> extents = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  int64_t visited = 1;
  for (AffineExpr result : map.getResults()) {
    unsigned d = cast<AffineDimExpr>(result).getPosition();
    if (iterators[d] != utils::IteratorType::parallel || ShapedType::isDynamic(extents[d]))
      return {};
    visited *= extents[d];
  }
  // Each element of the view once; all of the buffer where the counts agree.
  if (visited != type.getNumElements())
    return {};
  for (Operation *before = op->getPrevNode(); before; before = before->getPrevNode()) {
    auto fill = dyn_cast<linalg::FillOp>(before);
    if (fill && fill.hasPureBufferSemantics() && fill.getDpsInits()[0] == buffer)
      return fill.getInputs()[0].getDefiningOp<arith::ConstantOp>() ? fill : linalg::FillOp();
    WalkResult touches = before->walk([&](Operation *inner) {
      return llvm::any_of(inner->getOperands(), [&](Value operand) { return underlyingBuffer(operand) == buffer; })
                 ? WalkResult::interrupt()
                 : WalkResult::advance();
    });
    if (touches.wasInterrupted())
      return {};
  }
  return {};
}

} // namespace seqjit
