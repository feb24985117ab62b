// seqjit-contraction-kernels: the order of the loops around a block. A dense layer's input gradient
// dx[n, k] += dy[n, u] * w[u, k] blocks 6 rows of n by 16 lanes of k. With n outside k, every 6 rows read all of w
// again: for w of 300 x 2208 (2.6 MB, beyond a core's cache) that is 134 passes over it, where k outside n reads
// dy (960 KB) again for each of 138 column blocks, 37% of the bytes, so k goes outside. With a w of 32 x 64
// (8 KB), which stays in cache either way, the loops keep the dimension order.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-contraction-kernels{vector-bits=256 registers=16}),canonicalize,cse)" | FileCheck %s

// CHECK-LABEL: func.func @columns_outside_rows
// CHECK: scf.for %{{.*}} = %c0 to %c2208 step %c16
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c798 step %c6
// CHECK: scf.for %{{.*}} = %c0 to %c300 step %c1 iter_args
func.func @columns_outside_rows(%dy: memref<800x300xf32>, %w: memref<300x2208xf32>, %dx: memref<800x2208xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, k, u) -> (n, u)>,
                                   affine_map<(n, k, u) -> (u, k)>,
                                   affine_map<(n, k, u) -> (n, k)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%dy, %w : memref<800x300xf32>, memref<300x2208xf32>) outs(%dx : memref<800x2208xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @dimension_order_when_cached
// CHECK: scf.for %{{.*}} = %c0 to %c798 step %c6
// CHECK-NEXT: scf.for %{{.*}} = %c0 to %c64 step %c16
func.func @dimension_order_when_cached(%dy: memref<800x32xf32>, %w: memref<32x64xf32>, %dx: memref<800x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, k, u) -> (n, u)>,
                                   affine_map<(n, k, u) -> (u, k)>,
                                   affine_map<(n, k, u) -> (n, k)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%dy, %w : memref<800x32xf32>, memref<32x64xf32>) outs(%dx : memref<800x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
