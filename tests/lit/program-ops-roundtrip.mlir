// Every program op (compiler/SeqProgramOps.td) and every gradient primitive activation prints and parses back to
// the same IR; dynamic batch dimensions verify.
// RUN: %seqjit-opt %s | %seqjit-opt | FileCheck %s

// CHECK-LABEL: func.func @program_ops
func.func @program_ops(%x: tensor<?x4x20xf32>, %y: tensor<?x4x20xf32>, %dy: tensor<?x8x20xf32>, %w: tensor<8x4x5xf32>,
                       %h: tensor<?x16xf32>, %dh: tensor<?x3xf32>, %dw: tensor<3x16xf32>, %dp: tensor<?x4x9xf32>,
                       %s: tensor<f64>) {
  // CHECK: seq.mul %{{.*}}, %{{.*}} {layer = "mul"} : (tensor<?x4x20xf32>, tensor<?x4x20xf32>) -> tensor<?x4x20xf32>
  %mul = seq.mul %x, %y {layer = "mul"} : (tensor<?x4x20xf32>, tensor<?x4x20xf32>) -> tensor<?x4x20xf32>
  // CHECK: seq.reduce_sum %{{.*}} {axes = array<i64: 0, 2>, layer = "sum"} : (tensor<?x4x20xf32>) -> tensor<4xf32>
  %sum = seq.reduce_sum %mul {axes = array<i64: 0, 2>, layer = "sum"} : (tensor<?x4x20xf32>) -> tensor<4xf32>
  // CHECK: seq.reduce_sum %{{.*}} {axes = array<i64: 0>, layer = "all"} : (tensor<4xf32>) -> tensor<f32>
  %all = seq.reduce_sum %sum {axes = array<i64: 0>, layer = "all"} : (tensor<4xf32>) -> tensor<f32>
  // CHECK: seq.broadcast %{{.*}} {axes = array<i64: 0, 2>, layer = "bc"} : (tensor<4xf32>) -> tensor<?x4x20xf32>
  %bc = seq.broadcast %sum {axes = array<i64: 0, 2>, layer = "bc"} : (tensor<4xf32>) -> tensor<?x4x20xf32>
  // CHECK: seq.reshape %{{.*}} {layer = "flat"} : (tensor<?x4x20xf32>) -> tensor<?x80xf32>
  %flat = seq.reshape %x {layer = "flat"} : (tensor<?x4x20xf32>) -> tensor<?x80xf32>
  // CHECK: seq.reshape %{{.*}} {layer = "scalar"} : (tensor<f64>) -> tensor<1x1xf64>
  %r = seq.reshape %s {layer = "scalar"} : (tensor<f64>) -> tensor<1x1xf64>
  // CHECK: seq.slice %{{.*}} {axis = 2 : i64, layer = "crop", offset = 3 : i64} : (tensor<?x4x20xf32>) -> tensor<?x4x10xf32>
  %crop = seq.slice %x {axis = 2 : i64, offset = 3 : i64, layer = "crop"} : (tensor<?x4x20xf32>) -> tensor<?x4x10xf32>
  // CHECK: seq.pad %{{.*}} {axis = 2 : i64, layer = "crop", offset = 3 : i64} : (tensor<?x4x10xf32>) -> tensor<?x4x20xf32>
  %pad = seq.pad %crop {axis = 2 : i64, offset = 3 : i64, layer = "crop"} : (tensor<?x4x10xf32>) -> tensor<?x4x20xf32>
  // CHECK: seq.constant {layer = "dft", value = dense<{{\[\[}}1.000000e+00, 0.000000e+00], [0.000000e+00, -1.000000e+00]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %dft = seq.constant {value = dense<[[1.0, 0.0], [0.0, -1.0]]> : tensor<2x2xf32>, layer = "dft"} : tensor<2x2xf32>
  // CHECK: seq.log_softmax %{{.*}} {axis = 1 : i64, layer = "ls"} : (tensor<?x4x20xf32>) -> tensor<?x4x20xf32>
  %ls = seq.log_softmax %x {axis = 1 : i64, layer = "ls"} : (tensor<?x4x20xf32>) -> tensor<?x4x20xf32>
  // CHECK: seq.stop_gradient %{{.*}} {layer = "power"} : (tensor<?x4x20xf32>) -> tensor<?x4x20xf32>
  %sg = seq.stop_gradient %x {layer = "power"} : (tensor<?x4x20xf32>) -> tensor<?x4x20xf32>
  // CHECK: seq.signed_rank %{{.*}} {layer = "gini"} : (tensor<?x4x20xf32>) -> tensor<?x4x20xf32>
  %sr = seq.signed_rank %x {layer = "gini"} : (tensor<?x4x20xf32>) -> tensor<?x4x20xf32>
  // CHECK: seq.bce_with_logits %{{.*}}, %{{.*}} {layer = "loss"} : (tensor<?x4x20xf32>, tensor<?x4x20xf32>) -> tensor<?x4x20xf32>
  %bce = seq.bce_with_logits %x, %y {layer = "loss"} : (tensor<?x4x20xf32>, tensor<?x4x20xf32>) -> tensor<?x4x20xf32>
  // CHECK: seq.conv1d_input_grad %{{.*}}, %{{.*}} {dilation = 1 : i64, layer = "conv1", padding = "same", stride = 1 : i64} : (tensor<?x8x20xf32>, tensor<8x4x5xf32>) -> tensor<?x4x20xf32>
  %cig = seq.conv1d_input_grad %dy, %w {stride = 1 : i64, dilation = 1 : i64, padding = "same", layer = "conv1"} : (tensor<?x8x20xf32>, tensor<8x4x5xf32>) -> tensor<?x4x20xf32>
  // CHECK: seq.conv1d_weight_grad %{{.*}}, %{{.*}} {dilation = 1 : i64, layer = "conv1", padding = "same", stride = 1 : i64} : (tensor<?x4x20xf32>, tensor<?x8x20xf32>) -> tensor<8x4x5xf32>
  %cwg = seq.conv1d_weight_grad %x, %dy {stride = 1 : i64, dilation = 1 : i64, padding = "same", layer = "conv1"} : (tensor<?x4x20xf32>, tensor<?x8x20xf32>) -> tensor<8x4x5xf32>
  // CHECK: seq.dense_input_grad %{{.*}}, %{{.*}} {layer = "out"} : (tensor<?x3xf32>, tensor<3x16xf32>) -> tensor<?x16xf32>
  %dig = seq.dense_input_grad %dh, %dw {layer = "out"} : (tensor<?x3xf32>, tensor<3x16xf32>) -> tensor<?x16xf32>
  // CHECK: seq.dense_weight_grad %{{.*}}, %{{.*}} {layer = "out"} : (tensor<?x16xf32>, tensor<?x3xf32>) -> tensor<3x16xf32>
  %dwg = seq.dense_weight_grad %h, %dh {layer = "out"} : (tensor<?x16xf32>, tensor<?x3xf32>) -> tensor<3x16xf32>
  // CHECK: seq.max_pool1d_grad %{{.*}}, %{{.*}} {layer = "pool", size = 4 : i64, stride = 2 : i64} : (tensor<?x4x20xf32>, tensor<?x4x9xf32>) -> tensor<?x4x20xf32>
  %mpg = seq.max_pool1d_grad %x, %dp {size = 4 : i64, stride = 2 : i64, layer = "pool"} : (tensor<?x4x20xf32>, tensor<?x4x9xf32>) -> tensor<?x4x20xf32>
  // CHECK: seq.max_pool1d_select %{{.*}}, %{{.*}} {layer = "pool", size = 4 : i64, stride = 2 : i64} : (tensor<?x4x20xf32>, tensor<?x4x20xf32>) -> tensor<?x4x9xf32>
  %mps = seq.max_pool1d_select %x, %y {size = 4 : i64, stride = 2 : i64, layer = "pool"} : (tensor<?x4x20xf32>, tensor<?x4x20xf32>) -> tensor<?x4x9xf32>
  // CHECK: seq.avg_pool1d_grad %{{.*}} {layer = "avg", size = 4 : i64, stride = 2 : i64} : (tensor<?x4x9xf32>) -> tensor<?x4x20xf32>
  %apg = seq.avg_pool1d_grad %dp {size = 4 : i64, stride = 2 : i64, layer = "avg"} : (tensor<?x4x9xf32>) -> tensor<?x4x20xf32>
  // CHECK-COUNT-8: seq.activation {{.*}}kind = "{{step|sign|abs|square|sqrt|rsqrt|reciprocal|log}}"
  %a0 = seq.activation %x {kind = "step", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<?x4x20xf32> -> tensor<?x4x20xf32>
  %a1 = seq.activation %x {kind = "sign", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<?x4x20xf32> -> tensor<?x4x20xf32>
  %a2 = seq.activation %x {kind = "abs", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<?x4x20xf32> -> tensor<?x4x20xf32>
  %a3 = seq.activation %x {kind = "square", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<?x4x20xf32> -> tensor<?x4x20xf32>
  %a4 = seq.activation %x {kind = "sqrt", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<?x4x20xf32> -> tensor<?x4x20xf32>
  %a5 = seq.activation %x {kind = "rsqrt", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<?x4x20xf32> -> tensor<?x4x20xf32>
  %a6 = seq.activation %x {kind = "reciprocal", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<?x4x20xf32> -> tensor<?x4x20xf32>
  %a7 = seq.activation %x {kind = "log", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<?x4x20xf32> -> tensor<?x4x20xf32>
  return
}
