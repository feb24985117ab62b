// The Fourier prior on the GPU: seq.fourier_score and its VJP each as one kernel of one block per example.
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// seqjit-fourier-score-kernels, on a function of seq ops before convert-seq-to-linalg. Each fourier_score
/// becomes one gpu.launch with a block per row of its track: the block smooths the row into shared memory,
/// computes the rfft magnitudes (a thread per frequency), and reduces them to the score. Each
/// fourier_score_grad becomes one launch that also keeps the spectrum and runs the chain rule back through the
/// normalisation, the magnitudes, the DFT and the smoothing. Where a track is too long for a block's 48 KiB of
/// shared memory, the op is decomposed instead (compiler/FourierScoreDecomposition.h).
/// With emulate-on-cpu, the same stages run on the CPU, in a loop over rows, each stage a loop over the block's 256
/// threads one after another (what the barriers promise), so that the strided loops, the partial sums and their
/// reduction are tested against the reference interpreter on a machine without a GPU (seqjit-gpu-loops-on-cpu).
std::unique_ptr<mlir::Pass> createFourierScoreKernelsPass();

/// The kernels' shared buffers and barriers are placeholders (a workgroup-memory memref.alloca, an inline
/// "bar.sync 0;") until seqjit-block-kernels-to-gpu, after buffer deallocation, makes them workgroup attributions
/// and gpu.barrier: deallocation takes a buffer block argument for one it must own, and refuses gpu.barrier,
/// which declares no memory effects.
///
/// Registers seqjit-fourier-score-kernels and seqjit-block-kernels-to-gpu for textual pipelines.
void registerFourierScoreKernelsPass();

} // namespace seqjit
