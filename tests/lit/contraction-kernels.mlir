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

// 8 lanes and 16 registers: 6 filters x 2 vectors = 12 accumulators per block (the 6 x 16 block BLIS uses on AVX2),
// then the last 2 filters x 2 vectors.
// AVX2-LABEL: func.func @conv
// AVX2-NOT: linalg.generic
// AVX2-DAG: %[[C16:.*]] = arith.constant 16 : index
// AVX2: scf.for %{{.*}} = %c0 to %c2 step %c1 {
// AVX2-NEXT: scf.for %{{.*}} step %[[C16]]
// AVX2-COUNT-12: vector.load %{{.*}} : memref<2x8x32xf32>, vector<8xf32>
// AVX2: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2: scf.for
// AVX2-COUNT-12: vector.fma {{.*}} : vector<8xf32>
// AVX2-NOT: vector.fma
// AVX2: scf.yield
// AVX2-COUNT-12: vector.store %{{.*}} : memref<2x8x32xf32>, vector<8xf32>
// AVX2: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2: scf.for
// AVX2-COUNT-4: vector.fma {{.*}} : vector<8xf32>
// AVX2-NOT: vector.fma
// AVX2: scf.yield
// AVX2-COUNT-4: vector.store %{{.*}} : memref<2x8x32xf32>, vector<8xf32>

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

// The rows of a convolution's block go along the filters even where the batch is longer: one vector of x then
// serves all 6 rows, each row loading one broadcast weight (8 loads per 12 FMAs). Along the batch, every accumulator
// would load its own vector of x and share one weight (13 loads).
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-contraction-kernels{vector-bits=256 registers=16}),canonicalize,cse)" | FileCheck %s --check-prefix=ROWS
func.func @conv_rows_along_filters(%x: memref<100x32x206xf32>, %w: memref<48x32x7xf32>, %out: memref<100x48x200xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, f, c, k, l) -> (n, c, l + k)>,
                                   affine_map<(n, f, c, k, l) -> (f, c, k)>,
                                   affine_map<(n, f, c, k, l) -> (n, f, l)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]}
      ins(%x, %w : memref<100x32x206xf32>, memref<48x32x7xf32>) outs(%out : memref<100x48x200xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
// ROWS-LABEL: func.func @conv_rows_along_filters
// ROWS: scf.for %{{.*}} = %c0 to %c100 step %c1 {
// ROWS-NEXT: scf.for %{{.*}} = %c0 to %c48 step %c6 {
// ROWS-NEXT: scf.for %{{.*}} = %c0 to %c192 step %c16 {
// ROWS: scf.for {{.*}} iter_args
// ROWS-NEXT: scf.for {{.*}} iter_args
// ROWS-COUNT-2: vector.load %{{.*}} : memref<100x32x206xf32>, vector<8xf32>
// ROWS-NOT: vector.load
// ROWS: scf.yield

// A convolution whose output was zero-filled just before starts its accumulators at zero in registers: the fill
// goes and no accumulator is loaded from the output.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-contraction-kernels{vector-bits=256 registers=16}),canonicalize,cse)" | FileCheck %s --check-prefix=FILLED
func.func @conv_after_fill(%x: memref<2x4x22xf32>, %w: memref<6x4x7xf32>) -> memref<2x6x16xf32> {
  %zero = arith.constant 0.0 : f32
  %out = memref.alloc() : memref<2x6x16xf32>
  linalg.fill ins(%zero : f32) outs(%out : memref<2x6x16xf32>)
  linalg.generic {indexing_maps = [affine_map<(n, f, c, k, l) -> (n, c, l + k)>,
                                   affine_map<(n, f, c, k, l) -> (f, c, k)>,
                                   affine_map<(n, f, c, k, l) -> (n, f, l)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]}
      ins(%x, %w : memref<2x4x22xf32>, memref<6x4x7xf32>) outs(%out : memref<2x6x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return %out : memref<2x6x16xf32>
}
// FILLED-LABEL: func.func @conv_after_fill
// FILLED-NOT: linalg.fill
// FILLED: %[[ZEROS:.*]] = arith.constant dense<0.000000e+00> : vector<8xf32>
// FILLED-NOT: vector.load %alloc
// FILLED: scf.for {{.*}} iter_args(%{{.*}} = %[[ZEROS]],
// FILLED-NOT: vector.load %alloc
// FILLED: vector.store %{{.*}}, %alloc

// Along a reduction that is the vector dimension (10 = 8 + a masked edge of 2), the first box starts from the fill's
// constant and the edge box adds to what the first stored: one load of the output, in the edge.
func.func @split_reduction_after_fill(%x: memref<4x10xf32>, %w: memref<10xf32>) -> memref<4xf32> {
  %zero = arith.constant 0.0 : f32
  %out = memref.alloc() : memref<4xf32>
  linalg.fill ins(%zero : f32) outs(%out : memref<4xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, k) -> (i, k)>, affine_map<(i, k) -> (k)>,
                                   affine_map<(i, k) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x, %w : memref<4x10xf32>, memref<10xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return %out : memref<4xf32>
}
// FILLED-LABEL: func.func @split_reduction_after_fill
// FILLED-NOT: linalg.fill
// FILLED-NOT: memref.load %alloc
// FILLED: vector.reduction <add>, %{{.*}}, %cst{{.*}} : vector<8xf32> into f32
// FILLED: vector.maskedload
// FILLED: %[[STORED:.*]] = memref.load %alloc
// FILLED: vector.reduction <add>, %{{.*}}, %[[STORED]] {{.*}}: vector<4xf32> into f32
