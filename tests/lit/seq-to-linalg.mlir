// convert-seq-to-linalg: a conv becomes one generic with the stride and dilation in its input map, on top
// of the bias broadcast; 'same' padding inserts the input between zero-filled borders with the extra pad on the
// right; a max pool reduces over a window dimension, keeping the first maximum (x > max, or x NaN); a dynamic batch is refused with a clear error.
// RUN: %seqjit-opt %s -split-input-file -convert-seq-to-linalg -verify-diagnostics | FileCheck %s

// Loops (n, f, c, k, l): the output position innermost.
// CHECK-DAG: #[[CONV_IN:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4 * 2 + d3 * 3)>
// CHECK-DAG: #[[CONV_W:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d3)>
// CHECK-LABEL: func.func @conv_same
// Length 11, width 4, stride 2, dilation 3: 6 outputs need 9 pads, 4 on the left and 5 on the right.
// Zeros in the 4 + 5 border columns only; the input fills the rest.
// CHECK: %[[LEFT:.*]] = linalg.fill {{.*}} -> tensor<2x4x4xf32>
// CHECK: tensor.insert_slice %[[LEFT]] into %{{.*}}[0, 0, 0] [2, 4, 4] [1, 1, 1]
// CHECK: %[[RIGHT:.*]] = linalg.fill {{.*}} -> tensor<2x4x5xf32>
// CHECK: %[[ZEROS:.*]] = tensor.insert_slice %[[RIGHT]] into %{{.*}}[0, 0, 15] [2, 4, 5] [1, 1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %[[ZEROS]][0, 0, 4] [2, 4, 11] [1, 1, 1]
// CHECK: %[[BIAS:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<8xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[CONV_IN]], #[[CONV_W]], {{.*}}], iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]} {{.*}} outs(%[[BIAS]]
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: seq.
func.func @conv_same(%x: tensor<2x4x11xf32>, %w: tensor<8x4x4xf32>, %b: tensor<8xf32>) -> tensor<2x8x6xf32> {
  %c = seq.conv1d %x, %w, %b {stride = 2 : i64, dilation = 3 : i64, padding = "same", layer = "conv1"} : (tensor<2x4x11xf32>, tensor<8x4x4xf32>, tensor<8xf32>) -> tensor<2x8x6xf32>
  return %c : tensor<2x8x6xf32>
}

// -----

// CHECK-DAG: #[[POOL_IN:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2 + d3)>
// CHECK-LABEL: func.func @max_pool
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: linalg.generic {indexing_maps = [#[[POOL_IN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32, %[[MAX:.*]]: f32):
// CHECK-NEXT: %[[GREATER:.*]] = arith.cmpf ogt, %[[X]], %[[MAX]]
// CHECK-NEXT: %[[NAN:.*]] = arith.cmpf uno, %[[X]], %[[X]]
// CHECK-NEXT: %[[TAKE:.*]] = arith.ori %[[GREATER]], %[[NAN]]
// CHECK-NEXT: arith.select %[[TAKE]], %[[X]], %[[MAX]]
func.func @max_pool(%x: tensor<2x4x10xf32>) -> tensor<2x4x4xf32> {
  %p = seq.max_pool1d %x {size = 3 : i64, stride = 2 : i64, layer = "pool"} : tensor<2x4x10xf32> -> tensor<2x4x4xf32>
  return %p : tensor<2x4x4xf32>
}

// -----

// CHECK-DAG: #[[RC:.*]] = affine_map<(d0, d1, d2) -> (d0, -d1 + 3, -d2 + 9)>
// CHECK-LABEL: func.func @reverse_complement
// CHECK: linalg.generic {indexing_maps = [#[[RC]]
func.func @reverse_complement(%x: tensor<2x4x10xf32>) -> tensor<2x4x10xf32> {
  %r = seq.reverse_complement %x {layer = "rc"} : tensor<2x4x10xf32> -> tensor<2x4x10xf32>
  return %r : tensor<2x4x10xf32>
}

// -----

func.func @dynamic_batch(%x: tensor<?x4x10xf32>) -> tensor<?x4x10xf32> {
  // expected-error @+1 {{could not be lowered: the lowering needs static shapes}}
  %r = seq.reverse_complement %x {layer = "rc"} : tensor<?x4x10xf32> -> tensor<?x4x10xf32>
  return %r : tensor<?x4x10xf32>
}
