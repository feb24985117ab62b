// Epilogues of contraction kernels: see KernelEpilogue.h.
#include "compiler/KernelEpilogue.h"

#include "compiler/ElementwiseBody.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace seqjit {

std::optional<KernelEpilogue> matchKernelEpilogue(linalg::GenericOp contraction, const BufferAccess &contractionOut) {
  // Allocations, pure ops and linalg ops on other buffers (batch norm's per-channel scale) may sit in between: the
  // kernel then goes where the epilogue is, after them.
  SmallVector<Value> contractionBuffers;
  for (Value operand : contraction->getOperands())
    contractionBuffers.push_back(underlyingBuffer(operand));
  auto independent = [&](Operation *op) {
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    return linalgOp && linalgOp.hasPureBufferSemantics() && llvm::none_of(op->getOperands(), [&](Value operand) {
             return llvm::is_contained(contractionBuffers, underlyingBuffer(operand));
           });
  };
  Operation *after = contraction->getNextNode();
  while (after && (isa<memref::AllocOp, memref::AllocaOp>(after) || isMemoryEffectFree(after) || independent(after)))
    after = after->getNextNode();
  auto next = dyn_cast_if_present<linalg::GenericOp>(after);
  if (!next || !next.hasPureBufferSemantics() || next.getNumDpsInits() != 1 ||
      next.getNumParallelLoops() != next.getNumLoops() || next.getNumLoops() != contractionOut.indices.size())
    return std::nullopt;
  Block &body = *next.getBlock();
  if (!body.getArguments().back().use_empty() || !isElementwiseBody(body, body.getTerminator()) ||
      body.getTerminator()->getOperand(0).getParentBlock() != &body)
    return std::nullopt;
  // The epilogue's loop dimension j is the contraction's loop dimension that output index j is.
  const unsigned contractionDims = contraction.getNumLoops();
  AffineMap contractionOutMap = contraction.getMatchingIndexingMap(contraction.getDpsInitOperand(0));
  if (!contractionOutMap.isProjectedPermutation())
    return std::nullopt;
  SmallVector<unsigned> dimOf;
  for (AffineExpr index : contractionOutMap.getResults())
    dimOf.push_back(cast<AffineDimExpr>(index).getPosition());
  auto overContractionDims = [&](Value buffer, AffineMap map) -> std::optional<BufferAccess> {
    std::optional<BufferAccess> access = bufferAccess(buffer, map);
    if (!access)
      return std::nullopt;
    for (LinearForm &index : access->indices) {
      SmallVector<int64_t> coefficients(contractionDims, 0);
      for (auto [j, coefficient] : llvm::enumerate(index.coefficients))
        coefficients[dimOf[j]] += coefficient;
      index.coefficients = std::move(coefficients);
    }
    return access;
  };
  // What the kernel writes (the contraction's output and the epilogue's) must be read by the epilogue only at the
  // position being written, and the epilogue must not write what the contraction still reads.
  Value result = contractionOut.buffer, written = next.getDpsInits()[0];
  if (written != result && underlyingBuffer(written) == underlyingBuffer(result)) // another view of the same buffer
    return std::nullopt;
  SmallVector<Value> kernelBuffers{underlyingBuffer(result), underlyingBuffer(written)};
  for (Value input : contraction.getDpsInputs())
    if (underlyingBuffer(input) == underlyingBuffer(written))
      return std::nullopt;
  KernelEpilogue epilogue{next, {}, {}, written == result};
  bool readsResult = false;
  for (OpOperand *input : next.getDpsInputOperands()) {
    AffineMap map = next.getMatchingIndexingMap(input);
    if (input->get() == result && map.isIdentity() && !readsResult) {
      readsResult = true;
      epilogue.inputs.push_back(std::nullopt);
      continue;
    }
    if (llvm::is_contained(kernelBuffers, underlyingBuffer(input->get())))
      return std::nullopt;
    std::optional<BufferAccess> access = overContractionDims(input->get(), map);
    if (!access)
      return std::nullopt;
    epilogue.inputs.push_back(std::move(*access));
  }
  AffineMap outMap = next.getMatchingIndexingMap(next.getDpsInitOperand(0));
  std::optional<BufferAccess> out = overContractionDims(written, outMap);
  if (!readsResult || !outMap.isIdentity() || !out)
    return std::nullopt;
  epilogue.out = std::move(*out);
  return epilogue;
}

Value applyKernelEpilogue(OpBuilder &b, Location loc, const KernelEpilogue &epilogue, Value value,
                          function_ref<Value(const BufferAccess &)> load) {
  auto vectorType = dyn_cast<VectorType>(value.getType());
  Block &body = *linalg::GenericOp(epilogue.op).getBlock();
  IRMapping mapping;
  for (auto [argument, input] : llvm::zip(body.getArguments().drop_back(), epilogue.inputs))
    mapping.map(argument, input ? load(*input) : value);
  cloneElementwise(b, loc, body, body.getTerminator(), mapping, vectorType ? vectorType.getNumElements() : 1);
  return mapping.lookup(body.getTerminator()->getOperand(0));
}

} // namespace seqjit
