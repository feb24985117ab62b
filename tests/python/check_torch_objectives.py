#!/usr/bin/python3
"""Self-check of torch_objectives.py (float64): the oracle must itself be right before seqjit is held to it.

1. The smoothness (total variation) and sparsity (1 - Gini) priors and the choice of examples equal numpy
   recomputations with loops, the Gini by the sorted formula sum_i (2i - n - 1) x_(i) / (n sum x) (an independent
   formula), on random tracks with a zero row and a constant row, positives by "> 0" of label (times mask),
   --all-examples, and no chosen example; their gradients in the track against central differences.
2. The data losses (bce, mse, poisson; unmasked, masked, all-0 mask; multinomial on (N, T) and (N, T, C)) equal
   numpy recomputations.
3. The spectral norm penalty: after 500 power iterations sigma equals numpy.linalg.svd's largest singular value
   of every layer's Wm; after K = 1 and 3 the updated u and sigma equal torch.nn.utils.spectral_norm's own from
   the same u; d penalty / dW equals LAMBDA sigma outer(u, v) (numpy), and 0 for every other parameter; with
   converged vectors, central differences that recompute u, v equal the analytic gradient too (sigma is
   stationary in u, v there).
4. d loss / d theta of the full objective against central differences along two random directions over every
   parameter, on cnn-local at L=100 with 3 tasks: (exp, BN running statistics, bce + mask + Fourier + smoothness
   + sparsity + spectral K=1) and (softplus, BN batch statistics, multinomial + smoothness + sparsity +
   spectral K=3, --all-examples). The penalty's u, v are constants of the analytic gradient, so the finite
   differences hold the same u, v (computed once at the unperturbed weights). The terms' values are checked
   against numpy on the model's own attribution track.
5. The command line writes G.npz equal to the in-process results (gradients, the six scalars, updated u), with
   exactly the trainable parameters' names; its error paths exit non-zero; a non-finite loss exits 1.
Prints each check's max relative error; exit status 0 if all are within tolerance, 1 otherwise.

Usage: check_torch_objectives.py [--verbose]
"""

import copy
import io
import os
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_torch_fourier_prior as cfp  # noqa: E402  (report, relative, five_point, numpy_prior, twins)
import torch_models  # noqa: E402
import torch_objectives as tob  # noqa: E402

from check_torch_fourier_prior import report, relative  # noqa: E402

EXACT_TOLERANCE = 1e-12  # same float64 computation, different code: only rounding differs
SVD_TOLERANCE = 1e-8
GRADIENT_TOLERANCE = cfp.GRADIENT_TOLERANCE  # five-point stencil at cfp.STEPS, the best one counts
VERBOSE = cfp.VERBOSE


# ---- numpy-only references --------------------------------------------------------------------------------------

def numpy_chosen(labels, mask, all_examples):
    labels = np.asarray(labels, np.float64).reshape(labels.shape[0], -1)
    mask = None if mask is None else np.asarray(mask, np.float64).reshape(labels.shape)
    chosen = []
    for i in range(labels.shape[0]):
        if all_examples or any(labels[i, j] * (1.0 if mask is None else mask[i, j]) > 0
                               for j in range(labels.shape[1])):
            chosen.append(i)
    return chosen


def numpy_total_variation(row):
    return sum(abs(row[i + 1] - row[i]) for i in range(len(row) - 1))


def numpy_gini_sorted(row):
    x = np.sort(np.asarray(row, np.float64))
    n, total = x.size, x.sum()
    if total == 0:
        return 0.0
    return sum((2 * i - n - 1) * x[i - 1] for i in range(1, n + 1)) / (n * total)


def numpy_prior_mean(values):
    return float(np.mean(values)) if values else 0.0


def numpy_smoothness(a, chosen):
    return numpy_prior_mean([numpy_total_variation(a[i]) for i in chosen])


def numpy_sparsity(a, chosen):
    return numpy_prior_mean([1.0 - numpy_gini_sorted(a[i]) for i in chosen])


