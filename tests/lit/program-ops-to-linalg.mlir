// convert-seq-to-linalg on every program op (compiler/SeqProgramOps.td) and the gradient primitive activations:
// each becomes linalg.generic and tensor ops with no seq op left, and a function of all of them runs through the
// whole CPU pipeline to the LLVM dialect.
// RUN: %seqjit-opt %s -split-input-file -convert-seq-to-linalg | FileCheck %s
// RUN: %seqjit-opt %s -split-input-file --seqjit-lower-to-llvm | FileCheck %s --check-prefix=CPU

// CPU-LABEL: llvm.func @every_program_op
// CPU-NOT: seq.
// CPU-NOT: linalg.
// CPU-NOT: tensor.

// CHECK-LABEL: func.func @elementwise
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<2x4x20xf32>, tensor<2x4x20xf32>)
// CHECK: arith.mulf
// Binary cross-entropy: max(z, 0) - z y + log1p(exp(-|z|)), the cancelling part first.
// CHECK: linalg.generic
// CHECK: %[[POSITIVE:.*]] = arith.maximumf %[[Z:.*]], %{{.*}}
// CHECK: %[[ZY:.*]] = arith.mulf %[[Z]], %{{.*}}
// CHECK: %[[LINEAR:.*]] = arith.subf %[[POSITIVE]], %[[ZY]]
// CHECK: math.absf %[[Z]]
// CHECK: math.exp
// CHECK: %[[TAIL:.*]] = math.log1p
// CHECK: arith.addf %[[LINEAR]], %[[TAIL]]
// CHECK-NOT: seq.
func.func @elementwise(%x: tensor<2x4x20xf32>, %y: tensor<2x4x20xf32>) -> (tensor<2x4x20xf32>, tensor<2x4x20xf32>) {
  %m = seq.mul %x, %y {layer = "mul"} : (tensor<2x4x20xf32>, tensor<2x4x20xf32>) -> tensor<2x4x20xf32>
  %b = seq.bce_with_logits %x, %y {layer = "loss"} : (tensor<2x4x20xf32>, tensor<2x4x20xf32>) -> tensor<2x4x20xf32>
  return %m, %b : tensor<2x4x20xf32>, tensor<2x4x20xf32>
}

// -----

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[CHANNEL:.*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-DAG: #[[ALL:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @reductions
// float32 sums accumulate in float64, then round once.
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[CHANNEL]]], iterator_types = ["reduction", "parallel", "reduction"]} {{.*}} outs(%{{.*}} : tensor<4xf64>)
// CHECK: arith.extf
// CHECK: arith.addf
// CHECK: arith.truncf
// A rank-0 sum: an empty output map.
// CHECK: linalg.generic {indexing_maps = [{{.*}}, #[[ALL]]], iterator_types = ["reduction"]} {{.*}} outs(%{{.*}} : tensor<f64>)
// CHECK: linalg.generic {indexing_maps = [#[[CHANNEL]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-NOT: seq.
func.func @reductions(%x: tensor<2x4x20xf32>) -> (tensor<f32>, tensor<2x4x20xf32>) {
  %s = seq.reduce_sum %x {axes = array<i64: 0, 2>, layer = "sum"} : (tensor<2x4x20xf32>) -> tensor<4xf32>
  %all = seq.reduce_sum %s {axes = array<i64: 0>, layer = "all"} : (tensor<4xf32>) -> tensor<f32>
  %b = seq.broadcast %s {axes = array<i64: 0, 2>, layer = "bc"} : (tensor<4xf32>) -> tensor<2x4x20xf32>
  return %all, %b : tensor<f32>, tensor<2x4x20xf32>
}

// -----

