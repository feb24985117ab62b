#!/usr/bin/python3
"""PyTorch float64 oracle of seqjit's training objectives on a zoo twin: the loss, its terms and d loss / d theta.

Builds on torch_fourier_prior.py (model loading, batch norm mode, input gradients, the Fourier prior, parameter
gradients), with the NCL layout of seqjit (X is (N, 4, L)):
  z      = model(X)                logits; eval mode (dropout off, BN running statistics) unless --train-bn
  Y      = labels, the shape of z  (zoo models: (N, T); a (N,) file is read as (N, 1))
Data loss (--loss, default bce), per-element terms t:
  bce         t = BCEWithLogits(z, y) = max(z, 0) - z y + log(1 + exp(-|z|))
  mse         t = (z - y)^2
  poisson     t = exp(z) - y z                      (no log(y!) term)
  data_loss   = mean of t over all elements;  with --mask M.npy (0/1, Y's shape): sum(M t) / sum(M), 0 if
                sum(M) == 0
  multinomial data_loss = mean over all non-last axes (for (N, T): over N) of -sum_last y log_softmax(z, dim=-1)
                (no multinomial coefficient; --mask is an error with it)
Attribution priors (double backprop, as the Fourier prior of torch_fourier_prior.py):
  g      = d(sum of z over all examples and tasks)/dX, create_graph=True; with --train-bn the examples are
           coupled through the batch statistics and g includes those cross terms
  a      = sum over dim 1 (the 4 bases) of |g * X|                       (N, L), not smoothed
  chosen = the examples with any (Y * M if --mask, else Y) > 0  (note: > 0, not == 1); --all-examples: every one
  a prior = mean over the chosen examples of its per-example value, 0 if no example is chosen
  smoothness (--smoothness LAMBDA): per example sum_{i=0}^{L-2} |a[i+1] - a[i]|        (total variation)
  sparsity   (--sparsity LAMBDA):   per example 1 - Gini(a), Gini(a) = sum_i sum_j |a_i - a_j| / (2 L sum_i a_i),
             Gini = 0 when sum_i a_i == 0; computed with the pairwise (N, L, L) differences so that autograd
             differentiates it (torch's |.| has gradient 0 at 0)
  fourier    (--fourier LAMBDA, with --freq-limit / --softness / --sigma): torch_fourier_prior.fourier_prior of
             g * X on the chosen rows (its own "== 1" positive rule is not used)
Spectral norm penalty (--spectral-norm LAMBDA; Yoshida & Miyato 2017, torch.nn.utils.spectral_norm's iteration):
  for every Conv1d and Linear weight W (state_dict name <layer>.weight, the output layer included; not batch
  norm): Wm = W.reshape(W.shape[0], -1), u = the (out,) vector <layer>.weight_u of --power-vectors U.npz; under
  torch.no_grad (u and v are constants for autograd), K = --power-iterations (default 1, >= 1) times:
      v = F.normalize(Wm^T u, dim=0, eps=1e-12);  u = F.normalize(Wm v, dim=0, eps=1e-12)
  sigma = u . (Wm v) (differentiable in W, d sigma / d Wm = u v^T);  penalty = LAMBDA / 2 * sum over layers sigma^2
Objective:
  loss = data_loss + l_f fourier + l_sm smoothness + l_sp sparsity + spectral_penalty  (a prior only when its
         flag is given; the spectral penalty includes its LAMBDA, the priors are written unweighted)
Everything runs in float64.

Usage:
  torch_objectives.py --model NAME --weights W.npz --inputs X.npy --labels Y.npy --out G.npz
      [--activation relu] [--eps E] [--momentum M] [--train-bn] [--loss bce|mse|poisson|multinomial]
      [--mask M.npy] [--all-examples] [--fourier LAMBDA [--freq-limit 150] [--softness 0.2] [--sigma 3]]
      [--smoothness LAMBDA] [--sparsity LAMBDA]
      [--spectral-norm LAMBDA --power-vectors U.npz [--power-iterations K]]
G.npz holds float64 arrays: d loss / d p for every trainable parameter p under its state_dict name (zeros where
unused), 0-d "loss", "data_loss", "fourier_prior", "smoothness_prior", "sparsity_prior", "spectral_penalty"
(0 when not requested), and with --spectral-norm the updated u of every layer under "<layer>.weight_u".
Exit status 1 on a non-finite loss (G.npz is still written).

As a module: data_loss, attribution_track, chosen_examples, smoothness_prior, sparsity_prior, power_iteration,
spectral_layers, spectral_vectors, spectral_penalty, objective_terms (used by check_torch_objectives.py).
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
import torch_fourier_prior as tfp  # noqa: E402
import torch_models  # noqa: E402

LOSSES = ("bce", "mse", "poisson", "multinomial")
NORMALIZE_EPS = 1e-12  # torch.nn.utils.spectral_norm's default
SCALARS = ("loss", "data_loss", "fourier_prior", "smoothness_prior", "sparsity_prior", "spectral_penalty")


# ---- data losses ------------------------------------------------------------------------------------------------

def loss_elements(logits, labels, loss="bce"):
    """The per-element terms t of bce / mse / poisson (the shape of logits)."""
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    if loss == "mse":
        return (logits - labels) ** 2
    if loss == "poisson":
        return torch.exp(logits) - labels * logits
    raise ValueError(f"no per-element terms for loss '{loss}'")


def data_loss(logits, labels, loss="bce", mask=None):
    """The data loss (0-d tensor): mean of t, or sum(mask t) / sum(mask) (0 if the mask is all 0); multinomial:
    mean over the non-last axes of -sum_last y log_softmax(z)."""
    labels = labels.to(logits.dtype)
    if tuple(labels.shape) != tuple(logits.shape):
        raise ValueError(f"labels of shape {tuple(labels.shape)}, logits of shape {tuple(logits.shape)}")
    if loss == "multinomial":
        if mask is not None:
            raise ValueError("a mask is not defined for the multinomial loss")
        return -(labels * F.log_softmax(logits, dim=-1)).sum(dim=-1).mean()
    terms = loss_elements(logits, labels, loss)
    if mask is None:
        return terms.mean()
    mask = mask.to(logits.dtype)
    if tuple(mask.shape) != tuple(logits.shape):
        raise ValueError(f"mask of shape {tuple(mask.shape)}, logits of shape {tuple(logits.shape)}")
    masked = (mask * terms).sum()
    count = mask.sum()
    if count.item() == 0:
        return masked  # exactly 0, and still a function of the parameters (zero gradient)
    return masked / count


# ---- attribution priors -----------------------------------------------------------------------------------------

def attribution_track(model, x):
    """(logits, g * x, a): g = d(sum z)/dx with create_graph=True, a = sum over dim 1 of |g * x|, (N, L)."""
    x = x.detach().requires_grad_(True)
    logits, grads = tfp.input_gradients(model, x, create_graph=True)
    grads_times_input = grads * x
    return logits, grads_times_input, grads_times_input.abs().sum(dim=1)


def chosen_examples(labels, mask=None, all_examples=False):
    """(N,) bool: every example with all_examples, else those with any (labels * mask, or labels) > 0."""
    n = labels.shape[0]
    if all_examples:
        return torch.ones(n, dtype=torch.bool, device=labels.device)
    values = labels if mask is None else labels * mask.to(labels.dtype)
    return (values.reshape(n, -1) > 0).any(dim=1)


def _mean_over(per_example_values, reference):
    if per_example_values.shape[0] == 0:
        return torch.zeros((), dtype=reference.dtype, device=reference.device)
    return per_example_values.mean()


def smoothness_per_example(attributions):
    """(P, L) -> (P,): sum_i |a[i+1] - a[i]|."""
    return (attributions[:, 1:] - attributions[:, :-1]).abs().sum(dim=1)


def sparsity_per_example(attributions):
    """(P, L) -> (P,): 1 - Gini(a), Gini by the pairwise differences, 0 for a zero row."""
    length = attributions.shape[1]
    pairwise = (attributions[:, :, None] - attributions[:, None, :]).abs().sum(dim=(1, 2))
    totals = attributions.sum(dim=1)
    zero = totals == 0
    safe = torch.where(zero, torch.ones_like(totals), totals)
    gini = torch.where(zero, torch.zeros_like(totals), pairwise / (2.0 * length * safe))
    return 1.0 - gini


def smoothness_prior(attributions, chosen=None):
    """Mean over the chosen rows (all if None) of the total variation; 0 if none is chosen."""
    rows = attributions if chosen is None else attributions[chosen]
    return _mean_over(smoothness_per_example(rows), attributions)


def sparsity_prior(attributions, chosen=None):
    """Mean over the chosen rows (all if None) of 1 - Gini; 0 if none is chosen."""
    rows = attributions if chosen is None else attributions[chosen]
    return _mean_over(sparsity_per_example(rows), attributions)


# ---- spectral norm penalty --------------------------------------------------------------------------------------

def spectral_layers(model):
    """[(state_dict name '<layer>.weight', weight)] of every Conv1d and Linear module, in module order."""
    return [(f"{name}.weight", module.weight) for name, module in model.named_modules()
            if isinstance(module, (nn.Conv1d, nn.Linear))]


def weight_matrix(weight):
    return weight.reshape(weight.shape[0], -1)


def power_iteration(matrix, u, iterations=1):
    """(u, v) after `iterations` steps of torch.nn.utils.spectral_norm's iteration from u; constants (no grad)."""
    if iterations < 1:
        raise ValueError(f"power iterations must be >= 1, got {iterations}")
    with torch.no_grad():
        matrix = matrix.detach()
        u = u.detach().to(matrix.dtype)
        for _ in range(iterations):
            v = F.normalize(matrix.t() @ u, dim=0, eps=NORMALIZE_EPS)
            u = F.normalize(matrix @ v, dim=0, eps=NORMALIZE_EPS)
    return u, v


