#include "compiler/LoopNestCost.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <optional>
#include <vector>

using namespace mlir;

namespace seqjit {

namespace {

/// upperBound - lowerBound where it is constant: both constants, or the upper bound the lower plus a constant (the
/// chunk of a contraction kernel's reduction, lowerBound + chunk).
std::optional<int64_t> constantSpan(Value lowerBound, Value upperBound) {
  std::optional<int64_t> low = getConstantIntValue(lowerBound), high = getConstantIntValue(upperBound);
  if (low && high)
    return *high - *low;
  if (auto sum = upperBound.getDefiningOp<arith::AddIOp>()) {
    if (sum.getLhs() == lowerBound)
      return getConstantIntValue(sum.getRhs());
    if (sum.getRhs() == lowerBound)
      return getConstantIntValue(sum.getLhs());
  }
  return std::nullopt;
}

/// The iterations of a loop with these bounds, or 1 where they are not constant.
double trips(Value lowerBound, Value upperBound, Value step) {
  std::optional<int64_t> span = constantSpan(lowerBound, upperBound), stride = getConstantIntValue(step);
  return span && stride && *stride > 0 ? std::max<int64_t>(0, (*span + *stride - 1) / *stride) : 1;
}

/// How often `op`'s body runs per execution of `op`: its trip counts if it is a loop, else 1.
double iterations(Operation *op) {
  double count = 1;
  if (auto loop = dyn_cast<scf::ForOp>(op))
    count = trips(loop.getLowerBound(), loop.getUpperBound(), loop.getStep());
  else if (auto loop = dyn_cast<scf::ParallelOp>(op))
    for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep()))
      count *= trips(lb, ub, step);
  return count;
}

/// `own(op)` for `op` plus, for everything nested in it, the same sum times how often its region runs.
double weightedSum(Operation *op, llvm::function_ref<double(Operation *)> own) {
  double inside = 0;
  for (Region &region : op->getRegions())
    for (Block &block : region)
      for (Operation &nested : block)
        inside += weightedSum(&nested, own);
  return own(op) + iterations(op) * inside;
}

double lanes(Type type) {
  if (auto vector = dyn_cast<VectorType>(type))
    return static_cast<double>(vector.getNumElements());
  return 1;
}

bool isFloating(Type type) { return isa<FloatType>(getElementTypeOrSelf(type)); }

double ownFloatingPointOperations(Operation *op) {
  if (isa<vector::FMAOp, math::FmaOp>(op))
    return 2 * lanes(op->getResult(0).getType());
  if (auto reduction = dyn_cast<vector::ReductionOp>(op))
    return isFloating(reduction.getVector().getType()) ? lanes(reduction.getVector().getType()) : 0;
  if (isa<arith::ExtFOp, arith::TruncFOp, arith::FPToSIOp, arith::FPToUIOp, arith::BitcastOp, arith::ConstantOp>(op))
    return 0;
  if (!isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) || op->getNumOperands() == 0 ||
      !isFloating(op->getOperand(0).getType()))
    return 0;
  return lanes(op->getOperand(0).getType());
}

/// The allocation or argument a buffer is a view of.
Value rootBuffer(Value buffer) {
  while (auto view = buffer.getDefiningOp<ViewLikeOpInterface>())
    buffer = view.getViewSource();
  return buffer;
}

void addNames(Location loc, std::vector<std::string> &names) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    if (std::find(names.begin(), names.end(), name.getName().str()) == names.end())
      names.push_back(name.getName().str());
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location part : fused.getLocations())
      addNames(part, names);
  } else if (auto call = dyn_cast<CallSiteLoc>(loc)) {
    addNames(call.getCallee(), names);
  }
}

} // namespace

double estimatedOperations(Operation *op) {
  return weightedSum(op, [](Operation *) { return 1.0; });
}

double floatingPointOperations(Operation *op) { return weightedSum(op, ownFloatingPointOperations); }

double bufferBytesTouched(Operation *op) {
  // The views each allocation or argument is accessed through (a subview of its border, the whole of it).
  llvm::MapVector<Value, llvm::SetVector<Value>> viewsOf;
  op->walk([&](Operation *nested) {
    if (isa<ViewLikeOpInterface>(nested))
      return;
    for (Value operand : nested->getOperands())
      if (isa<MemRefType>(operand.getType()))
        viewsOf[rootBuffer(operand)].insert(operand);
  });
  auto bytesOf = [](Value buffer) -> std::optional<double> {
    auto type = cast<MemRefType>(buffer.getType());
    if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat())
      return std::nullopt;
    return static_cast<double>(type.getNumElements()) * type.getElementTypeBitWidth() / 8;
  };
  double bytes = 0;
  for (auto &[buffer, views] : viewsOf) {
    std::optional<double> whole = bytesOf(buffer);
    if (!whole)
      continue;
    double seen = 0; // at most the whole buffer, however many views overlap
    for (Value view : views)
      seen += bytesOf(view).value_or(*whole);
    bytes += std::min(seen, *whole);
  }
  return bytes;
}

std::string nestKind(Operation *op) {
  bool accumulates = false, reads = false;
  op->walk([&](Operation *nested) {
    if (auto loop = dyn_cast<scf::ForOp>(nested))
      accumulates |= llvm::any_of(loop.getInitArgs(), [](Value v) { return isa<VectorType>(v.getType()); });
    if (auto effects = dyn_cast<MemoryEffectOpInterface>(nested))
      reads |= effects.hasEffect<MemoryEffects::Read>();
  });
  if (accumulates)
    return "kernel";
  if (floatingPointOperations(op) > 0)
    return "loops";
  return reads ? "copy" : "fill";
}

std::string layersOf(Operation *op) {
  std::vector<std::string> names;
  op->walk<WalkOrder::PreOrder>([&](Operation *nested) { addNames(nested->getLoc(), names); });
  constexpr size_t kShown = 5;
  std::string label;
  for (size_t i = 0; i < std::min(names.size(), kShown); ++i)
    label += (i ? " + " : "") + names[i];
  if (names.size() > kShown)
    label += " and " + std::to_string(names.size() - kShown) + " more";
  return label;
}

} // namespace seqjit
