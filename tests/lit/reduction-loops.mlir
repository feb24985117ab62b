// seqjit-reduction-loops: a max pool (loops n, c, o and the window w innermost) becomes an scf.parallel over
// (n, c, o) around an scf.for over w that carries the pooled value: loaded once before the window, stored once
// after it, never stored and loaded back inside. A reduction with a parallel loop inside it keeps its linalg form
// (its innermost loop vectorises as it is), and so does one whose input is its own output.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-reduction-loops),canonicalize,cse)" | FileCheck %s

// CHECK-LABEL: func.func @max_pool
// CHECK-NOT: linalg.generic
// CHECK: scf.parallel (%[[N:.*]], %[[C:.*]], %[[O:.*]]) = (%c0, %c0, %c0) to (%c2, %c3, %c4) step (%c1, %c1, %c1)
// CHECK-NEXT: %[[START:.*]] = memref.load %arg1[%[[N]], %[[C]], %[[O]]]
// CHECK-NEXT: %[[POOLED:.*]] = scf.for %[[W:.*]] = %c0 to %c3 step %c1 iter_args(%[[BEST:.*]] = %[[START]]) -> (f32)
// CHECK: %[[X:.*]] = memref.load %arg0[%[[N]], %[[C]], %{{.*}}]
// CHECK-NEXT: %[[MAX:.*]] = arith.maximumf %[[BEST]], %[[X]]
// CHECK-NEXT: scf.yield %[[MAX]]
// CHECK: memref.store %[[POOLED]], %arg1[%[[N]], %[[C]], %[[O]]]
func.func @max_pool(%x: memref<2x3x12xf32>, %out: memref<2x3x4xf32>) {
  %window = memref.alloc() : memref<3xf32>
  linalg.generic {indexing_maps = [affine_map<(n, c, o, w) -> (n, c, o * 3 + w)>, affine_map<(n, c, o, w) -> (w)>,
                                   affine_map<(n, c, o, w) -> (n, c, o)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %window : memref<2x3x12xf32>, memref<3xf32>) outs(%out : memref<2x3x4xf32>) {
  ^bb0(%a: f32, %unused: f32, %best: f32):
    %m = arith.maximumf %best, %a : f32
    linalg.yield %m : f32
  }
  memref.dealloc %window : memref<3xf32>
  return
}

// The first maximum's position: two outputs, both carried; linalg.index becomes the loops' induction variables.
// CHECK-LABEL: func.func @first_maximum
// CHECK: scf.parallel
// CHECK: scf.for %[[W:.*]] = %c0 to %c3 step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, i64)
// CHECK-NOT: linalg.index
// CHECK: arith.cmpi eq, %[[W]], %c0
// CHECK: scf.yield
// CHECK-COUNT-2: memref.store
func.func @first_maximum(%x: memref<2x3x12xf32>, %window: memref<3xf32>, %best: memref<2x3x4xf32>,
                          %at: memref<2x3x4xi64>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, o, w) -> (n, c, o * 3 + w)>, affine_map<(n, c, o, w) -> (w)>,
                                   affine_map<(n, c, o, w) -> (n, c, o)>, affine_map<(n, c, o, w) -> (n, c, o)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %window : memref<2x3x12xf32>, memref<3xf32>) outs(%best, %at : memref<2x3x4xf32>, memref<2x3x4xi64>) {
  ^bb0(%a: f32, %unused: f32, %b: f32, %p: i64):
    %w = linalg.index 3 : index
    %o = linalg.index 2 : index
    %c0 = arith.constant 0 : index
    %c3 = arith.constant 3 : index
    %first = arith.cmpi eq, %w, %c0 : index
    %greater = arith.cmpf ogt, %a, %b : f32
    %take = arith.ori %first, %greater : i1
    %start = arith.muli %o, %c3 : index
    %position = arith.addi %start, %w : index
    %candidate = arith.index_cast %position : index to i64
    %nb = arith.select %take, %a, %b : f32
    %np = arith.select %take, %candidate, %p : i64
    linalg.yield %nb, %np : f32, i64
  }
  return
}

