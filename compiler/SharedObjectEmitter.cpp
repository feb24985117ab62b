#include "compiler/SharedObjectEmitter.h"

#include "compiler/ContractionKernels.h"
#include "compiler/ParallelNestDispatch.h"
#include "dsl/Error.h"
#include "runtime/core/BufferCopies.h"
#include "runtime/core/NativeProgram.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <vector>

namespace seqjit {

namespace fs = std::filesystem;

namespace {

llvm::orc::JITTargetMachineBuilder hostMachineBuilder() {
  initializeNativeTarget();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    throw Error("cannot detect the host CPU: " + llvm::toString(builder.takeError()));
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  builder->setRelocationModel(llvm::Reloc::PIC_);
  return std::move(*builder);
}

/// `void <packedEntrySymbol(f)>(void **arguments)` calling `_mlir_ciface_<f>` with *arguments[i] as its i-th argument
/// (every argument of a C-interface function is a pointer to a memref descriptor).
void addPackedEntryPoint(llvm::Module &module, const std::string &function, const std::string &name) {
  llvm::Function *target = module.getFunction("_mlir_ciface_" + function);
  if (!target || target->isDeclaration())
    throw Error(fmt::format("{}: the lowered module has no C interface for '{}'", name, function));
  llvm::LLVMContext &context = module.getContext();
  llvm::IRBuilder<> builder(context);
  auto *type = llvm::FunctionType::get(builder.getVoidTy(), builder.getPtrTy(), false);
  auto *entry = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, packedEntrySymbol(function), module);
  builder.SetInsertPoint(llvm::BasicBlock::Create(context, "entry", entry));
  llvm::Value *arguments = entry->getArg(0);
  std::vector<llvm::Value *> values;
  for (unsigned i = 0; i < target->arg_size(); ++i) {
    llvm::Value *slot = builder.CreateGEP(builder.getPtrTy(), arguments, builder.getInt64(i));
    llvm::Value *pointer = builder.CreateLoad(builder.getPtrTy(), slot);
    values.push_back(builder.CreateLoad(target->getArg(i)->getType(), pointer));
  }
  builder.CreateCall(target, values);
  builder.CreateRetVoid();
}

/// Every call of declared function `function` becomes a call through a pointer the loader fills: the exported global
/// importSlotSymbol(function). A runtime function the program needs is then bound by whoever loads it, and the shared
/// object has no undefined symbol of the process it is loaded into.
void callThroughImportSlot(llvm::Module &module, const std::string &function, const std::string &name) {
  llvm::IRBuilder<> builder(module.getContext());
  auto *slot =
      new llvm::GlobalVariable(module, builder.getPtrTy(), /*isConstant=*/false, llvm::GlobalValue::ExternalLinkage,
                               llvm::ConstantPointerNull::get(builder.getPtrTy()), importSlotSymbol(function));
  llvm::Function *declared = module.getFunction(function);
  if (!declared)
    return; // the slot stays, unused: every program for a device has the same slots
  if (!declared->isDeclaration())
    throw Error(fmt::format("{}: the program defines '{}', which the runtime provides", name, function));
  for (llvm::User *user : llvm::make_early_inc_range(declared->users())) {
    auto *call = llvm::dyn_cast<llvm::CallBase>(user);
    if (!call || call->getCalledOperand() != declared)
      throw Error(fmt::format("{}: runtime function '{}' is used other than by a call", name, function));
    builder.SetInsertPoint(call);
    call->setCalledOperand(builder.CreateLoad(builder.getPtrTy(), slot, function));
  }
  declared->eraseFromParent();
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A private temporary directory, removed with everything in it.
struct ScratchDirectory {
  fs::path path;
  ScratchDirectory() {
    std::string pattern = (fs::temp_directory_path() / "seqjit-link-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      throw Error(fmt::format("cannot create a temporary directory in {} to link a compiled program",
                              fs::temp_directory_path().string()));
    path = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

/// Links `objects` into a shared object with the system's C compiler. -Bsymbolic binds the program's calls of its
/// own functions inside it. The runtime functions a program calls come through its import slots: it links no library
/// but the C library and libm.
std::string linkSharedObject(const std::vector<std::string> &objects, const std::string &name) {
  ScratchDirectory scratch;
  fs::path libraryPath = scratch.path / "program.so";
  std::string objectPaths;
  for (size_t i = 0; i < objects.size(); ++i) {
    fs::path objectPath = scratch.path / fmt::format("piece{}.o", i);
    std::ofstream out(objectPath, std::ios::binary);
    out.write(objects[i].data(), static_cast<std::streamsize>(objects[i].size()));
    if (!out)
      throw Error(fmt::format("{}: cannot write {} (full disk?)", name, objectPath.string()));
    objectPaths += fmt::format(" '{}'", objectPath.string());
  }
  const char *cc = std::getenv("CC");
  std::string command = fmt::format("{} -shared -Wl,-Bsymbolic -Wl,-z,noexecstack -o '{}'{} -lm > '{}' 2>&1",
                                    cc && *cc ? cc : "cc", libraryPath.string(), objectPaths,
                                    (scratch.path / "link.log").string());
  if (std::system(command.c_str()) != 0)
    throw Error(fmt::format("{}: linking the compiled program failed (the C compiler, $CC or cc, is needed); the "
                            "linker says:\n{}",
                            name, readFile(scratch.path / "link.log")));
  return readFile(libraryPath);
}

} // namespace

void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

std::string hostTargetDescription() {
  llvm::orc::JITTargetMachineBuilder builder = hostMachineBuilder();
  std::vector<std::string> features = builder.getFeatures().getFeatures();
  std::sort(features.begin(), features.end());
  std::string joined;
  for (const std::string &feature : features)
    if (!feature.empty() && feature[0] == '+')
      joined += feature;
  return fmt::format("{} {} vector-bits={} {}", builder.getTargetTriple().str(), builder.getCPU(),
                     cpuVectorTarget().vectorBits, joined);
}

namespace {

/// How many pieces a module of `functions` functions is compiled in: one per hardware thread, at most 8, and at least
/// 16 functions in each.
unsigned partitionCount(size_t functions) {
  unsigned threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  return static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(threads, functions / 16)));
}

/// Optimises and compiles one piece (LLVM bitcode) in a context of its own: pieces run on threads side by side.
std::string compilePartition(const std::string &bitcode, int optLevel, const std::string &name) {
  llvm::LLVMContext context;
  auto module = llvm::parseBitcodeFile(llvm::MemoryBufferRef(bitcode, name), context);
  if (!module)
    throw Error(fmt::format("{}: reading back a piece of the LLVM module failed: {}", name,
                            llvm::toString(module.takeError())));
  auto targetMachine = hostMachineBuilder().createTargetMachine();
  if (!targetMachine)
    throw Error("cannot create the target machine: " + llvm::toString(targetMachine.takeError()));
  if (llvm::Error error = mlir::makeOptimizingTransformer(optLevel, 0, targetMachine->get())(module->get()))
    throw Error(fmt::format("{}: LLVM optimisation failed: {}", name, llvm::toString(std::move(error))));
  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream stream(object);
  llvm::legacy::PassManager codegen;
  if ((*targetMachine)->addPassesToEmitFile(codegen, stream, nullptr, llvm::CodeGenFileType::ObjectFile))
    throw Error(fmt::format("{}: the host's target cannot emit object code", name));
  codegen.run(**module);
  return std::string(object.begin(), object.end());
}

} // namespace

