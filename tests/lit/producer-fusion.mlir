// seqjit-fuse-producers-into-consumers: a convolution (bias fill + accumulation) recomputed inside the batch norm +
// exp + max pool that alone reads it, one loop nest with no buffer between them; left alone where that would compute
// an element twice, where the buffer has another reader, or where its inputs change before the consumer runs.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-fuse-producers-into-consumers))" | FileCheck %s

#bias = affine_map<(n, f, l) -> (f)>
#identity = affine_map<(n, f, l) -> (n, f, l)>
#conv_x = affine_map<(n, f, l, c, k) -> (n, c, l + k)>
#conv_w = affine_map<(n, f, l, c, k) -> (f, c, k)>
#conv_y = affine_map<(n, f, l, c, k) -> (n, f, l)>
#window = affine_map<(n, f, p, j) -> (n, f, p * 3 + j)>
#channel = affine_map<(n, f, p, j) -> (f)>
#pooled = affine_map<(n, f, p, j) -> (n, f, p)>
#tap = affine_map<(n, f, p, j) -> (j)>

// CHECK-LABEL: func.func @conv_bn_exp_pool
// CHECK-NOT: memref.alloc() {{.*}} : memref<2x3x9xf32>
// CHECK: scf.parallel (%[[N:.*]], %[[F:.*]], %[[P:.*]]) =
// CHECK: %[[POOLED:.*]] = memref.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : memref<2x3x3xf32>
// CHECK: scf.for %{{.*}} = {{.*}} iter_args(%[[MAX:.*]] = %[[POOLED]])
// CHECK: %[[BIAS:.*]] = memref.load %{{.*}} : memref<3xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[BIAS]])
// CHECK: scf.for %{{.*}} iter_args
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: math.exp
// CHECK: arith.maximumf %[[MAX]]
// CHECK: memref.store %{{.*}}, %{{.*}} : memref<2x3x3xf32>
// CHECK-NOT: linalg.generic
// CHECK: memref.dealloc %{{.*}} : memref<2x4x11xf32>
// CHECK-NEXT: memref.dealloc %{{.*}} : memref<3xf32>
// CHECK-NEXT: return
func.func @conv_bn_exp_pool(%x: memref<2x4x11xf32>, %w: memref<3x4x3xf32>, %b: memref<3xf32>, %mean: memref<3xf32>,
                            %out: memref<2x3x3xf32>) {
  %padded = memref.alloc() : memref<2x4x11xf32>
  memref.copy %x, %padded : memref<2x4x11xf32> to memref<2x4x11xf32>
  %y = memref.alloc() : memref<2x3x9xf32>
  linalg.generic {indexing_maps = [#bias, #identity], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%b : memref<3xf32>) outs(%y : memref<2x3x9xf32>) {
  ^bb0(%in: f32, %unused: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [#conv_x, #conv_w, #conv_y],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%padded, %w : memref<2x4x11xf32>, memref<3x4x3xf32>) outs(%y : memref<2x3x9xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %p = arith.mulf %a, %c : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  memref.dealloc %padded : memref<2x4x11xf32>
  %minus_infinity = arith.constant 0xFF800000 : f32
  linalg.fill ins(%minus_infinity : f32) outs(%out : memref<2x3x3xf32>)
  // The window's extent comes from a buffer of its size, as seqjit's pools carry one.
  %taps = memref.alloc() : memref<3xf32>
  linalg.generic {indexing_maps = [#window, #channel, #tap, #pooled], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%y, %mean, %taps : memref<2x3x9xf32>, memref<3xf32>, memref<3xf32>) outs(%out : memref<2x3x3xf32>) {
  ^bb0(%v: f32, %m: f32, %unused_tap: f32, %acc: f32):
    %centred = arith.subf %v, %m : f32
    %e = math.exp %centred : f32
    %max = arith.maximumf %acc, %e : f32
    linalg.yield %max : f32
  }
  memref.dealloc %y : memref<2x3x9xf32>
  memref.dealloc %taps : memref<3xf32>
  return
}

// A second convolution reads each element of the first in three windows: recomputing would triple the work.
// CHECK-LABEL: func.func @overlapping_windows
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT: scf.parallel
func.func @overlapping_windows(%x: memref<2x4x11xf32>, %w: memref<3x4x3xf32>, %v: memref<3x3x3xf32>,
                               %out: memref<2x3x7xf32>) {
  %y = memref.alloc() : memref<2x3x9xf32>
  linalg.generic {indexing_maps = [#conv_x, #conv_w, #conv_y],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<2x4x11xf32>, memref<3x4x3xf32>) outs(%y : memref<2x3x9xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %p = arith.mulf %a, %c : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#conv_x, #conv_w, #conv_y],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%y, %v : memref<2x3x9xf32>, memref<3x3x3xf32>) outs(%out : memref<2x3x7xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %p = arith.mulf %a, %c : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  memref.dealloc %y : memref<2x3x9xf32>
  return
}

// Batch statistics read the convolution too (a train step): it has to be stored.
// CHECK-LABEL: func.func @two_readers
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: scf.parallel
func.func @two_readers(%x: memref<2x4x11xf32>, %w: memref<3x4x3xf32>, %sum: memref<3xf32>, %out: memref<2x3x9xf32>) {
  %y = memref.alloc() : memref<2x3x9xf32>
  linalg.generic {indexing_maps = [#conv_x, #conv_w, #conv_y],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<2x4x11xf32>, memref<3x4x3xf32>) outs(%y : memref<2x3x9xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %p = arith.mulf %a, %c : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#identity, #bias], iterator_types = ["reduction", "parallel", "reduction"]}
      ins(%y : memref<2x3x9xf32>) outs(%sum : memref<3xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %acc, %v : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#identity, #bias, #identity], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y, %sum : memref<2x3x9xf32>, memref<3xf32>) outs(%out : memref<2x3x9xf32>) {
  ^bb0(%v: f32, %s: f32, %unused: f32):
    %centred = arith.subf %v, %s : f32
    linalg.yield %centred : f32
  }
  memref.dealloc %y : memref<2x3x9xf32>
  return
}

// The weights change between the convolution and its reader: recomputing then would read the new ones.
// CHECK-LABEL: func.func @input_written_before_the_consumer
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT: scf.parallel
func.func @input_written_before_the_consumer(%x: memref<2x4x11xf32>, %out: memref<2x3x9xf32>) {
  %w = memref.alloc() : memref<3x4x3xf32>
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%w : memref<3x4x3xf32>)
  %y = memref.alloc() : memref<2x3x9xf32>
  linalg.generic {indexing_maps = [#conv_x, #conv_w, #conv_y],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<2x4x11xf32>, memref<3x4x3xf32>) outs(%y : memref<2x3x9xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %p = arith.mulf %a, %c : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  %two = arith.constant 2.0 : f32
  linalg.fill ins(%two : f32) outs(%w : memref<3x4x3xf32>)
  linalg.generic {indexing_maps = [#identity, #identity], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y : memref<2x3x9xf32>) outs(%out : memref<2x3x9xf32>) {
  ^bb0(%v: f32, %unused: f32):
    %e = math.exp %v : f32
    linalg.yield %e : f32
  }
  memref.dealloc %y : memref<2x3x9xf32>
  memref.dealloc %w : memref<3x4x3xf32>
  return
}