def numpy_elements(z, y, loss):
    if loss == "bce":
        return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    if loss == "mse":
        return (z - y) ** 2
    return np.exp(z) - y * z


def numpy_data_loss(z, y, loss, mask=None):
    z, y = np.asarray(z, np.float64), np.asarray(y, np.float64)
    if loss == "multinomial":
        rows_z, rows_y = z.reshape(-1, z.shape[-1]), y.reshape(-1, y.shape[-1])
        values = []
        for zr, yr in zip(rows_z, rows_y):
            top = zr.max()
            log_norm = top + np.log(np.sum(np.exp(zr - top)))
            values.append(-sum(yr[k] * (zr[k] - log_norm) for k in range(zr.size)))
        return float(np.mean(values))
    t = numpy_elements(z, y, loss)
    if mask is None:
        return float(t.mean())
    total = float(np.sum(mask))
    return 0.0 if total == 0 else float(np.sum(mask * t)) / total


def directional_check(name, function, point, rng, scale=1.0, tolerance=GRADIENT_TOLERANCE):
    """d function / d point along a random unit direction against central differences."""
    direction = torch.from_numpy(rng.normal(size=tuple(point.shape)))
    direction /= direction.norm()
    variable = point.clone().requires_grad_(True)
    (analytic,) = torch.autograd.grad(function(variable), variable)
    exact = (analytic * direction).sum().item()
    with torch.no_grad():
        along = lambda t: function(point + t * direction).item()  # noqa: E731
        report(name, cfp.difference_error(along, exact, scale), tolerance)


# ---- 1. smoothness, sparsity, chosen examples -------------------------------------------------------------------

def check_priors_numpy():
    rng = np.random.default_rng(11)
    n, length, tasks = 7, 60, 3
    a = np.abs(rng.normal(size=(n, length))) * rng.uniform(0.1, 3.0, size=(n, 1))
    a[:, ::7] = 0.0  # zeros inside rows
    a[2] = 0.0       # a zero row: Gini 0, sparsity 1, total variation 0
    a[4] = 0.75      # a constant row: Gini 0, total variation 0
    labels = np.zeros((n, tasks))
    labels[0, 1] = 1.0
    labels[1, 0] = 0.5   # > 0 but not 1: chosen
    labels[2, 2] = 2.0   # the zero row is chosen
    labels[3, 0] = -1.0  # negative only: not chosen
    labels[4, 1] = 1.0
    labels[6] = [1.0, 0.0, 1.0]
    mask = np.ones((n, tasks))
    mask[0, 1] = 0.0  # masks example 0's only positive label: not chosen with the mask
    mask[6, 0] = 0.0  # example 6 keeps its task-2 label
    at = torch.from_numpy(a)
    cases = [(None, False), (mask, False), (None, True), (mask, True)]
    for m, all_examples in cases:
        chosen = tob.chosen_examples(torch.from_numpy(labels), None if m is None else torch.from_numpy(m),
                                     all_examples)
        expected = numpy_chosen(labels, m, all_examples)
        if sorted(torch.nonzero(chosen).reshape(-1).tolist()) != expected:
            cfp.failures.append(f"chosen examples (mask {m is not None}, all {all_examples}): "
                                f"{torch.nonzero(chosen).reshape(-1).tolist()} != {expected}")
        report("smoothness prior vs numpy loops", relative(tob.smoothness_prior(at, chosen).item(),
                                                           numpy_smoothness(a, expected)), EXACT_TOLERANCE)
        report("sparsity prior vs numpy sorted-Gini formula", relative(tob.sparsity_prior(at, chosen).item(),
                                                                      numpy_sparsity(a, expected)), EXACT_TOLERANCE)
    # Per example, including the zero and constant rows.
    per_sparsity = tob.sparsity_per_example(at).numpy()
    per_smoothness = tob.smoothness_per_example(at).numpy()
    report("sparsity per example vs sorted-Gini formula",
           relative(per_sparsity, [1.0 - numpy_gini_sorted(r) for r in a]), EXACT_TOLERANCE)
    report("smoothness per example vs loops", relative(per_smoothness, [numpy_total_variation(r) for r in a]),
           EXACT_TOLERANCE)
    if per_sparsity[2] != 1.0 or per_smoothness[2] != 0.0:
        cfp.failures.append(f"zero row: sparsity {per_sparsity[2]} (want 1), smoothness {per_smoothness[2]}")
    # No chosen example: both priors 0.
    none = torch.zeros(n, dtype=torch.bool)
    report("priors with no chosen example are 0",
           abs(tob.smoothness_prior(at, none).item()) + abs(tob.sparsity_prior(at, none).item()), 0.0)
    # Gradients in the track (rows without ties or zeros: |.| is smooth there).
    smooth_rows = torch.from_numpy(np.abs(rng.normal(size=(3, 40))) + 0.05)
    directional_check("d smoothness/d track vs central differences", tob.smoothness_prior, smooth_rows, rng)
    directional_check("d sparsity/d track vs central differences", tob.sparsity_prior, smooth_rows, rng)


