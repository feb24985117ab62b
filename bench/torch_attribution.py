#!/usr/bin/python3
"""PyTorch side of the attribution benchmark: the same maps as bench_attribution, on its weights and sequences.

Loads DIR/weights.npz, DIR/input.npy (saliency batch), DIR/few.npy and DIR/references.npy (written by
bench_attribution) into the torch twin of the model (tests/python/torch_models.py, eval mode, float32,
torch.set_num_threads(THREADS)), and computes output 0's
  saliency  torch.autograd.grad of the output summed over the batch, w.r.t. the input;
  ig        integrated gradients: the STEPS points k/STEPS (k = 1..STEPS) from each reference to its sequence, their
            gradients in batches of BATCH rows, (x - r) * mean gradient, averaged over the references;
  deepshap  DeepLIFT's rescale rule (Captum's max-pool rule) on each sequence stacked with each of its references,
            BATCH pairs at a time, by autograd functions that replace the activations' and max pools' backward;
            the hypothetical contributions m - sum_c m r, averaged over the references;
  ism       naive mutagenesis: all 3 L single-base mutants of a sequence in one no_grad forward pass;
  ism_incremental  the same naive mutagenesis (PyTorch has no incremental ISM), checked against and timed next to
            seqjit's incremental ISM.
Each map must equal bench_attribution's (||torch - seqjit|| / ||torch|| within TOLERANCE), so both sides provably
do the same work; then REPS timed runs after WARMUP. Prints one JSON line per method.

With --device cuda the model and data live on the GPU (torch_forward.py's use_device) and each timed run ends with
torch.cuda.synchronize(); --methods picks a subset.

Usage: torch_attribution.py --model NAME --data DIR --activation ACT [--steps 20] [--batch 100] [--reps 3]
           [--warmup 1] [--threads 2] [--device cpu|cuda] [--methods saliency,ism,...] [--json FILE]
"""

import argparse
import copy
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_forward import load_model, synchronize, use_device  # noqa: E402  (the twin with bench data's weights)

# ||torch - seqjit|| / ||torch|| per method. Integrated gradients' interpolation points sit near relu and max-pool
# kinks, where float32 rounding on either side can take the other branch: a looser bound there.
# DeepSHAP: where a unit's value on the input and on the reference differ by about EPSILON (a few units in a hundred
# sequence-reference pairs of CNN-deep), float32 accumulation error in the convolutions decides whether its
# multiplier is the rescale ratio or the gradient, and the hypothetical contributions downstream of it follow.
# ISM: an entry is the difference of two outputs, each with float32 error relative to the output, not to the
# difference (Basset's maps are about 1% of its outputs), so the error is taken relative to the larger of the map's
# norm and the outputs' scale over the map (sqrt(entries) x the RMS of the wild-type outputs).
TOLERANCE = {"saliency": 1e-4, "ig": 5e-3, "deepshap": 1e-2, "ism": 1e-4, "ism_incremental": 1e-4}
EPSILON = 1e-6  # below this |x - x_ref| a rescale multiplier is the gradient (seqjit's kDeepLiftEpsilon)


def saliency(model, x):
    x = x.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(model(x)[:, 0].sum(), x)
    return gradient


def integrated_gradients(model, x, references, steps, batch):
    sequences, per_sequence = x.shape[0], references.shape[0] // x.shape[0]
    targets = x.repeat_interleave(per_sequence, dim=0)  # (S * R, 4, L), row n*R + r is sequence n
    alphas = torch.arange(1, steps + 1, dtype=x.dtype, device=x.device) / steps
    points = references[:, None] + alphas[None, :, None, None] * (targets - references)[:, None]
    points = points.reshape(-1, *x.shape[1:])  # row (n*R + r) * steps + k - 1
    gradients = torch.cat([saliency(model, points[i:i + batch]) for i in range(0, points.shape[0], batch)])
    mean_gradient = gradients.reshape(-1, steps, *x.shape[1:]).mean(dim=1)
    return ((targets - references) * mean_gradient).reshape(sequences, per_sequence, *x.shape[1:]).mean(dim=1)