// Reshapes go through 1-D: a collapse and an expansion, including to and from rank 0.
// CHECK-LABEL: func.func @layout
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2]] : tensor<2x4x20xf32> into tensor<160xf32>
// CHECK: tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [8, 20] : tensor<160xf32> into tensor<8x20xf32>
// CHECK: tensor.expand_shape %{{.*}} [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<1x1xf32> into tensor<1xf32>
// CHECK: tensor.collapse_shape %{{.*}} [] : tensor<1xf32> into tensor<f32>
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 3] [2, 4, 10] [1, 1, 1] : tensor<2x4x20xf32> to tensor<2x4x10xf32>
// CHECK: %[[LEFT:.*]] = linalg.fill {{.*}} -> tensor<2x4x3xf32>
// CHECK: tensor.insert_slice %[[LEFT]] into %{{.*}}[0, 0, 0] [2, 4, 3] [1, 1, 1]
// CHECK: %[[RIGHT:.*]] = linalg.fill {{.*}} -> tensor<2x4x7xf32>
// CHECK: %[[ZEROS:.*]] = tensor.insert_slice %[[RIGHT]] into %{{.*}}[0, 0, 13] [2, 4, 7] [1, 1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %[[ZEROS]][0, 0, 3] [2, 4, 10] [1, 1, 1]
// CHECK-NOT: seq.
func.func @layout(%x: tensor<2x4x20xf32>, %s: tensor<f32>, %one: tensor<1x1xf32>) -> (tensor<8x20xf32>, tensor<1xf32>, tensor<f32>, tensor<2x4x20xf32>) {
  %r = seq.reshape %x {layer = "r"} : (tensor<2x4x20xf32>) -> tensor<8x20xf32>
  %up = seq.reshape %s {layer = "up"} : (tensor<f32>) -> tensor<1xf32>
  %down = seq.reshape %one {layer = "down"} : (tensor<1x1xf32>) -> tensor<f32>
  %crop = seq.slice %x {axis = 2 : i64, offset = 3 : i64, layer = "crop"} : (tensor<2x4x20xf32>) -> tensor<2x4x10xf32>
  %pad = seq.pad %crop {axis = 2 : i64, offset = 3 : i64, layer = "crop"} : (tensor<2x4x10xf32>) -> tensor<2x4x20xf32>
  return %r, %up, %down, %pad : tensor<8x20xf32>, tensor<1xf32>, tensor<f32>, tensor<2x4x20xf32>
}

// -----

// CHECK-LABEL: func.func @constant
// CHECK: %[[C:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 0.000000e+00], [0.000000e+00, -1.000000e+00]]> : tensor<2x2xf64>
// CHECK: return %[[C]]
func.func @constant() -> tensor<2x2xf64> {
  %c = seq.constant {value = dense<[[1.0, 0.0], [0.0, -1.0]]> : tensor<2x2xf64>, layer = "dft"} : tensor<2x2xf64>
  return %c : tensor<2x2xf64>
}

// -----

// x - max - log(sum(exp(x - max))) along axis 1.
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @log_softmax
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [{{.*}}, #[[ROW]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK: arith.cmpf ogt
// CHECK-NEXT: arith.cmpf uno
// CHECK-NEXT: arith.ori
// CHECK-NEXT: arith.select
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[MAX]] :
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[MAX]], %[[SUM]] :
// CHECK: math.log
// CHECK-NOT: seq.
func.func @log_softmax(%x: tensor<2x4x20xf32>) -> tensor<2x4x20xf32> {
  %l = seq.log_softmax %x {axis = 1 : i64, layer = "ls"} : (tensor<2x4x20xf32>) -> tensor<2x4x20xf32>
  return %l : tensor<2x4x20xf32>
}

// -----

// r[n, i] = sum over j of sign(x[n, i] - x[n, j]): a third loop, j, reducing; stop_gradient is the identity.
// CHECK-DAG: #[[SELF:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[OTHER:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @signed_rank
// CHECK: linalg.generic {indexing_maps = [#[[SELF]], #[[OTHER]], #[[SELF]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf olt
// CHECK-NOT: seq.
// CHECK: return %{{.*}}, %arg0
func.func @signed_rank(%x: tensor<2x20xf32>) -> (tensor<2x20xf32>, tensor<2x20xf32>) {
  %r = seq.signed_rank %x {layer = "gini"} : (tensor<2x20xf32>) -> tensor<2x20xf32>
  %s = seq.stop_gradient %x {layer = "power"} : (tensor<2x20xf32>) -> tensor<2x20xf32>
  return %r, %s : tensor<2x20xf32>, tensor<2x20xf32>
}

