// The fusion decisions of the tensor stages both pipelines share (convert-seq-to-linalg, canonicalize,
// seqjit-fuse-elementwise-ops, cse): conv1d + bias + batch norm + exp + max pool become three loop nests. The bias is
// the convolution's initial value; batch norm's per-channel scale, weight * rsqrt(variance + eps), is a nest over
// the channels, computed once; batch norm (on the running statistics) and the exponential fold into the max pool's
// reduction, so each pooled value is normalised, exponentiated and compared in one pass with no intermediate
// tensor. (The convolution stays its own nest here. On the CPU, seqjit-contraction-kernels later
// applies an elementwise epilogue, batch norm + activation without a pool, to the convolution's registers:
// contraction-kernels.mlir. A pooled epilogue stays separate.) SEQJIT_DUMP_IR=seqjit-fuse-elementwise-ops shows
// the same for any model.
// RUN: %seqjit-opt %s --convert-seq-to-linalg --canonicalize --seqjit-fuse-elementwise-ops --cse | FileCheck %s

// CHECK-LABEL: func.func @conv_bn_exp_pool
// The bias, broadcast into the convolution's output.
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]
// CHECK-NEXT: ^bb0
// CHECK-NEXT: linalg.yield
// The convolution: (n, f, c, k, l), reducing over channels and taps.
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]
// CHECK: arith.mulf
// CHECK: arith.addf
// Batch norm's scale, once per channel:
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel"]}
// CHECK: math.rsqrt
// No loop nest of its own for batch norm or the exponential, and no square root per element; the first maximum of
// each window (x > max, as the reference interpreter compares, or x NaN):
// CHECK-NOT: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK-NOT: math.rsqrt
// CHECK: math.fma
// CHECK: math.exp
// CHECK: %[[GREATER:.*]] = arith.cmpf ogt
// CHECK-NEXT: %[[NAN:.*]] = arith.cmpf uno
// CHECK-NEXT: %[[TAKE:.*]] = arith.ori %[[GREATER]], %[[NAN]]
// CHECK-NEXT: arith.select %[[TAKE]]
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @conv_bn_exp_pool(%x: tensor<2x4x10xf32>, %w: tensor<3x4x5xf32>, %b: tensor<3xf32>, %g: tensor<3xf32>, %be: tensor<3xf32>, %m: tensor<3xf32>, %v: tensor<3xf32>) -> tensor<2x3x3xf32> {
  %0 = seq.conv1d %x, %w, %b {stride = 1 : i64, dilation = 1 : i64, padding = "same", layer = "conv1"} : (tensor<2x4x10xf32>, tensor<3x4x5xf32>, tensor<3xf32>) -> tensor<2x3x10xf32>
  %1 = seq.batch_norm %0, %g, %be, %m, %v {eps = 1.0e-3 : f64, momentum = 0.01 : f64, training = false, layer = "bn1"} : (tensor<2x3x10xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x10xf32>
  %2 = seq.activation %1 {kind = "exp", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "act1"} : tensor<2x3x10xf32> -> tensor<2x3x10xf32>
  %3 = seq.max_pool1d %2 {size = 3 : i64, stride = 3 : i64, layer = "pool1"} : tensor<2x3x10xf32> -> tensor<2x3x3xf32>
  return %3 : tensor<2x3x3xf32>
}

// An elementwise op read by a convolution stays its own loop nest: fused, the relu would be computed again for every
// filter and tap that reads its output (3 x 5 times here), and the convolution's body would no longer be a product
// of two inputs, which the contraction kernels turn into FMAs.
// CHECK-LABEL: func.func @relu_conv
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK-NEXT: linalg.yield
func.func @relu_conv(%x: tensor<2x4x10xf32>, %w: tensor<3x4x5xf32>) -> tensor<2x3x6xf32> {
  %0 = seq.activation %x {kind = "relu", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "act1"} : tensor<2x4x10xf32> -> tensor<2x4x10xf32>
  %1 = seq.conv1d %0, %w {stride = 1 : i64, dilation = 1 : i64, padding = "valid", layer = "conv2"} : (tensor<2x4x10xf32>, tensor<3x4x5xf32>) -> tensor<2x3x6xf32>
  return %1 : tensor<2x3x6xf32>
}

// x - mean, read by a sum of squares and by an elementwise product, is cheaper to compute again in each than to store:
// one subtraction, reading x where the consumers would read the stored difference. Each consumer takes a copy, and
// no loop nest computes x - mean alone. exp(x), read by the same two, is computed once and stored.
// CHECK-LABEL: func.func @centred_in_two_consumers
// CHECK-NOT: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.*}}, %{{.*}} : tensor<4x3x8xf32>, tensor<3xf32>) outs
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<4x3x8xf32>, tensor<3xf32>)
// CHECK: arith.subf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<4x3x8xf32>, tensor<4x3x8xf32>, tensor<3xf32>)
// CHECK: arith.subf
// CHECK-LABEL: func.func @exp_in_two_consumers
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.*}} : tensor<4x3x8xf32>)
// CHECK: math.exp
// CHECK-NOT: math.exp
// CHECK: return
#elementwise = affine_map<(n, c, l) -> (n, c, l)>
#channel = affine_map<(n, c, l) -> (c)>
#channel_first = affine_map<(c, n, l) -> (n, c, l)>
#channel_out = affine_map<(c, n, l) -> (c)>
func.func @centred_in_two_consumers(%x: tensor<4x3x8xf32>, %mean: tensor<3xf32>, %g: tensor<4x3x8xf32>) -> (tensor<3xf32>, tensor<4x3x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4x3x8xf32>
  %centred = linalg.generic {indexing_maps = [#elementwise, #channel, #elementwise], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %mean : tensor<4x3x8xf32>, tensor<3xf32>) outs(%empty : tensor<4x3x8xf32>) {
  ^bb0(%a: f32, %m: f32, %unused: f32):
    %d = arith.subf %a, %m : f32
    linalg.yield %d : f32
  } -> tensor<4x3x8xf32>
  %sums = tensor.empty() : tensor<3xf32>
  %zeros = linalg.fill ins(%zero : f32) outs(%sums : tensor<3xf32>) -> tensor<3xf32>
  %squares = linalg.generic {indexing_maps = [#channel_first, #channel_out], iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%centred : tensor<4x3x8xf32>) outs(%zeros : tensor<3xf32>) {
  ^bb0(%c: f32, %acc: f32):
    %s = arith.mulf %c, %c : f32
    %t = arith.addf %acc, %s : f32
    linalg.yield %t : f32
  } -> tensor<3xf32>
  %products = linalg.generic {indexing_maps = [#elementwise, #elementwise, #elementwise], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g, %centred : tensor<4x3x8xf32>, tensor<4x3x8xf32>) outs(%empty : tensor<4x3x8xf32>) {
  ^bb0(%a: f32, %c: f32, %unused: f32):
    %p = arith.mulf %a, %c : f32
    linalg.yield %p : f32
  } -> tensor<4x3x8xf32>
  return %squares, %products : tensor<3xf32>, tensor<4x3x8xf32>
}

func.func @exp_in_two_consumers(%x: tensor<4x3x8xf32>, %g: tensor<4x3x8xf32>) -> (tensor<3xf32>, tensor<4x3x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4x3x8xf32>
  %e = linalg.generic {indexing_maps = [#elementwise, #elementwise], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<4x3x8xf32>) outs(%empty : tensor<4x3x8xf32>) {
  ^bb0(%a: f32, %unused: f32):
    %d = math.exp %a : f32
    linalg.yield %d : f32
  } -> tensor<4x3x8xf32>
  %sums = tensor.empty() : tensor<3xf32>
  %zeros = linalg.fill ins(%zero : f32) outs(%sums : tensor<3xf32>) -> tensor<3xf32>
  %total = linalg.generic {indexing_maps = [#channel_first, #channel_out], iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%e : tensor<4x3x8xf32>) outs(%zeros : tensor<3xf32>) {
  ^bb0(%c: f32, %acc: f32):
    %t = arith.addf %acc, %c : f32
    linalg.yield %t : f32
  } -> tensor<3xf32>
  %products = linalg.generic {indexing_maps = [#elementwise, #elementwise, #elementwise], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%g, %e : tensor<4x3x8xf32>, tensor<4x3x8xf32>) outs(%empty : tensor<4x3x8xf32>) {
  ^bb0(%a: f32, %c: f32, %unused: f32):
    %p = arith.mulf %a, %c : f32
    linalg.yield %p : f32
  } -> tensor<4x3x8xf32>
  return %total, %products : tensor<3xf32>, tensor<4x3x8xf32>
}
