// ODS definitions of the seq ops that programs use beyond the DSL's layers: the primitives every VJP rule is
// written in (so that autodiff can run on its own output), the layers' backward ops, and the losses.
// Semantics are those of the reference interpreter (runtime/ProgramInterpreter.cpp). Each op's VJP is in
// compiler/VjpRules.cpp; every op here has one, so gradients of gradients stay inside this op set.
#ifndef SEQ_PROGRAM_OPS_TD
#define SEQ_PROGRAM_OPS_TD

// ---- elementwise, reductions and layout ------------------------------------------------------------------

def Seq_MulOp : Seq_ProgramOp<"mul", [Pure]> {
  let summary = "Elementwise product of two equally shaped tensors";
  let arguments = (ins Seq_Tensor:$lhs, Seq_Tensor:$rhs, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Seq_ReduceSumOp : Seq_ProgramOp<"reduce_sum", [Pure]> {
  let summary = "Sum over `axes` (sorted, unique); the result drops those axes (all axes: a rank-0 tensor)";
  let arguments = (ins Seq_Tensor:$input, DenseI64ArrayAttr:$axes, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Seq_BroadcastOp : Seq_ProgramOp<"broadcast", [Pure]> {
  let summary = "Repeats the input along `axes` of the result (the inverse of reduce_sum's shape change)";
  let arguments = (ins Seq_Tensor:$input, DenseI64ArrayAttr:$axes, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Seq_ReshapeOp : Seq_ProgramOp<"reshape", [Pure]> {
  let summary = "Row-major reshape to the result type (same number of elements)";
  let arguments = (ins Seq_Tensor:$input, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Seq_SliceOp : Seq_ProgramOp<"slice", [Pure]> {
  let summary = "The result-sized window of the input starting at `offset` along `axis`";
  let arguments = (ins Seq_Tensor:$input, I64Attr:$axis, I64Attr:$offset, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Seq_PadOp : Seq_ProgramOp<"pad", [Pure]> {
  let summary = "Zeros of the result type with the input placed at `offset` along `axis` (slice's transpose)";
  let arguments = (ins Seq_Tensor:$input, I64Attr:$axis, I64Attr:$offset, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

// Not ConstantLike: that trait promises a fold hook, and without one MLIR's constant uniquing merges every
// seq.constant of a type into one (a seed of 1 became the zero of another constant).
def Seq_ConstantOp : Seq_ProgramOp<"constant", [Pure]> {
  let summary = "A constant tensor (DFT matrices, smoothing kernels, seeds, zeros)";
  let arguments = (ins ElementsAttr:$value, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Seq_LogSoftmaxOp : Seq_ProgramOp<"log_softmax", [Pure]> {
  let summary = "log(softmax(x)) along `axis`, computed as x - max - log(sum(exp(x - max)))";
  let arguments = (ins Seq_Tensor:$input, I64Attr:$axis, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Seq_StopGradientOp : Seq_ProgramOp<"stop_gradient", [Pure]> {
  let summary = "The identity whose derivative is zero: a value autodiff treats as a constant";
  let description = [{
    The spectral-norm penalty's power-iteration vectors are computed from the weights but, as in Miyato et al.
    and PyTorch's spectral_norm, held constant when the penalty is differentiated.
  }];
  let arguments = (ins Seq_Tensor:$input, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Seq_SignedRankOp : Seq_ProgramOp<"signed_rank", [Pure]> {
  let summary = "r[..., i] = sum over j of sign(x[..., i] - x[..., j]) along the last axis (zero derivative)";
  let description = [{
    2 r[i] + n + 1 is the 1-based rank of x[i] among n distinct values; ties count 0. Piecewise constant, so its
    derivative is zero wherever it exists. With it, sum over i, j of |x_i - x_j| = 2 sum over i of x_i r_i, whose
    gradient 2 r is exact almost everywhere: the Gini coefficient without a sort.
  }];
  let arguments = (ins Seq_Tensor:$input, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Seq_BceWithLogitsOp : Seq_ProgramOp<"bce_with_logits", [Pure]> {
  let summary = "Elementwise binary cross-entropy of logits z and labels y: max(z, 0) - z y + log1p(exp(-|z|))";
  let arguments = (ins Seq_Tensor:$logits, Seq_Tensor:$labels, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

// ---- the Fourier attribution prior ------------------------------------------------------------------------

def Seq_FourierScoreOp : Seq_ProgramOp<"fourier_score", [Pure]> {
  let summary = "Tseng et al.'s Fourier score of attribution tracks (B, L) -> (B); the prior is 1 - score";
  let description = [{
    Per row a: s = a smoothed by the Gaussian of `sigma` positions truncated at 1 sigma (same padding; none for
    sigma 0), m_k = |rfft(s)_k| for k = 0 .. L/2, score = sum_k w_k m_k / sum_k m_k (0 for a row of zeros), with
    w_0 = 0 (DC dropped), w_k = 1 for k <= freq_limit and 1 / (1 + (k - freq_limit)^softness) above
    (dsl/FourierPriorTerms.h). One kernel on the GPU (compiler/FourierScoreKernels); conv1d, dense and
    elementwise ops on the CPU (compiler/FourierScoreDecomposition).
  }];
  let arguments = (ins Seq_Tensor:$track, I64Attr:$sigma, I64Attr:$freq_limit, F64Attr:$softness, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$track attr-dict `:` functional-type(operands, results)";
}

def Seq_FourierScoreGradOp : Seq_ProgramOp<"fourier_score_grad", [Pure]> {
  let summary = "fourier_score's VJP: the track cotangent (B, L) from the score cotangent (B)";
  let arguments = (ins Seq_Tensor:$track, Seq_Tensor:$output_grad, I64Attr:$sigma, I64Attr:$freq_limit,
                   F64Attr:$softness, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$track `,` $output_grad attr-dict `:` functional-type(operands, results)";
}

// ---- the layers' backward ops ----------------------------------------------------------------------------

def Seq_Conv1dInputGradOp : Seq_ProgramOp<"conv1d_input_grad", [Pure]> {
  let summary = "Transposed conv1d: the input cotangent (N, C, L) of conv1d from its output cotangent";
  let arguments = (ins Seq_Tensor:$output_grad, Seq_Tensor:$weight, I64Attr:$stride, I64Attr:$dilation,
                   StrAttr:$padding, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$output_grad `,` $weight attr-dict `:` functional-type(operands, results)";
}

def Seq_Conv1dWeightGradOp : Seq_ProgramOp<"conv1d_weight_grad", [Pure]> {
  let summary = "The weight cotangent [F, C, K] of conv1d: correlation of its input with its output cotangent";
  let arguments = (ins Seq_Tensor:$input, Seq_Tensor:$output_grad, I64Attr:$stride, I64Attr:$dilation,
                   StrAttr:$padding, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input `,` $output_grad attr-dict `:` functional-type(operands, results)";
}

def Seq_DenseInputGradOp : Seq_ProgramOp<"dense_input_grad", [Pure]> {
  let summary = "dx = dy W: the input cotangent (N, F) of dense from its output cotangent (N, U)";
  let arguments = (ins Seq_Tensor:$output_grad, Seq_Tensor:$weight, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$output_grad `,` $weight attr-dict `:` functional-type(operands, results)";
}

def Seq_DenseWeightGradOp : Seq_ProgramOp<"dense_weight_grad", [Pure]> {
  let summary = "dW = dy^T x: the weight cotangent [U, F] of dense";
  let arguments = (ins Seq_Tensor:$input, Seq_Tensor:$output_grad, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input `,` $output_grad attr-dict `:` functional-type(operands, results)";
}

def Seq_MaxPool1dGradOp : Seq_ProgramOp<"max_pool1d_grad", [Pure]> {
  let summary = "Routes each window's cotangent to the window's first maximum of `input` (PyTorch's tie rule)";
  let arguments = (ins Seq_Tensor:$input, Seq_Tensor:$output_grad, I64Attr:$size, I64Attr:$stride,
                   StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input `,` $output_grad attr-dict `:` functional-type(operands, results)";
}

def Seq_MaxPool1dSelectOp : Seq_ProgramOp<"max_pool1d_select", [Pure]> {
  let summary = "Per window of `input`, the element of `values` at the window's first maximum";
  let arguments = (ins Seq_Tensor:$input, Seq_Tensor:$values, I64Attr:$size, I64Attr:$stride, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$input `,` $values attr-dict `:` functional-type(operands, results)";
}

def Seq_AvgPool1dGradOp : Seq_ProgramOp<"avg_pool1d_grad", [Pure]> {
  let summary = "avg_pool1d's transpose: each window's cotangent / size spread over the window";
  let arguments = (ins Seq_Tensor:$output_grad, I64Attr:$size, I64Attr:$stride, StrAttr:$layer);
  let results = (outs Seq_Tensor:$result);
  let assemblyFormat = "$output_grad attr-dict `:` functional-type(operands, results)";
}

#endif // SEQ_PROGRAM_OPS_TD
