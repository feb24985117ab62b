// The seq-autodiff pass: @f_vjp in seq ops only (conv1d's transposes, exp's derivative as its own result), and a
// second run differentiates @f_vjp itself.
// RUN: %seqjit-opt --seq-autodiff %s | FileCheck %s
// RUN: %seqjit-opt --seq-autodiff --seq-autodiff %s | FileCheck %s --check-prefix=SECOND

func.func @f(%x: tensor<2x4x10xf32>, %w: tensor<3x4x5xf32>) -> tensor<2x3x10xf32> {
  %c = seq.conv1d %x, %w {stride = 1 : i64, dilation = 1 : i64, padding = "same", layer = "conv1"} : (tensor<2x4x10xf32>, tensor<3x4x5xf32>) -> tensor<2x3x10xf32>
  %y = seq.activation %c {kind = "exp", scale = 1.0, shift = 0.0, alpha = 1.0, layer = "act1"} : tensor<2x3x10xf32> -> tensor<2x3x10xf32>
  return %y : tensor<2x3x10xf32>
}

// CHECK-LABEL: func.func @f_vjp(
// CHECK-SAME: %[[X:.*]]: tensor<2x4x10xf32>, %[[W:.*]]: tensor<3x4x5xf32>, %[[G:.*]]: tensor<2x3x10xf32>)
// CHECK: %[[C:.*]] = seq.conv1d %[[X]], %[[W]]
// CHECK: %[[Y:.*]] = seq.activation %[[C]]
// CHECK: %[[D:.*]] = seq.mul %[[G]], %[[Y]] {layer = "act1.grad"}
// CHECK-DAG: %[[DX:.*]] = seq.conv1d_input_grad %[[D]], %[[W]] {{.*}}padding = "same"
// CHECK-DAG: %[[DW:.*]] = seq.conv1d_weight_grad %[[X]], %[[D]] {{.*}}padding = "same"
// CHECK: return %[[DX]], %[[DW]] : tensor<2x4x10xf32>, tensor<3x4x5xf32>
// CHECK-NOT: seq.constant

// SECOND-LABEL: func.func @f_vjp_vjp(
// SECOND-SAME: %arg4: tensor<3x4x5xf32>) -> (tensor<2x4x10xf32>, tensor<3x4x5xf32>, tensor<2x3x10xf32>)
// SECOND-DAG: seq.conv1d_weight_grad
// SECOND-DAG: seq.conv1d_input_grad
// SECOND: return {{.*}} : tensor<2x4x10xf32>, tensor<3x4x5xf32>, tensor<2x3x10xf32>
