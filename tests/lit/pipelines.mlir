// The registered pipelines run to the end on a conv + batch norm + exp + pool + dense model: the CPU one leaves only
// the LLVM dialect with a C interface entry point (each loop nest in a function of its own, buffers from the
// runtime's allocator: runtime/core/HostMemory.h), the GPU one a gpu.binary of PTX for sm_90, and the CUDA one host
// code that allocates through the runtime (device memory) and launches, with no host malloc, free or copy left
// (gpu-to-llvm would lower a stray memref op to those, silently putting a buffer in host memory).
// RUN: %seqjit-opt %s --seqjit-lower-to-llvm | FileCheck %s --check-prefix=CPU --implicit-check-not=@malloc
// RUN: %seqjit-opt %s --seqjit-lower-to-ptx | FileCheck %s --check-prefix=GPU
// RUN: %seqjit-opt %s --seqjit-lower-to-cuda | FileCheck %s --check-prefix=CUDA --implicit-check-not=@malloc --implicit-check-not=@free --implicit-check-not=@memrefCopy

// CPU: llvm.func @forward_nest0({{.*}}no_inline
// CPU: llvm.intr.exp
// CPU: llvm.func @forward(
// CPU: llvm.call @_mlir_memref_to_llvm_alloc
// CPU: llvm.call @forward_nest0(
// CPU: llvm.func @_mlir_ciface_forward(
// CPU-NOT: linalg.
// CPU-NOT: seq.
// GPU: gpu.binary @forward_kernel{{.*}}#nvvm.target<chip = "sm_90", features = "+ptx80">
// GPU-NOT: seq.
// CUDA: llvm.func @_mlir_memref_to_llvm_alloc
// CUDA: gpu.launch_func
// CUDA: llvm.func @_mlir_ciface_forward(
func.func @forward(%x: tensor<2x4x10xf32>, %w: tensor<3x4x5xf32>, %b: tensor<3xf32>, %g: tensor<3xf32>, %be: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>, %dw: tensor<2x9xf32>) -> tensor<2x2xf32> attributes {llvm.emit_c_interface} {
  %0 = seq.conv1d %x, %w, %b {stride = 1 : i64, dilation = 1 : i64, padding = "same", layer = "conv1"} : (tensor<2x4x10xf32>, tensor<3x4x5xf32>, tensor<3xf32>) -> tensor<2x3x10xf32>
  %1 = seq.batch_norm %0, %g, %be, %m, %v {eps = 1.0e-3 : f64, momentum = 0.01 : f64, training = false, layer = "bn1"} : (tensor<2x3x10xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x10xf32>
  %2 = seq.activation %1 {kind = "exp", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "act1"} : tensor<2x3x10xf32> -> tensor<2x3x10xf32>
  %3 = seq.max_pool1d %2 {size = 3 : i64, stride = 3 : i64, layer = "pool1"} : tensor<2x3x10xf32> -> tensor<2x3x3xf32>
  %4 = seq.flatten %3 {layer = "flat"} : tensor<2x3x3xf32> -> tensor<2x9xf32>
  %5 = seq.dense %4, %dw {layer = "out"} : (tensor<2x9xf32>, tensor<2x9xf32>) -> tensor<2x2xf32>
  return %5 : tensor<2x2xf32>
}
