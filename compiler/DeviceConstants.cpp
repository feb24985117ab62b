// seqjit-constants-to-device: see the header.
#include "compiler/DeviceConstants.h"

#include "compiler/BufferAccess.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;

namespace seqjit {

namespace {

struct ConstantsToDevicePass : PassWrapper<ConstantsToDevicePass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ConstantsToDevicePass)
  StringRef getArgument() const override { return "seqjit-constants-to-device"; }
  StringRef getDescription() const override { return "copies the constant buffers kernels read to the device"; }
  void getDependentDialects(DialectRegistry &registry) const override { registry.insert<gpu::GPUDialect>(); }
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    SmallVector<memref::GetGlobalOp> constants;
    function.walk([&](memref::GetGlobalOp constant) { constants.push_back(constant); });
    for (memref::GetGlobalOp constant : constants) {
      auto type = constant.getType();
      if (!type.hasStaticShape()) {
        constant.emitError("seqjit: a constant buffer of dynamic shape cannot be copied to the device");
        return signalPassFailure();
      }
      OpBuilder builder(constant->getContext());
      builder.setInsertionPointAfter(constant);
      Location loc = constant.getLoc();
      Value onDevice = builder.create<memref::AllocOp>(loc, type);
      auto copy = builder.create<gpu::MemcpyOp>(loc, TypeRange{}, ValueRange{}, onDevice, constant.getResult());
      constant.getResult().replaceAllUsesExcept(onDevice, copy);
      // A returned copy, or a view of one, is the caller's to free.
      bool returned = false;
      function.walk([&](func::ReturnOp ret) {
        returned |= llvm::any_of(ret.getOperands(), [&](Value v) { return underlyingBuffer(v) == onDevice; });
      });
      if (returned)
        continue;
      function.walk([&](func::ReturnOp ret) { OpBuilder(ret).create<memref::DeallocOp>(loc, onDevice); });
    }
  }
};

} // namespace

std::unique_ptr<Pass> createConstantsToDevicePass() { return std::make_unique<ConstantsToDevicePass>(); }

void registerConstantsToDevicePass() { PassRegistration<ConstantsToDevicePass>(); }

} // namespace seqjit
