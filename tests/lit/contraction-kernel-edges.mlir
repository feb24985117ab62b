// seqjit-contraction-kernels at the edges. A convolution over 10 positions with 8-lane vectors: one whole vector,
// then the last 2 positions as a 4-lane vector whose first 2 lanes are active (masked loads and stores, not scalar
// code). A weight gradient summing over 9 positions (a reduction of products): the 9th position is a masked 4-lane
// vector too, its inactive lanes loaded as zeros. A dense layer's input gradient through a flatten,
// dx[n, c, k] += dy[n, o] * w[o, c, k] with k of extent 3: no dimension is contiguous in every buffer until (c, k)
// collapse into 12 consecutive positions (a vector of 8, then one of 4). The same convolution over 37 positions
// from a zero fill (its sums start at zero, not from the output): two blocks of 2 x 8 positions, then one block of a
// single vector that ends at the last position, overlapping the second block (positions 29 to 36), instead of a
// masked edge.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-contraction-kernels{vector-bits=256 registers=16}),canonicalize,cse)" | FileCheck %s

// CHECK-LABEL: func.func @conv_edge
// CHECK-DAG: %[[MASK:.*]] = arith.constant dense<[true, true, false, false]> : vector<4xi1>
// CHECK-NOT: linalg.generic
// CHECK: vector.load %{{.*}} : memref<2x8x10xf32>, vector<8xf32>
// CHECK: vector.fma {{.*}} : vector<8xf32>
// CHECK: vector.maskedload %{{.*}}, %[[MASK]], %{{.*}} : memref<2x8x10xf32>, vector<4xi1>, vector<4xf32> into vector<4xf32>
// CHECK: vector.fma {{.*}} : vector<4xf32>
// CHECK: vector.maskedstore %{{.*}}, %[[MASK]], %{{.*}} : memref<2x8x10xf32>, vector<4xi1>, vector<4xf32>
// CHECK-NOT: math.fma
func.func @conv_edge(%x: memref<2x3x14xf32>, %w: memref<8x3x5xf32>, %out: memref<2x8x10xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4 + d3)>,
                                   affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d3)>,
                                   affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]}
      ins(%x, %w : memref<2x3x14xf32>, memref<8x3x5xf32>) outs(%out : memref<2x8x10xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @weight_gradient_edge
// CHECK-DAG: %[[ONE:.*]] = arith.constant dense<[true, false, false, false]> : vector<4xi1>
// CHECK-NOT: linalg.generic
// CHECK: vector.maskedload %{{.*}}, %[[ONE]], %{{.*}} : memref<2x4x9xf32>, vector<4xi1>, vector<4xf32> into vector<4xf32>
// CHECK: vector.reduction <add>
// CHECK-NOT: math.fma
func.func @weight_gradient_edge(%dy: memref<2x4x9xf32>, %x: memref<2x3x11xf32>, %dw: memref<4x3x3xf32>) {
  linalg.generic {indexing_maps = [affine_map<(f, c, k, n, l) -> (n, f, l)>,
                                   affine_map<(f, c, k, n, l) -> (n, c, l + k)>,
                                   affine_map<(f, c, k, n, l) -> (f, c, k)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%dy, %x : memref<2x4x9xf32>, memref<2x3x11xf32>) outs(%dw : memref<4x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @dense_input_gradient_through_flatten
// CHECK-DAG: memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : memref<16x4x3xf32> into memref<16x12xf32>
// CHECK-DAG: memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : memref<2x4x3xf32> into memref<2x12xf32>
// CHECK-NOT: linalg.generic
// CHECK: vector.fma {{.*}} : vector<8xf32>
// CHECK: vector.fma {{.*}} : vector<4xf32>
// CHECK-NOT: math.fma
func.func @dense_input_gradient_through_flatten(%dy: memref<2x16xf32>, %w: memref<16x4x3xf32>,
                                                %dx: memref<2x4x3xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, o, c, k) -> (n, o)>,
                                   affine_map<(n, o, c, k) -> (o, c, k)>,
                                   affine_map<(n, o, c, k) -> (n, c, k)>],
                  iterator_types = ["parallel", "reduction", "parallel", "parallel"]}
      ins(%dy, %w : memref<2x16xf32>, memref<16x4x3xf32>) outs(%dx : memref<2x4x3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @conv_edge_after_fill
// CHECK-NOT: linalg.fill
// CHECK-NOT: vector.masked
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c16
// CHECK: vector.store %{{.*}}, %alloc[%{{.*}}, %c0, %c29] : memref<2x6x37xf32>, vector<8xf32>
// CHECK-NOT: vector.masked
func.func @conv_edge_after_fill(%x: memref<2x3x41xf32>, %w: memref<6x3x5xf32>) -> memref<2x6x37xf32> {
  %zero = arith.constant 0.0 : f32
  %out = memref.alloc() : memref<2x6x37xf32>
  linalg.fill ins(%zero : f32) outs(%out : memref<2x6x37xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4 + d3)>,
                                   affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d3)>,
                                   affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]}
      ins(%x, %w : memref<2x3x41xf32>, memref<6x3x5xf32>) outs(%out : memref<2x6x37xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return %out : memref<2x6x37xf32>
}
