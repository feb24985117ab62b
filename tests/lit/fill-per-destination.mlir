// seqjit-fill-per-destination: cse has merged the zero tensors two sums start from into one linalg.fill; each sum
// gets a fill of its own, so that one-shot bufferization writes both in place (no new buffer, no copy of the filled
// one) and each kernel finds the fill of its output just before it. A fill that is also read keeps its original for
// the readers.
// RUN: %seqjit-opt %s --seqjit-fill-per-destination | FileCheck %s
// RUN: %seqjit-opt %s --seqjit-fill-per-destination --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s --check-prefix=BUFFERS

#sum = {indexing_maps = [affine_map<(i, k) -> (i, k)>, affine_map<(i, k) -> (i)>],
        iterator_types = ["parallel", "reduction"]}

// CHECK-LABEL: func.func @two_sums_one_fill
// CHECK: %[[FIRST:.*]] = linalg.fill
// CHECK: %[[SECOND:.*]] = linalg.fill
// CHECK: linalg.generic {{.*}} outs(%[[FIRST]]
// CHECK: linalg.generic {{.*}} outs(%[[SECOND]]
// BUFFERS-LABEL: func.func @two_sums_one_fill
// BUFFERS-NOT: memref.copy
func.func @two_sums_one_fill(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4xf32>
  %zeros = linalg.fill ins(%zero : f32) outs(%empty : tensor<4xf32>) -> tensor<4xf32>
  %a = linalg.generic #sum ins(%x : tensor<4x8xf32>) outs(%zeros : tensor<4xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %acc, %v : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %b = linalg.generic #sum ins(%y : tensor<4x8xf32>) outs(%zeros : tensor<4xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %acc, %v : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// CHECK-LABEL: func.func @a_fill_also_read
// CHECK: %[[OWN:.*]] = linalg.fill
// CHECK: %[[READ:.*]] = linalg.fill
// CHECK: linalg.generic {{.*}} outs(%[[OWN]]
// CHECK: return %{{.*}}, %[[READ]]
func.func @a_fill_also_read(%x: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4xf32>
  %zeros = linalg.fill ins(%zero : f32) outs(%empty : tensor<4xf32>) -> tensor<4xf32>
  %a = linalg.generic #sum ins(%x : tensor<4x8xf32>) outs(%zeros : tensor<4xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %acc, %v : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %a, %zeros : tensor<4xf32>, tensor<4xf32>
}
