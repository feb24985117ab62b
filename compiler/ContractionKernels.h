// Register-tiled CPU kernels for the contractions (conv1d, dense and their gradients) and sums (batch norm).
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>
#include <optional>

namespace seqjit {

/// The vector registers of the machine a CPU kernel is compiled for.
struct VectorTarget {
  unsigned vectorBits = 512; ///< width of one register
  unsigned registers = 32;   ///< how many there are
};

/// The host's vector registers: AVX-512 (512 bits, 32 registers), AVX (256, 16) or 128-bit SIMD.
VectorTarget hostVectorTarget();

/// The registers of a `bits`-wide kernel shape this host can execute (its own width, or a narrower one: an AVX-512
/// machine runs 256-bit kernels with AVX's 16 registers); none if the host's registers are narrower.
std::optional<VectorTarget> vectorTargetOfWidth(unsigned bits);

/// The registers the CPU pipeline compiles kernels for: the host's, or SEQJIT_VECTOR_BITS (128, 256 or 512) where it
/// is set, so that one machine can run every kernel shape it can execute (the tests do). Throws seqjit::Error for
/// another value or a width the host cannot execute.
VectorTarget cpuVectorTarget();

/// seqjit-contraction-kernels, on buffers: every linalg.generic whose body is out += term, the term elementwise in
/// its inputs (a product for conv1d, dense and their gradients; batch norm's float64 sums), becomes a loop nest that
/// keeps a block of output vectors (or vectors of partial sums) in registers across its innermost reduction loops:
/// each iteration loads a few vectors and broadcasts and does one FMA (or the term and an add) per accumulator,
/// where the plain loop nest loads and stores the accumulator for every term, or adds one term at a time into a
/// single float64 sum. An edge that does not fill four lanes is a vector with its first lanes active (masked loads
/// and stores) where the vector dimension is parallel or a reduction of products, else scalar loops. A contraction
/// without any vector dimension first has its runs of contiguous dimensions collapsed (a dense layer's gradient
/// through a flatten).
std::unique_ptr<mlir::Pass> createContractionKernelsPass(VectorTarget target = {});

/// Registers seqjit-contraction-kernels (options vector-bits, registers, epilogues: whether a kernel applies the
/// elementwise op after it, compiler/KernelEpilogue.h) for textual pipelines.
void registerContractionKernelsPass();

} // namespace seqjit
