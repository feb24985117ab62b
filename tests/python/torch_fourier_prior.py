#!/usr/bin/python3
"""PyTorch oracle of the Fourier attribution prior (Tseng et al. 2020) on a zoo twin: loss and weight gradients.

Follows amtseng/fourier_attribution_priors (binary models: fourier_att_prior_loss, smooth_tensor_1d) with the
NCL layout of seqjit (X is (N, 4, L), so "sum over bases" is dim 1 here, dim 2 in Tseng's NLC code):
  logits = model(X)                                   eval mode (dropout off, BN running stats) unless --train-bn
  bce    = BCEWithLogits(logits, Y), mean over all N*T entries
  g      = d(sum of logits over tasks and examples)/dX, create_graph=True (double backprop); with --train-bn the
           examples are coupled through the batch statistics and g includes those cross terms, as in Tseng's code
  a      = sum over the 4 bases of |g * X|                              (N, L)
  s      = conv1d(a, k, zero padding sigma), k[x] = exp(-x^2 / (2 sigma^2)) / sum, x = -sigma..sigma
           (= scipy.ndimage.gaussian_filter(delta, sigma, truncate=1) on a 2 sigma + 1 window; sigma 0: s = a)
  m      = |rfft(s)| along L (L//2 + 1 magnitudes); m /= sum(m) over frequency (DC included; a zero row stays 0)
  m      = m[:, 1:] (DC dropped);  w[i] = 1 for i < T, 1 / (1 + (i - T + 1)^s) for i >= T
  prior  = mean over positive examples (any label == 1; --all-examples: every example) of 1 - sum_i w[i] m[i],
           0 if there is no positive example
  loss   = bce + lambda * prior            (--no-prior: loss = bce, prior not computed and written as 0)
Everything runs in float64.

Usage:
  torch_fourier_prior.py --model NAME --weights W.npz --inputs X.npy --labels Y.npy --out G.npz
      [--activation ACT] [--length L] [--outputs K] [--eps E] [--momentum M] [--train-bn]
      [--freq-limit 150] [--softness 0.2] [--sigma 3] [--lambda 1] [--all-examples] [--no-prior]
--length / --outputs default to X's length and Y's task count (the weights must fit them).
G.npz holds float64 arrays: d loss / d p for every trainable parameter p under its state_dict name (no running
statistics, no num_batches_tracked), and 0-d "loss", "bce", "prior".

As a module: fourier_prior(input_grads_times_input, labels, ...) and the pieces it is made of, input_gradients,
loss_terms, load_model, set_mode (used by bench/torch_train_step.py and check_torch_fourier_prior.py).
"""