# ---- 2. data losses ---------------------------------------------------------------------------------------------

def check_data_losses():
    rng = np.random.default_rng(12)
    z = rng.normal(size=(6, 4)) * 3.0
    z[0, 0] = 40.0   # far tails of the bce
    z[0, 1] = -40.0
    y = rng.integers(0, 2, size=(6, 4)).astype(np.float64)
    y[1, 2] = 0.3    # a soft label
    counts = rng.integers(0, 5, size=(6, 4)).astype(np.float64)
    mask = rng.integers(0, 2, size=(6, 4)).astype(np.float64)
    mask[0, 0] = 1.0
    zt, yt, ct, mt = (torch.from_numpy(v) for v in (z, y, counts, mask))
    for loss in ("bce", "mse", "poisson"):
        labels, labels_np = (ct, counts) if loss == "poisson" else (yt, y)
        report(f"{loss} data loss vs numpy", relative(tob.data_loss(zt, labels, loss).item(),
                                                      numpy_data_loss(z, labels_np, loss)), EXACT_TOLERANCE)
        report(f"masked {loss} data loss vs numpy", relative(tob.data_loss(zt, labels, loss, mt).item(),
                                                             numpy_data_loss(z, labels_np, loss, mask)),
               EXACT_TOLERANCE)
        zv = zt.clone().requires_grad_(True)
        value = tob.data_loss(zv, labels, loss, torch.zeros_like(mt))
        (grad,) = torch.autograd.grad(value, zv)
        report(f"{loss} data loss with an all-0 mask is 0 with gradient 0",
               abs(value.item()) + grad.abs().max().item(), 0.0)
    report("multinomial data loss (N, T) vs numpy", relative(tob.data_loss(zt, ct, "multinomial").item(),
                                                             numpy_data_loss(z, counts, "multinomial")),
           EXACT_TOLERANCE)
    z3, c3 = rng.normal(size=(3, 2, 5)), rng.integers(0, 4, size=(3, 2, 5)).astype(np.float64)
    report("multinomial data loss (N, T, C) vs numpy",
           relative(tob.data_loss(torch.from_numpy(z3), torch.from_numpy(c3), "multinomial").item(),
                    numpy_data_loss(z3, c3, "multinomial")), EXACT_TOLERANCE)
    try:
        tob.data_loss(zt, ct, "multinomial", mt)
        cfp.failures.append("multinomial with a mask did not raise")
    except ValueError:
        pass


# ---- 3. spectral norm penalty -----------------------------------------------------------------------------------

def random_power_vectors(model, rng):
    vectors = {}
    for name, weight in tob.spectral_layers(model):
        u = rng.normal(size=weight.shape[0])
        vectors[f"{name}_u"] = u / np.linalg.norm(u)
    return vectors


