// Elementwise bodies over vectors: see ElementwiseBody.h.
#include "compiler/ElementwiseBody.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;

namespace seqjit {

bool isElementwiseBody(Block &body, Operation *end) {
  for (BlockArgument argument : body.getArguments())
    if (!argument.getType().isIntOrFloat())
      return false;
  for (Operation &op : body) {
    if (&op == end)
      return true;
    if (op.getNumRegions() != 0 || !(op.hasTrait<OpTrait::Elementwise>() || isa<arith::ConstantOp>(op)))
      return false;
    for (Type type : op.getResultTypes())
      if (!type.isIntOrFloat())
        return false;
  }
  return true;
}

void cloneElementwise(OpBuilder &b, Location loc, Block &body, Operation *end, IRMapping &mapping, int64_t lanes) {
  auto widen = [&](Value scalar) -> Value {
    if (lanes == 1)
      return scalar;
    return b.create<vector::BroadcastOp>(loc, VectorType::get({lanes}, scalar.getType()), scalar);
  };
  for (Operation &op : body) {
    if (&op == end)
      return;
    if (isa<arith::ConstantOp>(op)) {
      mapping.map(op.getResult(0), widen(b.clone(op)->getResult(0)));
      continue;
    }
    for (Value operand : op.getOperands())
      if (!mapping.contains(operand)) // defined above the loop nest: a scalar, the same everywhere
        mapping.map(operand, widen(operand));
    Operation *clone = b.clone(op, mapping);
    if (lanes > 1)
      for (OpResult result : clone->getResults())
        result.setType(VectorType::get({lanes}, result.getType()));
  }
}

} // namespace seqjit
