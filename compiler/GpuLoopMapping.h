// Puts all of a program's work into GPU kernels: every loop nest and every memory access becomes a launch.
#pragma once

#include "mlir/Pass/Pass.h"

#include <memory>

namespace seqjit {

/// seqjit-memref-copies-to-linalg: memref.copy (the copies into padded buffers) becomes linalg.copy, so that it is
/// lowered to a parallel loop and runs on the device like the rest instead of calling memrefCopy on the host.
std::unique_ptr<mlir::Pass> createMemrefCopiesToLinalgPass();

/// seqjit-parallel-dimensions-outermost: interchanges the loops of every linalg.generic so that its parallel
/// dimensions (in their order) come before its reductions. A convolution's output position, a parallel dimension
/// after the channel and tap reductions, would otherwise become a parallel loop nested in sequential ones.
std::unique_ptr<mlir::Pass> createParallelDimensionsOutermostPass();

/// seqjit-map-loops-to-gpu{block-size}: the mapping convert-parallel-loops-to-gpu follows, for the loops that
/// convert-linalg-to-parallel-loops leaves in a function body.
///  - A parallel loop nest (one output element per iteration) is collapsed into one dimension and tiled by
///    block-size: tiles are blocks along x, the iterations of a tile its threads; the innermost dimension, the one of
///    unit stride in seqjit's layouts, varies fastest across threads, so their accesses coalesce.
///  - Everything else that reads or writes memory outside a parallel loop (the loop nests of total reductions, the
///    loads and stores of scalar arithmetic) is wrapped in a one-iteration parallel loop: a kernel of one thread.
/// The host code left after the conversion only allocates, frees, reshapes and launches: it never touches the
/// contents of a buffer, which live in device memory.
std::unique_ptr<mlir::Pass> createMapLoopsToGpuPass();

/// seqjit-check-host-memory-access: fails, naming the operation, if anything outside a gpu.launch / launch_func in
/// a function reads or writes a buffer's contents, allocates on the host stack, or has effects it does not declare
/// (run after gpu-kernel-outlining).
std::unique_ptr<mlir::Pass> createCheckHostMemoryAccessPass();

/// Registers the four passes for textual pipelines.
void registerGpuLoopMappingPasses();

} // namespace seqjit
