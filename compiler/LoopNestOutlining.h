// CPU compile time: every loop nest of a program in a function of its own, so that LLVM optimises and generates
// code for many small functions (in parallel, compiler/SharedObjectEmitter.h) instead of one huge one.
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// seqjit-outline-loop-nests, on buffers: each operation with regions at the top level of a function (a kernel's
/// loop nest, a linalg.generic, an scf.if) becomes a call of a private function `<function>_nest<k>` marked
/// no_inline, whose arguments are the values it uses from outside (constants are cloned into it instead, so loop
/// bounds stay constant). A function with fewer than two such operations is left alone. LLVM's passes that grow
/// faster than linearly with a function's size (loop strength reduction, CodeGenPrepare, scheduling) then see
/// small functions: a train step is hundreds of loop nests.
std::unique_ptr<mlir::Pass> createOutlineLoopNestsPass();

/// Registers seqjit-outline-loop-nests for textual pipelines.
void registerOutlineLoopNestsPass();

} // namespace seqjit