def spectral_vectors(model, power_vectors, iterations=1):
    """{'<layer>.weight': (u, v)} after the power iteration from power_vectors['<layer>.weight_u'] (tensors or
    arrays); every layer needs its u, and an unknown key is an error."""
    layers = spectral_layers(model)
    expected = {f"{name}_u": (name, weight) for name, weight in layers}
    missing = [key for key in expected if key not in power_vectors]
    unexpected = [key for key in power_vectors if key not in expected]
    if missing or unexpected:
        raise ValueError(f"power vectors: missing {missing}, unexpected {unexpected}")
    vectors = {}
    for key, (name, weight) in expected.items():
        u = torch.as_tensor(np.asarray(power_vectors[key]) if not torch.is_tensor(power_vectors[key])
                            else power_vectors[key]).to(weight.dtype)
        if tuple(u.shape) != (weight.shape[0],):
            raise ValueError(f"power vector '{key}' has shape {tuple(u.shape)}, expected ({weight.shape[0]},)")
        vectors[name] = power_iteration(weight_matrix(weight), u, iterations)
    return vectors


def spectral_penalty(model, lam, vectors):
    """(LAMBDA / 2 * sum of sigma^2, {name: sigma}) with sigma = u . (Wm v) for the given constant (u, v)."""
    sigmas = {}
    for name, weight in spectral_layers(model):
        u, v = vectors[name]
        sigmas[name] = u @ (weight_matrix(weight) @ v)
    total = sum(s * s for s in sigmas.values())
    return 0.5 * lam * total, sigmas


