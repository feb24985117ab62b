// An op the seq dialect does not define is refused by name, with its location.
// RUN: %not %seqjit-opt %s 2>&1 | FileCheck %s

// CHECK: unknown-op.mlir:6:8: error: custom op 'seq.conv2d' is unknown
func.func @unknown(%x: tensor<2x4x20xf32>) -> tensor<2x4x20xf32> {
  %r = seq.conv2d %x {layer = "conv"} : tensor<2x4x20xf32> -> tensor<2x4x20xf32>
  return %r : tensor<2x4x20xf32>
}
