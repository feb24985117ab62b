// The compiler's CPU artifact: a module in the LLVM dialect compiled for the host and linked into a shared object
// that runtime/core/NativeProgram.h loads. The compiler produces it and never runs it.
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
  std::string bytes;              ///< the shared object
  double optimizationSeconds = 0; ///< LLVM's IR optimisation
  double codegenSeconds = 0;      ///< instruction selection to object code, and linking
};

/// Translates `module` (already lowered to the LLVM dialect) to LLVM IR, adds a packed entry point
/// (packedEntrySymbol) for each of `entryPoints` (functions with llvm.emit_c_interface), optimises at `optLevel`,
/// generates position-independent code for the host and links it with the system's C compiler ($CC, else cc) into a
/// shared object. `name` names the program in errors.
EmittedLibrary emitSharedObject(mlir::ModuleOp module, const std::vector<std::string> &entryPoints, int optLevel,
                                const std::string &name);

} // namespace seqjit
