#!/usr/bin/python3
"""Self-check of torch_fourier_prior.py (float64): the oracle must itself be right before seqjit is held to it.

1. The smoothing window equals scipy.ndimage.gaussian_filter of a delta with truncate=1 (scipy's 'reflect'
   boundary emulated in numpy; scipy itself too when it is installed).
2. fourier_prior equals a numpy-only recomputation (loops, np.convolve, np.fft.rfft) on random grad x input,
   including a zero row, no positive example, sigma 0, soft weights present or not, --all-examples.
3. On small twins with random weights, 3 examples (2 positive), soft frequency weights in play (T = 10 or 20):
   cnn-local at L=100 with 3 tasks (exp, BN running statistics; softplus, BN batch statistics) and cnn-dist at
   L=120 with 1 task (relu, running; exp, batch, --all-examples); cnn-dist is undefined below L=104:
   - input gradients g against central differences of sum(logits) in X;
   - the prior of loss_terms against the numpy prior of g x X;
   - d prior / d theta and d loss / d theta (double backprop) against central differences: along two random
     directions over all parameters, and entry by entry on a sample of every parameter tensor (its largest entry
     and 4 random ones); relative error = |fd - analytic| / max(|analytic|, |fd|, 1e-4 max |gradient|).
4. The command line writes G.npz equal to the in-process gradients, with exactly the trainable parameters' names.
Prints each check's max relative error; exit status 0 if all are within tolerance, 1 otherwise.

Usage: check_torch_fourier_prior.py [--verbose]
"""

import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_fourier_prior as tfp  # noqa: E402
import torch_models  # noqa: E402

PRIOR_TOLERANCE = 1e-12  # same float64 computation, different code: only rounding differs
# Finite differences: five-point central stencil at three steps (relative to |theta| above 1), the best one counts.
# 1e-6 stays clear of relu / max-pool / |.| kinks and of the strong curvature of exp after batch norm; 1e-4 keeps
# the rounding noise (eps |f| / h) of near-zero entries small. A wrong derivative matches at none of them.
STEPS = (1e-4, 1e-5, 1e-6)
GRADIENT_TOLERANCE = 1e-6  # observed: 1e-7 at worst (entries 1e-4 of the largest), 1e-9 typically
VERBOSE = "--verbose" in sys.argv
failures = []
worst = {}


def report(name, error, tolerance):
    worst[name] = max(worst.get(name, 0.0), error)
    ok = error <= tolerance
    if VERBOSE or not ok:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: max rel err {error:.3e} (tolerance {tolerance:.0e})")
    if not ok:
        failures.append(f"{name}: {error:.3e} > {tolerance:.0e}")


def relative(a, b, floor=0.0):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    scale = np.where(scale == 0, 1.0, scale)
    return float(np.max(np.abs(a - b) / scale)) if a.size else 0.0


def five_point(f, h):
    """f'(0) by the fourth-order central stencil (f(-2h) - 8 f(-h) + 8 f(h) - f(2h)) / 12h."""
    return (f(-2 * h) - 8 * f(-h) + 8 * f(h) - f(2 * h)) / (12 * h)


def difference_error(f, analytic, scale=1.0, floor=0.0):
    """min over STEPS of |five_point(f, step * scale) - analytic| / max(|analytic|, |fd|, floor)."""
    return min(relative(analytic, five_point(f, step * scale), floor) for step in STEPS)


def directional_errors(params, value, analytic, count=2):
    """difference_error of value() along `count` random unit directions over all of params, against the
    directional derivative sum <analytic, direction>; params are restored after each evaluation."""
    errors = []
    for direction_seed in range(count):
        gen = torch.Generator().manual_seed(100 + direction_seed)
        directions = [torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in params]
        norm = sum((d * d).sum() for d in directions).sqrt()
        directions = [d / norm for d in directions]

        def along(t):
            with torch.no_grad():
                for p, d in zip(params, directions):
                    p.add_(t * d)
            result = value().item()
            with torch.no_grad():
                for p, d in zip(params, directions):
                    p.sub_(t * d)
            return result

        exact = sum((a * d).sum() for a, d in zip(analytic, directions)).item()
        errors.append(difference_error(along, exact))
    return errors


