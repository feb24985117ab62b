// seqjit-outline-loop-nests: each top-level op with regions of a function becomes a call of a private no_inline
// function taking what it uses from outside; constants are cloned into it, a loop's results come back from the call,
// and a function with a single loop nest is left alone.
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
