// seqjit-outline-loop-nests{profile}: for the kernel profile, even a function's only loop nest is outlined, each call
// of a nest is bracketed by seqjit_profile_enter / seqjit_profile_exit, and so is the body of each public function.
// Each passes a string constant describing the region: function, nest index, kind, layers, floating-point operations
// per call (here 8 iterations of a vector<4xf32> FMA: 8 x 4 x 2 = 64) and bytes of the buffers touched (two of
// 8 x 4 floats, 256).
// RUN: %seqjit-opt %s --seqjit-outline-loop-nests=profile | FileCheck %s

// CHECK-DAG: llvm.mlir.global internal constant @seqjit_profile_scale_nest0("scale\090\09kernel\09layer1\0964\09256\00")
// CHECK-DAG: llvm.mlir.global internal constant @seqjit_profile_scale("scale\09-1\09\09\0964\09256\00")
// CHECK-DAG: llvm.mlir.global internal constant @seqjit_profile_border_nest0("border\090\09fill\09pad\090\0964\00")
// CHECK-DAG: func.func private @seqjit_profile_enter(!llvm.ptr) -> i64
// CHECK-DAG: func.func private @seqjit_profile_exit(!llvm.ptr, i64)
// CHECK-LABEL: func.func private @scale_nest0(
// CHECK-LABEL: func.func @scale(
// CHECK: %[[WHOLE:.*]] = llvm.mlir.addressof @seqjit_profile_scale :
// CHECK: %[[WHOLE_TEXT:.*]] = llvm.getelementptr %[[WHOLE]]
// CHECK: %[[START:.*]] = call @seqjit_profile_enter(%[[WHOLE_TEXT]]) : (!llvm.ptr) -> i64
// CHECK: %[[NEST:.*]] = llvm.mlir.addressof @seqjit_profile_scale_nest0 :
// CHECK: %[[NEST_TEXT:.*]] = llvm.getelementptr %[[NEST]]
// CHECK: %[[NEST_START:.*]] = call @seqjit_profile_enter(%[[NEST_TEXT]])
// CHECK-NEXT: call @scale_nest0(
// CHECK-NEXT: call @seqjit_profile_exit(%[[NEST_TEXT]], %[[NEST_START]]) : (!llvm.ptr, i64) -> ()
// CHECK-NEXT: call @seqjit_profile_exit(%[[WHOLE_TEXT]], %[[START]])
// CHECK-NEXT: return
func.func @scale(%in: memref<8x4xf32>, %out: memref<8x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant dense<0.0> : vector<4xf32>
  %two = arith.constant dense<2.0> : vector<4xf32>
  %sum = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %zero) -> vector<4xf32> {
    %v = vector.load %in[%i, %c0] : memref<8x4xf32>, vector<4xf32>
    %next = vector.fma %v, %two, %acc : vector<4xf32>
    vector.store %next, %out[%i, %c0] : memref<8x4xf32>, vector<4xf32>
    scf.yield %next : vector<4xf32>
  } loc("layer1")
  return
}

// A fill of a padded buffer's border, through a subview (@border below): its bytes are the border's (8 x 2 floats,
// 64), not the whole buffer's (8 x 12 floats).
func.func @border(%out: memref<8x12xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %edge = memref.subview %out[0, 0] [8, 2] [1, 1] : memref<8x12xf32> to memref<8x2xf32, strided<[12, 1]>>
  scf.for %i = %c0 to %c8 step %c1 {
    scf.for %j = %c0 to %c2 step %c1 {
      memref.store %zero, %edge[%i, %j] : memref<8x2xf32, strided<[12, 1]>>
    }
  } loc("pad")
  return
}