// -----

// Length 11, width 4, stride 2, dilation 3, 'same': 6 outputs, 4 pads on the left. The input cotangent gathers
// from dy spread to every second position of zeros, shifted right by 3 * 3 - 4 = 5; the weight cotangent reads
// the input padded as the forward conv pads it.
// CHECK-DAG: #[[SPREAD:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4 - d3 * 3 + 9)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d2, d1, d3)>
// CHECK-DAG: #[[DX:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4)>
// CHECK-DAG: #[[XPAD:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d1, d4 * 2 + d2 * 3)>
// CHECK-DAG: #[[DY:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d0, d4)>
// CHECK-DAG: #[[DW:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @conv_grads
// CHECK: %[[ZEROS:.*]] = linalg.fill {{.*}} -> tensor<2x8x20xf32>
// CHECK: %[[SPREAD_DY:.*]] = tensor.insert_slice %{{.*}} into %[[ZEROS]][0, 0, 5] [2, 8, 6] [1, 1, 2]
// CHECK: linalg.generic {indexing_maps = [#[[SPREAD]], #[[W]], #[[DX]]], iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]} ins(%[[SPREAD_DY]],
// CHECK: linalg.fill {{.*}} -> tensor<2x4x4xf32>
// CHECK: linalg.fill {{.*}} -> tensor<2x4x5xf32>
// CHECK: %[[XZEROS:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 15] [2, 4, 5] [1, 1, 1]
// CHECK: %[[PADDED:.*]] = tensor.insert_slice %{{.*}} into %[[XZEROS]][0, 0, 4] [2, 4, 11] [1, 1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[XPAD]], #[[DY]], #[[DW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%[[PADDED]],
// CHECK-NOT: seq.
func.func @conv_grads(%x: tensor<2x4x11xf32>, %w: tensor<8x4x4xf32>, %dy: tensor<2x8x6xf32>) -> (tensor<2x4x11xf32>, tensor<8x4x4xf32>) {
  %dx = seq.conv1d_input_grad %dy, %w {stride = 2 : i64, dilation = 3 : i64, padding = "same", layer = "conv1"} : (tensor<2x8x6xf32>, tensor<8x4x4xf32>) -> tensor<2x4x11xf32>
  %dw = seq.conv1d_weight_grad %x, %dy {stride = 2 : i64, dilation = 3 : i64, padding = "same", layer = "conv1"} : (tensor<2x4x11xf32>, tensor<2x8x6xf32>) -> tensor<8x4x4xf32>
  return %dx, %dw : tensor<2x4x11xf32>, tensor<8x4x4xf32>
}

// -----

// CHECK-DAG: #[[NU:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[UF:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[NF:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[UN:.*]] = affine_map<(d0, d1, d2) -> (d1, d0)>
// CHECK-LABEL: func.func @dense_grads
// CHECK: linalg.generic {indexing_maps = [#[[NU]], #[[UF]], #[[NF]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK: linalg.generic {indexing_maps = [#[[UN]], #[[UF]], #[[NF]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK-NOT: seq.
func.func @dense_grads(%x: tensor<2x16xf32>, %w: tensor<3x16xf32>, %dy: tensor<2x3xf32>) -> (tensor<2x16xf32>, tensor<3x16xf32>) {
  %dx = seq.dense_input_grad %dy, %w {layer = "out"} : (tensor<2x3xf32>, tensor<3x16xf32>) -> tensor<2x16xf32>
  %dw = seq.dense_weight_grad %x, %dy {layer = "out"} : (tensor<2x16xf32>, tensor<2x3xf32>) -> tensor<3x16xf32>
  return %dx, %dw : tensor<2x16xf32>, tensor<3x16xf32>
}

// -----

