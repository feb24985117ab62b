// seqjit-contraction-kernels leaves alone what it cannot compute as written: each generic here stays.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-contraction-kernels{vector-bits=512 registers=32}))" | FileCheck %s

// A parallel dimension (j) the output does not index: several iterations would store to one element.
// CHECK-LABEL: func.func @output_misses_a_parallel_dimension
// CHECK: linalg.generic
func.func @output_misses_a_parallel_dimension(%a: memref<8x32xf32>, %out: memref<8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<8x32xf32>) outs(%out : memref<8xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  }
  return
}

// An output indexed by a reduction dimension.
// CHECK-LABEL: func.func @output_indexed_by_a_reduction
// CHECK: linalg.generic
func.func @output_indexed_by_a_reduction(%a: memref<8x32xf32>, %out: memref<8x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<8x32xf32>) outs(%out : memref<8x32xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  }
  return
}

// An input that is the output itself through a transposing view: the kernel would read what it already wrote.
// CHECK-LABEL: func.func @input_aliases_the_output
// CHECK: linalg.generic
func.func @input_aliases_the_output(%out: memref<16x16xf32>, %b: memref<16x16xf32>) {
  %t = memref.transpose %out (i, j) -> (j, i) : memref<16x16xf32> to memref<16x16xf32, strided<[1, 16]>>
  linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, k)>, affine_map<(i, j, k) -> (k, j)>,
                                   affine_map<(i, j, k) -> (i, j)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%t, %b : memref<16x16xf32, strided<[1, 16]>>, memref<16x16xf32>) outs(%out : memref<16x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Nothing to sum over (a zero extent): an epilogue after it must still run, so neither is taken over.
// CHECK-LABEL: func.func @empty_reduction
// CHECK: linalg.generic
// CHECK: linalg.generic
func.func @empty_reduction(%a: memref<4x0xf32>, %w: memref<0x16xf32>, %out: memref<4x16xf32>, %r: memref<4x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, f, k) -> (n, k)>, affine_map<(n, f, k) -> (k, f)>,
                                   affine_map<(n, f, k) -> (n, f)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : memref<4x0xf32>, memref<0x16xf32>) outs(%out : memref<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(n, f) -> (n, f)>, affine_map<(n, f) -> (n, f)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%out : memref<4x16xf32>) outs(%r : memref<4x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %zero = arith.constant 0.0 : f32
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  }
  return
}

// A term that is a product with a value from outside the body is not an FMA of two inputs: the body is cloned,
// the outside scalar broadcast.
// CHECK-LABEL: func.func @scaled_sum
// CHECK-NOT: linalg.generic
// CHECK: vector.broadcast %arg2 : f32 to vector<16xf32>
// CHECK: arith.mulf {{.*}} : vector<16xf32>
// CHECK-NOT: linalg.generic
func.func @scaled_sum(%a: memref<4x32xf32>, %out: memref<4xf32>, %scale: f32) {
  linalg.generic {indexing_maps = [affine_map<(n, l) -> (n, l)>, affine_map<(n, l) -> (n)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<4x32xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %p = arith.mulf %x, %scale : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
