// Every loop nest of a CPU program in a function of its own: LLVM optimises and generates code for many small functions
// (in parallel, compiler/SharedObjectEmitter.h) instead of one huge one, and a parallel nest's iterations run on the
// kernel threads (runtime/core/ParallelFor.h).
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// Marks an scf.for whose iterations write disjoint outputs (the outermost loop of a contraction kernel's block): the
/// nest it heads may run its iterations on several threads. An scf.parallel needs no mark.
inline constexpr const char *kParallelLoopAttribute = "seqjit.parallel";

/// The LLVM function attribute (a passthrough of the outlined function) that makes an outlined nest parallel; its
/// value is the step of the loop split across threads. The nest's first two arguments are the bounds of that loop.
inline constexpr const char *kParallelNestStepAttribute = "seqjit-parallel-step";

/// seqjit-outline-loop-nests, on buffers: each operation with regions at the top level of a function (a kernel's
/// loop nest, a linalg.generic, an scf.if) becomes a call of a private function `<function>_nest<k>` marked
/// no_inline, whose arguments are the values it uses from outside (constants are cloned into it instead, so loop
/// bounds stay constant). A function with fewer than two such operations is left alone. LLVM's passes that grow
/// faster than linearly with a function's size (loop strength reduction, CodeGenPrepare, scheduling) then see
/// small functions: a train step is hundreds of loop nests. A nest headed by a parallel loop (an scf.parallel or an
/// scf.for marked kParallelLoopAttribute, with a constant step and no results) that does enough work to be worth a
/// thread's start is outlined with that loop's bounds as its first two arguments and kParallelNestStepAttribute, so
/// that compiler/ParallelNestDispatch.h runs it across the kernel threads; such a nest is outlined even when it is a
/// function's only one.
///
/// With the option `profile`, for the kernel profile (runtime/core/KernelProfile.h): every nest is outlined, even a
/// function's only one, and each call of a nest, and the body of each public function, is timed by calls of
/// seqjit_profile_enter and seqjit_profile_exit with a descriptor of what it costs (compiler/LoopNestCost.h).
std::unique_ptr<mlir::Pass> createOutlineLoopNestsPass();

/// Registers seqjit-outline-loop-nests for textual pipelines.
void registerOutlineLoopNestsPass();

} // namespace seqjit