def check_spectral():
    model = cfp.random_model("cnn-local", 100, 3, "exp", 21)
    rng = np.random.default_rng(13)
    u0 = random_power_vectors(model, rng)
    layers = tob.spectral_layers(model)
    names = [name for name, _ in layers]
    if names != ["conv1.weight", "conv2.weight", "dense1.weight", "output.weight"]:
        cfp.failures.append(f"spectral layers {names}")

    # Converged: sigma is the largest singular value.
    converged = tob.spectral_vectors(model, u0, 500)
    for name, weight in layers:
        singular = np.linalg.svd(tob.weight_matrix(weight).detach().numpy(), compute_uv=False)
        u, v = converged[name]
        sigma = (u @ (tob.weight_matrix(weight) @ v)).item()
        report("sigma after 500 power iterations vs numpy.linalg.svd", relative(sigma, singular[0]), SVD_TOLERANCE)
        if VERBOSE:
            print(f"    {name}: sigma {sigma:.6f}, s2/s1 {singular[1] / singular[0]:.3f}")

    # K steps: torch.nn.utils.spectral_norm's own u and sigma from the same u.
    for iterations in (1, 3):
        ours = tob.spectral_vectors(model, u0, iterations)
        for name, weight in layers:
            module = copy.deepcopy(dict(model.named_modules())[name[:-len(".weight")]])
            nn.utils.spectral_norm(module, n_power_iterations=iterations)
            with torch.no_grad():
                module.weight_u.copy_(torch.from_numpy(u0[f"{name}_u"]))
            module.train()
            channels = module.in_channels if isinstance(module, nn.Conv1d) else module.in_features
            shape = (1, channels, 30) if isinstance(module, nn.Conv1d) else (1, channels)
            module(torch.zeros(shape, dtype=torch.float64))  # runs the power iteration, normalizes the weight
            u, v = ours[name]
            flat = int(module.weight_orig.detach().abs().argmax())
            torch_sigma = (module.weight_orig.detach().reshape(-1)[flat] / module.weight.detach().reshape(-1)[flat])
            sigma = (u @ (tob.weight_matrix(weight) @ v)).item()
            report("u and sigma after K power iterations vs torch.nn.utils.spectral_norm",
                   max(relative(u.numpy(), module.weight_u.numpy(), floor=1e-300),
                       relative(v.numpy(), module.weight_v.numpy(), floor=1e-300),
                       relative(sigma, torch_sigma.item())), EXACT_TOLERANCE)

    # d penalty / d theta = LAMBDA sigma u v^T for the weights, 0 elsewhere.
    lam = 0.7
    for iterations, vectors in ((1, tob.spectral_vectors(model, u0, 1)), (500, converged)):
        penalty, sigmas = tob.spectral_penalty(model, lam, vectors)
        params = tob.tfp.trainable_parameters(model)
        grads = torch.autograd.grad(penalty, [p for _, p in params], allow_unused=True)
        expected_value = 0.0
        errors = []
        for (pname, p), g in zip(params, grads):
            g = np.zeros(tuple(p.shape)) if g is None else g.numpy()
            if pname in vectors:
                u, v = (t.numpy() for t in vectors[pname])
                wm = p.detach().numpy().reshape(p.shape[0], -1)
                sigma = float(u @ wm @ v)
                expected_value += 0.5 * lam * sigma * sigma
                errors.append(relative(g, (lam * sigma * np.outer(u, v)).reshape(g.shape), floor=1e-300))
            elif np.any(g != 0):
                errors.append(float("inf"))
        report("d spectral penalty/dW vs LAMBDA sigma outer(u, v) (numpy)", max(errors), EXACT_TOLERANCE)
        report("spectral penalty vs numpy", relative(penalty.item(), expected_value), EXACT_TOLERANCE)

    # Converged vectors: finite differences that recompute u, v agree as well (first order in the vectors'
    # change vanishes at the singular vectors); at K = 1 only fixed vectors are the analytic gradient's.
    params = [p for _, p in tob.tfp.trainable_parameters(model)]
    penalty, _ = tob.spectral_penalty(model, lam, converged)
    analytic = torch.autograd.grad(penalty, params, allow_unused=True)
    analytic = [a if a is not None else torch.zeros_like(p) for a, p in zip(analytic, params)]
    gen = torch.Generator().manual_seed(5)
    directions = [torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in params]
    norm = sum((d * d).sum() for d in directions).sqrt()
    directions = [d / norm for d in directions]
    start = {k: torch.from_numpy(converged[k[:-2]][0].numpy()) for k in u0}

    def recomputed(t):
        with torch.no_grad():
            for p, d in zip(params, directions):
                p.add_(t * d)
            value = tob.spectral_penalty(model, lam, tob.spectral_vectors(model, start, 500))[0].item()
            for p, d in zip(params, directions):
                p.sub_(t * d)
        return value

    exact = sum((a * d).sum() for a, d in zip(analytic, directions)).item()
    report("d spectral penalty/d theta (converged, u v recomputed) vs central differences",
           cfp.difference_error(recomputed, exact), GRADIENT_TOLERANCE)