def summary(worst, failures):
    """Prints every check's worst error and the failures; the exit status: 0 if none failed, 1 otherwise."""
    for name, error in worst.items():
        print(f"{name}: max rel err {error:.3e}")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("ok")
    return 0


# ---- numpy-only reference -------------------------------------------------------------------------------------

def numpy_kernel(sigma):
    if sigma == 0:
        return np.ones(1)
    x = np.arange(-sigma, sigma + 1, dtype=np.float64)
    w = np.exp(-x * x / (2.0 * sigma * sigma))
    return w / w.sum()


def numpy_gaussian_filter_of_delta(sigma):
    """scipy.ndimage.gaussian_filter1d(delta, sigma, truncate=1, mode='reflect') written out: radius
    int(truncate * sigma + 0.5), weights exp(-x^2 / (2 sigma^2)) normalised, 'reflect' = numpy 'symmetric'."""
    radius = int(1.0 * sigma + 0.5)
    base = np.zeros(2 * sigma + 1)
    base[sigma] = 1.0
    x = np.arange(-radius, radius + 1)
    w = np.exp(-0.5 * x * x / (sigma * sigma))
    w /= w.sum()
    padded = np.pad(base, radius, mode="symmetric")
    return np.array([np.dot(padded[i:i + 2 * radius + 1], w[::-1]) for i in range(base.size)])


def numpy_prior(gxi, labels, freq_limit, softness, sigma, all_examples):
    gxi = np.asarray(gxi, np.float64)
    labels = np.asarray(labels).reshape(gxi.shape[0], -1)
    n, _, length = gxi.shape
    a = np.abs(gxi).sum(axis=1)
    kernel = numpy_kernel(sigma)
    smoothed = np.stack([np.convolve(a[i], kernel, mode="same") for i in range(n)])
    chosen = [i for i in range(n) if all_examples or any(v == 1 for v in labels[i])]
    if not chosen:
        return 0.0
    losses = []
    for i in chosen:
        m = np.abs(np.fft.rfft(smoothed[i]))
        total = m.sum()
        if total != 0:
            m = m / total
        m = m[1:]
        score = 0.0
        for k in range(m.size):
            w = 1.0 if k < freq_limit else 1.0 / (1.0 + (k - freq_limit + 1) ** softness)
            score += w * m[k]
        losses.append(1.0 - score)
    return float(np.mean(losses))


# ---- 1. the smoothing window ------------------------------------------------------------------------------------

def check_kernel():
    for sigma in range(0, 8):
        ours = tfp.smoothing_kernel(sigma).numpy()
        report("kernel vs exp formula", relative(ours, numpy_kernel(sigma)), PRIOR_TOLERANCE)
        if sigma > 0:
            report("kernel vs gaussian_filter(delta, truncate=1), numpy emulation",
                   relative(ours, numpy_gaussian_filter_of_delta(sigma)), PRIOR_TOLERANCE)
            try:
                from scipy.ndimage import gaussian_filter
            except ImportError:
                continue
            delta = np.zeros(2 * sigma + 1)
            delta[sigma] = 1.0
            report("kernel vs scipy gaussian_filter", relative(ours, gaussian_filter(delta, sigma, truncate=1)),
                   PRIOR_TOLERANCE)


# ---- 2. the prior against numpy ---------------------------------------------------------------------------------

def check_prior_numpy():
    rng = np.random.default_rng(1)
    cases = [
        # length, tasks, freq_limit, softness, sigma, all_examples
        (100, 1, 10, 0.2, 3, False),
        (100, 1, 150, 0.2, 3, False),   # T beyond the spectrum: every weight 1
        (101, 3, 7, 0.5, 0, False),     # odd length, no smoothing, multi-task
        (64, 2, 0, 1.0, 1, True),       # every frequency softened, all examples
        (200, 1, 150, 0.2, 3, True),
    ]
    for length, tasks, freq_limit, softness, sigma, all_examples in cases:
        gxi = rng.normal(size=(6, 4, length))
        gxi[:, :, ::3] = 0.0
        gxi[2] = 0.0  # a zero row: magnitudes stay 0, score 0
        labels = rng.integers(0, 2, size=(6, tasks)).astype(np.float64)
        labels[2, 0] = 1  # the zero row is a positive
        labels[5] = -1
        ours = tfp.fourier_prior(torch.from_numpy(gxi), torch.from_numpy(labels), freq_limit, softness, sigma,
                                 all_examples).item()
        reference = numpy_prior(gxi, labels, freq_limit, softness, sigma, all_examples)
        report("prior vs numpy (random grad x input)", relative(ours, reference), PRIOR_TOLERANCE)
    none = tfp.fourier_prior(torch.ones(3, 4, 50, dtype=torch.float64), torch.zeros(3, 1)).item()
    report("prior with no positive example is 0", abs(none), 0.0)


