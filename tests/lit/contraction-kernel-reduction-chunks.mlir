// seqjit-contraction-kernels: a reduction in chunks. A convolution's weight gradient
// dw[f, c, k] += x[n, c, o + k] * dy[n, f, o] (48 filters, 32 channels, 7 taps, batch 100, 200 positions) sums along
// the positions (the vector) and the batch. Each block of (f, c, k) reads its rows of x and dy over the whole batch;
// with the batch innermost, the blocks inside one iteration of the shared front loop (2 channels) would re-read
// 100 x 48 x 200 floats of dy (3.8 MB, beyond a core's cache) for every block of (f, k). The batch loop moves just
// inside the front loop, in chunks of 5 (the largest divisor of 100 whose 200 KB of x and dy stay in a 256 KiB
// share of the cache): the blocks then read one chunk, from the cache, and add their partial sums to dw once per chunk.
// A small gradient, whose inputs stay in the cache either way, keeps its loops.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-contraction-kernels{vector-bits=256 registers=16}),canonicalize,cse)" | FileCheck %s

// CHECK-LABEL: func.func @weight_gradient
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c2 {
// CHECK-NEXT: scf.for %[[CHUNK:.*]] = %c0 to %c100 step %c5 {
// CHECK-NEXT: %[[END:.*]] = arith.addi %[[CHUNK]], %c5
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c48 step %c4 {
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c7 step %c1 {
// CHECK: scf.for %{{.*}} = %[[CHUNK]] to %[[END]] step %c1 iter_args
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c200 step %c8 iter_args
// CHECK-COUNT-8: vector.fma
// CHECK: vector.reduction <add>
func.func @weight_gradient(%x: memref<100x32x206xf32>, %dy: memref<100x48x200xf32>, %dw: memref<48x32x7xf32>) {
  linalg.generic {indexing_maps = [affine_map<(f, c, k, n, o) -> (n, c, o + k)>,
                                   affine_map<(f, c, k, n, o) -> (n, f, o)>,
                                   affine_map<(f, c, k, n, o) -> (f, c, k)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %dy : memref<100x32x206xf32>, memref<100x48x200xf32>) outs(%dw : memref<48x32x7xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @small_weight_gradient
// CHECK-NOT: arith.addi %{{.*}}, %c5
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c32 step %c8 iter_args
// CHECK: return
func.func @small_weight_gradient(%x: memref<4x8x38xf32>, %dy: memref<4x16x32xf32>, %dw: memref<16x8x7xf32>) {
  linalg.generic {indexing_maps = [affine_map<(f, c, k, n, o) -> (n, c, o + k)>,
                                   affine_map<(f, c, k, n, o) -> (n, f, o)>,
                                   affine_map<(f, c, k, n, o) -> (f, c, k)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %dy : memref<4x8x38xf32>, memref<4x16x32xf32>) outs(%dw : memref<16x8x7xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