# ---- 4. the full objective on a twin ----------------------------------------------------------------------------

def check_objective(tag, activation, train_bn, options, y, mask=None, seed=0):
    length, outputs = 100, 3
    tag = f"cnn-local {activation} bn={'batch' if train_bn else 'running'} {tag}"
    model = cfp.random_model("cnn-local", length, outputs, activation, seed)
    tob.tfp.set_mode(model, train_bn)
    x = torch_models.one_hot(y.shape[0], length, torch.Generator().manual_seed(seed + 1)).double()
    rng = np.random.default_rng(seed + 2)
    u0 = random_power_vectors(model, rng)
    options = dict(options, power_vectors=u0)
    params = cfp.flat_parameters(model)

    terms, vectors = tob.objective_terms(model, x, y, mask=mask, **options)

    # The terms against numpy on the model's own attribution track.
    logits, gxi, a = tob.attribution_track(model, x)
    z, gxi, a = logits.detach().numpy(), gxi.detach().numpy(), a.detach().numpy()
    chosen = numpy_chosen(y.numpy(), None if mask is None else mask.numpy(), options.get("all_examples", False))
    loss_name = options.get("loss", "bce")
    expected = {"data_loss": numpy_data_loss(z, y.numpy(), loss_name, None if mask is None else mask.numpy()),
                "smoothness_prior": numpy_smoothness(a, chosen) if options.get("smoothness") is not None else 0.0,
                "sparsity_prior": numpy_sparsity(a, chosen) if options.get("sparsity") is not None else 0.0,
                "fourier_prior": 0.0, "spectral_penalty": 0.0}
    if options.get("fourier") is not None:
        expected["fourier_prior"] = cfp.numpy_prior(gxi[chosen], np.ones((len(chosen), 1)), options["freq_limit"],
                                                    options["softness"], options["sigma"], True)
    if options.get("spectral") is not None:
        for name, weight in tob.spectral_layers(model):
            u, v = (t.numpy() for t in vectors[name])
            sigma = float(u @ weight.detach().numpy().reshape(weight.shape[0], -1) @ v)
            expected["spectral_penalty"] += 0.5 * options["spectral"] * sigma * sigma
    expected["loss"] = (expected["data_loss"] + expected["spectral_penalty"]
                        + sum(expected[f"{k}_prior"] * options[k] for k in ("fourier", "smoothness", "sparsity")
                              if options.get(k) is not None))
    report(f"objective terms vs numpy [{tag}]",
           max(relative(terms[k].item(), expected[k]) for k in tob.SCALARS), EXACT_TOLERANCE)
    if VERBOSE:
        print(f"    {tag}: chosen {chosen}; " + ", ".join(f"{k} {terms[k].item():.6g}" for k in tob.SCALARS))
    for flag, k in (("smoothness", "smoothness_prior"), ("sparsity", "sparsity_prior"),
                    ("fourier", "fourier_prior"), ("spectral", "spectral_penalty")):
        if options.get(flag) is not None and terms[k].item() == 0:
            cfp.failures.append(f"{tag}: {k} is 0: the check would not exercise it")

    analytic = torch.autograd.grad(terms["loss"], params, allow_unused=True)
    analytic = [g if g is not None else torch.zeros_like(p) for g, p in zip(analytic, params)]
    fixed = dict(options, vectors=vectors)  # the analytic gradient's constant u, v

    def value():
        return tob.objective_terms(model, x, y, mask=mask, **fixed)[0]["loss"]

    for error in cfp.directional_errors(params, value, analytic):
        report(f"d loss/d theta, directional, vs central differences [{tag}]", error, GRADIENT_TOLERANCE)