# ---- 3. models: input gradients, prior, double-backprop gradients -----------------------------------------------

def random_model(name, length, outputs, activation, seed):
    torch.manual_seed(seed)
    model = torch_models.build(name, length, outputs, activation).double()
    generator = torch.Generator().manual_seed(seed)
    torch_models.randomize(model, generator)
    return model


def flat_parameters(model):
    return [p for _, p in tfp.trainable_parameters(model)]


def check_model(name, length, outputs, activation, train_bn, prior_options, seed=0):
    tag = f"{name} {activation} L={length} bn={'batch' if train_bn else 'running'}"
    model = random_model(name, length, outputs, activation, seed)
    tfp.set_mode(model, train_bn)
    generator = torch.Generator().manual_seed(seed + 1)
    x = torch_models.one_hot(3, length, generator).double()
    y = torch.zeros(3, outputs, dtype=torch.float64)
    y[0, 0] = 1
    y[2, outputs - 1] = 1  # examples 0 and 2 positive, 1 negative
    params = flat_parameters(model)

    # Input gradients against central differences of sum(logits) in X (the prior's own input).
    xg = x.clone().requires_grad_(True)
    _, g = tfp.input_gradients(model, xg, create_graph=False)
    rng = np.random.default_rng(seed)
    errors = []
    with torch.no_grad():
        for flat in rng.choice(x.numel(), size=24, replace=False):
            def at(t):
                shifted = x.clone()
                shifted.view(-1)[flat] += t
                return model(shifted).sum().item()

            errors.append(difference_error(at, g.reshape(-1)[flat].item(), floor=1e-4 * g.abs().max().item()))
    report(f"input gradient vs central differences [{tag}]", max(errors), GRADIENT_TOLERANCE)

    # The prior of loss_terms against numpy on g x X.
    loss, bce, prior = tfp.loss_terms(model, x, y, 1.0, True, **prior_options)
    reference = numpy_prior((g * x).detach().numpy(), y.numpy(), prior_options["freq_limit"],
                            prior_options["softness"], prior_options["sigma"], prior_options["all_examples"])
    report(f"model prior vs numpy [{tag}]", relative(prior.item(), reference), PRIOR_TOLERANCE)
    if VERBOSE:
        print(f"    {tag}: loss {loss.item():.6f} bce {bce.item():.6f} prior {prior.item():.6f}")
    if not 0 < prior.item() < 1:
        failures.append(f"{tag}: prior {prior.item()} outside (0, 1): the check would not exercise it")

    def value(which):
        loss, _, prior = tfp.loss_terms(model, x, y, 1.0, True, **prior_options)
        return loss if which == "loss" else prior

    for which in ("prior", "loss"):
        analytic = torch.autograd.grad(value(which), params, allow_unused=True)
        analytic = [a if a is not None else torch.zeros_like(p) for a, p in zip(analytic, params)]
        largest = max(a.abs().max().item() for a in analytic)
        if largest == 0:
            failures.append(f"{tag}: d {which} / d theta is identically 0")
            continue

        # Along random directions over every parameter at once.
        for error in directional_errors(params, lambda: value(which), analytic):
            report(f"d {which}/d theta, directional, vs central differences [{tag}]", error, GRADIENT_TOLERANCE)

        # Entry by entry: the largest entry and random ones of every parameter tensor.
        errors = []
        for (pname, p), a in zip(tfp.trainable_parameters(model), analytic):
            picks = {int(a.abs().reshape(-1).argmax())}
            picks.update(int(i) for i in rng.choice(p.numel(), size=min(4, p.numel()), replace=False))
            for flat in picks:
                original = p.view(-1)[flat].item()

                def at(t):
                    with torch.no_grad():
                        p.view(-1)[flat] = original + t
                    result = value(which).item()
                    with torch.no_grad():
                        p.view(-1)[flat] = original
                    return result

                errors.append(difference_error(at, a.reshape(-1)[flat].item(), max(1.0, abs(original)),
                                               floor=1e-4 * largest))
        report(f"d {which}/d theta, per entry, vs central differences [{tag}]", max(errors), GRADIENT_TOLERANCE)
    return model, x, y


