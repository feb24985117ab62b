#!/usr/bin/python3
"""PyTorch float64 oracle of seqjit's compiled training step (compiler/TrainStep.cpp) on a zoo twin: K steps.

Each step k = 1..K on the same batch (X (N, 4, L), Y (N, T)), in float64, from the weights of W.npz:
  forward  batch norm in TRAINING mode: normalised with the batch mean and biased variance over (N, L) (dense
           batch norms: over N); torch's BatchNorm1d updates running_mean / running_var in the forward as
           new = (1 - m) old + m batch, m = --momentum-bn, with the UNBIASED batch variance (count / (count - 1))
           dropout: NOT torch's RNG; each dropout of rate r > 0 multiplies its input by the given mask
           M[<layer>.mask.step<k>] of the activation's shape ((N, C, L) or (N, U)), entries 0 or 1 / (1 - r)
           (checked to 1e-6 relative, so float32 masks pass); a dropout of rate 0 is the identity and has no mask.
           Layer names as stdlib/Models.cpp gives them, the twin's dropouts in graph order (the order of the
           twin's steps): the dropout of conv stage i is dropout<i>, that of dense stage i dense_dropout<i>
           (found from the batch norm that precedes it: bn<i> -> dropout<i>, dense_bn<i> -> dense_dropout<i>).
  loss     data_loss = BCEWithLogits(z, Y), mean over all N*T entries (torch_objectives.objective_terms);
           l2_penalty = --l2 S * sum over every Conv1d and Linear weight (the output layer's included; no bias,
           no batch norm) of w^2;  loss = data_loss + l2_penalty
  norm     g = d loss / d p for every trainable parameter (autograd; running statistics are not parameters);
           gradient_norm = sqrt(sum over all of them of g^2), before clipping
  clip     --clip C > 0: every g *= min(1, C / (gradient_norm + 1e-6))    (torch.nn.utils.clip_grad_norm_)
  update   torch.optim.Adam / AdamW / SGD, every trainable parameter in one group, state carried over the steps:
           adam   g += wd p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
                  p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
           adamw  p *= 1 - lr wd, then adam without the wd term (wd defaults to 0.01 for adamw, as seqjit's
                  parseOptimizer and torch; 0 otherwise)
           sgd    g += wd p; with momentum mu: b = g at t = 1, else mu b + g (dampening 0);
                  d = g + mu b with --nesterov, else b; without momentum d = g;  p -= lr d
Optimizer flags that the chosen optimizer does not have are an error (as seqjit's parseOptimizer):
--beta1 --beta2 --adam-eps for sgd, --momentum --nesterov for adam / adamw.

Usage:
  torch_train_steps.py --model NAME --weights W.npz --inputs X.npy --labels Y.npy --steps K --out S.npz
      [--dropout-masks M.npz] [--activation relu] [--eps BN_EPS] [--momentum-bn BN_MOMENTUM] [--l2 S]
      [--optimizer adam|adamw|sgd] [--lr 1e-3] [--beta1 0.9] [--beta2 0.999] [--adam-eps 1e-8]
      [--weight-decay WD] [--momentum MU] [--nesterov] [--clip C] [--gradients]
--eps / --eps-bn (default 1e-3) and --momentum-bn (default 0.01, torch convention) are the batch norms', as
torch_fourier_prior.py's --eps / --momentum; here --momentum is SGD's (torch.optim.SGD's and parseOptimizer's
name), so the batch norms' is only --momentum-bn. --dropout-masks is required when the model has a dropout of rate
> 0; a missing key, a key naming no dropout layer, or a mask of the wrong shape or values is an error (keys of
steps beyond K are ignored).
S.npz holds float64 arrays: every state_dict entry of the twin after K steps (weights, biases, running_mean,
running_var; no num_batches_tracked), the optimizer state of every trainable parameter p under
"<p>.exp_avg" and "<p>.exp_avg_sq" (adam, adamw) or "<p>.momentum_buffer" (sgd with momentum), and for every step
k the 0-d "loss.step<k>" (before that step's update), "data_loss.step<k>", "l2_penalty.step<k>" and
"gradient_norm.step<k>" (before clipping); with --gradients also "<p>.grad.step<k>" (before clipping).
Exit status 1 on a non-finite loss or parameter (S.npz is still written).

As a module: dropout_layers, install_masks, train_steps, l2_penalty (used by check_torch_train_steps.py).
"""

