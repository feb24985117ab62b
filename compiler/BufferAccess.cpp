// Buffer accesses as linear forms: see BufferAccess.h.
#include "compiler/BufferAccess.h"

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace seqjit {

std::optional<LinearForm> linearForm(AffineExpr expr, unsigned dims) {
  LinearForm form{SmallVector<int64_t>(dims, 0), 0};
  if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
    form.coefficients[dim.getPosition()] = 1;
    return form;
  }
  if (auto constant = dyn_cast<AffineConstantExpr>(expr)) {
    form.constant = constant.getValue();
    return form;
  }
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary || (expr.getKind() != AffineExprKind::Add && expr.getKind() != AffineExprKind::Mul))
    return std::nullopt;
  std::optional<LinearForm> lhs = linearForm(binary.getLHS(), dims), rhs = linearForm(binary.getRHS(), dims);
  if (!lhs || !rhs)
    return std::nullopt;
  if (expr.getKind() == AffineExprKind::Add) {
    for (unsigned d = 0; d < dims; ++d)
      form.coefficients[d] = lhs->coefficients[d] + rhs->coefficients[d];
    form.constant = lhs->constant + rhs->constant;
    return form;
  }
  // An affine product has a constant factor (MLIR puts it on the right).
  if (llvm::any_of(rhs->coefficients, [](int64_t c) { return c != 0; }))
    return std::nullopt;
  for (unsigned d = 0; d < dims; ++d)
    form.coefficients[d] = lhs->coefficients[d] * rhs->constant;
  form.constant = lhs->constant * rhs->constant;
  return form;
}

bool BufferAccess::dependsOn(int dim) const {
  return dim >= 0 && llvm::any_of(indices, [&](const LinearForm &index) { return index.coefficients[dim] != 0; });
}

bool BufferAccess::vectorisableAlong(unsigned dim) const {
  if (!unitLastStride || indices.empty())
    return false;
  for (size_t i = 0; i + 1 < indices.size(); ++i)
    if (indices[i].coefficients[dim] != 0)
      return false;
  return indices.back().coefficients[dim] == 1;
}

Value underlyingBuffer(Value value) {
  while (Operation *producer = value.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(producer)) {
      value = view.getViewSource();
      continue;
    }
    // Another op turning one buffer into another (memref.transpose) is taken for a view of it too.
    auto memrefOperands = llvm::make_filter_range(producer->getOperands(),
                                                  [](Value operand) { return isa<MemRefType>(operand.getType()); });
    if (producer->getNumResults() != 1 || !isa<MemRefType>(value.getType()) ||
        std::distance(memrefOperands.begin(), memrefOperands.end()) != 1)
      break;
    value = *memrefOperands.begin();
  }
  return value;
}

std::optional<BufferAccess> bufferAccess(Value buffer, AffineMap map) {
  auto type = dyn_cast<MemRefType>(buffer.getType());
  if (!type || type.getRank() != static_cast<int64_t>(map.getNumResults()))
    return std::nullopt;
  // Vector loads need whole-byte elements: an i1 memref holds a byte per element, a vector of i1 a bit.
  bool wholeBytes = type.getElementType().isIntOrFloat() && type.getElementType().getIntOrFloatBitWidth() % 8 == 0;
  BufferAccess access{buffer, {}, wholeBytes && isLastMemrefDimUnitStride(type)};
  for (AffineExpr expr : map.getResults()) {
    std::optional<LinearForm> form = linearForm(expr, map.getNumDims());
    if (!form)
      return std::nullopt;
    access.indices.push_back(std::move(*form));
  }
  return access;
}

} // namespace seqjit