# ---- 4. the command line ----------------------------------------------------------------------------------------

def check_command_line():
    name, length, outputs, activation = "cnn-local", 100, 2, "exp"
    model = random_model(name, length, outputs, activation, 7)
    x = torch_models.one_hot(4, length, torch.Generator().manual_seed(8))
    y = np.array([[1, 0], [0, 0], [0, 1], [1, 1]], dtype=np.int8)
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "weights.npz")
        np.savez(weights, **torch_models.state_dict_arrays(model))
        np.save(os.path.join(tmp, "x.npy"), x.numpy())
        np.save(os.path.join(tmp, "y.npy"), y)
        for extra in ([], ["--train-bn", "--all-examples", "--lambda", "2.5", "--sigma", "0"], ["--no-prior"]):
            out = os.path.join(tmp, "g.npz")
            argv = ["--model", name, "--activation", activation, "--weights", weights, "--inputs",
                    os.path.join(tmp, "x.npy"), "--labels", os.path.join(tmp, "y.npy"), "--out", out,
                    "--freq-limit", "12"] + extra
            devnull = open(os.devnull, "w")
            saved, sys.stdout = sys.stdout, devnull
            try:
                status = tfp.main(argv)
            finally:
                sys.stdout = saved
                devnull.close()
            if status != 0:
                failures.append(f"command line {extra}: exit status {status}")
                continue
            with np.load(out) as g:
                written = {k: g[k] for k in g.files}
            # In process, from the float32 file as the command line read it.
            twin = tfp.load_model(name, length, outputs, activation, weights)
            tfp.set_mode(twin, "--train-bn" in extra)
            lam = 2.5 if "--lambda" in extra else 1.0
            loss, bce, prior = tfp.loss_terms(twin, x.double(), torch.from_numpy(y.astype(np.float64)), lam,
                                              "--no-prior" not in extra, 12, 0.2, 0 if "--sigma" in extra else 3,
                                              "--all-examples" in extra)
            expected = {k: v.numpy() for k, v in tfp.parameter_gradients(twin, loss).items()}
            names = {k for k in written if k not in ("loss", "bce", "prior")}
            trainable = {k for k, _ in twin.named_parameters()}
            if names != trainable:
                failures.append(f"command line {extra}: keys {sorted(names ^ trainable)} differ from the parameters")
                continue
            if any(k.endswith(("running_mean", "running_var", "num_batches_tracked")) for k in names):
                failures.append(f"command line {extra}: running statistics written as gradients")
            error = max(relative(written[k], expected[k], floor=1e-300) for k in names)
            error = max(error, relative(written["loss"], loss.item()), relative(written["bce"], bce.item()),
                        relative(written["prior"], prior.item()))
            error = max(error, relative(written["loss"], written["bce"] + (0 if "--no-prior" in extra else lam)
                                        * written["prior"]))
            if any(written[k].dtype != np.float64 for k in written) or written["loss"].shape != ():
                failures.append(f"command line {extra}: arrays not float64 / loss not 0-d")
            report("command line G.npz vs in-process gradients", error, 1e-12)


def main():
    torch.set_num_threads(1)  # tiny tensors: threads only add contention
    check_kernel()
    check_prior_numpy()
    check_model("cnn-local", 100, 3, "exp", False, dict(freq_limit=10, softness=0.2, sigma=3, all_examples=False))
    check_model("cnn-local", 100, 3, "softplus", True, dict(freq_limit=10, softness=0.2, sigma=3, all_examples=False))
    check_model("cnn-dist", 120, 1, "relu", False, dict(freq_limit=20, softness=0.2, sigma=3, all_examples=False))
    check_model("cnn-dist", 120, 1, "exp", True, dict(freq_limit=20, softness=0.5, sigma=2, all_examples=True))
    check_command_line()
    return summary(worst, failures)


if __name__ == "__main__":
    sys.exit(main())