import argparse
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_fourier_prior as tfp  # noqa: E402
import torch_models  # noqa: E402
import torch_objectives  # noqa: E402

OPTIMIZERS = ("adam", "adamw", "sgd")
ADAMW_DEFAULT_WEIGHT_DECAY = 0.01
MASK_TOLERANCE = 1e-6  # relative, on the kept value 1 / (1 - rate): a float32 mask passes


# ---- dropout masks ----------------------------------------------------------------------------------------------

def dropout_layers(model):
    """[(seqjit layer name, rate, index into model.steps)] of the dropouts of rate > 0, in graph order.

    stdlib/Models.cpp names the dropout of convStage i "dropout<i>" and that of denseStage i "dense_dropout<i>";
    in both the batch norm bn<i> / dense_bn<i> is the last parametric module before the dropout."""
    layers = []
    last_module = None
    for index, (kind, argument) in enumerate(model.steps):
        if kind in ("module", "conv"):
            last_module = argument if kind == "module" else argument[0]
        elif kind == "function" and isinstance(argument, MaskedDropout):  # installed already
            layers.append((argument.name, argument.rate, index))
        elif kind == "dropout" and argument > 0:
            match = re.fullmatch(r"(dense_)?bn(\d+)", last_module or "")
            if not match:
                raise ValueError(f"dropout at step {index} follows '{last_module}': no seqjit name for it")
            name = f"{match.group(1) or ''}dropout{match.group(2)}"
            if any(name == other for other, _, _ in layers):
                raise ValueError(f"two dropouts would both be named '{name}'")
            layers.append((name, float(argument), index))
    return layers


class MaskedDropout:
    """A twin step ("function", MaskedDropout): multiplies by the mask set for the current step."""

    def __init__(self, name, rate):
        self.name = name
        self.rate = rate
        self.mask = None

    def __call__(self, x):
        if self.mask is None:
            raise ValueError(f"dropout '{self.name}': no mask set")
        if tuple(self.mask.shape) != tuple(x.shape):
            raise ValueError(f"dropout '{self.name}': mask of shape {tuple(self.mask.shape)}, activation "
                             f"{tuple(x.shape)}")
        return x * self.mask.to(dtype=x.dtype, device=x.device)


def install_masks(model):
    """Replaces the twin's dropout steps of rate > 0 by MaskedDropout steps (in place); returns them in graph
    order (idempotent). Dropouts of rate 0 stay (F.dropout with p = 0 is the identity in any mode)."""
    installed = []
    steps = list(model.steps)
    for name, rate, index in dropout_layers(model):
        kind, dropout = steps[index]
        if kind == "dropout":
            dropout = MaskedDropout(name, rate)
            steps[index] = ("function", dropout)
        installed.append(dropout)
    model.steps = steps
    return installed


def mask_key(layer, step):
    return f"{layer}.mask.step{step}"


def check_mask_keys(masks, layers, steps):
    """ValueError for a missing key or a key that names no dropout of the model."""
    names = {name for name, _ in layers}
    needed = [mask_key(name, k) for k in range(1, steps + 1) for name, _ in layers]
    missing = [key for key in needed if key not in masks]
    unknown = []
    for key in masks:
        match = re.fullmatch(r"(.+)\.mask\.step(\d+)", key)
        if not match or match.group(1) not in names or int(match.group(2)) < 1:
            unknown.append(key)
    if missing or unknown:
        raise ValueError(f"dropout masks: missing {missing}, unexpected {unknown} (the model's dropouts: "
                         f"{', '.join(f'{n} (rate {r:g})' for n, r in layers) or 'none'})")


def mask_tensor(value, rate, key, dtype):
    """The mask as a `dtype` tensor, after checking that its entries are 0 or 1 / (1 - rate)."""
    array = np.asarray(value if not torch.is_tensor(value) else value.detach().cpu().numpy(), np.float64)
    kept = 1.0 / (1.0 - rate)
    bad = ~((array == 0) | (np.abs(array - kept) <= MASK_TOLERANCE * kept))
    if bad.any():
        raise ValueError(f"{key}: {int(bad.sum())} entries are neither 0 nor 1 / (1 - {rate:g}) = {kept:.9g} "
                         f"(e.g. {array[bad].flat[0]!r})")
    return torch.from_numpy(array).to(dtype)


