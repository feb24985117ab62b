#!/usr/bin/python3
"""PyTorch side of the train-step benchmark: one gradient step of a zoo twin, plain and with the Fourier prior.

For the torch twin of --model (tests/python/torch_models.py) in float32 with torch.set_num_threads(THREADS), times
  grad:          forward + BCE-with-logits (mean) + backward to every trainable parameter
  grad_fourier:  the same plus Tseng et al.'s Fourier attribution prior by double backprop: input gradients of
                 the summed logits with create_graph=True, prior on grad x input (tests/python/torch_fourier_prior.py,
                 the float64 oracle's own code), loss = bce + lambda * prior, backward to every parameter
No optimizer (torch.autograd.grad returns fresh gradients, as a compiled gradient program does) and dropout off.
Batch norm uses batch statistics (a train step) unless --bn running. Weights are random (seeded, batch norm moved off
the identity as torch_models.py export does), input one-hot, labels Bernoulli(0.5) — or DIR/weights.npz,
DIR/input.npy and DIR/labels.npy from --data. Each task: WARMUP untimed steps, then REPS timed ones; prints one JSON
line per task with the median (torch_forward.py's format plus "task").
peak_rss_mb is the process's peak so far (ru_maxrss): tasks run in the order given, so a later task's figure
includes the earlier ones'; run one task per process (--tasks grad_fourier) for a per-task peak.

With --device cuda the model and data live on the GPU (cuDNN benchmarking on, no TF32, torch_forward.py's
use_device) and each timed step ends with torch.cuda.synchronize().

Usage: torch_train_step.py --model NAME [--length L] [--batch 100] [--outputs K] [--activation relu]
           [--tasks grad,grad_fourier] [--reps 10] [--warmup 2] [--threads 2] [--device cpu|cuda] [--seed 0]
           [--bn batch|running]
           [--freq-limit 150] [--softness 0.2] [--sigma 3] [--lambda 1] [--all-examples] [--data DIR] [--json FILE]
"""

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
import torch_fourier_prior as tfp  # noqa: E402  (the prior's one definition, checked in float64)
import torch_models  # noqa: E402  (the twins' one definition)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_forward import synchronize, use_device  # noqa: E402  (the benchmarks' one device set-up)

TASKS = ("grad", "grad_fourier")


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return ""


def inputs(args):
    """(model, x, y) in float32: from --data, or random with --seed."""
    if args.data:
        x = torch.from_numpy(np.load(os.path.join(args.data, "input.npy")).astype(np.float32))
        labels_path = os.path.join(args.data, "labels.npy")
        if os.path.exists(labels_path):
            y = np.load(labels_path).astype(np.float32)
            y = torch.from_numpy(y.reshape(y.shape[0], -1))
        else:
            y = None
        outputs = args.outputs or (y.shape[1] if y is not None else 0)
        model = tfp.load_model(args.model, x.shape[2], outputs, args.activation,
                               os.path.join(args.data, "weights.npz"), dtype=torch.float32)
    else:
        torch.manual_seed(args.seed)
        model = torch_models.build(args.model, args.length, args.outputs, args.activation)
        generator = torch.Generator().manual_seed(args.seed)
        torch_models.randomize(model, generator)
        length = args.length or torch_models.ZOO[args.model][0]
        x = torch_models.one_hot(args.batch, length, generator)
        y = None
    outputs = model.output.out_features
    if y is None:
        generator = torch.Generator().manual_seed(args.seed + 1)
        y = (torch.rand(x.shape[0], outputs, generator=generator) < 0.5).to(torch.float32)
    if tuple(y.shape) != (x.shape[0], outputs):
        raise SystemExit(f"labels of shape {tuple(y.shape)}, expected {(x.shape[0], outputs)}")
    return model, x, y


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--length", type=int, default=0, help="default: the zoo's length for the model")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--outputs", type=int, default=0)
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated, run in this order")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bn", choices=["batch", "running"], default="batch",
                        help="batch norm statistics (default batch: a train step)")
    parser.add_argument("--data", help="directory with weights.npz, input.npy and optionally labels.npy")
    parser.add_argument("--json", help="append the JSON lines to this file too")
    tfp.add_prior_arguments(parser)
    args = parser.parse_args(argv)
    tasks = [t for t in args.tasks.split(",") if t]
    for task in tasks:
        if task not in TASKS:
            parser.error(f"unknown task '{task}'; expected {', '.join(TASKS)}")
    if args.reps < 1:
        parser.error("--reps must be >= 1")

    torch.set_num_threads(args.threads)
    device = use_device(args.device)
    model, x, y = inputs(args)
    model, x, y = model.to(device), x.to(device), y.to(device)
    tfp.set_mode(model, args.bn == "batch")
    params = [p for _, p in tfp.trainable_parameters(model)]
    prior_options = dict(freq_limit=args.freq_limit, softness=args.softness, sigma=args.sigma,
                         all_examples=args.all_examples)

    def step(with_prior):
        loss, bce, prior = tfp.loss_terms(model, x, y, args.lam, with_prior, **prior_options)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        return loss, bce, prior, grads

    status = 0
    for task in tasks:
        with_prior = task == "grad_fourier"
        for _ in range(args.warmup):
            step(with_prior)
        synchronize(device)
        seconds = []
        for _ in range(args.reps):
            start = time.perf_counter()
            loss, bce, prior, _ = step(with_prior)
            synchronize(device)
            seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds)
        record = {
            "side": "torch", "model": args.model, "task": task, "batch": int(x.shape[0]), "length": int(x.shape[2]),
            "outputs": int(y.shape[1]), "activation": args.activation, "batch_norm": args.bn,
            "reps": args.reps, "warmup": args.warmup, "threads": torch.get_num_threads(), "torch": torch.__version__,
            "device": args.device, "median_s": median, "median_ms": median * 1e3, "min_s": min(seconds),
            "sequences_per_s": x.shape[0] / median,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "loss": loss.item(), "bce": bce.item(),
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
            "load_average": load_average(),  # other work on the machine skews 2-thread OpenMP torch most
        }
        if with_prior:
            record.update(prior=prior.item(), **{"lambda": args.lam}, freq_limit=args.freq_limit,
                          softness=args.softness, sigma=args.sigma,
                          prior_examples=int(x.shape[0]) if args.all_examples
                          else int(tfp.positive_examples(y).sum()))
        line = json.dumps(record)
        print(line, flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(line + "\n")
        if not math.isfinite(loss.item()):
            print(f"error: {args.model} {task}: non-finite loss {loss.item()}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
