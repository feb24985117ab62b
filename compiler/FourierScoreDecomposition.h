// seq.fourier_score and its VJP in the ops every backend lowers: the CPU's form of the Fourier prior, and the
// GPU's where a track is too long for one kernel's shared memory.
#pragma once

#include "compiler/SeqDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// What seq.fourier_score and seq.fourier_score_grad both carry: the track (B, L) and the prior's terms.
struct FourierOpParts {
  mlir::Value track;
  int64_t sigma = 0, freqLimit = 0;
  double softness = 0.0;
};

/// The parts of `op`, a fourier_score or a fourier_score_grad.
FourierOpParts fourierOpParts(mlir::Operation *op);

/// Replaces every fourier_score(_grad) of `function` with the value `lower` emits for it (at the op), and erases
/// the op; fails where `lower` fails. The one loop of both the decomposition and the GPU kernels.
mlir::LogicalResult
replaceFourierOps(mlir::func::FuncOp function,
                  llvm::function_ref<mlir::FailureOr<mlir::Value>(mlir::OpBuilder &, mlir::Operation *)> lower);

/// The score of seq.fourier_score, emitted at `b`'s insertion point as conv1d (the smoothing), two dense layers
/// with constant DFT matrices, magnitudes, a normalising sum and a weighted sum, named after `op`'s layer.
mlir::Value decomposeFourierScore(mlir::OpBuilder &b, seq::FourierScoreOp op);

/// The track cotangent of seq.fourier_score_grad: the VJP of decomposeFourierScore's ops, so that the CPU's
/// gradient is exactly what autodiff gave before the op existed. Fails where autodiff does.
mlir::FailureOr<mlir::Value> decomposeFourierScoreGrad(mlir::OpBuilder &b, seq::FourierScoreGradOp op);

/// seqjit-decompose-fourier-score, on a function of seq ops: every fourier_score(_grad) replaced by its
/// decomposition (for convert-seq-to-linalg, which lowers no Fourier op).
///
/// decomposeFourierOp is either of the two above, as `op` needs.
mlir::FailureOr<mlir::Value> decomposeFourierOp(mlir::OpBuilder &b, mlir::Operation *op);

std::unique_ptr<mlir::Pass> createDecomposeFourierScorePass();

/// Registers seqjit-decompose-fourier-score for textual pipelines.
void registerDecomposeFourierScorePass();

} // namespace seqjit
