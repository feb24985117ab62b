// What a CPU program hands to the kernel threads (runtime/core/ParallelFor.h): its parallel loop nests
// (compiler/LoopNestOutlining.h) and its large contiguous copies.
#pragma once

#include "llvm/IR/Module.h"

#include <string>

namespace seqjit {

/// For every function with kParallelNestStepAttribute, f(lo, hi, a...): a task `<f>.task(context, lo, hi)` calling
/// f(lo, hi, the context's a...), and every call f(lb, ub, a...) becomes kParallelForFunction(<f>.task, &{a...}, lb,
/// ub, step) with the arguments in a stack slot of the caller. The declared kParallelForFunction is then for the
/// emitter to bind (an import slot). Throws seqjit::Error, naming the program `name`, for a malformed attribute or a
/// nest used other than by calls.
void dispatchParallelNests(llvm::Module &module, const std::string &name);

/// Every memcpy of at least kParallelCopyBytes (or of a length not known here) becomes a call of the declared
/// kCopyBytesFunction (runtime/core/BufferCopies.h), which the emitter then binds.
void dispatchLargeCopies(llvm::Module &module);

} // namespace seqjit
