#include "compiler/LoopNestOutlining.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

#include <string>

using namespace mlir;

namespace seqjit {

namespace {

/// Replaces `op` by a call of a new private function holding it.
void outline(Operation *op, func::FuncOp parent, SymbolTable &symbols, int index) {
  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(op->getRegions(), used);
  used.insert(op->operand_begin(), op->operand_end());
  SmallVector<Value> arguments;
  SmallVector<Operation *> constants;
  for (Value value : used) {
    Operation *definition = value.getDefiningOp();
    if (definition && definition->hasTrait<OpTrait::ConstantLike>())
      constants.push_back(definition);
    else
      arguments.push_back(value);
  }
  Location loc = op->getLoc();
  MLIRContext *context = op->getContext();
  auto type = FunctionType::get(context, ValueRange(arguments).getTypes(), op->getResultTypes());
  auto outlined = func::FuncOp::create(loc, (parent.getSymName() + "_nest" + std::to_string(index)).str(), type);
  outlined.setPrivate();
  outlined->setAttr("no_inline", UnitAttr::get(context));
  Block *entry = outlined.addEntryBlock();
  IRMapping mapping;
  for (auto [value, argument] : llvm::zip(arguments, entry->getArguments()))
    mapping.map(value, argument);
  OpBuilder body = OpBuilder::atBlockEnd(entry);
  for (Operation *constant : constants)
    body.clone(*constant, mapping);
  Operation *clone = body.clone(*op, mapping);
  body.create<func::ReturnOp>(loc, clone->getResults());
  symbols.insert(outlined, Block::iterator(parent));

  OpBuilder builder(op);
  auto call = builder.create<func::CallOp>(loc, outlined, arguments);
  op->replaceAllUsesWith(call.getResults());
  op->erase();
}

struct OutlineLoopNestsPass : PassWrapper<OutlineLoopNestsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(OutlineLoopNestsPass)
  StringRef getArgument() const final { return "seqjit-outline-loop-nests"; }
  StringRef getDescription() const final {
    return "each loop nest of a function in a function of its own (smaller functions for LLVM)";
  }
  void getDependentDialects(DialectRegistry &registry) const override { registry.insert<func::FuncDialect>(); }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    for (func::FuncOp function : functions) {
      if (function.isExternal() || function->hasAttr("no_inline"))
        continue;
      SmallVector<Operation *> nests;
      for (Operation &op : function.getBody().front())
        if (op.getNumRegions() > 0)
          nests.push_back(&op);
      if (nests.size() < 2)
        continue;
      for (auto [index, op] : llvm::enumerate(nests))
        outline(op, function, symbols, static_cast<int>(index));
    }
  }
};

} // namespace

std::unique_ptr<Pass> createOutlineLoopNestsPass() { return std::make_unique<OutlineLoopNestsPass>(); }

void registerOutlineLoopNestsPass() { PassRegistration<OutlineLoopNestsPass>(); }

} // namespace seqjit
