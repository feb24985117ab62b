// Reverse-mode autodiff: one reverse sweep over a block, accumulating cotangents through the VJP rules.
#include "compiler/Autodiff.h"

#include "compiler/SeqBuilder.h"
#include "compiler/VjpRules.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"

using namespace mlir;

namespace seqjit {

FailureOr<SmallVector<Value>> buildVjp(OpBuilder &b, ValueRange outputs, ValueRange cotangents, ValueRange wrt) {
  return buildReverseSweep(b, outputs, cotangents, wrt, operandCotangents);
}

FailureOr<SmallVector<Value>> buildReverseSweep(OpBuilder &b, ValueRange outputs, ValueRange cotangents, ValueRange wrt,
                                                CotangentRule rule) {
  assert(outputs.size() == cotangents.size() && "one cotangent per output");
  Block *block = b.getInsertionBlock();

  // Ops of the block before the insertion point: a snapshot, since the sweep appends to the same block.
  SmallVector<Operation *> ops;
  for (Operation &op : llvm::make_range(block->begin(), b.getInsertionPoint()))
    ops.push_back(&op);

  // Active values depend on some `wrt` value; only their cotangents are worth computing.
  llvm::DenseSet<Value> active(wrt.begin(), wrt.end());
  for (Operation *op : ops)
    if (llvm::any_of(op->getOperands(), [&](Value v) { return active.contains(v); }))
      active.insert(op->getResults().begin(), op->getResults().end());

  llvm::DenseMap<Value, SmallVector<Value>> contributions;
  for (auto [output, cotangent] : llvm::zip(outputs, cotangents))
    if (active.contains(output))
      contributions[output].push_back(cotangent);

  auto accumulated = [&](Value v, Location loc) -> Value {
    auto found = contributions.find(v);
    if (found == contributions.end())
      return Value();
    SeqBuilder s(b, loc, "gradient");
    return s.add(found->second);
  };

  for (Operation *op : llvm::reverse(ops)) {
    if (op->getNumResults() != 1 || !active.contains(op->getResult(0)))
      continue;
    Value g = accumulated(op->getResult(0), op->getLoc());
    if (!g)
      continue;
    SmallVector<bool> needed;
    for (Value operand : op->getOperands())
      needed.push_back(active.contains(operand));
    auto cotangentsOfOperands = rule(b, op, g, needed);
    if (failed(cotangentsOfOperands))
      return failure();
    for (auto [operand, cotangent] : llvm::zip(op->getOperands(), *cotangentsOfOperands))
      if (cotangent)
        contributions[operand].push_back(cotangent);
  }

  SmallVector<Value> gradients;
  for (Value v : wrt) {
    Location loc = v.getLoc();
    Value g = accumulated(v, loc);
    if (!g)
      g = SeqBuilder(b, loc, "gradient").splat(SeqBuilder::tensorType(v), 0.0);
    gradients.push_back(g);
  }
  return gradients;
}

namespace {

struct AutodiffPass : PassWrapper<AutodiffPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(AutodiffPass)
  StringRef getArgument() const override { return "seq-autodiff"; }
  StringRef getDescription() const override {
    return "Add @f_vjp(arguments, result cotangents) -> argument cotangents for every public function @f";
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> functions;
    // A function whose @f_vjp exists already was differentiated by an earlier run of the pass.
    for (auto function : module.getOps<func::FuncOp>())
      if (function.isPublic() && !function.isDeclaration() && !module.lookupSymbol((function.getName() + "_vjp").str()))
        functions.push_back(function);
    for (func::FuncOp function : functions)
      if (failed(addVjpFunction(function)))
        return signalPassFailure();
  }

  /// @f_vjp clones @f's body, then appends the reverse sweep.
  LogicalResult addVjpFunction(func::FuncOp function) {
    OpBuilder b(function->getContext());
    b.setInsertionPointAfter(function);
    FunctionType type = function.getFunctionType();
    SmallVector<Type> inputs(type.getInputs());
    inputs.append(type.getResults().begin(), type.getResults().end());
    auto vjp = b.create<func::FuncOp>(function.getLoc(), (function.getName() + "_vjp").str(),
                                      b.getFunctionType(inputs, type.getInputs()));
    vjp->setAttrs(function->getDiscardableAttrDictionary());
    Block *body = vjp.addEntryBlock();
    IRMapping mapping;
    for (auto [from, to] : llvm::zip(function.getArguments(), body->getArguments()))
      mapping.map(from, to);
    b.setInsertionPointToStart(body);
    auto returnOp = cast<func::ReturnOp>(function.getBody().front().getTerminator());
    for (Operation &op : function.getBody().front().without_terminator())
      b.clone(op, mapping);
    SmallVector<Value> outputs;
    for (Value v : returnOp.getOperands())
      outputs.push_back(mapping.lookup(v));
    auto cotangents = body->getArguments().drop_front(type.getNumInputs());
    auto gradients = buildVjp(b, outputs, cotangents, body->getArguments().take_front(type.getNumInputs()));
    if (failed(gradients))
      return failure();
    b.create<func::ReturnOp>(function.getLoc(), *gradients);
    return success();
  }
};

} // namespace

std::unique_ptr<Pass> createAutodiffPass() { return std::make_unique<AutodiffPass>(); }

} // namespace seqjit
