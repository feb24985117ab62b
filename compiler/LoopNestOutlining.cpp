#include "compiler/LoopNestOutlining.h"

#include "compiler/LoopNestCost.h"
#include "runtime/core/KernelProfile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <optional>
#include <string>

using namespace mlir;

namespace seqjit {

namespace {

/// Operations a nest worth a thread of its own executes at least (a few microseconds on one core): below it, handing
/// out the work costs more than it saves.
constexpr double kParallelWork = 1 << 15;

/// The bounds and constant step of the loop whose iterations a parallel nest headed by `op` splits across threads.
struct SplitLoop {
  Value lowerBound, upperBound;
  int64_t step;
};

/// Where `op` heads a nest worth running on several threads: its split loop.
std::optional<SplitLoop> splitLoop(Operation *op) {
  Value lowerBound, upperBound, step;
  if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
    lowerBound = loop.getLowerBound()[0];
    upperBound = loop.getUpperBound()[0];
    step = loop.getStep()[0];
  } else if (auto loop = dyn_cast<scf::ForOp>(op); loop && loop->hasAttr(kParallelLoopAttribute)) {
    lowerBound = loop.getLowerBound();
    upperBound = loop.getUpperBound();
    step = loop.getStep();
  } else {
    return std::nullopt;
  }
  std::optional<int64_t> stride = getConstantIntValue(step);
  if (op->getNumResults() != 0 || !stride || *stride <= 0 || estimatedOperations(op) < kParallelWork)
    return std::nullopt;
  return SplitLoop{lowerBound, upperBound, *stride};
}

/// Makes the split loop of `op` (a clone in its outlined function) run from `lowerBound` to `upperBound`.
void rebound(Operation *op, Value lowerBound, Value upperBound) {
  if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
    loop.getLowerBoundMutable()[0].assign(lowerBound);
    loop.getUpperBoundMutable()[0].assign(upperBound);
  } else {
    auto forLoop = cast<scf::ForOp>(op);
    forLoop.getLowerBoundMutable().assign(lowerBound);
    forLoop.getUpperBoundMutable().assign(upperBound);
  }
}

/// Replaces `op` by a call of a new private function holding it; with `split`, a parallel nest (see the header).
func::CallOp outline(Operation *op, func::FuncOp parent, SymbolTable &symbols, int index,
                     std::optional<SplitLoop> split) {
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
  if (split)
    arguments.insert(arguments.begin(), {split->lowerBound, split->upperBound});
  Location loc = op->getLoc();
  MLIRContext *context = op->getContext();
  auto type = FunctionType::get(context, ValueRange(arguments).getTypes(), op->getResultTypes());
  auto outlined = func::FuncOp::create(loc, (parent.getSymName() + "_nest" + std::to_string(index)).str(), type);
  outlined.setPrivate();
  outlined->setAttr("no_inline", UnitAttr::get(context));
  if (split) {
    Builder builder(context);
    outlined->setAttr("passthrough", builder.getArrayAttr({builder.getArrayAttr(
                                         {builder.getStringAttr(kParallelNestStepAttribute),
                                          builder.getStringAttr(std::to_string(split->step))})}));
  }
  Block *entry = outlined.addEntryBlock();
  IRMapping mapping;
  for (auto [value, argument] : llvm::zip(split ? ArrayRef(arguments).drop_front(2) : ArrayRef(arguments),
                                          split ? entry->getArguments().drop_front(2) : entry->getArguments()))
    mapping.map(value, argument);
  OpBuilder body = OpBuilder::atBlockEnd(entry);
  for (Operation *constant : constants)
    body.clone(*constant, mapping);
  Operation *clone = body.clone(*op, mapping);
  if (split)
    rebound(clone, entry->getArgument(0), entry->getArgument(1));
  body.create<func::ReturnOp>(loc, clone->getResults());
  symbols.insert(outlined, Block::iterator(parent));

  OpBuilder builder(op);
  auto call = builder.create<func::CallOp>(loc, outlined, arguments);
  op->replaceAllUsesWith(call.getResults());
  op->erase();
  return call;
}