// Windows of 4 every 2 over length 20: 9 windows, and each position lies in at most 2 of them, o = i floordiv 2 - j,
// read from the per-window tensors padded with one zero window in front.
// CHECK-DAG: #[[WINDOW:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 * 2 + d3)>
// CHECK-DAG: #[[OF_POSITION:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 floordiv 2 - d3 + 1)>
// CHECK-DAG: #[[COVERS:.*]] = affine_map<(d0, d1, d2, d3) -> (d2 mod 2, d3)>
// CHECK-LABEL: func.func @pool_grads
// The average pool gradient's table of 1 / size where window i floordiv 2 - j covers i (constants come first).
// CHECK: %[[COVER:.*]] = arith.constant dense<2.500000e-01> : tensor<2x2xf32>
// The select: the first maximum (index 0 always taken, later only if greater) picks from the values.
// CHECK: linalg.generic {indexing_maps = [#[[WINDOW]], {{.*}}, #[[WINDOW]], {{.*}}, {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: linalg.index 3
// CHECK: arith.cmpf ogt
// CHECK: arith.ori
// CHECK: -> (tensor<2x4x9xf32>, tensor<2x4x9xf32>)
// The max pool gradient: the first maxima's positions (as floats, exact up to 2^24, so that the gradient compares
// floats and selects without a branch), then a gather over the windows of each position.
// CHECK: arith.uitofp %{{.*}} : i64 to f32
// CHECK: -> (tensor<2x4x9xf32>, tensor<2x4x9xf32>)
// CHECK: tensor.insert_slice %{{.*}}[0, 0, 1] [2, 4, 9] [1, 1, 1] : tensor<2x4x9xf32> into tensor<2x4x11xf32>
// CHECK: tensor.insert_slice %{{.*}}[0, 0, 1] [2, 4, 9] [1, 1, 1] : tensor<2x4x9xf32> into tensor<2x4x11xf32>
// CHECK: linalg.generic {indexing_maps = [#[[OF_POSITION]], #[[OF_POSITION]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: arith.cmpf oeq
// The average pool gradient: dy through the table.
// CHECK: linalg.generic {indexing_maps = [#[[OF_POSITION]], #[[COVERS]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %[[COVER]] :
// CHECK-NOT: seq.
func.func @pool_grads(%x: tensor<2x4x20xf32>, %v: tensor<2x4x20xf32>, %dy: tensor<2x4x9xf32>) -> (tensor<2x4x9xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>) {
  %s = seq.max_pool1d_select %x, %v {size = 4 : i64, stride = 2 : i64, layer = "pool"} : (tensor<2x4x20xf32>, tensor<2x4x20xf32>) -> tensor<2x4x9xf32>
  %m = seq.max_pool1d_grad %x, %dy {size = 4 : i64, stride = 2 : i64, layer = "pool"} : (tensor<2x4x20xf32>, tensor<2x4x9xf32>) -> tensor<2x4x20xf32>
  %a = seq.avg_pool1d_grad %dy {size = 4 : i64, stride = 2 : i64, layer = "avg"} : (tensor<2x4x9xf32>) -> tensor<2x4x20xf32>
  return %s, %m, %a : tensor<2x4x9xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>
}

// -----