def check_objectives():
    y = torch.tensor([[1.0, 0.0, 0.0],    # positive, but masked out: not chosen
                      [0.0, 0.5, 0.0],    # > 0, not 1: chosen
                      [0.0, 0.0, 0.0],    # negative
                      [0.0, 0.0, 1.0]], dtype=torch.float64)
    mask = torch.tensor([[0, 1, 1], [1, 1, 1], [1, 0, 1], [1, 0, 1]], dtype=torch.float64)
    check_objective("bce+mask+fourier+smoothness+sparsity+spectral K=1", "exp", False,
                    dict(loss="bce", fourier=0.5, freq_limit=10, softness=0.2, sigma=3, smoothness=0.3,
                         sparsity=0.2, spectral=0.05, power_iterations=1), y, mask, seed=0)
    counts = torch.tensor([[2.0, 0.0, 1.0], [0.0, 3.0, 0.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    check_objective("multinomial+smoothness+sparsity+spectral K=3 all", "softplus", True,
                    dict(loss="multinomial", smoothness=0.3, sparsity=0.2, spectral=0.05, power_iterations=3,
                         all_examples=True), counts, None, seed=3)


# ---- 5. the command line ----------------------------------------------------------------------------------------

def run_main(argv):
    """(exit status, stdout) of torch_objectives.main; SystemExit (argparse, input errors) gives its code."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            status = tob.main(argv)
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
    return status, out.getvalue()


def check_command_line():
    name, length, outputs, activation = "cnn-local", 100, 2, "exp"
    model = cfp.random_model(name, length, outputs, activation, 7)
    x = torch_models.one_hot(4, length, torch.Generator().manual_seed(8))
    y = np.array([[1, 0], [0, 0], [0, 2], [1, 1]], dtype=np.float32)
    mask = np.array([[0, 1], [1, 1], [1, 1], [1, 0]], dtype=np.int8)
    u0 = random_power_vectors(model, np.random.default_rng(9))
    with tempfile.TemporaryDirectory() as tmp:
        paths = {k: os.path.join(tmp, f"{k}") for k in ("weights.npz", "x.npy", "y.npy", "mask.npy", "zero.npy",
                                                        "u.npz", "bad_u.npz", "inf.npz", "g.npz")}
        np.savez(paths["weights.npz"], **torch_models.state_dict_arrays(model))
        np.save(paths["x.npy"], x.numpy())
        np.save(paths["y.npy"], y)
        np.save(paths["mask.npy"], mask)
        np.save(paths["zero.npy"], np.zeros_like(mask))
        np.savez(paths["u.npz"], **u0)
        np.savez(paths["bad_u.npz"], **{k: v for k, v in u0.items() if not k.startswith("output")})
        inf = torch_models.state_dict_arrays(model)
        inf["output.bias"] = np.full_like(inf["output.bias"], 1000.0)
        np.savez(paths["inf.npz"], **inf)
        base = ["--model", name, "--activation", activation, "--weights", paths["weights.npz"], "--inputs",
                paths["x.npy"], "--labels", paths["y.npy"], "--out", paths["g.npz"]]
        cases = [
            (["--mask", paths["mask.npy"], "--fourier", "0.5", "--freq-limit", "12", "--smoothness", "0.3",
              "--sparsity", "0.2", "--spectral-norm", "0.05", "--power-vectors", paths["u.npz"],
              "--power-iterations", "2"],
             dict(loss="bce", mask=torch.from_numpy(mask.astype(np.float64)), fourier=0.5, freq_limit=12,
                  smoothness=0.3, sparsity=0.2, spectral=0.05, power_vectors=u0, power_iterations=2), False),
            (["--loss", "multinomial", "--train-bn", "--all-examples", "--sparsity", "1.5", "--sigma", "0"],
             dict(loss="multinomial", all_examples=True, sparsity=1.5, sigma=0), True),
            (["--loss", "poisson", "--mask", paths["zero.npy"], "--smoothness", "2"],
             dict(loss="poisson", mask=torch.zeros(4, 2, dtype=torch.float64), smoothness=2.0), False),
            (["--loss", "mse"], dict(loss="mse"), False),
        ]
        for extra, options, train_bn in cases:
            status, _ = run_main(base + extra)
            if status != 0:
                cfp.failures.append(f"command line {extra}: exit status {status}")
                continue
            with np.load(paths["g.npz"]) as g:
                written = {k: g[k] for k in g.files}
            twin = tob.tfp.load_model(name, length, outputs, activation, paths["weights.npz"])  # float32 file
            tob.tfp.set_mode(twin, train_bn)
            terms, vectors = tob.objective_terms(twin, x.double(), torch.from_numpy(y.astype(np.float64)),
                                                 **options)
            expected = {k: v.numpy() for k, v in tob.tfp.parameter_gradients(twin, terms["loss"]).items()}
            expected.update({k: terms[k].item() for k in tob.SCALARS})
            if vectors is not None:
                expected.update({f"{k}_u": u.numpy() for k, (u, _) in vectors.items()})
            if set(written) != set(expected):
                cfp.failures.append(f"command line {extra}: keys {sorted(set(written) ^ set(expected))} differ")
                continue
            trainable = {k for k, _ in twin.named_parameters()}
            if not trainable <= set(written):
                cfp.failures.append(f"command line {extra}: gradients missing")
            error = max(relative(written[k], expected[k], floor=1e-300) for k in written)
            total = (written["data_loss"] + written["spectral_penalty"]
                     + sum(written[f"{k}_prior"] * options[k] for k in ("fourier", "smoothness", "sparsity")
                           if options.get(k) is not None))
            error = max(error, relative(written["loss"], total))
            if any(written[k].dtype != np.float64 for k in written) or written["loss"].shape != ():
                cfp.failures.append(f"command line {extra}: arrays not float64 / loss not 0-d")
            report("command line G.npz vs in-process results", error, EXACT_TOLERANCE)

        errors = [
            (["--loss", "multinomial", "--mask", paths["mask.npy"]], "multinomial with --mask"),
            (["--spectral-norm", "0.1"], "--spectral-norm without --power-vectors"),
            (["--spectral-norm", "0.1", "--power-vectors", paths["bad_u.npz"]], "a layer without its u"),
            (["--lambda", "1"], "torch_fourier_prior's --lambda"),
            (["--spectral-norm", "0.1", "--power-vectors", paths["u.npz"], "--power-iterations", "0"], "K = 0"),
        ]
        for extra, what in errors:
            status, _ = run_main(base + extra)
            if status == 0:
                cfp.failures.append(f"command line: {what} was accepted")
        status, _ = run_main(base[:5] + [paths["inf.npz"]] + base[6:] + ["--loss", "poisson"])
        if status != 1:
            cfp.failures.append(f"command line: a non-finite loss exits {status}, not 1")


def main():
    torch.set_num_threads(1)  # tiny tensors: threads only add contention
    check_priors_numpy()
    check_data_losses()
    check_spectral()
    check_objectives()
    check_command_line()
    for name, error in cfp.worst.items():
        print(f"{name}: max rel err {error:.3e}")
    if cfp.failures:
        print("FAILED:\n  " + "\n  ".join(cfp.failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
