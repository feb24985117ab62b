// Each verifier rule of the program ops (compiler/SeqProgramOps.td) names the layer and what was expected.
// RUN: %seqjit-opt %s -split-input-file -verify-diagnostics

func.func @element_types(%a: tensor<2x4xf32>, %b: tensor<2x4xf64>) -> tensor<2x4xf32> {
  // expected-error @+1 {{(layer 'm'): element types differ: 'tensor<2x4xf64>' vs result 'tensor<2x4xf32>'}}
  %r = seq.mul %a, %b {layer = "m"} : (tensor<2x4xf32>, tensor<2x4xf64>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

func.func @mul_shapes(%a: tensor<2x4xf32>, %b: tensor<2x5xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{(layer 'm'): operand and result shapes differ: 'tensor<2x5xf32>' vs result 'tensor<2x4xf32>'}}
  %r = seq.mul %a, %b {layer = "m"} : (tensor<2x4xf32>, tensor<2x5xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

func.func @reduce_axes_unsorted(%a: tensor<2x4x5xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{(layer 's'): axes must be sorted, unique and in [0, 3), got [2, 0]}}
  %r = seq.reduce_sum %a {axes = array<i64: 2, 0>, layer = "s"} : (tensor<2x4x5xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @reduce_result(%a: tensor<2x4x5xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{(layer 's'): result type 'tensor<5xf32>' is not the input 'tensor<2x4x5xf32>' without axes [0, 2]}}
  %r = seq.reduce_sum %a {axes = array<i64: 0, 2>, layer = "s"} : (tensor<2x4x5xf32>) -> tensor<5xf32>
  return %r : tensor<5xf32>
}

// -----

func.func @broadcast_axes_range(%a: tensor<4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{(layer 'b'): axes must be sorted, unique and in [0, 2), got [2]}}
  %r = seq.broadcast %a {axes = array<i64: 2>, layer = "b"} : (tensor<4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

func.func @broadcast_rank(%a: tensor<4xf32>) -> tensor<2x4x5xf32> {
  // expected-error @+1 {{(layer 'b'): result rank 3 is not the input rank 1 plus 1 axes}}
  %r = seq.broadcast %a {axes = array<i64: 0>, layer = "b"} : (tensor<4xf32>) -> tensor<2x4x5xf32>
  return %r : tensor<2x4x5xf32>
}

// -----

func.func @broadcast_result(%a: tensor<4xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{(layer 'b'): result type 'tensor<2x5xf32>' without axes [0] is not the input 'tensor<4xf32>'}}
  %r = seq.broadcast %a {axes = array<i64: 0>, layer = "b"} : (tensor<4xf32>) -> tensor<2x5xf32>
  return %r : tensor<2x5xf32>
}

// -----

func.func @reshape_count(%a: tensor<2x4x5xf32>) -> tensor<2x21xf32> {
  // expected-error @+1 {{(layer 'r'): element counts differ: 'tensor<2x4x5xf32>' has 40, result 'tensor<2x21xf32>' has 42}}
  %r = seq.reshape %a {layer = "r"} : (tensor<2x4x5xf32>) -> tensor<2x21xf32>
  return %r : tensor<2x21xf32>
}

// -----

func.func @slice_rank(%a: tensor<2x4x5xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{(layer 's'): ranks differ: 'tensor<2x4x5xf32>' vs 'tensor<2x4xf32>'}}
  %r = seq.slice %a {axis = 2 : i64, offset = 0 : i64, layer = "s"} : (tensor<2x4x5xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

func.func @slice_axis(%a: tensor<2x4x5xf32>) -> tensor<2x4x3xf32> {
  // expected-error @+1 {{(layer 's'): axis 3 is out of range for rank 3}}
  %r = seq.slice %a {axis = 3 : i64, offset = 0 : i64, layer = "s"} : (tensor<2x4x5xf32>) -> tensor<2x4x3xf32>
  return %r : tensor<2x4x3xf32>
}

// -----

func.func @slice_other_dims(%a: tensor<2x4x5xf32>) -> tensor<2x3x3xf32> {
  // expected-error @+1 {{(layer 's'): shapes differ outside axis 2: 'tensor<2x4x5xf32>' vs 'tensor<2x3x3xf32>'}}
  %r = seq.slice %a {axis = 2 : i64, offset = 0 : i64, layer = "s"} : (tensor<2x4x5xf32>) -> tensor<2x3x3xf32>
  return %r : tensor<2x3x3xf32>
}

// -----

func.func @slice_offset(%a: tensor<2x4x5xf32>) -> tensor<2x4x3xf32> {
  // expected-error @+1 {{(layer 's'): window [3, 3 + 3) along axis 2 is not inside length 5}}
  %r = seq.slice %a {axis = 2 : i64, offset = 3 : i64, layer = "s"} : (tensor<2x4x5xf32>) -> tensor<2x4x3xf32>
  return %r : tensor<2x4x3xf32>
}

// -----

func.func @pad_offset(%a: tensor<2x4x3xf32>) -> tensor<2x4x5xf32> {
  // expected-error @+1 {{(layer 'p'): window [-1, -1 + 3) along axis 2 is not inside length 5}}
  %r = seq.pad %a {axis = 2 : i64, offset = -1 : i64, layer = "p"} : (tensor<2x4x3xf32>) -> tensor<2x4x5xf32>
  return %r : tensor<2x4x5xf32>
}

// -----

func.func @constant_type() -> tensor<2xf32> {
  // expected-error @+1 {{(layer 'c'): value type 'tensor<3xf32>' is not the result type 'tensor<2xf32>'}}
  %r = seq.constant {value = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>, layer = "c"} : tensor<2xf32>
  return %r : tensor<2xf32>
}

// -----

func.func @log_softmax_shape(%a: tensor<2x4xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{(layer 'l'): operand and result shapes differ: 'tensor<2x4xf32>' vs result 'tensor<2x5xf32>'}}
  %r = seq.log_softmax %a {axis = 1 : i64, layer = "l"} : (tensor<2x4xf32>) -> tensor<2x5xf32>
  return %r : tensor<2x5xf32>
}

// -----

func.func @log_softmax_axis(%a: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{(layer 'l'): axis 2 is out of range for rank 2}}
  %r = seq.log_softmax %a {axis = 2 : i64, layer = "l"} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

func.func @bce_shapes(%z: tensor<2x4xf32>, %y: tensor<2x3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{(layer 'loss'): operand and result shapes differ: 'tensor<2x3xf32>' vs result 'tensor<2x4xf32>'}}
  %r = seq.bce_with_logits %z, %y {layer = "loss"} : (tensor<2x4xf32>, tensor<2x3xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

func.func @conv_input_grad_layout(%dy: tensor<2x8x16xf32>, %w: tensor<8x4xf32>) -> tensor<2x4x20xf32> {
  // expected-error @+1 {{(layer 'conv1'): weight must be [filters, channels, width], got 'tensor<8x4xf32>'}}
  %r = seq.conv1d_input_grad %dy, %w {stride = 1 : i64, dilation = 1 : i64, padding = "valid", layer = "conv1"} : (tensor<2x8x16xf32>, tensor<8x4xf32>) -> tensor<2x4x20xf32>
  return %r : tensor<2x4x20xf32>
}

// -----

func.func @conv_input_grad_batch(%dy: tensor<3x8x16xf32>, %w: tensor<8x4x5xf32>) -> tensor<2x4x20xf32> {
  // expected-error @+1 {{(layer 'conv1'): batch sizes differ: 'tensor<3x8x16xf32>' vs 'tensor<2x4x20xf32>'}}
  %r = seq.conv1d_input_grad %dy, %w {stride = 1 : i64, dilation = 1 : i64, padding = "valid", layer = "conv1"} : (tensor<3x8x16xf32>, tensor<8x4x5xf32>) -> tensor<2x4x20xf32>
  return %r : tensor<2x4x20xf32>
}

// -----

func.func @conv_input_grad_filters(%dy: tensor<2x7x16xf32>, %w: tensor<8x4x5xf32>) -> tensor<2x4x20xf32> {
  // expected-error @+1 {{(layer 'conv1'): filters differ: 'tensor<2x7x16xf32>' vs 'tensor<8x4x5xf32>'}}
  %r = seq.conv1d_input_grad %dy, %w {stride = 1 : i64, dilation = 1 : i64, padding = "valid", layer = "conv1"} : (tensor<2x7x16xf32>, tensor<8x4x5xf32>) -> tensor<2x4x20xf32>
  return %r : tensor<2x4x20xf32>
}

// -----

func.func @conv_input_grad_channels(%dy: tensor<2x8x16xf32>, %w: tensor<8x4x5xf32>) -> tensor<2x3x20xf32> {
  // expected-error @+1 {{(layer 'conv1'): channels differ: 'tensor<8x4x5xf32>' vs 'tensor<2x3x20xf32>'}}
  %r = seq.conv1d_input_grad %dy, %w {stride = 1 : i64, dilation = 1 : i64, padding = "valid", layer = "conv1"} : (tensor<2x8x16xf32>, tensor<8x4x5xf32>) -> tensor<2x3x20xf32>
  return %r : tensor<2x3x20xf32>
}

// -----

func.func @conv_input_grad_padding(%dy: tensor<2x8x16xf32>, %w: tensor<8x4x5xf32>) -> tensor<2x4x20xf32> {
  // expected-error @+1 {{(layer 'conv1'): padding must be 'same' or 'valid', got 'full'}}
  %r = seq.conv1d_input_grad %dy, %w {stride = 1 : i64, dilation = 1 : i64, padding = "full", layer = "conv1"} : (tensor<2x8x16xf32>, tensor<8x4x5xf32>) -> tensor<2x4x20xf32>
  return %r : tensor<2x4x20xf32>
}

// -----

func.func @conv_input_grad_stride(%dy: tensor<2x8x16xf32>, %w: tensor<8x4x5xf32>) -> tensor<2x4x20xf32> {
  // expected-error @+1 {{(layer 'conv1'): stride and dilation must be positive, got stride 0 and dilation 1}}
  %r = seq.conv1d_input_grad %dy, %w {stride = 0 : i64, dilation = 1 : i64, padding = "valid", layer = "conv1"} : (tensor<2x8x16xf32>, tensor<8x4x5xf32>) -> tensor<2x4x20xf32>
  return %r : tensor<2x4x20xf32>
}

// -----

func.func @conv_input_grad_length(%dy: tensor<2x8x16xf32>, %w: tensor<8x4x5xf32>) -> tensor<2x4x20xf32> {
  // expected-error @+1 {{(layer 'conv1'): output length 16 does not match input length 20: a conv1d of width 5, stride 2, dilation 1 and padding 'same' gives 10}}
  %r = seq.conv1d_input_grad %dy, %w {stride = 2 : i64, dilation = 1 : i64, padding = "same", layer = "conv1"} : (tensor<2x8x16xf32>, tensor<8x4x5xf32>) -> tensor<2x4x20xf32>
  return %r : tensor<2x4x20xf32>
}

// -----

func.func @conv_weight_grad_length(%x: tensor<2x4x20xf32>, %dy: tensor<2x8x16xf32>) -> tensor<8x4x3xf32> {
  // expected-error @+1 {{(layer 'conv1'): output length 16 does not match input length 20: a conv1d of width 3, stride 1, dilation 1 and padding 'valid' gives 18}}
  %r = seq.conv1d_weight_grad %x, %dy {stride = 1 : i64, dilation = 1 : i64, padding = "valid", layer = "conv1"} : (tensor<2x4x20xf32>, tensor<2x8x16xf32>) -> tensor<8x4x3xf32>
  return %r : tensor<8x4x3xf32>
}

// -----

func.func @conv_weight_grad_filters(%x: tensor<2x4x20xf32>, %dy: tensor<2x8x16xf32>) -> tensor<6x4x5xf32> {
  // expected-error @+1 {{(layer 'conv1'): filters differ: 'tensor<2x8x16xf32>' vs 'tensor<6x4x5xf32>'}}
  %r = seq.conv1d_weight_grad %x, %dy {stride = 1 : i64, dilation = 1 : i64, padding = "valid", layer = "conv1"} : (tensor<2x4x20xf32>, tensor<2x8x16xf32>) -> tensor<6x4x5xf32>
  return %r : tensor<6x4x5xf32>
}

// -----

func.func @dense_input_grad_units(%dy: tensor<2x3xf32>, %w: tensor<4x16xf32>) -> tensor<2x16xf32> {
  // expected-error @+1 {{(layer 'out'): units differ: 'tensor<2x3xf32>' vs 'tensor<4x16xf32>'}}
  %r = seq.dense_input_grad %dy, %w {layer = "out"} : (tensor<2x3xf32>, tensor<4x16xf32>) -> tensor<2x16xf32>
  return %r : tensor<2x16xf32>
}

// -----

func.func @dense_input_grad_features(%dy: tensor<2x3xf32>, %w: tensor<3x16xf32>) -> tensor<2x15xf32> {
  // expected-error @+1 {{(layer 'out'): features differ: 'tensor<3x16xf32>' vs 'tensor<2x15xf32>'}}
  %r = seq.dense_input_grad %dy, %w {layer = "out"} : (tensor<2x3xf32>, tensor<3x16xf32>) -> tensor<2x15xf32>
  return %r : tensor<2x15xf32>
}

// -----

func.func @dense_weight_grad_batch(%x: tensor<2x16xf32>, %dy: tensor<3x3xf32>) -> tensor<3x16xf32> {
  // expected-error @+1 {{(layer 'out'): batch sizes differ: 'tensor<2x16xf32>' vs 'tensor<3x3xf32>'}}
  %r = seq.dense_weight_grad %x, %dy {layer = "out"} : (tensor<2x16xf32>, tensor<3x3xf32>) -> tensor<3x16xf32>
  return %r : tensor<3x16xf32>
}

// -----

func.func @dense_weight_grad_layout(%x: tensor<2x4x4xf32>, %dy: tensor<2x3xf32>) -> tensor<3x16xf32> {
  // expected-error @+1 {{(layer 'out'): input must be [batch, features], got 'tensor<2x4x4xf32>'}}
  %r = seq.dense_weight_grad %x, %dy {layer = "out"} : (tensor<2x4x4xf32>, tensor<2x3xf32>) -> tensor<3x16xf32>
  return %r : tensor<3x16xf32>
}

// -----

func.func @max_pool_grad_result(%x: tensor<2x4x20xf32>, %dy: tensor<2x4x9xf32>) -> tensor<2x4x21xf32> {
  // expected-error @+1 {{(layer 'pool'): result type 'tensor<2x4x21xf32>' is not the input type 'tensor<2x4x20xf32>'}}
  %r = seq.max_pool1d_grad %x, %dy {size = 4 : i64, stride = 2 : i64, layer = "pool"} : (tensor<2x4x20xf32>, tensor<2x4x9xf32>) -> tensor<2x4x21xf32>
  return %r : tensor<2x4x21xf32>
}

// -----

func.func @max_pool_grad_size(%x: tensor<2x4x20xf32>, %dy: tensor<2x4x9xf32>) -> tensor<2x4x20xf32> {
  // expected-error @+1 {{(layer 'pool'): pool size and stride must be positive, got size 0 and stride 2}}
  %r = seq.max_pool1d_grad %x, %dy {size = 0 : i64, stride = 2 : i64, layer = "pool"} : (tensor<2x4x20xf32>, tensor<2x4x9xf32>) -> tensor<2x4x20xf32>
  return %r : tensor<2x4x20xf32>
}

// -----

func.func @max_pool_grad_too_short(%x: tensor<2x4x3xf32>, %dy: tensor<2x4x1xf32>) -> tensor<2x4x3xf32> {
  // expected-error @+1 {{(layer 'pool'): input length 3 is shorter than the pool size 4}}
  %r = seq.max_pool1d_grad %x, %dy {size = 4 : i64, stride = 2 : i64, layer = "pool"} : (tensor<2x4x3xf32>, tensor<2x4x1xf32>) -> tensor<2x4x3xf32>
  return %r : tensor<2x4x3xf32>
}

// -----

func.func @max_pool_grad_length(%x: tensor<2x4x20xf32>, %dy: tensor<2x4x10xf32>) -> tensor<2x4x20xf32> {
  // expected-error @+1 {{(layer 'pool'): output length 10 does not match input length 20: windows of size 4 every 2 give 9}}
  %r = seq.max_pool1d_grad %x, %dy {size = 4 : i64, stride = 2 : i64, layer = "pool"} : (tensor<2x4x20xf32>, tensor<2x4x10xf32>) -> tensor<2x4x20xf32>
  return %r : tensor<2x4x20xf32>
}

// -----

func.func @max_pool_select_values(%x: tensor<2x4x20xf32>, %v: tensor<2x4x19xf32>) -> tensor<2x4x9xf32> {
  // expected-error @+1 {{(layer 'pool'): values type 'tensor<2x4x19xf32>' is not the input type 'tensor<2x4x20xf32>'}}
  %r = seq.max_pool1d_select %x, %v {size = 4 : i64, stride = 2 : i64, layer = "pool"} : (tensor<2x4x20xf32>, tensor<2x4x19xf32>) -> tensor<2x4x9xf32>
  return %r : tensor<2x4x9xf32>
}

// -----

func.func @max_pool_select_channels(%x: tensor<2x4x20xf32>, %v: tensor<2x4x20xf32>) -> tensor<2x3x9xf32> {
  // expected-error @+1 {{(layer 'pool'): channels differ: 'tensor<2x4x20xf32>' vs 'tensor<2x3x9xf32>'}}
  %r = seq.max_pool1d_select %x, %v {size = 4 : i64, stride = 2 : i64, layer = "pool"} : (tensor<2x4x20xf32>, tensor<2x4x20xf32>) -> tensor<2x3x9xf32>
  return %r : tensor<2x3x9xf32>
}

// -----

func.func @avg_pool_grad_length(%dy: tensor<2x4x9xf32>) -> tensor<2x4x20xf32> {
  // expected-error @+1 {{(layer 'avg'): output length 9 does not match input length 20: windows of size 4 every 3 give 6}}
  %r = seq.avg_pool1d_grad %dy {size = 4 : i64, stride = 3 : i64, layer = "avg"} : (tensor<2x4x9xf32>) -> tensor<2x4x20xf32>
  return %r : tensor<2x4x20xf32>
}

// -----

func.func @signed_rank_scalar(%a: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{(layer 'g'): needs an axis to rank along; got rank-0 'tensor<f32>'}}
  %r = seq.signed_rank %a {layer = "g"} : (tensor<f32>) -> tensor<f32>
  return %r : tensor<f32>
}
