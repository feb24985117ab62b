// ODS definitions of every seq op; semantics are those of the reference interpreter (runtime/).
#ifndef SEQ_OPS_TD
#define SEQ_OPS_TD

include "compiler/SeqDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Seq_Tensor : RankedTensorOf<[F32, F64]>;

class Seq_UnaryOp<string mnemonic, dag attributes, string doc> : Seq_Op<mnemonic, [Pure]> {
  let summary = doc;
  let arguments = !con((ins Seq_Tensor:$input), attributes, (ins StrAttr:$layer));
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Seq_Conv1dOp : Seq_Op<"conv1d", [Pure]> {
  let summary = "1-D cross-correlation, weight [F, C, K], optional bias [F]";
  let arguments = (ins Seq_Tensor:$input, Seq_Tensor:$weight, Optional<Seq_Tensor>:$bias,
                   I64Attr:$stride, I64Attr:$dilation, StrAttr:$padding, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Seq_BatchNormOp : Seq_Op<"batch_norm", [Pure]> {
  let summary = "Batch normalisation over channels (running statistics, or batch statistics in training)";
  let arguments = (ins Seq_Tensor:$input, Seq_Tensor:$weight, Seq_Tensor:$bias, Seq_Tensor:$running_mean,
                   Seq_Tensor:$running_var, F64Attr:$eps, F64Attr:$momentum, BoolAttr:$training,
                   StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $running_mean `,` $running_var attr-dict `:` functional-type(operands, results)
  }];
}

def Seq_ActivationOp : Seq_UnaryOp<"activation",
    (ins StrAttr:$kind, F64Attr:$scale, F64Attr:$shift, F64Attr:$alpha),
    "f(scale * x + shift) for f in relu, exp, softplus, sigmoid, tanh, elu, linear, log_relu, and the "
    "primitives gradients use: step, sign, abs, square, sqrt, rsqrt, reciprocal, log">;
def Seq_MaxPool1dOp : Seq_UnaryOp<"max_pool1d", (ins I64Attr:$size, I64Attr:$stride),
    "Maximum over windows of `size` every `stride`, no padding">;
def Seq_AvgPool1dOp : Seq_UnaryOp<"avg_pool1d", (ins I64Attr:$size, I64Attr:$stride),
    "Mean over windows of `size` every `stride`, no padding">;
def Seq_GlobalMaxPoolOp : Seq_UnaryOp<"global_max_pool", (ins), "Maximum over the length axis">;
def Seq_GlobalAvgPoolOp : Seq_UnaryOp<"global_avg_pool", (ins), "Mean over the length axis">;
def Seq_DropoutOp : Seq_UnaryOp<"dropout", (ins F64Attr:$rate), "Inverted dropout; the identity in inference">;
def Seq_FlattenOp : Seq_UnaryOp<"flatten", (ins), "Channel-major flatten (N, C, L) -> (N, C * L)">;
def Seq_ReverseComplementOp : Seq_UnaryOp<"reverse_complement", (ins),
    "Reverses the channel and length axes: the reverse complement of one-hot ACGT">;

def Seq_DenseOp : Seq_Op<"dense", [Pure]> {
  let summary = "y = x W^T + b, weight [U, F], optional bias [U]";
  let arguments = (ins Seq_Tensor:$input, Seq_Tensor:$weight, Optional<Seq_Tensor>:$bias, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

class Seq_VariadicOp<string mnemonic, string doc> : Seq_Op<mnemonic, [Pure]> {
  let summary = doc;
  let arguments = (ins Variadic<Seq_Tensor>:$inputs, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results)";
}

def Seq_AddOp : Seq_VariadicOp<"add", "Elementwise sum of equally shaped tensors">;
def Seq_ConcatOp : Seq_VariadicOp<"concat", "Concatenation along the channel axis">;

include "compiler/SeqProgramOps.td"

#endif // SEQ_OPS_TD
