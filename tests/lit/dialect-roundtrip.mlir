// Every seq op prints and parses back to the same IR; dynamic batch dimensions verify.
// RUN: %seqjit-opt %s | %seqjit-opt | FileCheck %s

// CHECK-LABEL: func.func @all_ops
func.func @all_ops(%x: tensor<?x4x20xf32>, %w: tensor<8x4x5xf32>, %b: tensor<8xf32>, %g: tensor<8xf32>,
                   %be: tensor<8xf32>, %m: tensor<8xf32>, %v: tensor<8xf32>, %dw: tensor<3x16xf32>) -> tensor<?x3xf32> {
  // CHECK: seq.reverse_complement %{{.*}} {layer = "rc"} : tensor<?x4x20xf32> -> tensor<?x4x20xf32>
  %rc = seq.reverse_complement %x {layer = "rc"} : tensor<?x4x20xf32> -> tensor<?x4x20xf32>
  // CHECK: seq.concat %{{.*}}, %{{.*}} {layer = "cat"} : (tensor<?x4x20xf32>, tensor<?x4x20xf32>) -> tensor<?x8x20xf32>
  %cat = seq.concat %x, %rc {layer = "cat"} : (tensor<?x4x20xf32>, tensor<?x4x20xf32>) -> tensor<?x8x20xf32>
  // CHECK: seq.conv1d %{{.*}}, %{{.*}}, %{{.*}} {dilation = 1 : i64, layer = "conv1", padding = "same", stride = 1 : i64}
  %c = seq.conv1d %x, %w, %b {stride = 1 : i64, dilation = 1 : i64, padding = "same", layer = "conv1"} : (tensor<?x4x20xf32>, tensor<8x4x5xf32>, tensor<8xf32>) -> tensor<?x8x20xf32>
  // CHECK: seq.batch_norm
  %n = seq.batch_norm %c, %g, %be, %m, %v {eps = 1.0e-3 : f64, momentum = 0.01 : f64, training = false, layer = "bn1"} : (tensor<?x8x20xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8x20xf32>
  // CHECK: seq.activation %{{.*}} {alpha = 1.000000e+00 : f64, kind = "exp"
  %a = seq.activation %n {kind = "exp", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "act1"} : tensor<?x8x20xf32> -> tensor<?x8x20xf32>
  // CHECK: seq.add
  %s = seq.add %a, %cat {layer = "res"} : (tensor<?x8x20xf32>, tensor<?x8x20xf32>) -> tensor<?x8x20xf32>
  // CHECK: seq.dropout %{{.*}} {layer = "drop", rate = 1.000000e-01 : f64}
  %d = seq.dropout %s {rate = 0.1 : f64, layer = "drop"} : tensor<?x8x20xf32> -> tensor<?x8x20xf32>
  // CHECK: seq.max_pool1d %{{.*}} {layer = "pool", size = 10 : i64, stride = 10 : i64} : tensor<?x8x20xf32> -> tensor<?x8x2xf32>
  %p = seq.max_pool1d %d {size = 10 : i64, stride = 10 : i64, layer = "pool"} : tensor<?x8x20xf32> -> tensor<?x8x2xf32>
  // CHECK: seq.avg_pool1d %{{.*}} : tensor<?x8x20xf32> -> tensor<?x8x9xf32>
  %q = seq.avg_pool1d %d {size = 4 : i64, stride = 2 : i64, layer = "avg"} : tensor<?x8x20xf32> -> tensor<?x8x9xf32>
  // CHECK: seq.global_max_pool %{{.*}} : tensor<?x8x9xf32> -> tensor<?x8xf32>
  %gm = seq.global_max_pool %q {layer = "gmax"} : tensor<?x8x9xf32> -> tensor<?x8xf32>
  // CHECK: seq.global_avg_pool %{{.*}} : tensor<?x8x9xf32> -> tensor<?x8xf32>
  %ga = seq.global_avg_pool %q {layer = "gavg"} : tensor<?x8x9xf32> -> tensor<?x8xf32>
  // CHECK: seq.flatten %{{.*}} : tensor<?x8x2xf32> -> tensor<?x16xf32>
  %f = seq.flatten %p {layer = "flat"} : tensor<?x8x2xf32> -> tensor<?x16xf32>
  // CHECK: seq.dense %{{.*}}, %{{.*}} {layer = "out"} : (tensor<?x16xf32>, tensor<3x16xf32>) -> tensor<?x3xf32>
  %o = seq.dense %f, %dw {layer = "out"} : (tensor<?x16xf32>, tensor<3x16xf32>) -> tensor<?x3xf32>
  return %o : tensor<?x3xf32>
}
