// The conversion of seq ops into linalg.generic / tensor ops on static shapes.
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace seqjit {

/// convert-seq-to-linalg: every seq op becomes linalg.generic (or tensor reshapes and slices).
/// Needs a static batch size; fails naming the layer otherwise.
std::unique_ptr<mlir::Pass> createSeqToLinalgPass();

/// The lowerings of the program ops (compiler/SeqProgramOps.td), part of convert-seq-to-linalg.
void populateProgramOpsToLinalgPatterns(mlir::RewritePatternSet &patterns);

/// Registers seqjit's passes with the global registry (for seqjit-opt and textual pipelines).
void registerSeqjitPasses();

} // namespace seqjit
