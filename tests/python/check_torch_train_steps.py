#!/usr/bin/python3
"""Self-check of torch_train_steps.py (float64): the oracle must itself be right before seqjit is held to it.

Small twins with random weights (torch_models.randomize), 4 one-hot examples, random 0/1 labels, random masks:
cnn-local at L=100 with 3 tasks, cnn-dist at L=120 with 1 task (cnn-dist is undefined below L=104).
1. Names: the dropout layers of cnn-local, cnn-dist, cnn-deep, basset and residualbind equal the names that
   stdlib/Models.cpp gives them, written out here, in graph order.
2. Optimizers against an independent re-implementation: for adam, adamw (weight decay 0.05), sgd (momentum 0.9,
   nesterov, weight decay 0.01), plain sgd and adam with weight decay, clipping active (C well under the
   norm), inactive (C above it) and off, over 1 and 2 steps: the reference re-runs the steps itself with its own
   masked forward (the twin's steps interpreted here, F.batch_norm on batch statistics, the masks taken in order),
   its own BCE (max(z, 0) - z y + log1p(exp(-|z|))) and L2, autograd for the gradients, and the update formulas
   of the torch docs in numpy (bias corrections 1 - beta^t as written there, min(1, C / (norm + 1e-6)) clipping,
   no torch.optim); running statistics blended in numpy from the batch-norm inputs of its forward. Compared:
   every state_dict entry, every optimizer slot, loss / data_loss / l2_penalty / gradient_norm per step and the
   recorded gradients.
3. Masks are applied: (a) a zero mask on dense_dropout1 makes every logit equal output.bias, so the loss is the
   numpy BCE of the bias, and the gradients of every layer before it (and of output.weight) are exactly 0;
   (b) a zero mask on dropout1 gives conv1 and bn1 exactly zero gradients and changes the loss; (c) the masks
   that torch's own dropout draws under a seed (F.dropout of ones, in graph order) reproduce the loss and
   gradients of the twin run in plain torch training mode under the same seed; (d) masks of the wrong shape or
   values, missing or unknown keys are refused.
4. Running statistics after one step (momentum 0.3 and the Keras default 0.01) equal (1 - m) old + m batch,
   batch mean and unbiased variance computed in numpy from the batch-norm inputs captured by forward pre-hooks.
5. The command line writes S.npz equal to train_steps in process (same float32 weights file), with exactly the
   state_dict, slot and per-step keys; it refuses a missing mask file and an optimizer flag of another optimizer.
Prints each check's max relative error; exit status 0 if all are within tolerance, 1 otherwise.

Usage: check_torch_train_steps.py [--verbose]
"""

import contextlib
import copy
import io
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_torch_fourier_prior as cfp  # noqa: E402
import torch_fourier_prior as tfp  # noqa: E402
import torch_models  # noqa: E402
import torch_train_steps as tts  # noqa: E402

TOLERANCE = 1e-12  # same float64 maths, different code: rounding only (observed 5e-15 at worst)
# Adam divides every entry by |g| + eps: a gradient entry near eps that the two computations round differently (a
# dead channel's 0 against 1e-17) moves its parameter by lr * 1e-17 / eps, and the next step's gradients follow.
ADAM_TOLERANCE = 1e-10  # observed 8e-12
VERBOSE = "--verbose" in sys.argv
failures = cfp.failures  # one record of every check's worst error and of the failures, cfp's
worst = cfp.worst

# stdlib/Models.cpp: convStage i names its dropout dropout<i>, denseStage i dense_dropout<i>; rate 0 -> none.
EXPECTED_NAMES = {
    "cnn-local": ["dropout1", "dropout2", "dense_dropout1"],
    "cnn-dist": ["dropout1", "dropout2", "dropout3", "dropout4", "dense_dropout1"],
    "cnn-deep": ["dropout1", "dropout2", "dropout3", "dropout4", "dense_dropout1"],
    "basset": ["dropout1", "dropout2", "dropout3", "dense_dropout1", "dense_dropout2"],
    "residualbind": ["dropout1", "dropout2", "dropout3", "dense_dropout1"],
}


