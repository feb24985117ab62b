// One fill per destination: see FillPerDestination.h.
#include "compiler/FillPerDestination.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace seqjit {

namespace {

struct FillPerDestinationPass : PassWrapper<FillPerDestinationPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FillPerDestinationPass)
  StringRef getArgument() const override { return "seqjit-fill-per-destination"; }
  StringRef getDescription() const override {
    return "Clone a linalg.fill on tensors for each op that takes it as its destination";
  }
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation()->walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && !fill->getResult(0).hasOneUse())
        fills.push_back(fill);
    });
    for (linalg::FillOp fill : fills) {
      SmallVector<OpOperand *> destinations;
      for (OpOperand &use : fill->getResult(0).getUses())
        if (auto user = dyn_cast<DestinationStyleOpInterface>(use.getOwner()); user && user.isDpsInit(&use))
          destinations.push_back(&use);
      // The fill itself stays with one destination, or with the uses that only read it.
      bool readOnly = static_cast<ptrdiff_t>(destinations.size()) < llvm::range_size(fill->getResult(0).getUses());
      for (OpOperand *destination : ArrayRef(destinations).drop_front(readOnly ? 0 : 1)) {
        OpBuilder builder(fill);
        destination->set(builder.clone(*fill)->getResult(0));
      }
    }
  }
};

} // namespace

std::unique_ptr<Pass> createFillPerDestinationPass() { return std::make_unique<FillPerDestinationPass>(); }

void registerFillPerDestinationPass() { PassRegistration<FillPerDestinationPass>(); }

} // namespace seqjit
