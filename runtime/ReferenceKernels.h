// The reference kernels: one plain loop nest per seq op on host arrays, shared by both reference interpreters.
//
// Each kernel is the definition of its op (compiler/SeqOps.td, compiler/SeqProgramOps.td), written so it can be read
// against PyTorch's documentation line by line; clarity beats speed. Arithmetic happens in T (float accumulates in
// float). Layouts are PyTorch's: sequences (N, C, L), features (N, F), conv weight [F, C, K], dense weight [U, F].
// Kernels check their operands' shapes and throw seqjit::Error saying what disagrees; the message names neither op
// nor layer, which the calling interpreter prefixes.
#pragma once

#include "dsl/OpSpec.h"
#include "runtime/HostArray.h"

#include <cstdint>
#include <string>
#include <vector>

namespace seqjit::kernels {

/// "(2, 4, 10)": an array shape (or an index) in messages.
std::string shapeString(const std::vector<int64_t> &shape);

/// The coordinates of flat index `index` in a row-major array of `shape`.
std::vector<int64_t> unravelIndex(int64_t index, const std::vector<int64_t> &shape);

// ---- the DSL's layers ---------------------------------------------------------------------------------------

/// y[n, f, o] = bias[f] + sum_c sum_k weight[f, c, k] * x[n, c, o * stride + k * dilation - padLeft], zero outside
/// the input. 'same' padding is PyTorch's and Keras's: the odd pad goes on the right. `bias` may be null.
template <typename T>
HostArray<T> conv1d(const HostArray<T> &x, const HostArray<T> &weight, const HostArray<T> *bias, int64_t stride,
                    int64_t dilation, Padding padding);

/// Per channel of an (N, C, L) or (N, F) input: y = (x - mean) / sqrt(var + eps) * gamma + beta, with the running
/// statistics, or in training the batch mean and biased batch variance over N (and L), as PyTorch normalises.
template <typename T>
HostArray<T> batchNorm(const HostArray<T> &x, const HostArray<T> &gamma, const HostArray<T> &beta,
                       const HostArray<T> &runningMean, const HostArray<T> &runningVar, double eps, bool training);

/// f(scale * x + shift) elementwise, with the defined numerics of dsl/OpSpec.h (step(0) = 0, sign(0) = 0,
/// reciprocal(0) = 0, log(0) = -inf); rsqrt(0) = +inf.
template <typename T>
HostArray<T> activation(const HostArray<T> &x, ActivationKind kind, double scale, double shift, double alpha);

/// Maximum over windows of `size` starting every `stride` of an (N, C, L) input, no padding, as many as fit.
template <typename T> HostArray<T> maxPool1d(const HostArray<T> &x, int64_t size, int64_t stride);

/// Mean over windows of `size` starting every `stride` of an (N, C, L) input, no padding, as many as fit.
template <typename T> HostArray<T> avgPool1d(const HostArray<T> &x, int64_t size, int64_t stride);

/// Maximum over the length axis: (N, C, L) -> (N, C).
template <typename T> HostArray<T> globalMaxPool(const HostArray<T> &x);

/// Mean over the length axis: (N, C, L) -> (N, C).
template <typename T> HostArray<T> globalAvgPool(const HostArray<T> &x);

/// Channel-major (N, C, L) -> (N, C * L), exactly torch.flatten(x, 1).
template <typename T> HostArray<T> flatten(const HostArray<T> &x);

/// y = x weight^T + bias for x (N, F), weight [U, F]; `bias` may be null.
template <typename T> HostArray<T> dense(const HostArray<T> &x, const HostArray<T> &weight, const HostArray<T> *bias);

/// Elementwise sum of one or more equally shaped arrays.
template <typename T> HostArray<T> add(const std::vector<const HostArray<T> *> &inputs);

/// Concatenation along axis 1 (channels or features); the inputs agree on every other axis.
template <typename T> HostArray<T> concat(const std::vector<const HostArray<T> *> &inputs);

/// y[n, c, l] = x[n, C - 1 - c, L - 1 - l]: with rows A C G T, the reverse complement.
template <typename T> HostArray<T> reverseComplement(const HostArray<T> &x);

// ---- elementwise, reductions and layout ---------------------------------------------------------------------

/// Elementwise product of two equally shaped arrays.
template <typename T> HostArray<T> mul(const HostArray<T> &lhs, const HostArray<T> &rhs);

/// Sum over `axes` (sorted, unique); the result drops those axes (all of them: a rank-0 array of one element).
template <typename T> HostArray<T> reduceSum(const HostArray<T> &x, const std::vector<int64_t> &axes);

/// An array of `shape` repeating x along `axes` of `shape`: x's shape is `shape` without `axes` (reduceSum's
/// transpose).
template <typename T>
HostArray<T> broadcast(const HostArray<T> &x, const std::vector<int64_t> &shape, const std::vector<int64_t> &axes);

/// The same row-major data under `shape` (same number of elements).
template <typename T> HostArray<T> reshape(const HostArray<T> &x, const std::vector<int64_t> &shape);

/// The window [offset, offset + length) of x along `axis`.
template <typename T> HostArray<T> slice(const HostArray<T> &x, int64_t axis, int64_t offset, int64_t length);

/// Zeros of x's shape with `length` along `axis`, x placed at `offset` along it (slice's transpose).
template <typename T> HostArray<T> pad(const HostArray<T> &x, int64_t axis, int64_t offset, int64_t length);

/// log(softmax(x)) along `axis`, computed as x - max - log(sum(exp(x - max))) so that no exp overflows.
template <typename T> HostArray<T> logSoftmax(const HostArray<T> &x, int64_t axis);
/// r[..., i] = sum over j of sign(x[..., i] - x[..., j]) along the last axis.
template <typename T> HostArray<T> signedRank(const HostArray<T> &x);

/// Elementwise binary cross-entropy of logits z and labels y: max(z, 0) - z y + log1p(exp(-|z|)), which never
/// overflows.
template <typename T> HostArray<T> bceWithLogits(const HostArray<T> &logits, const HostArray<T> &labels);

/// seq.fourier_score: Tseng et al.'s Fourier score of each row of `track` (B, L), a (B) array.
template <typename T>
HostArray<T> fourierScore(const HostArray<T> &track, int64_t sigma, int64_t freqLimit, double softness);

/// seq.fourier_score_grad: the track cotangent (B, L) of fourierScore from the score cotangent (B).
template <typename T>
HostArray<T> fourierScoreGrad(const HostArray<T> &track, const HostArray<T> &outputGrad, int64_t sigma,
                              int64_t freqLimit, double softness);

// ---- the layers' backward ops -------------------------------------------------------------------------------

/// conv1d's transpose in x: dx (N, C, inputLength) from dy (N, F, O); the geometry is that of the conv1d whose input
/// had `inputLength` (needed: with stride > 1 several lengths give the same O).
template <typename T>
HostArray<T> conv1dInputGrad(const HostArray<T> &outputGrad, const HostArray<T> &weight, int64_t inputLength,
                             int64_t stride, int64_t dilation, Padding padding);

/// conv1d's transpose in the weight: dW [F, C, width] from its input x (N, C, L) and dy (N, F, O).
template <typename T>
HostArray<T> conv1dWeightGrad(const HostArray<T> &x, const HostArray<T> &outputGrad, int64_t width, int64_t stride,
                              int64_t dilation, Padding padding);

/// dx = dy weight: (N, F) from dy (N, U) and weight [U, F].
template <typename T> HostArray<T> denseInputGrad(const HostArray<T> &outputGrad, const HostArray<T> &weight);

/// dW = dy^T x: [U, F] from x (N, F) and dy (N, U).
template <typename T> HostArray<T> denseWeightGrad(const HostArray<T> &x, const HostArray<T> &outputGrad);

/// Routes each window's cotangent to the window's first maximum of x (PyTorch's tie rule); the result has x's shape.
template <typename T>
HostArray<T> maxPool1dGrad(const HostArray<T> &x, const HostArray<T> &outputGrad, int64_t size, int64_t stride);

/// Per window of x, the element of `values` (x's shape) at the window's first maximum: maxPool1dGrad's transpose in
/// the cotangent, and maxPool1d itself when values = x.
template <typename T>
HostArray<T> maxPool1dSelect(const HostArray<T> &x, const HostArray<T> &values, int64_t size, int64_t stride);

/// avgPool1d's transpose: each window's cotangent / size spread over the window of an input of `inputLength`.
template <typename T>
HostArray<T> avgPool1dGrad(const HostArray<T> &outputGrad, int64_t inputLength, int64_t size, int64_t stride);

} // namespace seqjit::kernels
