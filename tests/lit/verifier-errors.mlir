// The verifiers call the DSL's shape functions: each bad shape or attribute names the layer and what was expected.
// RUN: %seqjit-opt %s -split-input-file -verify-diagnostics

func.func @wrong_result_length(%x: tensor<2x4x20xf32>, %w: tensor<8x4x5xf32>) -> tensor<2x8x20xf32> {
  // expected-error @+1 {{(layer 'conv1'): result type 'tensor<2x8x20xf32>' does not match the inferred example shape (8, 16)}}
  %c = seq.conv1d %x, %w {stride = 1 : i64, dilation = 1 : i64, padding = "valid", layer = "conv1"} : (tensor<2x4x20xf32>, tensor<8x4x5xf32>) -> tensor<2x8x20xf32>
  return %c : tensor<2x8x20xf32>
}

// -----

func.func @bad_padding(%x: tensor<2x4x20xf32>, %w: tensor<8x4x5xf32>) -> tensor<2x8x20xf32> {
  // expected-error @+1 {{(layer 'conv1'): padding must be 'same' or 'valid', got 'full'}}
  %c = seq.conv1d %x, %w {stride = 1 : i64, dilation = 1 : i64, padding = "full", layer = "conv1"} : (tensor<2x4x20xf32>, tensor<8x4x5xf32>) -> tensor<2x8x20xf32>
  return %c : tensor<2x8x20xf32>
}

// -----

func.func @wrong_channels(%x: tensor<2x4x20xf32>, %w: tensor<8x3x5xf32>) -> tensor<2x8x20xf32> {
  // expected-error @+1 {{(layer 'conv1'): parameter 'weight' has type 'tensor<8x3x5xf32>', expected shape (8, 4, 5)}}
  %c = seq.conv1d %x, %w {stride = 1 : i64, dilation = 1 : i64, padding = "same", layer = "conv1"} : (tensor<2x4x20xf32>, tensor<8x3x5xf32>) -> tensor<2x8x20xf32>
  return %c : tensor<2x8x20xf32>
}

// -----

func.func @unknown_activation(%x: tensor<2x4x20xf32>) -> tensor<2x4x20xf32> {
  // expected-error @+1 {{(layer 'act'): unknown activation kind 'swish'}}
  %a = seq.activation %x {kind = "swish", scale = 1.0 : f64, shift = 0.0 : f64, alpha = 1.0 : f64, layer = "act"} : tensor<2x4x20xf32> -> tensor<2x4x20xf32>
  return %a : tensor<2x4x20xf32>
}

// -----

func.func @pool_too_large(%x: tensor<2x4x20xf32>) -> tensor<2x4x1xf32> {
  // expected-error @+1 {{(layer 'pool'): input length 20 is shorter than the pool size 30}}
  %p = seq.max_pool1d %x {size = 30 : i64, stride = 30 : i64, layer = "pool"} : tensor<2x4x20xf32> -> tensor<2x4x1xf32>
  return %p : tensor<2x4x1xf32>
}

// -----

func.func @dense_needs_flatten(%x: tensor<2x4x20xf32>, %w: tensor<3x80xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{(layer 'out'): expected a (features) input, got shape (4, 20): flatten or pool globally first}}
  %d = seq.dense %x, %w {layer = "out"} : (tensor<2x4x20xf32>, tensor<3x80xf32>) -> tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}

// -----

func.func @add_mismatch(%x: tensor<2x4x20xf32>, %y: tensor<2x4x10xf32>) -> tensor<2x4x20xf32> {
  // expected-error @+1 {{(layer 'res'): add inputs must have equal shapes, got (4, 20) and (4, 10)}}
  %s = seq.add %x, %y {layer = "res"} : (tensor<2x4x20xf32>, tensor<2x4x10xf32>) -> tensor<2x4x20xf32>
  return %s : tensor<2x4x20xf32>
}

// -----

func.func @batch_mismatch(%x: tensor<2x4x20xf32>) -> tensor<3x4x20xf32> {
  // expected-error @+1 {{(layer 'rc'): batch sizes differ}}
  %r = seq.reverse_complement %x {layer = "rc"} : tensor<2x4x20xf32> -> tensor<3x4x20xf32>
  return %r : tensor<3x4x20xf32>
}
