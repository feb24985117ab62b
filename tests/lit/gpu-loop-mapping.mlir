// The GPU passes put every loop and every buffer access into a kernel, so that the host code only allocates and
// launches: memref.copy becomes linalg.copy, a generic's parallel dimensions move outermost, a parallel loop nest is
// collapsed into blocks of 64 threads (last dimension fastest), and other accesses become one-thread kernels.
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-memref-copies-to-linalg, seqjit-parallel-dimensions-outermost))" | FileCheck %s --check-prefix=LINALG
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-memref-copies-to-linalg, seqjit-parallel-dimensions-outermost), convert-linalg-to-parallel-loops, func.func(seqjit-map-loops-to-gpu{block-size=64}))" | FileCheck %s --check-prefix=MAPPED
// RUN: %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-memref-copies-to-linalg, seqjit-parallel-dimensions-outermost), convert-linalg-to-parallel-loops, func.func(seqjit-map-loops-to-gpu{block-size=64}), convert-parallel-loops-to-gpu, gpu-kernel-outlining, func.func(seqjit-check-host-memory-access))" | FileCheck %s --check-prefix=LAUNCHED
// RUN: %not %seqjit-opt %s --pass-pipeline="builtin.module(func.func(seqjit-check-host-memory-access))" 2>&1 | FileCheck %s --check-prefix=UNMAPPED

// LINALG-LABEL: func.func @pad_copy
// LINALG: linalg.copy ins(%{{.*}} : memref<2x4x10xf32>) outs(%{{.*}} : memref<2x4x10xf32, strided<[56, 14, 1], offset: 2>>)
// LINALG-NOT: memref.copy
// MAPPED-LABEL: func.func @pad_copy
// 80 elements: 2 blocks of 64 threads, the last one partly idle.
// MAPPED: scf.parallel (%[[BLOCK:.*]]) = (%{{.*}}) to (%c2{{.*}})
// MAPPED: scf.parallel (%[[THREAD:.*]]) = (%{{.*}}) to (%c64
// MAPPED: %[[SCALED:.*]] = arith.muli %[[BLOCK]], %c64
// MAPPED: %[[FLAT:.*]] = arith.addi %[[SCALED]], %[[THREAD]]
// MAPPED: arith.cmpi ult, %[[FLAT]], %c80
// MAPPED: scf.if
// MAPPED: arith.remui %[[FLAT]], %c10
// MAPPED: memref.store
// MAPPED: processor = thread_x
// MAPPED: processor = block_x
// LAUNCHED-LABEL: func.func @pad_copy
// LAUNCHED: gpu.launch_func @pad_copy_kernel::@pad_copy_kernel blocks in (%{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%{{.*}}, %c1{{.*}}, %c1{{.*}})
// UNMAPPED: error: seqjit: this operation would read or write device memory on the host
func.func @pad_copy(%x: memref<2x4x10xf32>, %padded: memref<2x4x14xf32>) {
  %interior = memref.subview %padded[0, 0, 2] [2, 4, 10] [1, 1, 1]
      : memref<2x4x14xf32> to memref<2x4x10xf32, strided<[56, 14, 1], offset: 2>>
  memref.copy %x, %interior : memref<2x4x10xf32> to memref<2x4x10xf32, strided<[56, 14, 1], offset: 2>>
  return
}

// A convolution written (n, f, c, k, l): its output position l, a parallel dimension, comes after the reductions.
// LINALG-LABEL: func.func @conv
// LINALG: indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]
// MAPPED-LABEL: func.func @conv
// MAPPED: scf.parallel
// MAPPED: scf.parallel
// MAPPED: scf.for
// MAPPED: scf.for
// MAPPED-NOT: scf.parallel
// MAPPED: processor = thread_x
func.func @conv(%x: memref<2x4x14xf32>, %w: memref<3x4x5xf32>, %y: memref<2x3x10xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, f, c, k, l) -> (n, c, l + k)>,
                                   affine_map<(n, f, c, k, l) -> (f, c, k)>,
                                   affine_map<(n, f, c, k, l) -> (n, f, l)>],
                  iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]}
      ins(%x, %w : memref<2x4x14xf32>, memref<3x4x5xf32>) outs(%y : memref<2x3x10xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// A total (a loss) and a scalar scaled from it: sequential loops and rank-0 loads and stores, wrapped together in a
// kernel of one thread; the view between them, used after them, stays on the host.
// MAPPED-LABEL: func.func @total
// MAPPED: memref.collapse_shape
// MAPPED: %[[ONE:.*]] = arith.constant 1 : index
// MAPPED: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[ONE]])
// MAPPED: scf.for
// MAPPED: arith.mulf
// MAPPED: processor = block_x
// MAPPED-NEXT: return
// LAUNCHED-LABEL: func.func @total
// LAUNCHED: gpu.launch_func @total_kernel::@total_kernel blocks in (%{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c1{{.*}}, %c1{{.*}}, %c1{{.*}})
// LAUNCHED-NOT: memref.load
// LAUNCHED: return
func.func @total(%x: memref<8x16xf32>, %sum: memref<f32>, %half: memref<f32>) -> memref<128xf32> {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>],
                  iterator_types = ["reduction", "reduction"]}
      ins(%x : memref<8x16xf32>) outs(%sum : memref<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %acc, %a : f32
    linalg.yield %s : f32
  }
  %flat = memref.collapse_shape %x [[0, 1]] : memref<8x16xf32> into memref<128xf32>
  linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []}
      ins(%sum : memref<f32>) outs(%half : memref<f32>) {
  ^bb0(%a: f32, %unused: f32):
    %c = arith.constant 0.5 : f32
    %h = arith.mulf %a, %c : f32
    linalg.yield %h : f32
  }
  return %flat : memref<128xf32>
}