# ---- the steps --------------------------------------------------------------------------------------------------

def l2_penalty(model, strength):
    """strength * sum over the Conv1d and Linear weights of w^2 (a 0-d tensor; exactly 0 for strength 0)."""
    weights = [w for _, w in torch_objectives.spectral_layers(model)]
    if strength == 0 or not weights:
        return torch.zeros((), dtype=weights[0].dtype if weights else torch.float64)
    return strength * sum((w * w).sum() for w in weights)


def make_optimizer(params, optimizer="adam", lr=1e-3, beta1=0.9, beta2=0.999, adam_eps=1e-8, weight_decay=None,
                   momentum=0.0, nesterov=False):
    """The real torch.optim optimizer over `params`, one group."""
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=adam_eps, weight_decay=weight_decay or 0.0)
    if optimizer == "adamw":
        wd = ADAMW_DEFAULT_WEIGHT_DECAY if weight_decay is None else weight_decay
        return torch.optim.AdamW(params, lr=lr, betas=(beta1, beta2), eps=adam_eps, weight_decay=wd)
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay or 0.0,
                               nesterov=nesterov)
    raise ValueError(f"unknown optimizer '{optimizer}'; expected one of {', '.join(OPTIMIZERS)}")


def train_steps(model, x, y, steps=1, masks=None, l2=0.0, clip=0.0, optimizer="adam", record_gradients=False,
                **optimizer_options):
    """Runs `steps` training steps of the float64 twin `model` (changed in place) on (x, y) and returns the arrays
    of S.npz as a {name: float64 numpy array} dict. masks: {"<layer>.mask.step<k>": array or tensor}, needed
    when the model has a dropout of rate > 0. optimizer_options: make_optimizer's lr, beta1, beta2, adam_eps,
    weight_decay, momentum, nesterov."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    masks = masks or {}
    layers = [(name, rate) for name, rate, _ in dropout_layers(model)]
    check_mask_keys(masks, layers, steps)
    dropouts = install_masks(model)
    tfp.set_mode(model, train_bn=True)  # batch statistics; torch's own dropout off (the masks replace it)
    dtype = next(model.parameters()).dtype
    x = torch.as_tensor(x).to(dtype)
    y = torch.as_tensor(y).to(dtype)
    named = tfp.trainable_parameters(model)
    params = [p for _, p in named]
    opt = make_optimizer(params, optimizer, **optimizer_options)
    out = {}
    for k in range(1, steps + 1):
        for dropout in dropouts:
            key = mask_key(dropout.name, k)
            dropout.mask = mask_tensor(masks[key], dropout.rate, key, dtype)
        opt.zero_grad(set_to_none=True)
        terms, _ = torch_objectives.objective_terms(model, x, y, "bce")  # the one forward: running stats move
        penalty = l2_penalty(model, l2)
        loss = terms["data_loss"] + penalty
        loss.backward()
        for p in params:
            if p.grad is None:  # a parameter the loss does not reach: gradient 0 (seqjit updates it all the same)
                p.grad = torch.zeros_like(p)
        norm = torch.sqrt(sum((p.grad * p.grad).sum() for p in params))
        if record_gradients:
            out.update({f"{name}.grad.step{k}": p.grad.detach().numpy().copy() for name, p in named})
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        out[f"loss.step{k}"] = np.array(loss.item())
        out[f"data_loss.step{k}"] = np.array(terms["data_loss"].item())
        out[f"l2_penalty.step{k}"] = np.array(penalty.item())
        out[f"gradient_norm.step{k}"] = np.array(norm.item())
    for dropout in dropouts:
        dropout.mask = None
    out.update({k: v.detach().numpy().copy() for k, v in model.state_dict().items()
                if not k.endswith("num_batches_tracked")})
    for name, p in named:
        for slot, value in opt.state[p].items():
            if slot != "step" and torch.is_tensor(value):
                out[f"{name}.{slot}"] = value.detach().numpy().copy()
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


# ---- command line -----------------------------------------------------------------------------------------------

def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    tfp.add_example_arguments(parser)
    parser.add_argument("--dropout-masks", help="M.npz: '<layer>.mask.step<k>' for every dropout of rate > 0")
    parser.add_argument("--steps", type=int, required=True, metavar="K")
    parser.add_argument("--out", required=True, help="S.npz to write")
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--eps", "--eps-bn", dest="eps", type=float, default=torch_models.KERAS_EPS,
                        help="batch norm eps (default %(default)s)")
    parser.add_argument("--momentum-bn", type=float, default=torch_models.KERAS_MOMENTUM_AS_TORCH,
                        help="batch norm momentum, torch convention (default %(default)s)")
    parser.add_argument("--l2", type=float, default=0.0, help="S in S * sum of squared conv and dense weights")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--beta1", type=float)
    parser.add_argument("--beta2", type=float)
    parser.add_argument("--adam-eps", type=float)
    parser.add_argument("--weight-decay", type=float, help="default 0.01 for adamw, 0 otherwise")
    parser.add_argument("--momentum", type=float, help="SGD momentum (the batch norms' is --momentum-bn)")
    parser.add_argument("--nesterov", action="store_true")
    parser.add_argument("--clip", type=float, default=0.0, help="C > 0: clip_grad_norm_(params, C)")
    parser.add_argument("--gradients", action="store_true", help="also write '<p>.grad.step<k>' (before clipping)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be >= 1")
    if not args.lr > 0:
        parser.error("--lr must be positive")
    if args.optimizer == "sgd":
        foreign = [flag for flag, value in (("--beta1", args.beta1), ("--beta2", args.beta2),
                                            ("--adam-eps", args.adam_eps)) if value is not None]
    else:
        foreign = [flag for flag, value in (("--momentum", args.momentum), ("--nesterov", args.nesterov or None))
                   if value is not None]
    if foreign:
        parser.error(f"{', '.join(foreign)} not defined for --optimizer {args.optimizer}"
                     + (" (the batch norms' momentum is --momentum-bn)" if "--momentum" in foreign else ""))
    if args.nesterov and not (args.momentum or 0) > 0:
        parser.error("--nesterov needs --momentum > 0")
    if args.clip < 0:
        parser.error("--clip must be >= 0")

    x, y = tfp.load_examples(args.inputs, args.labels)
    if y.ndim != 2:
        raise SystemExit(f"{args.labels}: expected shape ({x.shape[0]}, T), got {y.shape}")
    model = tfp.load_model(args.model, x.shape[2], y.shape[1], args.activation, args.weights, args.eps,
                           args.momentum_bn)
    layers = dropout_layers(model)
    masks = {}
    if args.dropout_masks:
        with np.load(args.dropout_masks) as arrays:
            masks = {k: np.asarray(arrays[k]) for k in arrays.files}
    elif layers:
        raise SystemExit(f"model '{args.model}' has dropouts of rate > 0 ({', '.join(n for n, _, _ in layers)}): "
                         f"--dropout-masks M.npz is required")
    options = dict(lr=args.lr, weight_decay=args.weight_decay)
    if args.optimizer == "sgd":
        options.update(momentum=args.momentum or 0.0, nesterov=args.nesterov)
    else:
        options.update({k: v for k, v in (("beta1", args.beta1), ("beta2", args.beta2), ("adam_eps", args.adam_eps))
                        if v is not None})
    try:
        arrays = train_steps(model, torch.from_numpy(x.astype(np.float64)), torch.from_numpy(y.astype(np.float64)),
                             args.steps, masks, args.l2, args.clip, args.optimizer, args.gradients, **options)
    except ValueError as error:
        raise SystemExit(f"error: {error}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez(args.out, **arrays)

    for k in range(1, args.steps + 1):
        print(f"step {k}: loss {arrays[f'loss.step{k}']:.17g} = bce {arrays[f'data_loss.step{k}']:.17g} + l2 "
              f"{arrays[f'l2_penalty.step{k}']:.17g}; gradient norm {arrays[f'gradient_norm.step{k}']:.17g}")
    print(f"wrote {args.out}: {len(arrays)} arrays ({args.optimizer}, {args.steps} steps, dropouts: "
          f"{', '.join(n for n, _, _ in layers) or 'none'})")
    if not all(np.all(np.isfinite(v)) for v in arrays.values()):
        print("error: non-finite loss or state", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
