// The identity of a compiled program in the persistent cache: a hash of everything that determines its code.
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace seqjit {

/// SHA-256 (hex) of: the module's IR before lowering, the pass pipeline with its options, the target
/// (hostTargetDescription()), the entry points, the optimisation level, and the build of seqjit's compiler (the
/// GNU build ID of the binary this code is in, so that any change to the compiler makes new keys).
std::string programKey(mlir::ModuleOp module, const std::string &pipeline, const std::string &target,
                       const std::vector<std::string> &entryPoints, int optLevel);

/// The GNU build ID (hex) of the executable or shared object holding seqjit's compiler; empty if it has none.
std::string compilerBuildId();

} // namespace seqjit