import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402  (the twins' one definition)

DEFAULT_FREQ_LIMIT = 150
DEFAULT_SOFTNESS = 0.2
DEFAULT_SIGMA = 3


# ---- the prior ------------------------------------------------------------------------------------------------

def smoothing_kernel(sigma, dtype=torch.float64, device=None):
    """The 2 sigma + 1 Gaussian window of smooth_tensor_1d (gaussian_filter of a delta, truncate=1); [1] for 0."""
    if sigma < 0 or int(sigma) != sigma:
        raise ValueError(f"sigma must be a non-negative integer, got {sigma}")
    sigma = int(sigma)
    if sigma == 0:
        return torch.ones(1, dtype=dtype, device=device)
    x = torch.arange(-sigma, sigma + 1, dtype=torch.float64)
    kernel = torch.exp(-x * x / (2.0 * sigma * sigma))
    return (kernel / kernel.sum()).to(dtype=dtype, device=device)


def smooth(attributions, sigma):
    """(N, L) -> (N, L): conv1d with the Gaussian window, zero padding sigma on both sides."""
    if sigma == 0:
        return attributions
    kernel = smoothing_kernel(sigma, attributions.dtype, attributions.device)
    return F.conv1d(attributions.unsqueeze(1), kernel.view(1, 1, -1), padding=int(sigma)).squeeze(1)


def frequency_weights(count, freq_limit=DEFAULT_FREQ_LIMIT, softness=DEFAULT_SOFTNESS, dtype=torch.float64,
                      device=None):
    """w over the `count` DC-dropped frequencies: 1 below freq_limit, 1 / (1 + x^softness) from it, x = 1, 2, ..."""
    weights = torch.ones(count, dtype=dtype, device=device)
    if freq_limit < count:
        x = torch.arange(1, count - freq_limit + 1, dtype=dtype, device=device)
        weights[freq_limit:] = 1.0 / (1.0 + torch.pow(x, softness))
    return weights


def positive_examples(labels):
    """(N, T) labels -> (N,) bool: an example is positive if any of its labels equals 1."""
    labels = labels.reshape(labels.shape[0], -1)
    return (labels == 1).any(dim=1)


def fourier_prior(input_grads_times_input, labels, freq_limit=DEFAULT_FREQ_LIMIT, softness=DEFAULT_SOFTNESS,
                  sigma=DEFAULT_SIGMA, all_examples=False):
    """Tseng et al.'s Fourier attribution prior loss (a 0-d tensor) of grad x input (N, 4, L).

    Differentiable in input_grads_times_input (build it with create_graph=True to train through it)."""
    if input_grads_times_input.dim() != 3:
        raise ValueError(f"expected grad x input of shape (N, 4, L), got {tuple(input_grads_times_input.shape)}")
    attributions = input_grads_times_input.abs().sum(dim=1)  # (N, L)
    smoothed = smooth(attributions, sigma)
    if not all_examples:
        smoothed = smoothed[positive_examples(labels).to(smoothed.device)]
    if smoothed.shape[0] == 0:
        return torch.zeros((), dtype=input_grads_times_input.dtype, device=input_grads_times_input.device)
    magnitudes = torch.fft.rfft(smoothed, dim=-1).abs()  # (P, L // 2 + 1)
    sums = magnitudes.sum(dim=1, keepdim=True)
    sums = torch.where(sums == 0, torch.ones_like(sums), sums)  # a zero row stays zero
    magnitudes = (magnitudes / sums)[:, 1:]
    weights = frequency_weights(magnitudes.shape[1], freq_limit, softness, magnitudes.dtype, magnitudes.device)
    score = (magnitudes * weights).sum(dim=1)
    return (1.0 - score).mean()


# ---- model, input gradients, loss ---------------------------------------------------------------------------

def load_model(name, length, outputs, activation, weights_path=None, eps=torch_models.KERAS_EPS,
               momentum=torch_models.KERAS_MOMENTUM_AS_TORCH, dtype=torch.float64):
    """The torch twin in `dtype`, with the weights of weights_path (state_dict names) if given."""
    model = torch_models.build(name, length, outputs, activation, eps, momentum).to(dtype)
    if weights_path:
        with np.load(weights_path) as arrays:
            state = {k: torch.from_numpy(np.asarray(arrays[k])) for k in arrays.files}
        expected = model.state_dict()
        for key, value in state.items():
            if key in expected and tuple(value.shape) != tuple(expected[key].shape):
                raise SystemExit(f"{weights_path}: '{key}' has shape {tuple(value.shape)}, twin '{name}' "
                                 f"(length {length}, outputs {outputs}) expects {tuple(expected[key].shape)}")
        result = model.load_state_dict(state, strict=False)  # copy_ converts float32 files to `dtype`
        missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
        if missing or result.unexpected_keys:
            raise SystemExit(f"{weights_path}: state_dict mismatch with torch twin '{name}': "
                             f"missing {missing}, unexpected {result.unexpected_keys}")
    return model


def set_mode(model, train_bn=False):
    """Dropout always off; batch norm on batch statistics if train_bn, else on running statistics."""
    model.eval()
    if train_bn:
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.train(True)
    return model


def input_gradients(model, x, create_graph=True):
    """(logits, g) with g = d(sum of logits over tasks and examples)/dx; x must require grad."""
    logits = model(x)
    (grads,) = torch.autograd.grad(logits, x, grad_outputs=torch.ones_like(logits), create_graph=create_graph,
                                   retain_graph=True)
    return logits, grads


def loss_terms(model, x, y, lam=1.0, with_prior=True, freq_limit=DEFAULT_FREQ_LIMIT, softness=DEFAULT_SOFTNESS,
               sigma=DEFAULT_SIGMA, all_examples=False):
    """(loss, bce, prior) as 0-d tensors, differentiable in the model's parameters (prior by double backprop)."""
    if with_prior:
        x = x.detach().requires_grad_(True)
        logits, grads = input_gradients(model, x, create_graph=True)
        prior = fourier_prior(grads * x, y, freq_limit, softness, sigma, all_examples)
    else:
        logits = model(x)
        prior = torch.zeros((), dtype=logits.dtype, device=logits.device)
    bce = F.binary_cross_entropy_with_logits(logits, y.to(logits.dtype).reshape(logits.shape), reduction="mean")
    loss = bce + lam * prior if with_prior else bce
    return loss, bce, prior


def trainable_parameters(model):
    """(state_dict name, parameter) for every trainable parameter (running statistics are buffers, not here)."""
    return [(name, p) for name, p in model.named_parameters() if p.requires_grad]


def parameter_gradients(model, loss):
    """{state_dict name: d loss / d p} for every trainable parameter (zeros where loss does not depend on p)."""
    named = trainable_parameters(model)
    grads = torch.autograd.grad(loss, [p for _, p in named], allow_unused=True)
    return {name: (g if g is not None else torch.zeros_like(p)) for (name, p), g in zip(named, grads)}


def load_examples(inputs_path, labels_path):
    """(X (N, 4, L), Y (N, ...)) from .npy files; a (N,) Y is read as (N, 1). Exits naming a file of bad shape."""
    x = np.load(inputs_path)
    y = np.load(labels_path)
    if x.ndim != 3 or x.shape[1] != 4:
        raise SystemExit(f"{inputs_path}: expected shape (N, 4, L), got {x.shape}")
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if y.shape[0] != x.shape[0]:
        raise SystemExit(f"{labels_path}: expected {x.shape[0]} rows, got shape {y.shape}")
    return x, y


# ---- command line -------------------------------------------------------------------------------------------

def add_example_arguments(parser):
    """--model, --weights, --inputs, --labels: what every oracle runs on."""
    parser.add_argument("--model", required=True)
    parser.add_argument("--weights", required=True, help=".npz with state_dict names")
    parser.add_argument("--inputs", required=True, help="X (N, 4, L) .npy")
    parser.add_argument("--labels", required=True, help="Y (N, T) .npy")


def add_prior_arguments(parser):
    parser.add_argument("--freq-limit", type=int, default=DEFAULT_FREQ_LIMIT,
                        help="T: first DC-dropped frequency index with a weight below 1 (default %(default)s)")
    parser.add_argument("--softness", type=float, default=DEFAULT_SOFTNESS,
                        help="s in 1 / (1 + x^s) above T (default %(default)s)")
    parser.add_argument("--sigma", type=int, default=DEFAULT_SIGMA,
                        help="Gaussian smoothing sigma, integer, 0 = none (default %(default)s)")
    parser.add_argument("--lambda", dest="lam", type=float, default=1.0, help="prior weight (default %(default)s)")
    parser.add_argument("--all-examples", action="store_true",
                        help="average the prior over every example, not only the positive ones")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_example_arguments(parser)
    parser.add_argument("--out", required=True, help="G.npz to write")
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--length", type=int, default=0, help="default: X's length")
    parser.add_argument("--outputs", type=int, default=0, help="default: Y's number of tasks")
    parser.add_argument("--eps", type=float, default=torch_models.KERAS_EPS)
    parser.add_argument("--momentum", type=float, default=torch_models.KERAS_MOMENTUM_AS_TORCH)
    parser.add_argument("--train-bn", action="store_true",
                        help="batch norm on batch statistics (dropout stays off)")
    parser.add_argument("--no-prior", action="store_true", help="loss = bce only (no double backprop)")
    add_prior_arguments(parser)
    args = parser.parse_args(argv)
    if args.sigma < 0:
        parser.error("--sigma must be >= 0")

    x, y = load_examples(args.inputs, args.labels)
    if y.ndim != 2:
        raise SystemExit(f"{args.labels}: expected shape ({x.shape[0]}, T), got {y.shape}")
    if args.length and args.length != x.shape[2]:
        raise SystemExit(f"--length {args.length} but {args.inputs} has length {x.shape[2]}")
    outputs = args.outputs or y.shape[1]
    if outputs != y.shape[1]:
        raise SystemExit(f"--outputs {outputs} but {args.labels} has {y.shape[1]} tasks")

    model = load_model(args.model, x.shape[2], outputs, args.activation, args.weights, args.eps, args.momentum)
    set_mode(model, args.train_bn)
    xt = torch.from_numpy(x.astype(np.float64))
    yt = torch.from_numpy(y.astype(np.float64))
    loss, bce, prior = loss_terms(model, xt, yt, args.lam, not args.no_prior, args.freq_limit, args.softness,
                                  args.sigma, args.all_examples)
    grads = parameter_gradients(model, loss)

    arrays = {name: g.detach().numpy().astype(np.float64) for name, g in grads.items()}
    arrays.update(loss=np.array(loss.item()), bce=np.array(bce.item()), prior=np.array(prior.item()))
    directory = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(directory, exist_ok=True)
    np.savez(args.out, **arrays)
    positives = int(positive_examples(yt).sum())
    print(f"wrote {args.out}: {len(grads)} gradients; loss {loss.item():.17g} = bce {bce.item():.17g} + "
          f"{0.0 if args.no_prior else args.lam:g} * prior {prior.item():.17g} "
          f"({'all' if args.all_examples else positives} of {x.shape[0]} examples in the prior)")
    if not all(math.isfinite(v) for v in (loss.item(), bce.item(), prior.item())):
        print("error: non-finite loss", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
