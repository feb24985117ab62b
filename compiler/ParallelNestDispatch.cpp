#include "compiler/ParallelNestDispatch.h"

#include "compiler/LoopNestOutlining.h"
#include "dsl/Error.h"
#include "runtime/core/BufferCopies.h"
#include "runtime/core/ParallelFor.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/IntrinsicInst.h"

#include <fmt/format.h>

#include <vector>

namespace seqjit {

namespace {

/// `void <f>.task(ptr context, i64 lo, i64 hi)`: f(lo, hi, the fields of *context).
llvm::Function *createTask(llvm::Function &nest, llvm::StructType *context) {
  llvm::LLVMContext &llvmContext = nest.getContext();
  llvm::IRBuilder<> builder(llvmContext);
  auto *type = llvm::FunctionType::get(builder.getVoidTy(), {builder.getPtrTy(), builder.getInt64Ty(), builder.getInt64Ty()},
                                       false);
  auto *task = llvm::Function::Create(type, llvm::GlobalValue::InternalLinkage, nest.getName() + ".task",
                                      nest.getParent());
  builder.SetInsertPoint(llvm::BasicBlock::Create(llvmContext, "entry", task));
  std::vector<llvm::Value *> arguments = {task->getArg(1), task->getArg(2)};
  for (unsigned i = 0; i < context->getNumElements(); ++i)
    arguments.push_back(builder.CreateLoad(context->getElementType(i),
                                           builder.CreateStructGEP(context, task->getArg(0), i)));
  builder.CreateCall(&nest, arguments);
  builder.CreateRetVoid();
  return task;
}

} // namespace

void dispatchParallelNests(llvm::Module &module, const std::string &name) {
  std::vector<llvm::Function *> nests;
  for (llvm::Function &function : module)
    if (function.hasFnAttribute(kParallelNestStepAttribute))
      nests.push_back(&function);
  if (nests.empty())
    return;
  llvm::LLVMContext &llvmContext = module.getContext();
  llvm::IRBuilder<> builder(llvmContext);
  llvm::Type *i64 = builder.getInt64Ty();
  llvm::FunctionCallee parallelFor = module.getOrInsertFunction(
      kParallelForFunction, llvm::FunctionType::get(builder.getVoidTy(),
                                                    {builder.getPtrTy(), builder.getPtrTy(), i64, i64, i64}, false));
  for (llvm::Function *nest : nests) {
    llvm::StringRef stepText = nest->getFnAttribute(kParallelNestStepAttribute).getValueAsString();
    int64_t step = 0;
    if (stepText.getAsInteger(10, step) || step <= 0 || nest->arg_size() < 2 || !nest->getReturnType()->isVoidTy() ||
        !nest->getArg(0)->getType()->isIntegerTy(64) || !nest->getArg(1)->getType()->isIntegerTy(64))
      throw Error(fmt::format("{}: '{}' is not a parallel loop nest (step '{}')", name, nest->getName().str(),
                              stepText.str()));
    nest->removeFnAttr(kParallelNestStepAttribute);
    std::vector<llvm::Type *> fields;
    for (unsigned i = 2; i < nest->arg_size(); ++i)
      fields.push_back(nest->getArg(i)->getType());
    llvm::StructType *context = llvm::StructType::get(llvmContext, fields);
    llvm::Function *task = createTask(*nest, context);
    for (llvm::User *user : llvm::make_early_inc_range(nest->users())) {
      auto *call = llvm::dyn_cast<llvm::CallInst>(user);
      if (call && call->getFunction() == task)
        continue;
      if (!call || call->getCalledOperand() != nest)
        throw Error(fmt::format("{}: parallel loop nest '{}' is used other than by a call", name,
                                nest->getName().str()));
      llvm::Function *caller = call->getFunction();
      builder.SetInsertPoint(&*caller->getEntryBlock().getFirstInsertionPt());
      llvm::Value *slot = builder.CreateAlloca(context);
      builder.SetInsertPoint(call);
      for (unsigned i = 2; i < call->arg_size(); ++i)
        builder.CreateStore(call->getArgOperand(i), builder.CreateStructGEP(context, slot, i - 2));
      builder.CreateCall(parallelFor,
                         {task, slot, call->getArgOperand(0), call->getArgOperand(1), builder.getInt64(step)});
      call->eraseFromParent();
    }
  }
}

void dispatchLargeCopies(llvm::Module &module) {
  std::vector<llvm::MemCpyInst *> copies;
  for (llvm::Function &function : module)
    for (llvm::Instruction &instruction : llvm::instructions(function))
      if (auto *copy = llvm::dyn_cast<llvm::MemCpyInst>(&instruction)) {
        auto *length = llvm::dyn_cast<llvm::ConstantInt>(copy->getLength());
        if (!copy->isVolatile() && (!length || length->getSExtValue() >= kParallelCopyBytes))
          copies.push_back(copy);
      }
  if (copies.empty())
    return;
  llvm::IRBuilder<> builder(module.getContext());
  llvm::FunctionCallee copyBytes = module.getOrInsertFunction(
      kCopyBytesFunction,
      llvm::FunctionType::get(builder.getVoidTy(), {builder.getPtrTy(), builder.getPtrTy(), builder.getInt64Ty()},
                              false));
  for (llvm::MemCpyInst *copy : copies) {
    builder.SetInsertPoint(copy);
    builder.CreateCall(copyBytes, {copy->getDest(), copy->getSource(),
                                   builder.CreateSExtOrTrunc(copy->getLength(), builder.getInt64Ty())});
    copy->eraseFromParent();
  }
}

} // namespace seqjit
