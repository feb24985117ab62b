#!/usr/bin/python3
"""PyTorch twins of seqjit's model zoo (stdlib/Models.cpp), for interop tests: same state_dict keys, same maths.

Written from the papers' code (p-koo/learning_sequence_motifs, p-koo/exponential_activations), not from the
C++: each model is a plain torch.nn.Module whose parametric submodules are attributes named as seqjit names its
layers ("conv1", "bn1", "dense1", "dense_bn1", "output", ...), so model.state_dict() keys equal seqjit's
parameter names once torch's num_batches_tracked buffers are dropped.

Semantics: NCL layout; 'same' convolutions padded explicitly with the odd pad on the right; batch norm with the
given eps / momentum (PyTorch convention); max pools without padding, floor mode; flatten channel-major;
dropout only in training; the output is logits (no sigmoid).

Usage:
  torch_models.py list
  torch_models.py count  --model NAME [--length L] [--outputs K] [--activation ACT]
  torch_models.py keys   --model NAME [--length L] [--outputs K]      (prints "key d0,d1,..." per line)
  torch_models.py summary [--model NAME] [--length L]    (for each model, or one: "model NAME COUNT", then keys)
  torch_models.py export --model NAME --length L --outputs K --activation ACT --batch N --seed S --out DIR
"""

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

KERAS_EPS = 1e-3
KERAS_MOMENTUM_AS_TORCH = 0.01  # Keras momentum 0.99: new = 0.99 old + 0.01 batch.


def activation_function(name):
    """First-layer activations by seqjit's names (dsl/OpSpec.cpp)."""
    table = {
        "relu": F.relu,
        "exp": torch.exp,
        # torch's softplus switches to x above 20; log1p form is exact everywhere, as seqjit computes it.
        "softplus": lambda x: torch.clamp(x, min=0) + torch.log1p(torch.exp(-torch.abs(x))),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "elu": F.elu,
        "linear": lambda x: x,
        "log_relu": lambda x: torch.log1p(F.relu(x)),
    }
    if name not in table:
        raise SystemExit(f"unknown activation '{name}'; expected one of {', '.join(table)}")
    return table[name]


