#!/usr/bin/python3
"""PyTorch side of the forward benchmark: the torch twin of a zoo model on the weights and input bench_forward used.

Loads DIR/weights.npz and DIR/input.npy (written by bench_forward), runs the model from tests/python/torch_models.py
in eval mode with torch.set_num_threads(THREADS), checks that its output equals bench_forward's DIR/output.npy
(max |torch - seqjit| / max |torch| <= 1e-4, so both sides provably do the same work), then times REPS forward
passes after a warm-up under torch.no_grad and under torch.inference_mode, and prints one JSON line with the
medians (the faster of the two is "median_s": PyTorch at its best). NCL layout as is (no channels_last).

With --device cuda the model and input live on the GPU, cuDNN picks its fastest algorithms (cudnn.benchmark), and
each timed pass ends with torch.cuda.synchronize().

Usage: torch_forward.py --model NAME --data DIR [--reps R] [--warmup W] [--threads T] [--device cpu|cuda]
           [--json FILE]
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
import torch_models  # noqa: E402  (the twins' one definition)

TOLERANCE = 1e-4


def load_model(name, length, outputs, activation, weights_path):
    model = torch_models.build(name, length, outputs, activation)
    arrays = np.load(weights_path)
    result = model.load_state_dict({k: torch.from_numpy(arrays[k]) for k in arrays.files}, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise SystemExit(f"{weights_path}: state_dict mismatch with torch twin '{name}': "
                         f"missing {missing}, unexpected {result.unexpected_keys}")
    return model.eval()


def synchronize(device):
    """Waits for the device's queued work, so that a timer brackets the work and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def use_device(name):
    """The torch.device for --device; on CUDA, cuDNN benchmarks its algorithms (PyTorch at its best)."""
    device = torch.device(name)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        # float32 as seqjit computes it: no TF32 in cuDNN convolutions or cuBLAS products.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    return device


def time_forward(model, x, reps, warmup, context):
    with context():
        for _ in range(warmup):
            model(x)
        synchronize(x.device)
        seconds = []
        for _ in range(reps):
            start = time.perf_counter()
            model(x)
            synchronize(x.device)
            seconds.append(time.perf_counter() - start)
    return seconds


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True, help="directory with weights.npz, input.npy, output.npy")
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--outputs", type=int, default=0)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--json", help="append the JSON line to this file too")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    device = use_device(args.device)
    x = torch.from_numpy(np.load(os.path.join(args.data, "input.npy"))).to(device)
    expected = np.load(os.path.join(args.data, "output.npy"))
    model = load_model(args.model, x.shape[2], args.outputs, args.activation,
                       os.path.join(args.data, "weights.npz")).to(device)

    with torch.no_grad():
        y = model(x).cpu().numpy()
    if y.shape != expected.shape:
        raise SystemExit(f"{args.model}: torch output shape {y.shape} != seqjit output shape {expected.shape}")
    scale = max(float(np.abs(y).max()), 1e-30)
    relative_error = float(np.abs(y - expected.astype(np.float32)).max()) / scale
    agrees = relative_error <= TOLERANCE

    no_grad = time_forward(model, x, args.reps, args.warmup, torch.no_grad)
    inference = time_forward(model, x, args.reps, args.warmup, torch.inference_mode)
    best = min(statistics.median(no_grad), statistics.median(inference))
    record = {
        "side": "torch", "model": args.model, "batch": int(x.shape[0]), "length": int(x.shape[2]),
        "reps": args.reps, "threads": torch.get_num_threads(), "torch": torch.__version__, "device": args.device,
        "median_s": best, "sequences_per_s": x.shape[0] / best,
        "median_no_grad_s": statistics.median(no_grad), "median_inference_mode_s": statistics.median(inference),
        "min_s": min(no_grad + inference),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "max_rel_err_vs_seqjit": relative_error, "outputs_agree": agrees,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
    }
    line = json.dumps(record)
    print(line)
    if args.json:
        with open(args.json, "a") as f:
            f.write(line + "\n")
    if not agrees:
        print(f"error: {args.model}: torch and seqjit outputs differ (max rel err {relative_error:.3g} > {TOLERANCE})",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
