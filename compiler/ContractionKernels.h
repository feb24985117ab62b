// Register-tiled CPU kernels for the multiply-accumulate contractions (conv1d, dense and their gradients).
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// The vector registers of the machine a CPU kernel is compiled for.
struct VectorTarget {
  unsigned vectorBits = 512; ///< width of one register
  unsigned registers = 32;   ///< how many there are
};

/// The host's vector registers: AVX-512 (512 bits, 32 registers), AVX (256, 16) or 128-bit SIMD.
VectorTarget hostVectorTarget();

/// seqjit-contraction-kernels, on buffers: every linalg.generic whose body is out += a * b (the lowering of
/// conv1d, dense and their gradients) becomes a loop nest that keeps a block of output vectors in registers
/// across its innermost reduction loops: each iteration loads a few vectors and broadcasts and does one FMA
/// per accumulator, where the plain loop nest loads and stores the accumulator for every FMA. Edges that do
/// not fill four lanes become scalar loops.
std::unique_ptr<mlir::Pass> createContractionKernelsPass(VectorTarget target = {});

/// Registers seqjit-contraction-kernels (options vector-bits, registers) for textual pipelines.
void registerContractionKernelsPass();

} // namespace seqjit