EmittedLibrary emitSharedObject(mlir::ModuleOp module, const std::vector<std::string> &entryPoints,
                                const std::vector<std::string> &imports, int optLevel, const std::string &name) {
  EmittedLibrary emitted;
  auto start = std::chrono::steady_clock::now();
  auto targetMachine = hostMachineBuilder().createTargetMachine();
  if (!targetMachine)
    throw Error("cannot create the target machine: " + llvm::toString(targetMachine.takeError()));
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule = mlir::translateModuleToLLVMIR(module, context, name);
  if (!llvmModule)
    throw Error(fmt::format("{}: translating the lowered module to LLVM IR failed (see the diagnostics above)", name));
  llvmModule->setDataLayout((*targetMachine)->createDataLayout());
  llvmModule->setTargetTriple((*targetMachine)->getTargetTriple().str());
  for (const std::string &entryPoint : entryPoints)
    addPackedEntryPoint(*llvmModule, entryPoint, name);
  // A constructor would run while the library loads, before the loader fills the slots.
  if (!imports.empty() && llvmModule->getNamedGlobal("llvm.global_ctors"))
    throw Error(fmt::format("{}: the program has constructors, which would call the runtime before it is bound", name));
  dispatchParallelNests(*llvmModule, name);
  if (std::find(imports.begin(), imports.end(), kCopyBytesFunction) != imports.end())
    dispatchLargeCopies(*llvmModule);
  for (const std::string &function : imports)
    callThroughImportSlot(*llvmModule, function, name);

  // The functions (a program's loop nests, compiler/LoopNestOutlining.h) split round robin into pieces, each
  // optimised and compiled on a thread of its own, then linked together: local symbols become hidden globals, so
  // that the pieces call each other inside the shared object and export nothing new.
  size_t functions = 0;
  for (const llvm::Function &function : *llvmModule)
    functions += function.isDeclaration() ? 0 : 1;
  std::vector<std::string> pieces;
  llvm::SplitModule(
      *llvmModule, partitionCount(functions),
      [&](std::unique_ptr<llvm::Module> piece) {
        std::string bitcode;
        llvm::raw_string_ostream stream(bitcode);
        llvm::WriteBitcodeToFile(*piece, stream);
        pieces.push_back(std::move(bitcode));
      },
      /*PreserveLocals=*/false, /*RoundRobin=*/true);
  std::vector<std::string> objects(pieces.size());
  std::vector<std::exception_ptr> failures(pieces.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < pieces.size(); ++i)
    threads.emplace_back([&, i] {
      try {
        objects[i] = compilePartition(pieces[i], optLevel, name);
      } catch (...) {
        failures[i] = std::current_exception();
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  for (const std::exception_ptr &failure : failures)
    if (failure)
      std::rethrow_exception(failure);
  emitted.llvmSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  emitted.bytes = linkSharedObject(objects, name);
  emitted.linkSeconds = secondsSince(start);
  return emitted;
}

} // namespace seqjit