// The primitives gradient programs use, with the defined numerics of dsl/OpSpec.h.
// CHECK-LABEL: func.func @primitive_activations
// step: 1 where z > 0.
// CHECK: arith.cmpf ogt
// CHECK-NEXT: arith.select
// sign: z itself at 0 (and NaN).
// CHECK: arith.cmpf olt
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: arith.select
// CHECK: math.absf
// CHECK: arith.mulf %[[Z:.*]], %[[Z]]
// CHECK: math.sqrt
// CHECK: math.rsqrt
// reciprocal: 0 where z == 0.
// CHECK: arith.cmpf oeq
// CHECK: arith.divf
// CHECK: arith.select
// CHECK: math.log
// CHECK-NOT: seq.
func.func @primitive_activations(%x: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %a0 = seq.activation %x {kind = "step", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4xf32> -> tensor<2x4xf32>
  %a1 = seq.activation %x {kind = "sign", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4xf32> -> tensor<2x4xf32>
  %a2 = seq.activation %x {kind = "abs", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4xf32> -> tensor<2x4xf32>
  %a3 = seq.activation %x {kind = "square", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4xf32> -> tensor<2x4xf32>
  %a4 = seq.activation %x {kind = "sqrt", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4xf32> -> tensor<2x4xf32>
  %a5 = seq.activation %x {kind = "rsqrt", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4xf32> -> tensor<2x4xf32>
  %a6 = seq.activation %x {kind = "reciprocal", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4xf32> -> tensor<2x4xf32>
  %a7 = seq.activation %x {kind = "log", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4xf32> -> tensor<2x4xf32>
  return %a0, %a1, %a2, %a3, %a4, %a5, %a6, %a7 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Every program op in one function, through the whole CPU pipeline (the CPU RUN line); strided and dilated
// convolutions exercise the strided insert_slice.
func.func @every_program_op(%x: tensor<2x4x20xf32>, %y: tensor<2x4x20xf32>, %dy: tensor<2x8x10xf32>, %w: tensor<8x4x5xf32>,
                            %h: tensor<2x16xf32>, %dh: tensor<2x3xf32>, %dw: tensor<3x16xf32>, %dp: tensor<2x4x9xf32>,
                            %s: tensor<f64>) -> (tensor<2x4x20xf32>, tensor<4xf32>, tensor<f32>, tensor<2x4x20xf32>, tensor<2x80xf32>, tensor<1x1xf64>, tensor<2x4x10xf32>, tensor<2x4x20xf32>, tensor<2x2xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<8x4x5xf32>, tensor<2x16xf32>, tensor<3x16xf32>, tensor<2x4x20xf32>, tensor<2x4x9xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>) {
  %mul = seq.mul %x, %y {layer = "mul"} : (tensor<2x4x20xf32>, tensor<2x4x20xf32>) -> tensor<2x4x20xf32>
  %sum = seq.reduce_sum %mul {axes = array<i64: 0, 2>, layer = "sum"} : (tensor<2x4x20xf32>) -> tensor<4xf32>
  %all = seq.reduce_sum %sum {axes = array<i64: 0>, layer = "all"} : (tensor<4xf32>) -> tensor<f32>
  %bc = seq.broadcast %sum {axes = array<i64: 0, 2>, layer = "bc"} : (tensor<4xf32>) -> tensor<2x4x20xf32>
  %flat = seq.reshape %x {layer = "flat"} : (tensor<2x4x20xf32>) -> tensor<2x80xf32>
  %r = seq.reshape %s {layer = "scalar"} : (tensor<f64>) -> tensor<1x1xf64>
  %crop = seq.slice %x {axis = 2 : i64, offset = 3 : i64, layer = "crop"} : (tensor<2x4x20xf32>) -> tensor<2x4x10xf32>
  %pad = seq.pad %crop {axis = 2 : i64, offset = 3 : i64, layer = "crop"} : (tensor<2x4x10xf32>) -> tensor<2x4x20xf32>
  %dft = seq.constant {value = dense<[[1.0, 0.0], [0.0, -1.0]]> : tensor<2x2xf32>, layer = "dft"} : tensor<2x2xf32>
  %ls = seq.log_softmax %x {axis = 1 : i64, layer = "ls"} : (tensor<2x4x20xf32>) -> tensor<2x4x20xf32>
  %bce = seq.bce_with_logits %x, %y {layer = "loss"} : (tensor<2x4x20xf32>, tensor<2x4x20xf32>) -> tensor<2x4x20xf32>
  %sg = seq.stop_gradient %x {layer = "power"} : (tensor<2x4x20xf32>) -> tensor<2x4x20xf32>
  %sr = seq.signed_rank %x {layer = "gini"} : (tensor<2x4x20xf32>) -> tensor<2x4x20xf32>
  %cig = seq.conv1d_input_grad %dy, %w {stride = 2 : i64, dilation = 2 : i64, padding = "same", layer = "conv1"} : (tensor<2x8x10xf32>, tensor<8x4x5xf32>) -> tensor<2x4x20xf32>
  %cwg = seq.conv1d_weight_grad %x, %dy {stride = 2 : i64, dilation = 2 : i64, padding = "same", layer = "conv1"} : (tensor<2x4x20xf32>, tensor<2x8x10xf32>) -> tensor<8x4x5xf32>
  %dig = seq.dense_input_grad %dh, %dw {layer = "out"} : (tensor<2x3xf32>, tensor<3x16xf32>) -> tensor<2x16xf32>
  %dwg = seq.dense_weight_grad %h, %dh {layer = "out"} : (tensor<2x16xf32>, tensor<2x3xf32>) -> tensor<3x16xf32>
  %mpg = seq.max_pool1d_grad %x, %dp {size = 4 : i64, stride = 2 : i64, layer = "pool"} : (tensor<2x4x20xf32>, tensor<2x4x9xf32>) -> tensor<2x4x20xf32>
  %mps = seq.max_pool1d_select %x, %y {size = 4 : i64, stride = 2 : i64, layer = "pool"} : (tensor<2x4x20xf32>, tensor<2x4x20xf32>) -> tensor<2x4x9xf32>
  %apg = seq.avg_pool1d_grad %dp {size = 4 : i64, stride = 2 : i64, layer = "avg"} : (tensor<2x4x9xf32>) -> tensor<2x4x20xf32>
  %a0 = seq.activation %x {kind = "step", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4x20xf32> -> tensor<2x4x20xf32>
  %a1 = seq.activation %x {kind = "sign", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4x20xf32> -> tensor<2x4x20xf32>
  %a2 = seq.activation %x {kind = "abs", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4x20xf32> -> tensor<2x4x20xf32>
  %a3 = seq.activation %x {kind = "square", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4x20xf32> -> tensor<2x4x20xf32>
  %a4 = seq.activation %x {kind = "sqrt", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4x20xf32> -> tensor<2x4x20xf32>
  %a5 = seq.activation %x {kind = "rsqrt", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4x20xf32> -> tensor<2x4x20xf32>
  %a6 = seq.activation %x {kind = "reciprocal", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4x20xf32> -> tensor<2x4x20xf32>
  %a7 = seq.activation %x {kind = "log", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "g"} : tensor<2x4x20xf32> -> tensor<2x4x20xf32>
  return %mul, %sum, %all, %bc, %flat, %r, %crop, %pad, %dft, %ls, %bce, %cig, %cwg, %dig, %dwg, %mpg, %mps, %apg, %a0, %a1, %a2, %a3, %a4, %a5, %a6, %a7, %sg, %sr : tensor<2x4x20xf32>, tensor<4xf32>, tensor<f32>, tensor<2x4x20xf32>, tensor<2x80xf32>, tensor<1x1xf64>, tensor<2x4x10xf32>, tensor<2x4x20xf32>, tensor<2x2xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<8x4x5xf32>, tensor<2x16xf32>, tensor<3x16xf32>, tensor<2x4x20xf32>, tensor<2x4x9xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>, tensor<2x4x20xf32>
}

// -----

// Windows of 4 every 4 over length 18 do not overlap: the gradient is written once, as (n, c, window, offset) with
// dy where the offset is the window's first maximum, by a loop nest with no reduction; the 2 positions no window
// covers are zeros around it.
// CHECK-LABEL: func.func @disjoint_pool_grad
// CHECK: -> (tensor<2x4x4xf32>, tensor<2x4x4xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg1, %{{.*}} : tensor<2x4x4xf32>, tensor<2x4x4xf32>) outs(%{{.*}} : tensor<2x4x4x4xf32>)
// CHECK: arith.cmpf oeq
// CHECK: arith.select
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : tensor<2x4x4x4xf32> into tensor<2x4x16xf32>
// CHECK: tensor.insert_slice %{{.*}}[0, 0, 0] [2, 4, 16] [1, 1, 1] : tensor<2x4x16xf32> into tensor<2x4x18xf32>
// CHECK-NOT: seq.
func.func @disjoint_pool_grad(%x: tensor<2x4x18xf32>, %dy: tensor<2x4x4xf32>) -> tensor<2x4x18xf32> {
  %m = seq.max_pool1d_grad %x, %dy {size = 4 : i64, stride = 4 : i64, layer = "pool"} : (tensor<2x4x18xf32>, tensor<2x4x4xf32>) -> tensor<2x4x18xf32>
  return %m : tensor<2x4x18xf32>
}