// CHECK-LABEL: func.func @channel_sums
// CHECK: linalg.generic
func.func @channel_sums(%x: memref<2x3x12xf32>, %sums: memref<3xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, l) -> (n, c, l)>, affine_map<(n, c, l) -> (c)>],
                  iterator_types = ["reduction", "parallel", "reduction"]}
      ins(%x : memref<2x3x12xf32>) outs(%sums : memref<3xf32>) {
  ^bb0(%a: f32, %s: f32):
    %t = arith.addf %s, %a : f32
    linalg.yield %t : f32
  }
  return
}

// CHECK-LABEL: func.func @reads_its_output
// CHECK: linalg.generic
func.func @reads_its_output(%buffer: memref<4x4xf32>) {
  %row = memref.subview %buffer[0, 0] [4, 1] [1, 1] : memref<4x4xf32> to memref<4xf32, strided<[4]>>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%buffer : memref<4x4xf32>) outs(%row : memref<4xf32, strided<[4]>>) {
  ^bb0(%a: f32, %s: f32):
    %t = arith.addf %s, %a : f32
    linalg.yield %t : f32
  }
  return
}

// An output filled with a constant just before (here -inf) starts at the constant: no load, and the fill goes. A
// fill followed by another writer of the buffer stays.
// CHECK-LABEL: func.func @filled_pool
// CHECK-NOT: linalg.fill
// CHECK: scf.parallel
// CHECK-NOT: memref.load %alloc[
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%{{.*}} = %cst) -> (f32)
// CHECK: memref.store
// CHECK-LABEL: func.func @fill_read_before
// CHECK: linalg.fill
// CHECK: memref.copy
// CHECK: scf.parallel
// CHECK: memref.load %alloc[
// CHECK: scf.for
func.func @filled_pool(%x: memref<2x3x12xf32>, %window: memref<3xf32>) -> memref<2x3x4xf32> {
  %lowest = arith.constant 0xFF800000 : f32
  %out = memref.alloc() : memref<2x3x4xf32>
  linalg.fill ins(%lowest : f32) outs(%out : memref<2x3x4xf32>)
  linalg.generic {indexing_maps = [affine_map<(n, c, o, w) -> (n, c, o * 3 + w)>, affine_map<(n, c, o, w) -> (w)>,
                                   affine_map<(n, c, o, w) -> (n, c, o)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %window : memref<2x3x12xf32>, memref<3xf32>) outs(%out : memref<2x3x4xf32>) {
  ^bb0(%a: f32, %unused: f32, %best: f32):
    %greater = arith.cmpf ogt, %a, %best : f32
    %m = arith.select %greater, %a, %best : f32
    linalg.yield %m : f32
  }
  return %out : memref<2x3x4xf32>
}
func.func @fill_read_before(%x: memref<2x3x12xf32>, %window: memref<3xf32>,
                            %other: memref<2x3x4xf32>) -> memref<2x3x4xf32> {
  %lowest = arith.constant 0xFF800000 : f32
  %out = memref.alloc() : memref<2x3x4xf32>
  linalg.fill ins(%lowest : f32) outs(%out : memref<2x3x4xf32>)
  memref.copy %other, %out : memref<2x3x4xf32> to memref<2x3x4xf32>
  linalg.generic {indexing_maps = [affine_map<(n, c, o, w) -> (n, c, o * 3 + w)>, affine_map<(n, c, o, w) -> (w)>,
                                   affine_map<(n, c, o, w) -> (n, c, o)>],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %window : memref<2x3x12xf32>, memref<3xf32>) outs(%out : memref<2x3x4xf32>) {
  ^bb0(%a: f32, %unused: f32, %best: f32):
    %greater = arith.cmpf ogt, %a, %best : f32
    %m = arith.select %greater, %a, %best : f32
    linalg.yield %m : f32
  }
  return %out : memref<2x3x4xf32>
}