def report(name, error, tolerance=TOLERANCE):
    cfp.report(name, error, tolerance)


def relative(a, b, floor=1e-300):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    return float(np.max(np.abs(a - b) / scale)) if a.size else 0.0


def array_error(a, b):
    """Normwise relative error max |a - b| / max(max |a|, max |b|): an entry that is 0 in exact arithmetic (a dead
    channel's gradient) comes out 0 from one computation and 1e-17 from another, so entry by entry it would read
    as 100%."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0))
    return float(np.abs(a - b).max(initial=0) / scale) if scale > 0 else 0.0


# ---- fixtures ---------------------------------------------------------------------------------------------------

def random_twin(name, length, outputs, seed, activation="relu", momentum=torch_models.KERAS_MOMENTUM_AS_TORCH):
    torch.manual_seed(seed)
    model = torch_models.build(name, length, outputs, activation, momentum=momentum).double()
    torch_models.randomize(model, torch.Generator().manual_seed(seed))
    return model


def batch(length, outputs, seed, n=4):
    generator = torch.Generator().manual_seed(seed)
    x = torch_models.one_hot(n, length, generator).double()
    y = torch.randint(0, 2, (n, outputs), generator=generator).double()
    return x, y


def dropout_shapes(model, x):
    """{layer: activation shape} of the dropouts of rate > 0, from a forward with masks of ones."""
    shapes = {}
    probe = copy.deepcopy(model)
    tts.install_masks(probe)
    tfp.set_mode(probe, True)
    steps = list(probe.steps)
    for index, (kind, argument) in enumerate(steps):
        if kind == "function" and isinstance(argument, tts.MaskedDropout):
            def record(t, name=argument.name):
                shapes[name] = tuple(t.shape)
                return t
            steps[index] = ("function", record)
    probe.steps = steps
    with torch.no_grad():
        probe(x)
    return shapes


def random_masks(model, x, steps, seed):
    rng = np.random.default_rng(seed)
    masks = {}
    rates = {name: rate for name, rate, _ in tts.dropout_layers(model)}
    for name, shape in dropout_shapes(model, x).items():
        for k in range(1, steps + 1):
            keep = rng.random(shape) >= rates[name]
            masks[tts.mask_key(name, k)] = np.where(keep, 1.0 / (1.0 - rates[name]), 0.0)
    return masks


# ---- the independent reference ----------------------------------------------------------------------------------

def reference_forward(model, params, x, masks_in_order):
    """The twin's steps interpreted here with `params` ({state_dict name: tensor}): batch norms on batch
    statistics (F.batch_norm without running statistics), dropouts of rate > 0 multiplied by the masks in the
    order given. Returns (logits, {bn name: its input})."""
    bn_inputs = {}
    masks = iter(masks_in_order)
    skip = None
    for kind, argument in model.steps:
        if kind == "conv":
            name, pads = argument
            module = getattr(model, name)
            x = F.conv1d(F.pad(x, pads), params[f"{name}.weight"], params.get(f"{name}.bias"),
                         dilation=module.dilation)
        elif kind == "module":
            module = getattr(model, argument)
            if isinstance(module, nn.BatchNorm1d):
                bn_inputs[argument] = x.detach().numpy().copy()
                x = F.batch_norm(x, None, None, params[f"{argument}.weight"], params[f"{argument}.bias"],
                                 training=True, eps=module.eps)
            else:
                x = F.linear(x, params[f"{argument}.weight"], params.get(f"{argument}.bias"))
        elif kind == "function":
            x = argument(x)
        elif kind == "dropout":
            if argument > 0:
                x = x * torch.from_numpy(next(masks))
        elif kind == "pool":
            x = F.max_pool1d(x, argument[0], argument[1])
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        elif kind == "save":
            skip = x
        elif kind == "add":
            x = x + skip
    if next(masks, None) is not None:
        raise AssertionError("reference_forward: masks left over")
    return x, bn_inputs


def reference_steps(model, x, y, steps, masks, l2, clip, optimizer, lr, beta1=0.9, beta2=0.999, adam_eps=1e-8,
                    weight_decay=0.0, momentum=0.0, nesterov=False):
    """The K steps re-done independently; the same keys as train_steps (with gradients)."""
    names = [name for name, _, _ in tts.dropout_layers(model)]
    trainable = [name for name, _ in model.named_parameters()]
    state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()
             if not k.endswith("num_batches_tracked")}
    slots = {}
    out = {}
    yn = y.numpy()
    bn_momentum = {name: m.momentum for name, m in model.named_modules() if isinstance(m, nn.BatchNorm1d)}
    for t in range(1, steps + 1):
        params = {k: torch.from_numpy(state[k].copy()).requires_grad_(k in trainable) for k in state}
        logits, bn_inputs = reference_forward(model, params, x, [masks[tts.mask_key(n, t)] for n in names])
        z = logits
        data = (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).sum() / z.numel()
        penalty = sum((params[k] ** 2).sum() for k in trainable
                      if k.endswith(".weight") and isinstance(getattr(model, k[:-7]), (nn.Conv1d, nn.Linear)))
        loss = data + l2 * penalty
        grads = torch.autograd.grad(loss, [params[k] for k in trainable])
        grads = {k: g.numpy().copy() for k, g in zip(trainable, grads)}
        norm = np.sqrt(sum(float((g * g).sum()) for g in grads.values()))
        out.update({f"loss.step{t}": loss.item(), f"data_loss.step{t}": data.item(),
                    f"l2_penalty.step{t}": (l2 * penalty).item(), f"gradient_norm.step{t}": norm})
        out.update({f"{k}.grad.step{t}": g for k, g in grads.items()})
        if np.abs(yn - yn.round()).max() == 0:  # numpy BCE as well
            zn = z.detach().numpy()
            numpy_bce = np.mean(np.maximum(zn, 0) - zn * yn + np.log1p(np.exp(-np.abs(zn))))
            report("reference BCE torch ops vs numpy", relative(numpy_bce, data.item()))
        scale = min(1.0, clip / (norm + 1e-6)) if clip > 0 else 1.0
        for k in trainable:
            p, g = state[k], grads[k] * scale
            if optimizer == "sgd":
                g = g + weight_decay * p
                if momentum != 0:
                    b = g.copy() if t == 1 else momentum * slots[f"{k}.momentum_buffer"] + g
                    slots[f"{k}.momentum_buffer"] = b
                    g = g + momentum * b if nesterov else b
                state[k] = p - lr * g
                continue
            if optimizer == "adamw":
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
            m = (1 - beta1) * g + (beta1 * slots[f"{k}.exp_avg"] if t > 1 else 0.0)
            v = (1 - beta2) * g * g + (beta2 * slots[f"{k}.exp_avg_sq"] if t > 1 else 0.0)
            slots[f"{k}.exp_avg"], slots[f"{k}.exp_avg_sq"] = m, v
            m_hat = m / (1 - beta1 ** t)
            v_hat = v / (1 - beta2 ** t)
            state[k] = p - lr * m_hat / (np.sqrt(v_hat) + adam_eps)
        for bn, inputs in bn_inputs.items():
            axes = (0, 2) if inputs.ndim == 3 else (0,)
            count = inputs.size // inputs.shape[1]
            mean = inputs.mean(axis=axes)
            var = ((inputs - np.expand_dims(mean, axes)) ** 2).sum(axis=axes) / (count - 1)
            mo = bn_momentum[bn]
            state[f"{bn}.running_mean"] = (1 - mo) * state[f"{bn}.running_mean"] + mo * mean
            state[f"{bn}.running_var"] = (1 - mo) * state[f"{bn}.running_var"] + mo * var
    out.update(state)
    out.update(slots)
    return {k: np.asarray(v, np.float64) for k, v in out.items()}


# ---- 1. names ---------------------------------------------------------------------------------------------------

def check_names():
    for name, expected in EXPECTED_NAMES.items():
        got = [n for n, _, _ in tts.dropout_layers(torch_models.build(name))]
        if got != expected:
            failures.append(f"dropout names of {name}: {got}, expected {expected}")
        elif VERBOSE:
            print(f"  ok   dropout names of {name}: {', '.join(got)}")


# ---- 2. optimizers ----------------------------------------------------------------------------------------------

def check_optimizers():
    cases = [
        # model, length, outputs, optimizer, steps, l2, clip, options
        ("cnn-local", 100, 3, "adam", 2, 1e-3, 0.0, dict(lr=1e-3)),
        ("cnn-local", 100, 3, "adam", 1, 0.0, "under", dict(lr=1e-2, beta1=0.8, beta2=0.99, adam_eps=1e-6)),
        ("cnn-local", 100, 3, "adam", 2, 0.0, "over", dict(lr=1e-3, weight_decay=0.02)),
        ("cnn-local", 100, 3, "adamw", 2, 1e-4, "under", dict(lr=1e-2, weight_decay=0.05)),
        ("cnn-dist", 120, 1, "adamw", 1, 0.0, "over", dict(lr=1e-3, weight_decay=0.05)),
        ("cnn-local", 100, 3, "sgd", 2, 1e-3, "under", dict(lr=0.1, momentum=0.9, nesterov=True,
                                                              weight_decay=0.01)),
        ("cnn-dist", 120, 1, "sgd", 2, 0.0, "over", dict(lr=0.05, momentum=0.9)),
        ("cnn-local", 100, 3, "sgd", 1, 1e-3, 0.0, dict(lr=0.1)),
        ("cnn-dist", 120, 1, "adam", 2, 1e-3, "under", dict(lr=1e-3)),
    ]
    for index, (name, length, outputs, optimizer, steps, l2, clip, options) in enumerate(cases):
        seed = 10 + index
        model = random_twin(name, length, outputs, seed, momentum=0.2)
        x, y = batch(length, outputs, seed + 1)
        masks = random_masks(model, x, steps, seed + 2)
        if clip in ("under", "over"):  # C relative to the first step's norm: clipping active / inactive
            probe = reference_steps(model, x, y, 1, masks, l2, 0.0, optimizer, **options)
            norm = float(probe["gradient_norm.step1"])
            clip = 0.25 * norm if clip == "under" else 4.0 * norm
        tag = f"{optimizer} {name} K={steps} clip={clip:.3g} l2={l2:g}"
        reference = reference_steps(model, x, y, steps, masks, l2, clip, optimizer, **options)
        twin = random_twin(name, length, outputs, seed, momentum=0.2)
        ours = tts.train_steps(twin, x, y, steps, masks, l2, clip, optimizer, record_gradients=True, **options)
        if set(ours) != set(reference):
            failures.append(f"{tag}: keys differ: {sorted(set(ours) ^ set(reference))}")
            continue
        groups = {"parameters": [], "running statistics": [], "slots": [], "gradients": [], "scalars": []}
        for key in ours:
            if ".grad.step" in key:
                group = "gradients"
            elif ".step" in key:
                group = "scalars"
            elif key.endswith(("exp_avg", "exp_avg_sq", "momentum_buffer")):
                group = "slots"
            elif key.endswith(("running_mean", "running_var")):
                group = "running statistics"
            else:
                group = "parameters"
            groups[group].append(array_error(ours[key], reference[key]))
        for group, errors in groups.items():
            if errors:
                report(f"{group} vs re-implementation [{optimizer}]", max(errors),
                       ADAM_TOLERANCE if optimizer.startswith("adam") else TOLERANCE)
        moved = max(array_error(ours[k], v.detach().numpy()) for k, v in model.state_dict().items()
                    if k.endswith("weight"))
        if moved < 1e-6:
            failures.append(f"{tag}: the weights did not move")
        if VERBOSE:
            print(f"    {tag}: loss {[float(ours[f'loss.step{k}']) for k in range(1, steps + 1)]}, "
                  f"norm {[float(ours[f'gradient_norm.step{k}']) for k in range(1, steps + 1)]}")


# ---- 3. masks ---------------------------------------------------------------------------------------------------

def check_masks():
    name, length, outputs = "cnn-local", 100, 3
    x, y = batch(length, outputs, 31)
    base = random_twin(name, length, outputs, 30)
    masks = random_masks(base, x, 1, 32)

    def run(masks, **kw):
        return tts.train_steps(random_twin(name, length, outputs, 30), x, y, 1, masks, 0.0, 0.0, "sgd",
                               record_gradients=True, lr=0.1, **kw)

    plain = run(masks)
    zero_dense = dict(masks, **{"dense_dropout1.mask.step1": np.zeros_like(masks["dense_dropout1.mask.step1"])})
    out = run(zero_dense)
    bias = base.output.bias.detach().numpy()
    z = np.broadcast_to(bias, y.shape)
    yn = y.numpy()
    expected = np.mean(np.maximum(z, 0) - z * yn + np.log1p(np.exp(-np.abs(z))))
    report("zero dense_dropout1 mask: loss = BCE(output.bias)", relative(out["loss.step1"], expected))
    upstream = [k for k in out if k.endswith(".grad.step1") and not k.startswith("output.bias")]
    largest = max(float(np.abs(out[k]).max()) for k in upstream)
    report("zero dense_dropout1 mask: gradients before it and of output.weight (abs)", largest, 0.0)

    zero_first = dict(masks, **{"dropout1.mask.step1": np.zeros_like(masks["dropout1.mask.step1"])})
    out = run(zero_first)
    largest = max(float(np.abs(out[f"{p}.grad.step1"]).max()) for p in ("conv1.weight", "bn1.weight", "bn1.bias"))
    report("zero dropout1 mask: conv1 / bn1 gradients (abs)", largest, 0.0)
    if abs(float(out["loss.step1"]) - float(plain["loss.step1"])) < 1e-6 * abs(float(plain["loss.step1"])):
        failures.append("zero dropout1 mask: the loss did not change")
    if float(np.abs(plain["conv1.weight.grad.step1"]).max()) == 0:
        failures.append("conv1 gradient is 0 without a zero mask: the zero-mask check means nothing")

    # torch's own dropout replayed: F.dropout of ones draws, in graph order, the masks the twin's forward draws.
    for model_name, model_length, model_outputs in (("cnn-local", 100, 3), ("cnn-dist", 120, 1)):
        xs, ys = batch(model_length, model_outputs, 41)
        twin = random_twin(model_name, model_length, model_outputs, 40)
        shapes = dropout_shapes(twin, xs)
        torch.manual_seed(1234)
        drawn = {}
        for layer, rate, _ in tts.dropout_layers(twin):
            drawn[tts.mask_key(layer, 1)] = F.dropout(torch.ones(shapes[layer], dtype=torch.float64), rate,
                                                      True).numpy()
        ours = tts.train_steps(twin, xs, ys, 1, drawn, 0.0, 0.0, "sgd", record_gradients=True, lr=0.1)
        plain_twin = random_twin(model_name, model_length, model_outputs, 40)
        plain_twin.train()
        torch.manual_seed(1234)
        logits = plain_twin(xs)
        loss = F.binary_cross_entropy_with_logits(logits, ys)
        named = tfp.trainable_parameters(plain_twin)
        grads = torch.autograd.grad(loss, [p for _, p in named])
        error = relative(ours["loss.step1"], loss.item())
        error = max([error] + [array_error(ours[f"{n}.grad.step1"], g.numpy()) for (n, _), g in zip(named, grads)])
        report("masks of torch's seeded dropout vs torch training mode (loss, gradients)", error)
        stats = max(array_error(ours[k], v.detach().numpy()) for k, v in plain_twin.state_dict().items()
                    if k.endswith(("running_mean", "running_var")))
        report("masks of torch's seeded dropout vs torch training mode (running statistics)", stats)

    # Refusals.
    bad_cases = {
        "missing key": {k: v for k, v in masks.items() if not k.startswith("dropout2")},
        "unknown key": dict(masks, **{"dropout9.mask.step1": masks["dropout1.mask.step1"]}),
        "wrong shape": dict(masks, **{"dropout1.mask.step1": masks["dropout1.mask.step1"][:, :, :50]}),
        "wrong value": dict(masks, **{"dropout2.mask.step1": np.full_like(masks["dropout2.mask.step1"], 1.0)}),
    }
    for what, bad in bad_cases.items():
        try:
            run(bad)
            failures.append(f"masks with a {what} were accepted")
        except ValueError:
            pass
    float32 = {k: v.astype(np.float32) for k, v in masks.items()}
    report("float32 masks vs float64 masks (float32 rounding of 1 / (1 - rate))",
           max(array_error(run(float32)[k], v) for k, v in plain.items()), 1e-7)


# ---- 4. running statistics --------------------------------------------------------------------------------------

def check_running_statistics():
    for name, length, outputs, momentum in (("cnn-local", 100, 3, 0.3), ("cnn-dist", 120, 1, 0.01),
                                            ("cnn-dist", 120, 1, 0.3)):
        twin = random_twin(name, length, outputs, 50, momentum=momentum)
        x, y = batch(length, outputs, 51)
        masks = random_masks(twin, x, 1, 52)
        before = {k: v.detach().numpy().copy() for k, v in twin.state_dict().items()}
        captured = {}
        handles = []
        for module_name, module in twin.named_modules():
            if isinstance(module, nn.BatchNorm1d):
                def hook(module, inputs, module_name=module_name):
                    captured.setdefault(module_name, inputs[0].detach().numpy().copy())
                handles.append(module.register_forward_pre_hook(hook))
        out = tts.train_steps(twin, x, y, 1, masks, 0.0, 0.0, "adam", lr=1e-3)
        for handle in handles:
            handle.remove()
        errors = []
        for bn, inputs in captured.items():
            flat = np.moveaxis(inputs, 1, -1).reshape(-1, inputs.shape[1])  # (count, C)
            mean = flat.mean(axis=0)
            var = flat.var(axis=0, ddof=1)
            errors.append(array_error(out[f"{bn}.running_mean"], (1 - momentum) * before[f"{bn}.running_mean"]
                                      + momentum * mean))
            errors.append(array_error(out[f"{bn}.running_var"], (1 - momentum) * before[f"{bn}.running_var"]
                                      + momentum * var))
        if len(captured) != sum(isinstance(m, nn.BatchNorm1d) for m in twin.modules()):
            failures.append(f"running statistics [{name}]: not every batch norm was captured")
        report(f"running statistics vs numpy blend of hooked inputs [{name} m={momentum:g}]", max(errors))


# ---- 5. command line --------------------------------------------------------------------------------------------

def quiet_main(argv):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            return tts.main(argv)
        except SystemExit as exit:
            return exit.code if isinstance(exit.code, int) else 2


def check_command_line():
    name, length, outputs = "cnn-local", 100, 2
    twin = random_twin(name, length, outputs, 60)
    x, y = batch(length, outputs, 61)
    masks = random_masks(twin, x, 2, 62)
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "weights.npz")
        np.savez(weights, **torch_models.state_dict_arrays(twin))
        files = dict(x=os.path.join(tmp, "x.npy"), y=os.path.join(tmp, "y.npy"), m=os.path.join(tmp, "m.npz"),
                     out=os.path.join(tmp, "s.npz"))
        np.save(files["x"], x.numpy().astype(np.float32))
        np.save(files["y"], y.numpy().astype(np.int8))
        np.savez(files["m"], **{k: v.astype(np.float32) for k, v in masks.items()})
        common = ["--model", name, "--weights", weights, "--inputs", files["x"], "--labels", files["y"],
                  "--out", files["out"]]
        cases = [
            (["--dropout-masks", files["m"], "--steps", "2", "--clip", "0.5", "--l2", "1e-3", "--lr", "0.01"],
             "adam", dict(lr=0.01), 2, 1e-3, 0.5),
            (["--dropout-masks", files["m"], "--steps", "1", "--optimizer", "adamw", "--adam-eps", "1e-7",
              "--momentum-bn", "0.1", "--eps", "1e-5"], "adamw", dict(adam_eps=1e-7), 1, 0.0, 0.0),
            (["--dropout-masks", files["m"], "--steps", "2", "--optimizer", "sgd", "--momentum", "0.9",
              "--nesterov", "--weight-decay", "0.01", "--gradients"], "sgd",
             dict(momentum=0.9, nesterov=True, weight_decay=0.01), 2, 0.0, 0.0),
        ]
        for extra, optimizer, options, steps, l2, clip in cases:
            status = quiet_main(common + extra)
            if status != 0:
                failures.append(f"command line {extra}: exit status {status}")
                continue
            with np.load(files["out"]) as arrays:
                written = {k: arrays[k] for k in arrays.files}
            bn_eps = float(extra[extra.index("--eps") + 1]) if "--eps" in extra else torch_models.KERAS_EPS
            bn_momentum = (float(extra[extra.index("--momentum-bn") + 1]) if "--momentum-bn" in extra
                           else torch_models.KERAS_MOMENTUM_AS_TORCH)
            model = tfp.load_model(name, length, outputs, "relu", weights, bn_eps, bn_momentum)
            xs = torch.from_numpy(np.load(files["x"]).astype(np.float64))
            masks32 = {k: v.astype(np.float32) for k, v in masks.items()}
            expected = tts.train_steps(model, xs, y, steps, masks32, l2, clip, optimizer, "--gradients" in extra,
                                       **options)
            if set(written) != set(expected):
                failures.append(f"command line {extra}: keys {sorted(set(written) ^ set(expected))} differ")
                continue
            state = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")}
            slots = {"adam": ("exp_avg", "exp_avg_sq"), "adamw": ("exp_avg", "exp_avg_sq"),
                     "sgd": ("momentum_buffer",)}[optimizer]
            wanted = state | {f"{p}.{s}" for p, _ in model.named_parameters() for s in slots}
            wanted |= {f"{s}.step{k}" for s in ("loss", "data_loss", "l2_penalty", "gradient_norm")
                       for k in range(1, steps + 1)}
            if "--gradients" in extra:
                wanted |= {f"{p}.grad.step{k}" for p, _ in model.named_parameters() for k in range(1, steps + 1)}
            if set(written) != wanted:
                failures.append(f"command line {extra}: keys {sorted(set(written) ^ wanted)} unexpected/missing")
            if any(v.dtype != np.float64 for v in written.values()) or written["loss.step1"].shape != ():
                failures.append(f"command line {extra}: arrays not float64 / loss not 0-d")
            report("command line S.npz vs in-process train_steps", max(array_error(written[k], expected[k])
                                                                      for k in written), 0.0)
        refusals = {
            "no --dropout-masks": ["--steps", "1"],
            "a missing step": ["--dropout-masks", files["m"], "--steps", "3"],
            "--momentum with adam": ["--dropout-masks", files["m"], "--steps", "1", "--momentum", "0.9"],
            "--beta1 with sgd": ["--dropout-masks", files["m"], "--steps", "1", "--optimizer", "sgd", "--beta1",
                                 "0.5"],
        }
        for what, extra in refusals.items():
            if quiet_main(common + extra) == 0:
                failures.append(f"command line with {what} was accepted")


def main():
    torch.set_num_threads(1)  # tiny tensors: threads only add contention
    check_names()
    check_optimizers()
    check_masks()
    check_running_statistics()
    check_command_line()
    return cfp.summary(worst, failures)


if __name__ == "__main__":
    sys.exit(main())