class ZooModel(nn.Module):
    """A model recorded as a list of steps; parametric layers are attributes named like seqjit's layers."""

    def __init__(self, length, eps, momentum):
        super().__init__()
        self.steps = []  # (kind, argument) in order
        self.shape = (4, length)  # shape of one example, tracked to size dense layers as the C++ does
        self.eps = eps
        self.momentum = momentum

    # -- recording ------------------------------------------------------------------------------------------
    def conv(self, name, filters, width, padding="same", dilation=1, bias=False):
        channels, length = self.shape
        setattr(self, name, nn.Conv1d(channels, filters, width, dilation=dilation, bias=bias))
        span = dilation * (width - 1)
        if padding == "same":
            pads = (span // 2, span - span // 2)
        else:
            pads = (0, 0)
            length -= span
            if length <= 0:
                raise SystemExit(f"layer {name}: input too short")
        self.steps.append(("conv", (name, pads)))
        self.shape = (filters, length)

    def batch_norm(self, name):
        setattr(self, name, nn.BatchNorm1d(self.shape[0], eps=self.eps, momentum=self.momentum))
        self.steps.append(("module", name))

    def act(self, function):
        self.steps.append(("function", function))

    def dropout(self, rate):
        self.steps.append(("dropout", rate))

    def pool(self, size, stride=None):
        stride = stride or size
        channels, length = self.shape
        out = (length - size) // stride + 1
        if out <= 0:
            raise SystemExit(f"pool {size}: input length {length} too short")
        self.steps.append(("pool", (size, stride)))
        self.shape = (channels, out)

    def flatten(self):
        self.steps.append(("flatten", None))
        self.shape = (self.shape[0] * self.shape[1],)

    def dense(self, name, units, bias):
        setattr(self, name, nn.Linear(self.shape[0], units, bias=bias))
        self.steps.append(("module", name))
        self.shape = (units,)

    def save_skip(self):
        self.steps.append(("save", None))

    def add_skip(self):
        self.steps.append(("add", None))

    # -- the papers' building blocks -------------------------------------------------------------------------
    def conv_stage(self, index, filters, width, activation, dropout, pool=1, pool_stride=None,
                   padding="same", pool_first=False):
        self.conv(f"conv{index}", filters, width, padding)
        self.batch_norm(f"bn{index}")
        self.act(activation)
        if pool_first:  # deepomics order
            if pool > 1:
                self.pool(pool, pool_stride)
            self.dropout(dropout)
        else:  # tfomics conv_layer followed by MaxPool1D
            self.dropout(dropout)
            if pool > 1:
                self.pool(pool, pool_stride)

    def dense_stage(self, index, units, dropout):
        self.dense(f"dense{index}", units, bias=False)
        self.batch_norm(f"dense_bn{index}")
        self.act(F.relu)
        self.dropout(dropout)

    def logits(self, outputs):
        self.dense("output", outputs, bias=True)

    # -- running ---------------------------------------------------------------------------------------------
    def forward(self, x, function=None, pool=None):
        """The model on x; `function(f, x)` and `pool(x, size, stride)` (default: f(x) and max pooling) let an
        attribution method replace how activations and max pools are applied (DeepLIFT's rescale rules)."""
        function = function or (lambda f, v: f(v))
        pool = pool or F.max_pool1d
        skip = None
        for kind, argument in self.steps:
            if kind == "conv":
                name, pads = argument
                x = getattr(self, name)(F.pad(x, pads))
            elif kind == "module":
                x = getattr(self, argument)(x)
            elif kind == "function":
                x = function(argument, x)
            elif kind == "dropout":
                x = F.dropout(x, argument, self.training)
            elif kind == "pool":
                x = pool(x, argument[0], argument[1])
            elif kind == "flatten":
                x = torch.flatten(x, 1)
            elif kind == "save":
                skip = x
            elif kind == "add":
                x = x + skip
        return x


# ---- the architectures ---------------------------------------------------------------------------------------

def koo_eddy_cnn(m, act, outputs, first_pool, second_pool, first_width=19):
    """learning_sequence_motifs code/models/cnn_4.py etc.: deepomics, pool then dropout."""
    m.conv_stage(1, 30, first_width, act, 0.1, first_pool, pool_first=True)
    m.conv_stage(2, 128, 5, F.relu, 0.1, second_pool, pool_first=True)
    m.flatten()
    m.dense_stage(1, 512, 0.5)
    m.logits(outputs)


def koo_eddy_cnn_50_2(m, act, outputs):
    """learning_sequence_motifs code/models/cnn_50_2.py: pool 50 stride 2; 64 filters; dense 96."""
    m.conv_stage(1, 30, 19, act, 0.1, 50, pool_stride=2, pool_first=True)
    m.conv_stage(2, 64, 5, F.relu, 0.1, 50, pool_first=True)
    m.flatten()
    m.dense_stage(1, 96, 0.5)
    m.logits(outputs)


def multiplier(length):
    return 2 if length == 1000 else 1


def koo_ploenzke_cnn(m, act, outputs, first_pool, second_pool, length):
    """exponential_activations code/model_zoo/cnn_model.py (124 filters in the second layer, as published)."""
    k = multiplier(length)
    m.conv_stage(1, 32 * k, 19, act, 0.1, first_pool)
    m.conv_stage(2, 124 * k, 5, F.relu, 0.1, second_pool)
    m.flatten()
    m.dense_stage(1, 512 * k, 0.5)
    m.logits(outputs)


def cnn_deep(m, act, outputs, length):
    """exponential_activations code/model_zoo/cnn_deep.py."""
    k = multiplier(length)
    m.conv_stage(1, 32 * k, 19, act, 0.1)
    m.conv_stage(2, 48 * k, 7, F.relu, 0.2, 4)
    m.conv_stage(3, 96 * k, 7, F.relu, 0.3, 4, padding="valid")
    m.conv_stage(4, 128 * k, 3, F.relu, 0.4, 3, padding="valid")
    m.flatten()
    m.dense_stage(1, 512 * k, 0.5)
    m.logits(outputs)


def cnn_local(m, act, outputs):
    m.conv_stage(1, 24, 19, act, 0.1, 50)
    m.conv_stage(2, 48, 3, F.relu, 0.2, 2)
    m.flatten()
    m.dense_stage(1, 96, 0.5)
    m.logits(outputs)


def cnn_dist(m, act, outputs):
    m.conv_stage(1, 24, 19, act, 0.1)
    m.conv_stage(2, 32, 7, F.relu, 0.2, 4)
    m.conv_stage(3, 48, 7, F.relu, 0.3, 4, padding="valid")
    m.conv_stage(4, 64, 3, F.relu, 0.4, 3, padding="valid")
    m.flatten()
    m.dense_stage(1, 96, 0.5)
    m.logits(outputs)


def basset(m, act, outputs):
    m.conv_stage(1, 300, 19, act, 0.2, 3)
    m.conv_stage(2, 200, 11, F.relu, 0.2, 4, padding="valid")
    m.conv_stage(3, 200, 7, F.relu, 0.2, 4, padding="valid")
    m.flatten()
    m.dense_stage(1, 1000, 0.5)
    m.dense_stage(2, 1000, 0.5)
    m.logits(outputs)


def residualbind(m, act, outputs):
    """exponential_activations residualbind.py + tfomics residual_block: each block conv has a relu inside the
    Keras Conv1D (activation='relu') before its batch norm."""
    m.conv_stage(1, 24, 19, act, 0.1)
    m.save_skip()
    filters = m.shape[0]
    m.conv("residual_conv1", filters, 5)
    m.act(F.relu)
    m.batch_norm("residual_bn1")
    m.act(F.relu)
    m.conv("residual_conv2", filters, 5)
    m.act(F.relu)
    m.batch_norm("residual_bn2")
    m.add_skip()
    m.act(F.relu)
    m.pool(10)
    m.conv_stage(2, 48, 7, F.relu, 0.3, 5)
    m.conv_stage(3, 64, 3, F.relu, 0.4, 4, padding="valid")
    m.flatten()
    m.dense_stage(1, 96, 0.5)
    m.logits(outputs)


def _zoo():
    """name -> (default length, default outputs, builder(m, act, outputs, length))."""
    zoo = {}
    for first, second in [(1, 100), (2, 50), (4, 25), (10, 10), (25, 4), (50, 2), (100, 1)]:
        zoo[f"cnn-pool-{first}-{second}"] = (
            200, 12, lambda m, a, o, L, f=first, s=second: koo_eddy_cnn(m, a, o, f, s))
    for width, first, second in [(9, 4, 25), (9, 25, 4), (3, 50, 2), (3, 2, 50)]:
        zoo[f"cnn{width}-{first}"] = (
            200, 12, lambda m, a, o, L, w=width, f=first, s=second: koo_eddy_cnn(m, a, o, f, s, w))
    zoo["cnn-50-2"] = (200, 12, lambda m, a, o, L: koo_eddy_cnn_50_2(m, a, o))
    zoo["cnn-2"] = (200, 12, lambda m, a, o, L: koo_ploenzke_cnn(m, a, o, 2, 50, L))
    zoo["cnn-50"] = (200, 12, lambda m, a, o, L: koo_ploenzke_cnn(m, a, o, 50, 2, L))
    zoo["cnn-deep"] = (200, 12, lambda m, a, o, L: cnn_deep(m, a, o, L))
    zoo["cnn-local"] = (200, 1, lambda m, a, o, L: cnn_local(m, a, o))
    zoo["cnn-dist"] = (200, 1, lambda m, a, o, L: cnn_dist(m, a, o))
    zoo["basset"] = (600, 164, lambda m, a, o, L: basset(m, a, o))
    zoo["residualbind"] = (400, 1, lambda m, a, o, L: residualbind(m, a, o))
    return zoo


ZOO = _zoo()


def build(name, length=0, outputs=0, activation="relu", eps=KERAS_EPS, momentum=KERAS_MOMENTUM_AS_TORCH):
    if name not in ZOO:
        raise SystemExit(f"unknown model '{name}'; known: {', '.join(ZOO)}")
    default_length, default_outputs, builder = ZOO[name]
    length = length or default_length
    outputs = outputs or default_outputs
    model = ZooModel(length, eps, momentum)
    builder(model, activation_function(activation), outputs, length)
    return model


def state_dict_arrays(model):
    """The state_dict as float32 numpy arrays, without torch's num_batches_tracked counters."""
    return {k: v.detach().cpu().numpy().astype(np.float32)
            for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def randomize(model, generator):
    """Moves every batch norm away from the identity so that a mismatch in its use shows in the output."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm1d):
                n = module.num_features
                module.weight.copy_(0.5 + torch.rand(n, generator=generator))
                module.bias.copy_(0.2 * torch.randn(n, generator=generator))
                module.running_mean.copy_(0.2 * torch.randn(n, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(n, generator=generator))
            elif isinstance(module, (nn.Conv1d, nn.Linear)) and module.bias is not None:
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))


def one_hot(batch, length, generator):
    bases = torch.randint(0, 4, (batch, length), generator=generator)
    return F.one_hot(bases, 4).permute(0, 2, 1).to(torch.float32).contiguous()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["list", "count", "keys", "summary", "export"])
    parser.add_argument("--model")
    parser.add_argument("--length", type=int, default=0)
    parser.add_argument("--outputs", type=int, default=0)
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--eps", type=float, default=KERAS_EPS)
    parser.add_argument("--momentum", type=float, default=KERAS_MOMENTUM_AS_TORCH)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out")
    args = parser.parse_args(argv)

    if args.command == "list":
        for name, (length, outputs, _) in ZOO.items():
            print(f"{name} {length} {outputs}")
        return 0
    if args.command == "summary":
        # One process for the whole zoo: the unit test compares every model without paying torch's import each time.
        for name in ([args.model] if args.model else ZOO):
            model = build(name, args.length, args.outputs, args.activation, args.eps, args.momentum)
            print(f"model {name} {sum(p.numel() for p in model.parameters())}")
            for key, value in state_dict_arrays(model).items():
                print(key, ",".join(str(d) for d in value.shape))
        return 0
    if not args.model:
        parser.error("--model is required")

    torch.manual_seed(args.seed)
    model = build(args.model, args.length, args.outputs, args.activation, args.eps, args.momentum)

    if args.command == "count":
        print(sum(p.numel() for p in model.parameters()))
        return 0
    if args.command == "keys":
        for key, value in state_dict_arrays(model).items():
            print(key, ",".join(str(d) for d in value.shape))
        return 0

    # export
    if not args.out:
        parser.error("--out is required for export")
    os.makedirs(args.out, exist_ok=True)
    generator = torch.Generator().manual_seed(args.seed)
    randomize(model, generator)
    model.eval()
    length = args.length or ZOO[args.model][0]
    x = one_hot(args.batch, length, generator)
    with torch.no_grad():
        y = model(x)
        model64 = build(args.model, args.length, args.outputs, args.activation, args.eps, args.momentum).double()
        model64.load_state_dict(model.state_dict())
        model64.eval()
        y64 = model64(x.double())
    np.savez(os.path.join(args.out, "weights.npz"), **state_dict_arrays(model))
    np.save(os.path.join(args.out, "input.npy"), x.numpy())
    np.save(os.path.join(args.out, "output.npy"), y.numpy().astype(np.float32))
    np.save(os.path.join(args.out, "output64.npy"), y64.numpy())
    print(f"wrote {args.out}: weights.npz ({len(state_dict_arrays(model))} tensors), input.npy "
          f"{tuple(x.shape)}, output.npy {tuple(y.shape)}, output64.npy")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
