// The Fourier prior's fusion decisions. On the GPU (seqjit-fourier-score-kernels) fourier_score and its VJP are one
// kernel each: a block of 256 threads per example, with the smoothed row, the DFT table, the spectrum and the
// threads' partial sums in one shared buffer, and barriers between the stages. seqjit-block-kernels-to-gpu turns
// the shared buffer and barrier placeholders into a workgroup attribution and gpu.barrier after deallocation. A track
// too long for 48 KiB of shared memory, and every track on the CPU (seqjit-decompose-fourier-score), is
// decomposed into conv1d, dense and elementwise ops instead.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-fourier-score-kernels))" | FileCheck %s --check-prefix=KERNELS
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-fourier-score-kernels), convert-seq-to-linalg, one-shot-bufferize{bufferize-function-boundaries}, buffer-deallocation-pipeline, func.func(seqjit-block-kernels-to-gpu))" | FileCheck %s --check-prefix=BARRIERS
// RUN: %seqjit-opt %s --seqjit-lower-to-ptx | FileCheck %s --check-prefix=PTX
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-decompose-fourier-score))" | FileCheck %s --check-prefix=CPU

// KERNELS-LABEL: func.func @prior_and_its_vjp
// KERNELS: bufferization.to_memref %{{.*}} read_only : memref<2x16xf32, strided<[?, ?], offset: ?>>
// KERNELS: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c256
// KERNELS: memref.alloca() : memref<560xf32, #gpu.address_space<workgroup>>
// KERNELS-COUNT-2: llvm.inline_asm has_side_effects "bar.sync 0;", "~{memory}"
// KERNELS-NOT: llvm.inline_asm
// KERNELS: gpu.terminator
// KERNELS: bufferization.to_tensor %{{.*}} restrict writable : memref<2xf32>
// KERNELS: gpu.launch
// KERNELS: memref.alloca() : memref<578xf32, #gpu.address_space<workgroup>>
// KERNELS-COUNT-5: llvm.inline_asm has_side_effects "bar.sync 0;", "~{memory}"
// KERNELS-NOT: llvm.inline_asm
// KERNELS: bufferization.to_tensor %{{.*}} restrict writable : memref<2x16xf32>
// KERNELS-NOT: seq.fourier

// BARRIERS-LABEL: func.func @prior_and_its_vjp
// BARRIERS: gpu.launch {{.*}} workgroup(%{{.*}} : memref<560xf32, #gpu.address_space<workgroup>>)
// BARRIERS-COUNT-2: gpu.barrier
// BARRIERS: gpu.launch {{.*}} workgroup(%{{.*}} : memref<578xf32, #gpu.address_space<workgroup>>)
// BARRIERS-COUNT-5: gpu.barrier
// BARRIERS-NOT: inline_asm
// BARRIERS-NOT: memref.alloca

// PTX-LABEL: func.func @prior_and_its_vjp
// PTX-COUNT-2: gpu.launch_func
// PTX-NOT: gpu.launch_func

// CPU-LABEL: func.func @prior_and_its_vjp
// CPU-NOT: seq.fourier
// CPU: seq.conv1d
// CPU: seq.dense
// CPU: seq.conv1d_input_grad
func.func @prior_and_its_vjp(%track: tensor<2x16xf32>, %u: tensor<2xf32>) -> (tensor<2xf32>, tensor<2x16xf32>) {
  %0 = seq.fourier_score %track {sigma = 1 : i64, freq_limit = 3 : i64, softness = 0.2 : f64, layer = "prior"} : (tensor<2x16xf32>) -> tensor<2xf32>
  %1 = seq.fourier_score_grad %track, %u {sigma = 1 : i64, freq_limit = 3 : i64, softness = 0.2 : f64, layer = "prior.grad"} : (tensor<2x16xf32>, tensor<2xf32>) -> tensor<2x16xf32>
  return %0, %1 : tensor<2xf32>, tensor<2x16xf32>
}

// PTX-LABEL: func.func @too_long_for_shared_memory
// KERNELS-LABEL: func.func @too_long_for_shared_memory
// KERNELS-NOT: gpu.launch
// KERNELS: seq.conv1d
// KERNELS: seq.dense
// KERNELS-NOT: gpu.launch
func.func @too_long_for_shared_memory(%track: tensor<2x8192xf32>) -> tensor<2xf32> {
  %0 = seq.fourier_score %track {sigma = 3 : i64, freq_limit = 150 : i64, softness = 0.2 : f64, layer = "prior"} : (tensor<2x8192xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// convert-seq-to-linalg alone does not lower the Fourier ops, and says which pass does.
// RUN: %not %seqjit-opt %s --convert-seq-to-linalg 2>&1 | FileCheck %s --check-prefix=ALONE
// ALONE: error: 'seq.fourier_score' op is not lowered to linalg: run seqjit-decompose-fourier-score (CPU) or seqjit-fourier-score-kernels (GPU) first
