#!/usr/bin/python3
"""PyTorch's value of single seq ops in float64: the independent oracle of the reference interpreter tests.

Usage: torch_op_oracle.py SPEC.json

SPEC.json holds {"nodes": [NODE, ...]}, each NODE being
  {"op": "conv1d", "attrs": {...}, "inputs": ["a.npy", ...], "parameters": {"weight": "w.npy", ...},
   "output": "out.npy"}
with op names as in dsl/OpSpec.h (conv1d, batch_norm, activation, max_pool1d, avg_pool1d, global_max_pool,
global_avg_pool, dropout, flatten, dense, add, concat, reverse_complement). Inputs carry the batch dimension
first. Each output is written as a float64 .npy file. Every op is computed with torch.nn.functional where
PyTorch has it, so the C++ side is checked against PyTorch's own semantics rather than a transcription.
"""
import json
import math
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F


def load(path):
    return torch.from_numpy(np.load(path).astype(np.float64))


def conv1d(x, attrs, params):
    weight = params["weight"]
    bias = params.get("bias")
    stride, dilation = attrs["stride"], attrs["dilation"]
    if attrs["padding"] == "valid":
        return F.conv1d(x, weight, bias, stride=stride, dilation=dilation)
    if stride == 1:
        # PyTorch's own 'same' (stride 1 only): the odd pad goes on the right. It warns that an even width
        # needs a padded copy of the input, which is irrelevant here.
        warnings.filterwarnings("ignore", message="Using padding='same'")
        return F.conv1d(x, weight, bias, stride=1, dilation=dilation, padding="same")
    # Strided 'same' as TensorFlow/Keras define it: ceil(L / stride) outputs, extra pad on the right.
    length, width = x.shape[2], weight.shape[2]
    outputs = math.ceil(length / stride)
    total = max((outputs - 1) * stride + (width - 1) * dilation + 1 - length, 0)
    left = total // 2
    padded = F.pad(x, (left, total - left))
    return F.conv1d(padded, weight, bias, stride=stride, dilation=dilation)


def batch_norm(x, attrs, params):
    # Copies: training mode updates the running statistics in place, which the caller must not see.
    mean = params["running_mean"].clone()
    var = params["running_var"].clone()
    return F.batch_norm(x, mean, var, params["weight"], params["bias"], training=attrs["training"],
                        momentum=attrs.get("momentum", 0.1), eps=attrs["eps"])


def activation(x, attrs):
    z = attrs["scale"] * x + attrs["shift"]
    kind = attrs["kind"]
    if kind == "relu":
        return F.relu(z)
    if kind == "exp":
        return torch.exp(z)
    if kind == "softplus":
        return F.softplus(z)
    if kind == "sigmoid":
        return torch.sigmoid(z)
    if kind == "tanh":
        return torch.tanh(z)
    if kind == "elu":
        return F.elu(z, alpha=attrs["alpha"])
    if kind == "linear":
        return z
    if kind == "log_relu":
        return torch.log1p(F.relu(z))
    raise ValueError(f"unknown activation kind {kind!r}")


def evaluate(op, attrs, inputs, params):
    x = inputs[0]
    if op == "conv1d":
        return conv1d(x, attrs, params)
    if op == "batch_norm":
        return batch_norm(x, attrs, params)
    if op == "activation":
        return activation(x, attrs)
    if op in ("max_pool1d", "avg_pool1d"):
        stride = attrs["stride"] or attrs["size"]
        pool = F.max_pool1d if op == "max_pool1d" else F.avg_pool1d
        return pool(x, kernel_size=attrs["size"], stride=stride)
    if op == "global_max_pool":
        return x.amax(dim=2)
    if op == "global_avg_pool":
        return x.mean(dim=2)
    if op == "dropout":
        return F.dropout(x, p=attrs.get("rate", 0.0), training=False)
    if op == "flatten":
        return torch.flatten(x, 1)
    if op == "dense":
        return F.linear(x, params["weight"], params.get("bias"))
    if op == "add":
        total = torch.zeros_like(x)
        for value in inputs:
            total = total + value
        return total
    if op == "concat":
        return torch.cat(inputs, dim=1)
    if op == "reverse_complement":
        return torch.flip(x, dims=[1, 2])
    raise ValueError(f"unknown op {op!r}")


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} SPEC.json")
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    with torch.no_grad():
        for node in spec["nodes"]:
            inputs = [load(path) for path in node["inputs"]]
            params = {name: load(path) for name, path in node.get("parameters", {}).items()}
            result = evaluate(node["op"], node.get("attrs", {}), inputs, params)
            np.save(node["output"], result.numpy().astype(np.float64))


if __name__ == "__main__":
    main()
