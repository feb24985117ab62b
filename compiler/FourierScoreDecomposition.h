// seq.fourier_score and its VJP in the ops every backend lowers: the CPU's form of the Fourier prior, and the
// GPU's where a track is too long for one kernel's shared memory.
#pragma once

#include "compiler/SeqDialect.h"

#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// The score of seq.fourier_score, emitted at `b`'s insertion point as conv1d (the smoothing), two dense layers
/// with constant DFT matrices, magnitudes, a normalising sum and a weighted sum, named after `op`'s layer.
mlir::Value decomposeFourierScore(mlir::OpBuilder &b, seq::FourierScoreOp op);

/// The track cotangent of seq.fourier_score_grad: the VJP of decomposeFourierScore's ops, so that the CPU's
/// gradient is exactly what autodiff gave before the op existed. Fails where autodiff does.
mlir::FailureOr<mlir::Value> decomposeFourierScoreGrad(mlir::OpBuilder &b, seq::FourierScoreGradOp op);

/// seqjit-decompose-fourier-score, on a function of seq ops: every fourier_score(_grad) replaced by its
/// decomposition (for convert-seq-to-linalg, which lowers no Fourier op).
std::unique_ptr<mlir::Pass> createDecomposeFourierScorePass();

/// Registers seqjit-decompose-fourier-score for textual pipelines.
void registerDecomposeFourierScorePass();

} // namespace seqjit