# ---- the objective ----------------------------------------------------------------------------------------------

def objective_terms(model, x, y, loss="bce", mask=None, all_examples=False, fourier=None,
                    freq_limit=tfp.DEFAULT_FREQ_LIMIT, softness=tfp.DEFAULT_SOFTNESS, sigma=tfp.DEFAULT_SIGMA,
                    smoothness=None, sparsity=None, spectral=None, power_vectors=None, power_iterations=1,
                    vectors=None):
    """(terms, vectors): terms = {name: 0-d tensor} for SCALARS, differentiable in the parameters; a prior or the
    penalty whose LAMBDA is None is not computed and is 0. vectors = {'<layer>.weight': (u, v)} used by the
    spectral penalty (None without it): given, they are used as they are (held constant, e.g. for finite
    differences); else they come from power_vectors after power_iterations steps."""
    attribution_priors = any(lam is not None for lam in (fourier, smoothness, sparsity))
    if attribution_priors:
        logits, grads_times_input, attributions = attribution_track(model, x)
    else:
        logits = model(x)
    terms = {name: torch.zeros((), dtype=logits.dtype, device=logits.device) for name in SCALARS}
    terms["data_loss"] = data_loss(logits, y, loss, mask)
    total = terms["data_loss"]
    if attribution_priors:
        chosen = chosen_examples(y, mask, all_examples)
        if fourier is not None:
            rows = grads_times_input[chosen]
            terms["fourier_prior"] = tfp.fourier_prior(rows, y[chosen], freq_limit, softness, sigma,
                                                       all_examples=True)
            total = total + fourier * terms["fourier_prior"]
        if smoothness is not None:
            terms["smoothness_prior"] = smoothness_prior(attributions, chosen)
            total = total + smoothness * terms["smoothness_prior"]
        if sparsity is not None:
            terms["sparsity_prior"] = sparsity_prior(attributions, chosen)
            total = total + sparsity * terms["sparsity_prior"]
    if spectral is not None:
        if vectors is None:
            if power_vectors is None:
                raise ValueError("the spectral norm penalty needs power vectors")
            vectors = spectral_vectors(model, power_vectors, power_iterations)
        terms["spectral_penalty"], _ = spectral_penalty(model, spectral, vectors)
        total = total + terms["spectral_penalty"]
    terms["loss"] = total
    return terms, vectors


# ---- command line -----------------------------------------------------------------------------------------------

