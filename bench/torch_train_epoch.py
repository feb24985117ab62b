#!/usr/bin/python3
"""PyTorch side of the train-epoch benchmark: whole training epochs of a zoo twin on an HDF5 data set.

For the torch twin of --model (tests/python/torch_models.py, built by torch_fourier_prior.load_model) in float32
with torch.set_num_threads(THREADS), each epoch does the work of one `seqjit train` epoch:
  train:       model.train() (dropout on, batch norm on batch statistics, running statistics updated); a fresh
               shuffle of X_train, mini-batches of BATCH (the last partial batch dropped, as seqjit does); per batch
               forward + BCEWithLogitsLoss (mean) + loss.backward() + torch.optim.Adam(lr=LR).step()
  validation:  model.eval(), torch.no_grad(), forward over X_valid in batches of VALID_BATCH, mean BCE
Each epoch is timed with time.perf_counter. X_train/Y_train/X_valid/Y_valid are read from the HDF5 file into
float32 tensors once, before any timing (seqjit reads its batches from the file during the epoch). The twin starts
from torch's own seeded initialisation, or from --weights (an .npz with state_dict names) if given.
Prints one JSON line: every epoch's seconds, the median over epochs 2..E (epoch 1 alone if E = 1), the mean
train loss of the last epoch (seqjit's "train loss" is that mean too) and its validation loss.

Usage: torch_train_epoch.py --model NAME --data FILE.h5 [--epochs 3] [--batch 100] [--valid-batch 2048]
           [--activation exp] [--lr 1e-3] [--threads 2] [--seed 0] [--weights W.npz] [--json FILE]
"""

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
import torch_fourier_prior as tfp  # noqa: E402  (load_model: the twin, optionally with given weights)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train_step import load_average  # noqa: E402  (one definition for both benchmarks)


def load_split(h5, split):
    """(X (N, 4, L), Y (N, tasks)) of a split as float32 tensors."""
    x = np.asarray(h5[f"X_{split}"], dtype=np.float32)
    y = np.asarray(h5[f"Y_{split}"], dtype=np.float32)
    y = y.reshape(y.shape[0], -1)
    if x.ndim != 3 or x.shape[1] != 4 or y.shape[0] != x.shape[0]:
        raise SystemExit(f"X_{split} {x.shape} / Y_{split} {y.shape}: expected (N, 4, L) and (N, tasks)")
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True, help="HDF5 file with X_train, Y_train, X_valid, Y_valid")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--valid-batch", type=int, default=2048)
    parser.add_argument("--activation", default="exp")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", help="initial weights (.npz, state_dict names); default: torch's seeded init")
    parser.add_argument("--json", help="append the JSON line to this file too")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch < 1 or args.valid_batch < 1:
        parser.error("--epochs, --batch and --valid-batch must be >= 1")

    torch.set_num_threads(args.threads)
    with h5py.File(args.data, "r") as h5:
        x_train, y_train = load_split(h5, "train")
        x_valid, y_valid = load_split(h5, "valid")
    batches = x_train.shape[0] // args.batch
    if batches == 0:
        raise SystemExit(f"{args.data}: {x_train.shape[0]} training sequences, fewer than one batch of {args.batch}")

    torch.manual_seed(args.seed)
    model = tfp.load_model(args.model, x_train.shape[2], y_train.shape[1], args.activation, args.weights,
                           dtype=torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    shuffle = torch.Generator().manual_seed(args.seed)

    seconds, train_losses, valid_losses = [], [], []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(x_train.shape[0], generator=shuffle)
        total = 0.0
        for batch in range(batches):
            indices = order[batch * args.batch:(batch + 1) * args.batch]
            x, y = x_train[indices], y_train[indices]
            optimizer.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item()
        model.eval()
        valid_total = 0.0
        with torch.no_grad():
            for first in range(0, x_valid.shape[0], args.valid_batch):
                x = x_valid[first:first + args.valid_batch]
                y = y_valid[first:first + args.valid_batch]
                valid_total += F.binary_cross_entropy_with_logits(model(x), y, reduction="sum").item()
        seconds.append(time.perf_counter() - start)
        train_losses.append(total / batches)
        valid_losses.append(valid_total / y_valid.numel())
        print(f"epoch {epoch:>3}/{args.epochs}  train loss {train_losses[-1]:.4f}  |  valid loss "
              f"{valid_losses[-1]:.4f}  |  {seconds[-1]:.1f} s", file=sys.stderr, flush=True)

    timed = seconds[1:] or seconds
    record = {
        "side": "torch", "model": args.model, "data": args.data, "train_sequences": int(x_train.shape[0]),
        "valid_sequences": int(x_valid.shape[0]), "length": int(x_train.shape[2]), "outputs": int(y_train.shape[1]),
        "batch": args.batch, "batches_per_epoch": batches, "valid_batch": args.valid_batch, "epochs": args.epochs,
        "activation": args.activation, "lr": args.lr, "threads": torch.get_num_threads(), "torch": torch.__version__,
        "epoch_seconds": seconds, "median_s": statistics.median(timed), "min_s": min(timed),
        "train_loss": train_losses[-1], "valid_loss": valid_losses[-1],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "load_average": load_average(),  # other work on the machine skews 2-thread OpenMP torch most
    }
    line = json.dumps(record)
    print(line, flush=True)
    if args.json:
        with open(args.json, "a") as f:
            f.write(line + "\n")
    if not math.isfinite(train_losses[-1]):
        print(f"error: {args.model}: non-finite train loss {train_losses[-1]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