class Rescale(torch.autograd.Function):
    """f on a stack [inputs; references]; backward passes g * (f(x) - f(x_ref)) / (x - x_ref) to both halves."""

    @staticmethod
    def forward(ctx, z, f):
        y = f(z)
        ctx.save_for_backward(z, y)
        ctx.f = f
        return y

    @staticmethod
    def backward(ctx, g):
        z, y = ctx.saved_tensors
        n = z.shape[0] // 2
        with torch.enable_grad():
            at = z[:n].detach().requires_grad_(True)
            (derivative,) = torch.autograd.grad(ctx.f(at).sum(), at)
        change = z[:n] - z[n:]
        far = change.abs() > EPSILON
        m = g[:n] * torch.where(far, (y[:n] - y[n:]) / torch.where(far, change, torch.ones_like(change)), derivative)
        return torch.cat([m, m]), None


class RescaleMaxPool(torch.autograd.Function):
    """Max pooling of [inputs; references]; backward routes max(y, y_ref) - y_ref to the input's window maximum and
    y - max(y, y_ref) to the reference's, divided by x - x_ref (Captum's rule)."""

    @staticmethod
    def forward(ctx, x, size, stride):
        y, indices = F.max_pool1d(x, size, stride, return_indices=True)
        ctx.save_for_backward(x, y, indices)
        ctx.size, ctx.stride = size, stride
        return y

    @staticmethod
    def backward(ctx, g):
        x, y, indices = ctx.saved_tensors
        n = x.shape[0] // 2

        def unpool(values, where):
            return F.max_unpool1d(values, where, ctx.size, ctx.stride, output_size=x[:n].shape[-1:])

        change = y[:n] - y[n:]
        toward_input = F.relu(change)
        routed = unpool(g[:n] * toward_input, indices[:n]) + unpool(g[:n] * (change - toward_input), indices[n:])
        difference = x[:n] - x[n:]
        far = difference.abs() > EPSILON
        m = torch.where(far, routed / torch.where(far, difference, torch.ones_like(difference)),
                        unpool(g[:n], indices[:n]))
        return torch.cat([m, m]), None, None


def deepshap(model, x, references, batch):
    per_sequence = references.shape[0] // x.shape[0]
    targets = x.repeat_interleave(per_sequence, dim=0)  # row n*R + r is sequence n
    hypothetical = []
    for i in range(0, targets.shape[0], batch):
        stacked = torch.cat([targets[i:i + batch], references[i:i + batch]]).requires_grad_(True)
        count = targets[i:i + batch].shape[0]
        output = model(stacked, function=lambda f, z: Rescale.apply(z, f), pool=RescaleMaxPool.apply)
        (multipliers,) = torch.autograd.grad(output[:count, 0].sum(), stacked)
        m = multipliers[:count]
        hypothetical.append(m - (m * references[i:i + batch]).sum(dim=1, keepdim=True))
    return torch.cat(hypothetical).reshape(x.shape[0], per_sequence, *x.shape[1:]).mean(dim=1)


def mutagenesis(model, x):
    maps = torch.zeros_like(x)
    with torch.no_grad():
        wild = model(x)[:, 0]
        for n in range(x.shape[0]):
            bases, positions = torch.nonzero(x[n] != 1.0, as_tuple=True)  # every single-base substitution
            mutants = x[n].repeat(bases.shape[0], 1, 1)
            rows = torch.arange(bases.shape[0], device=x.device)
            mutants[rows, :, positions] = 0.0
            mutants[rows, bases, positions] = 1.0
            maps[n, bases, positions] = model(mutants)[:, 0] - wild[n]
    return maps


