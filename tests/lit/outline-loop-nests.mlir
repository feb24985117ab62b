// seqjit-outline-loop-nests: each top-level op with regions of a function becomes a call of a private no_inline
// function taking what it uses from outside; constants are cloned into it, a loop's results come back from the call,
// and a function with a single loop nest is left alone. A nest headed by a parallel loop (scf.parallel, or scf.for
// marked seqjit.parallel) with a constant step and at least 2^15 operations is outlined with that loop's bounds as
// its first two arguments and its step in the seqjit-parallel-step passthrough, even where it is the only one.
// RUN: %seqjit-opt %s --seqjit-outline-loop-nests | FileCheck %s

// CHECK-LABEL: func.func private @two_nests_nest0(
// CHECK-SAME: %{{.*}}: memref<8xf32>) attributes {no_inline} {
// CHECK-DAG: arith.constant 0 : index
// CHECK-DAG: arith.constant 8 : index
// CHECK: scf.for
// CHECK: memref.store
// CHECK-LABEL: func.func private @two_nests_nest1(
// CHECK-SAME: %{{.*}}: memref<8xf32>, %{{.*}}: f32) -> f32 attributes {no_inline} {
// CHECK: %[[SUM:.*]] = scf.for
// CHECK: return %[[SUM]] : f32
// CHECK-LABEL: func.func @two_nests(
// CHECK: call @two_nests_nest0(%{{.*}}) : (memref<8xf32>) -> ()
// CHECK: %[[TOTAL:.*]] = call @two_nests_nest1(%{{.*}}, %{{.*}}) : (memref<8xf32>, f32) -> f32
// CHECK: return %[[TOTAL]] : f32
func.func @two_nests(%buffer: memref<8xf32>, %init: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %one, %buffer[%i] : memref<8xf32>
  }
  %sum = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %init) -> f32 {
    %v = memref.load %buffer[%i] : memref<8xf32>
    %next = arith.addf %acc, %v : f32
    scf.yield %next : f32
  }
  return %sum : f32
}

// CHECK-LABEL: func.func @one_nest(
// CHECK-NOT: call
// CHECK: scf.for
func.func @one_nest(%buffer: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %zero, %buffer[%i] : memref<8xf32>
  }
  return
}

// CHECK-LABEL: func.func private @parallel_nests_nest0(
// CHECK-SAME: %[[LO:.*]]: index, %[[HI:.*]]: index, %{{.*}}: memref<256x256xf32>)
// CHECK-SAME: attributes {no_inline, passthrough = {{\[\[}}"seqjit-parallel-step", "2"]]}
// CHECK: scf.for %{{.*}} = %[[LO]] to %[[HI]] step %{{.*}} {
// CHECK-LABEL: func.func private @parallel_nests_nest1(
// CHECK-SAME: %[[LO1:.*]]: index, %[[HI1:.*]]: index, %{{.*}}: memref<256x256xf32>)
// CHECK-SAME: passthrough = {{\[\[}}"seqjit-parallel-step", "1"]]
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%[[LO1]], %{{.*}}) to (%[[HI1]], %{{.*}})
// CHECK-LABEL: func.func private @parallel_nests_nest2(
// CHECK-SAME: %{{.*}}: memref<256x256xf32>) attributes {no_inline} {
// CHECK-LABEL: func.func private @parallel_nests_nest3(
// CHECK-SAME: %{{.*}}: memref<256x256xf32>) attributes {no_inline} {
// CHECK-LABEL: func.func @parallel_nests(
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK: call @parallel_nests_nest0(%[[C0]], %[[C256]], %{{.*}}) : (index, index, memref<256x256xf32>) -> ()
// CHECK: call @parallel_nests_nest1(%[[C0]], %[[C256]], %{{.*}})
// CHECK: call @parallel_nests_nest2(%{{.*}}) : (memref<256x256xf32>) -> ()
// CHECK: call @parallel_nests_nest3(%{{.*}}) : (memref<256x256xf32>) -> ()
func.func @parallel_nests(%buffer: memref<256x256xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  // marked, 128 x 256 iterations: parallel, step 2
  scf.for %i = %c0 to %c256 step %c2 {
    scf.for %j = %c0 to %c256 step %c1 {
      memref.store %zero, %buffer[%i, %j] : memref<256x256xf32>
    }
  } {seqjit.parallel}
  // scf.parallel: split along its first dimension
  scf.parallel (%i, %j) = (%c0, %c0) to (%c256, %c256) step (%c1, %c1) {
    memref.store %zero, %buffer[%i, %j] : memref<256x256xf32>
  }
  // not marked: serial
  scf.for %i = %c0 to %c256 step %c1 {
    scf.for %j = %c0 to %c256 step %c1 {
      memref.store %zero, %buffer[%i, %j] : memref<256x256xf32>
    }
  }
  // parallel but 4 x 4 iterations: not worth a thread
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
    memref.store %zero, %buffer[%i, %j] : memref<256x256xf32>
  }
  return
}

// CHECK-LABEL: func.func private @one_parallel_nest_nest0(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: index, %{{.*}}: memref<256x256xf32>)
// CHECK-LABEL: func.func @one_parallel_nest(
// CHECK: call @one_parallel_nest_nest0(
func.func @one_parallel_nest(%buffer: memref<256x256xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c256, %c256) step (%c1, %c1) {
    memref.store %zero, %buffer[%i, %j] : memref<256x256xf32>
  }
  return
}