/// The runtime function `name` of type `type`, declared in `module` if it is not yet.
func::FuncOp runtimeFunction(ModuleOp module, StringRef name, FunctionType type) {
  if (auto declared = module.lookupSymbol<func::FuncOp>(name))
    return declared;
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  auto declared = builder.create<func::FuncOp>(module.getLoc(), name, type);
  declared.setPrivate();
  return declared;
}

/// Times the operations from `first` up to (not including) `last`, in one block, as the kernel profile's region
/// `cost`: seqjit_profile_enter before them, seqjit_profile_exit after them, with `cost`'s descriptor.
void timeRegion(Operation *first, Operation *last, const KernelCost &cost, StringRef symbol) {
  auto module = first->getParentOfType<ModuleOp>();
  MLIRContext *context = module.getContext();
  Location loc = first->getLoc();
  Type pointer = LLVM::LLVMPointerType::get(context), time = IntegerType::get(context, 64);
  func::FuncOp enter = runtimeFunction(module, kProfileEnterFunction, FunctionType::get(context, {pointer}, {time}));
  func::FuncOp exit = runtimeFunction(module, kProfileExitFunction, FunctionType::get(context, {pointer, time}, {}));
  OpBuilder builder(first);
  std::string descriptor = encodeKernelCost(cost);
  Value text = LLVM::createGlobalString(loc, builder, symbol, StringRef(descriptor.c_str(), descriptor.size() + 1),
                                        LLVM::Linkage::Internal);
  Value start = builder.create<func::CallOp>(loc, enter, ValueRange{text}).getResult(0);
  builder.setInsertionPoint(last);
  builder.create<func::CallOp>(loc, exit, ValueRange{text, start});
}

/// The kernel profile's region of a loop nest, as it is before outlining.
KernelCost nestCost(Operation *nest, func::FuncOp parent, int index) {
  return {parent.getSymName().str(), index, nestKind(nest), layersOf(nest), floatingPointOperations(nest),
          bufferBytesTouched(nest)};
}

struct OutlineLoopNestsPass : PassWrapper<OutlineLoopNestsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(OutlineLoopNestsPass)
  OutlineLoopNestsPass() = default;
  OutlineLoopNestsPass(const OutlineLoopNestsPass &other) : PassWrapper(other) {}
  StringRef getArgument() const final { return "seqjit-outline-loop-nests"; }
  StringRef getDescription() const final {
    return "each loop nest of a function in a function of its own (smaller functions for LLVM)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<func::FuncDialect, scf::SCFDialect, LLVM::LLVMDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    for (func::FuncOp function : functions) {
      if (function.isExternal() || function->hasAttr("no_inline"))
        continue;
      SmallVector<std::pair<Operation *, std::optional<SplitLoop>>> nests;
      bool anyParallel = false;
      for (Operation &op : function.getBody().front())
        if (op.getNumRegions() > 0) {
          nests.emplace_back(&op, splitLoop(&op));
          anyParallel |= nests.back().second.has_value();
        }
      std::string name = function.getSymName().str();
      if (profile && function.isPublic()) {
        Block &body = function.getBody().front();
        timeRegion(&body.front(), body.getTerminator(),
                   {name, -1, "", "", floatingPointOperations(function), bufferBytesTouched(function)},
                   "seqjit_profile_" + name);
      }
      if (nests.size() < 2 && !anyParallel && !profile)
        continue;
      for (auto [index, nest] : llvm::enumerate(nests)) {
        int nestIndex = static_cast<int>(index);
        std::optional<KernelCost> cost;
        if (profile)
          cost = nestCost(nest.first, function, nestIndex);
        func::CallOp call = outline(nest.first, function, symbols, nestIndex, nest.second);
        if (cost)
          timeRegion(call, call->getNextNode(), *cost, "seqjit_profile_" + name + "_nest" + std::to_string(index));
      }
    }
  }

  Option<bool> profile{*this, "profile",
                       llvm::cl::desc("time every loop nest and public function for the kernel profile, outlining "
                                      "even a function's only nest"),
                       llvm::cl::init(false)};
};

} // namespace

std::unique_ptr<Pass> createOutlineLoopNestsPass() { return std::make_unique<OutlineLoopNestsPass>(); }

void registerOutlineLoopNestsPass() { PassRegistration<OutlineLoopNestsPass>(); }

} // namespace seqjit