def timed(run, reps, warmup, device):
    for _ in range(warmup):
        run()
    synchronize(device)
    seconds = []
    for _ in range(reps):
        start = time.perf_counter()
        result = run()
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return result, seconds


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--activation", required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--methods", default="saliency,ig,deepshap,ism,ism_incremental",
                        help="comma-separated, of saliency, ig, deepshap, ism, ism_incremental")
    parser.add_argument("--json", help="append the JSON lines to this file too")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = use_device(args.device)
    inputs = {name: torch.from_numpy(np.load(os.path.join(args.data, name + ".npy"))).to(device)
              for name in ["input", "few", "references"]}
    methods = [m for m in args.methods.split(",") if m]
    model = load_model(args.model, inputs["input"].shape[2], 0, args.activation,
                       os.path.join(args.data, "weights.npz")).to(device)

    def maps_of(model, inputs):
        """Each method's map of `model` on `inputs`, as a function to call."""
        return {
            "saliency": lambda: saliency(model, inputs["input"]),
            "ig": lambda: integrated_gradients(model, inputs["few"], inputs["references"], args.steps, args.batch),
            "deepshap": lambda: deepshap(model, inputs["few"], inputs["references"], args.batch),
            "ism": lambda: mutagenesis(model, inputs["few"]),
            "ism_incremental": lambda: mutagenesis(model, inputs["few"]),
        }

    def relative_error(result, expected, model, inputs, method):
        scale = max(float(np.linalg.norm(result)), 1e-30)
        if method.startswith("ism"):
            with torch.no_grad():
                wild = model(inputs["few"])[:, 0].cpu().numpy()
            scale = max(scale, float(np.sqrt(result.size * np.mean(wild.astype(np.float64) ** 2))))
        return float(np.linalg.norm(result - expected)) / scale

    runs = maps_of(model, inputs)
    counts = {"saliency": inputs["input"].shape[0]}
    unknown = [m for m in methods if m not in runs]
    if unknown:
        parser.error(f"unknown methods {unknown}; expected some of {', '.join(runs)}")
    def exact_check(method, result, expected, error):
        """A near-tie in a max pool (or a pre-activation near a relu's kink) can go either way in float32, on either
        side, and route a gradient elsewhere: a map farther than the tolerance from PyTorch's float32 map is judged
        against PyTorch's float64 map (the function computed exactly) where that is nearer."""
        exact_model = copy.deepcopy(model).double()
        exact_inputs = {name: value.double() for name, value in inputs.items()}
        exact = maps_of(exact_model, exact_inputs)[method]().detach().cpu().numpy().astype(result.dtype)
        axes = tuple(range(1, result.ndim))
        distance = lambda a: np.sqrt(((a - expected) ** 2).sum(axis=axes))
        far = distance(result) > TOLERANCE[method] * np.maximum(np.sqrt((result ** 2).sum(axis=axes)), 1e-30)
        nearer = far & (distance(exact) < distance(result))
        combined = np.where(nearer.reshape((-1,) + (1,) * len(axes)), exact, result)
        combined_error = relative_error(combined, expected, model, inputs, method)
        if combined_error < error:
            return combined_error, f"float64 for {int(nearer.sum())} of {len(nearer)} maps"
        return error, "float32"

    # Every method is timed (and its peak memory taken) before any float64 check, whose memory is not PyTorch's.
    measured = []
    for method in methods:
        sequences = counts.get(method, inputs["few"].shape[0])
        result, seconds = timed(runs[method], args.reps, args.warmup, device)
        result = result.cpu().numpy()
        expected = np.load(os.path.join(args.data, method + ".npy"))
        measured.append((method, sequences, seconds, result, expected,
                         resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
    status = 0
    for method, sequences, seconds, result, expected, peak_rss_mb in measured:
        error = relative_error(result, expected, model, inputs, method)
        reference = "float32"
        if error > TOLERANCE[method]:
            error, reference = exact_check(method, result, expected, error)
        record = {
            "side": "torch", "model": args.model, "method": method, "sequences": sequences, "reps": args.reps,
            "median_s": statistics.median(seconds), "sequences_per_s": sequences / statistics.median(seconds),
            "rel_err_vs_seqjit": error, "reference": reference, "maps_agree": error <= TOLERANCE[method],
            "threads": torch.get_num_threads(), "device": args.device, "torch": torch.__version__,
            "peak_rss_mb": peak_rss_mb,
        }
        line = json.dumps(record)
        print(line, flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(line + "\n")
        if error > TOLERANCE[method]:
            print(f"error: {args.model} {method}: torch and seqjit maps differ by {error:.2e} (relative)",
                  file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
