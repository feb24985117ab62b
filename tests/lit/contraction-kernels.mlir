// seqjit-contraction-kernels on a conv1d (out[n, f, l] += x[n, c, l + k] * w[f, c, k], 8 filters, 32 positions):
// the positions are the vector dimension, two vectors side by side; the filters are the rows; the reductions
// over c and k run innermost with the accumulators as loop-carried vectors, loaded before and stored after.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-contraction-kernels{vector-bits=512 registers=32}),canonicalize,cse)" | FileCheck %s --check-prefix=AVX512
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-contraction-kernels{vector-bits=256 registers=16}),canonicalize,cse)" | FileCheck %s --check-prefix=AVX2

func.func @conv(%x: memref<2x3x36xf32>, %w: memref<8x3x5xf32>, %out: memref<2x8x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4 + d3)>,
                                   affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d3)>,
                                   affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]}
      ins(%x, %w : memref<2x3x36xf32>, memref<8x3x5xf32>) outs(%out : memref<2x8x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// 16 lanes: all 8 filters x 2 vectors = 16 accumulators, so one block covers filters and positions (canonicalize
// removes the one-trip loops) and only the batch loop surrounds the reductions.
// AVX512-LABEL: func.func @conv
// AVX512-NOT: linalg.generic
// AVX512: scf.for %{{.*}} = %c0 to %c2 step %c1 {
// AVX512-COUNT-16: vector.load %{{.*}} : memref<2x8x32xf32>, vector<16xf32>
// AVX512-NEXT: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>
// AVX512-NEXT: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>
// AVX512-COUNT-16: vector.fma {{.*}} : vector<16xf32>
// AVX512-NOT: vector.fma
// AVX512: scf.yield
// AVX512-COUNT-16: vector.store %{{.*}} : memref<2x8x32xf32>, vector<16xf32>
// AVX512-NOT: linalg.generic

// 8 lanes and 16 registers: 4 filters x 2 vectors = 8 accumulators per block.
// AVX2-LABEL: func.func @conv
// AVX2-NOT: linalg.generic
// AVX2-DAG: %[[C4:.*]] = arith.constant 4 : index
// AVX2-DAG: %[[C16:.*]] = arith.constant 16 : index
// AVX2: scf.for %{{.*}} step %[[C4]]
// AVX2: scf.for %{{.*}} step %[[C16]]
// AVX2-COUNT-8: vector.load %{{.*}} : memref<2x8x32xf32>, vector<8xf32>
// AVX2: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2: scf.for
// AVX2-COUNT-8: vector.fma {{.*}} : vector<8xf32>
// AVX2-NOT: vector.fma
// AVX2: scf.yield
// AVX2-COUNT-8: vector.store %{{.*}} : memref<2x8x32xf32>, vector<8xf32>

// The kernel takes over the elementwise op after it (here batch norm's scale and shift and the exponential, written
// over the convolution's output): the accumulators go through it on their way out, so the output is stored once,
// already activated, and no loop nest is left.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-contraction-kernels{vector-bits=512 registers=32}),canonicalize,cse)" | FileCheck %s --check-prefix=EPILOGUE
func.func @conv_bn_exp(%x: memref<2x3x36xf32>, %w: memref<8x3x5xf32>, %out: memref<2x8x32xf32>,
                       %scale: memref<8xf32>, %shift: memref<8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4 + d3)>,
                                   affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d3)>,
                                   affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]}
      ins(%x, %w : memref<2x3x36xf32>, memref<8x3x5xf32>) outs(%out : memref<2x8x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1)>,
                                   affine_map<(d0, d1, d2) -> (d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
                  iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%out, %scale, %shift : memref<2x8x32xf32>, memref<8xf32>, memref<8xf32>) outs(%out : memref<2x8x32xf32>) {
  ^bb0(%v: f32, %g: f32, %h: f32, %o: f32):
    %n = math.fma %v, %g, %h : f32
    %r = math.exp %n : f32
    linalg.yield %r : f32
  }
  return
}
// EPILOGUE-LABEL: func.func @conv_bn_exp
// EPILOGUE-NOT: linalg.generic
// EPILOGUE-COUNT-16: vector.fma {{.*}} : vector<16xf32>
// EPILOGUE: scf.yield
// EPILOGUE: scf.yield
// No raw accumulator (%N#i, a loop result) is stored; 16 exponentials are.
// EPILOGUE-NOT: vector.store %{{[0-9]+}}#
// EPILOGUE-COUNT-16: math.exp %{{.*}} : vector<16xf32>
// EPILOGUE-NOT: vector.store %{{[0-9]+}}#
// EPILOGUE-NOT: linalg.generic
// EPILOGUE: return

// Batch norm's statistics: float32 terms summed in float64 over the batch and the positions. The vector runs
// along the positions (8 float64 lanes); no input is shared between channels, so the rows (4 channels) only
// overlap four independent sums; each is added up across its lanes once, after the loops.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-contraction-kernels{vector-bits=512 registers=32}),canonicalize,cse)" | FileCheck %s --check-prefix=SUMS
func.func @variance_sum(%x: memref<2x4x16xf32>, %mean: memref<4xf32>, %sums: memref<4xf64>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, l) -> (n, c, l)>, affine_map<(n, c, l) -> (c)>,
                                   affine_map<(n, c, l) -> (c)>],
                  iterator_types = ["reduction", "parallel", "reduction"]}
      ins(%x, %mean : memref<2x4x16xf32>, memref<4xf32>) outs(%sums : memref<4xf64>) {
  ^bb0(%v: f32, %m: f32, %acc: f64):
    %d = arith.subf %v, %m : f32
    %square = arith.mulf %d, %d : f32
    %wide = arith.extf %square : f32 to f64
    %s = arith.addf %acc, %wide : f64
    linalg.yield %s : f64
  }
  return
}
// SUMS-LABEL: func.func @variance_sum
// SUMS-NOT: linalg.generic
// SUMS: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf64>, vector<8xf64>, vector<8xf64>, vector<8xf64>)
// SUMS: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf64>, vector<8xf64>, vector<8xf64>, vector<8xf64>)
// SUMS-COUNT-4: arith.extf %{{.*}} : vector<8xf32> to vector<8xf64>
// SUMS-NOT: vector.fma
// SUMS: scf.yield
// SUMS: scf.yield
// SUMS-COUNT-4: vector.reduction <add>, %{{.*}} : vector<8xf64> into f64
// SUMS-NOT: linalg.generic
