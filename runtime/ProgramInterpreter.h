// The reference interpreter of seq programs: a func.func of seq ops evaluated with plain loops on host arrays.
//
// DESIGN decision 3: every compiled program (forward, gradients, losses, priors) is checked against this file, and
// every VJP rule by finite differences on it (float64). It evaluates every op of compiler/SeqOps.td and
// compiler/SeqProgramOps.td with the loop nests of runtime/ReferenceKernels.h, in T whatever the module's element
// type (float accumulates in float, so T = float is an oracle for float32 programs, T = double for gradient checks).
#pragma once

#include "runtime/HostArray.h"

#include <vector>

namespace mlir::func {
class FuncOp;
}

namespace seqjit {

struct InterpretOptions {
  /// Report the first op that produces a NaN or an infinity from finite operands, naming the op and its layer
  /// (seqjit::Error). Off by default: a program may legitimately carry infinities (exp overflow, log of zero).
  bool checkNumerics = false;
};

/// The results of `function` for `arguments` (one per function argument, shapes equal to the argument types).
/// If `opResults` is given, it receives the value of every op result in program order (func.return excluded).
/// Throws seqjit::Error on a shape mismatch (naming the argument) or an op the interpreter does not know.
template <typename T>
std::vector<HostArray<T>> interpretFunction(mlir::func::FuncOp function, const std::vector<HostArray<T>> &arguments,
                                            const InterpretOptions &options = {},
                                            std::vector<HostArray<T>> *opResults = nullptr);

extern template std::vector<HostArray<float>> interpretFunction<float>(mlir::func::FuncOp,
                                                                       const std::vector<HostArray<float>> &,
                                                                       const InterpretOptions &,
                                                                       std::vector<HostArray<float>> *);
extern template std::vector<HostArray<double>> interpretFunction<double>(mlir::func::FuncOp,
                                                                         const std::vector<HostArray<double>> &,
                                                                         const InterpretOptions &,
                                                                         std::vector<HostArray<double>> *);

} // namespace seqjit