def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--weights", required=True, help=".npz with state_dict names")
    parser.add_argument("--inputs", required=True, help="X (N, 4, L) .npy")
    parser.add_argument("--labels", required=True, help="Y .npy, the shape of the logits ((N, T) for the zoo)")
    parser.add_argument("--out", required=True, help="G.npz to write")
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--eps", type=float, default=torch_models.KERAS_EPS)
    parser.add_argument("--momentum", type=float, default=torch_models.KERAS_MOMENTUM_AS_TORCH)
    parser.add_argument("--train-bn", action="store_true", help="batch norm on batch statistics (dropout stays off)")
    parser.add_argument("--loss", choices=LOSSES, default="bce")
    parser.add_argument("--mask", help="0/1 .npy of Y's shape: the data loss averages over its 1 entries")
    parser.add_argument("--fourier", type=float, metavar="LAMBDA", help="Fourier attribution prior weight")
    parser.add_argument("--smoothness", type=float, metavar="LAMBDA", help="total-variation prior weight")
    parser.add_argument("--sparsity", type=float, metavar="LAMBDA", help="1 - Gini prior weight")
    parser.add_argument("--spectral-norm", type=float, metavar="LAMBDA",
                        help="penalty LAMBDA / 2 * sum of the layers' sigma^2")
    parser.add_argument("--power-iterations", type=int, default=1, metavar="K", help="(default %(default)s)")
    parser.add_argument("--power-vectors", metavar="U.npz", help="u of every layer under '<layer>.weight_u'")
    tfp.add_prior_arguments(parser)  # --freq-limit, --softness, --sigma, --all-examples (and --lambda, refused)
    parser.set_defaults(lam=None)
    args = parser.parse_args(argv)
    if args.lam is not None:
        parser.error("--lambda is torch_fourier_prior.py's; the Fourier prior weight here is --fourier LAMBDA")
    if args.sigma < 0:
        parser.error("--sigma must be >= 0")
    if args.loss == "multinomial" and args.mask:
        parser.error("--mask is not defined for --loss multinomial")
    if args.spectral_norm is not None and not args.power_vectors:
        parser.error("--spectral-norm needs --power-vectors U.npz")
    if args.power_iterations < 1:
        parser.error("--power-iterations must be >= 1")

    x, y = tfp.load_examples(args.inputs, args.labels)
    mask = None
    if args.mask:
        mask = np.load(args.mask)
        if mask.ndim == 1:
            mask = mask.reshape(-1, 1)
        if mask.shape != y.shape:
            raise SystemExit(f"{args.mask}: shape {mask.shape}, labels {y.shape}")
        if not np.all((mask == 0) | (mask == 1)):
            raise SystemExit(f"{args.mask}: entries must be 0 or 1")
        mask = torch.from_numpy(mask.astype(np.float64))
    power_vectors = None
    if args.power_vectors:
        with np.load(args.power_vectors) as arrays:
            power_vectors = {k: np.asarray(arrays[k], np.float64) for k in arrays.files}

    model = tfp.load_model(args.model, x.shape[2], y.shape[1], args.activation, args.weights, args.eps,
                           args.momentum)
    tfp.set_mode(model, args.train_bn)
    xt = torch.from_numpy(x.astype(np.float64))
    yt = torch.from_numpy(y.astype(np.float64))
    try:
        terms, vectors = objective_terms(
            model, xt, yt, args.loss, mask, args.all_examples, args.fourier, args.freq_limit, args.softness,
            args.sigma, args.smoothness, args.sparsity, args.spectral_norm, power_vectors, args.power_iterations)
    except ValueError as error:
        raise SystemExit(f"error: {error}")
    grads = tfp.parameter_gradients(model, terms["loss"])

    arrays = {name: g.detach().numpy().astype(np.float64) for name, g in grads.items()}
    arrays.update({name: np.array(terms[name].item(), dtype=np.float64) for name in SCALARS})
    if vectors is not None:
        arrays.update({f"{name}_u": u.numpy().astype(np.float64) for name, (u, _) in vectors.items()})
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez(args.out, **arrays)

    values = {name: terms[name].item() for name in SCALARS}
    parts = [f"{args.loss}{' masked' if mask is not None else ''} {values['data_loss']:.17g}"]
    for flag, name in (("fourier", "fourier_prior"), ("smoothness", "smoothness_prior"),
                       ("sparsity", "sparsity_prior")):
        if getattr(args, flag) is not None:
            parts.append(f"{getattr(args, flag):g} * {flag} {values[name]:.17g}")
    if args.spectral_norm is not None:
        parts.append(f"spectral {values['spectral_penalty']:.17g} ({len(vectors)} layers, "
                     f"K={args.power_iterations})")
    chosen = int(chosen_examples(yt, mask, args.all_examples).sum())
    print(f"wrote {args.out}: {len(grads)} gradients; loss {values['loss']:.17g} = " + " + ".join(parts)
          + f" ({chosen} of {x.shape[0]} examples chosen)")
    if not all(math.isfinite(v) for v in values.values()):
        print("error: non-finite loss", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
