// The compiler's artifact: a module in the LLVM dialect (a CPU program, or the host code of a CUDA program with its
// kernels' PTX in its constants) compiled for the host and linked into a shared object that
// runtime/core/NativeProgram.h loads. The compiler produces it and never runs it.
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace seqjit {

/// Initialises LLVM's code generator for the host (once per process).
void initializeNativeTarget();

/// What a CPU artifact is compiled for: the host's triple, CPU and features, and the kernels' vector width
/// (cpuVectorTarget()). A cache entry built for another target is never loaded.
std::string hostTargetDescription();

struct EmittedLibrary {
  std::string bytes;      ///< the shared object
  double llvmSeconds = 0; ///< LLVM's optimisation and code generation (the pieces' threads together)
  double linkSeconds = 0; ///< linking the pieces
};

/// Translates `module` (already lowered to the LLVM dialect) to LLVM IR, adds a packed entry point
/// (packedEntrySymbol) for each of `entryPoints` (functions with llvm.emit_c_interface), hands its parallel loop nests
/// to the kernel threads (compiler/ParallelNestDispatch.h), routes its calls of the runtime functions `imports` through
/// import slots (importSlotSymbol), splits its functions into
/// one piece per hardware thread (at most 8, at least 16 functions a piece), optimises each at `optLevel` and
/// generates position-independent code for the host on a thread of its own, and links the pieces with the system's
/// C compiler ($CC, else cc) into a shared object. The pieces are made the same way every time, so the same module
/// gives the same shared object. `name` names the program in errors.
EmittedLibrary emitSharedObject(mlir::ModuleOp module, const std::vector<std::string> &entryPoints,
                                const std::vector<std::string> &imports, int optLevel, const std::string &name);

} // namespace seqjit
