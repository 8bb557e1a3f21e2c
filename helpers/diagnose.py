"""Diagnose any model's gradients in one call: what is wrong, how it was measured, what to try.

``diagnose(model, inputs, targets)`` measures one forward/backward pass at the current
weights; with ``steps > 0`` it also trains a deep copy for a few steps (the model itself is
never changed). It compares what it measured with the thresholds of ``helpers.findings``
and returns a ``Diagnosis``: its findings (each with the figure, the threshold and why,
the layers, likely causes and fixes with the lesson for each) and the per-layer data.

A *layer* here is every parameter with two or more dimensions (weight matrices and
kernels, found by shape, so Conv, LSTM, attention and Hugging Face ``Conv1D`` weights all
count); a *unit* is an entry of an activation module's output (``nn.ReLU``, ``nn.Tanh``,
... any module in ``helpers.activations.MODULE_TYPES``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from helpers import findings as F
from helpers.activation_modules import activation_name
from helpers.activations import ACTIVATIONS
from helpers.capture import compute_loss
from helpers.models import preserved_buffers
from helpers.validation import check_int, check_seed

DEFAULT_LR = 1e-3  # Adam's usual learning rate, for steps > 0 without an optimizer
_MODE_TYPES = (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)
_RECURRENT = (nn.RNNBase,)


@dataclass(frozen=True, repr=False)
class Diagnosis:
    """What ``diagnose`` measured and found; arrays have one entry per layer or unit module."""

    findings: tuple[F.Finding, ...]
    figures: dict  # headline numbers behind the verdict, by name
    layer_names: tuple[str, ...]  # qualified parameter names, registration order
    layer_types: tuple[str, ...]  # class of the module owning each parameter
    grad_norm: np.ndarray  # ||dLoss/dW|| at the current weights (NaN: frozen)
    weight_norm: np.ndarray  # ||W||
    underflow: np.ndarray  # fraction of dLoss/dW entries lost to the dtype (NaN: unmeasured)
    update_ratio: np.ndarray  # median ||dW step|| / ||W|| over the steps (NaN: steps=0)
    unit_names: tuple[str, ...]  # activation modules, in call order
    saturation: np.ndarray  # fraction of pre-activations in the saturating region
    dead_fraction: np.ndarray  # ReLU-like: fraction of units inactive on the whole batch
    unit_grad_norm: np.ndarray  # ||dLoss/d output|| of each activation module
    losses: np.ndarray  # loss at the current weights, then after each training step
    not_measured: tuple[str, ...]  # what this model did not allow to measure, and why
    dtype: str

    @property
    def healthy(self) -> bool:
        return not self.findings

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the findings, most important first."""
        return tuple(f.name for f in self.findings)

    @property
    def grad_data_ratio(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.grad_norm / self.weight_norm

    def report(self) -> str:
        head = ("healthy: no finding" if self.healthy else
                f"{len(self.findings)} finding(s): {', '.join(self.names)}")
        lines = [f"Diagnosis ({len(self.layer_names)} layers, {len(self.unit_names)} activation "
                 f"modules, {self.dtype}, {len(self.losses) - 1} steps): {head}"]
        lines += [f"  {i + 1}. {f}" for i, f in enumerate(self.findings)]
        lines.append("  figures: " + ", ".join(f"{k} {v:.3g}" for k, v in self.figures.items()))
        lines += [f"  not measured: {n}" for n in self.not_measured]
        return "\n".join(lines)

    __repr__ = report

    def _repr_html_(self) -> str:
        from helpers.figures.diagnose import diagnosis_html

        return diagnosis_html(self)


def diagnose(model: nn.Module, inputs, targets=None, loss="cross_entropy", *, steps: int = 0,
             optimizer=None, seed: int = 0) -> Diagnosis:
    """Measure ``model`` on one batch and name what is wrong with its gradients.

    Args:
        model: any ``nn.Module``, measured in its current train/eval mode (never changed).
        inputs: what the model takes: a tensor, a tuple (positional arguments) or a dict
            (keyword arguments); floating tensors are cast to the model's dtype, integer
            ones (token ids) are passed through as they are.
        targets: what the loss compares the output with (None if the loss needs none).
        loss: ``"cross_entropy"``, ``"mse"`` or a callable ``loss(output, targets)`` (or
            ``loss(output)`` when targets is None) returning a scalar; needed when the
            model returns a tuple, a dict or a Hugging Face output.
        steps: training steps on a deep copy, for update:data ratios and the loss trend.
        optimizer: for those steps: an optimizer (its class and settings are used on the
            copy), a callable ``params -> optimizer``, or None for Adam with ``DEFAULT_LR``.
        seed: seeds dropout and other randomness during the measurement.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    steps, seed = check_int("steps", steps, 0, 10_000), check_seed(seed)
    if not (callable(loss) or loss in ("cross_entropy", "mse")):
        raise ValueError(f"unknown loss {loss!r}; valid choices: 'cross_entropy', 'mse' or "
                         "a callable loss(output, targets) -> scalar")
    if targets is None and not callable(loss):
        raise ValueError(f"loss {loss!r} needs targets; pass targets, or a callable loss")
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("the model has no trainable parameter (all are frozen or there are none)")
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    if dtype is not None:
        inputs = _cast(inputs, dtype)  # float inputs in the model's precision, as it computes
    before = _measure(model, inputs, targets, loss, seed)
    notes = []
    under = np.full(len(before["names"]), np.nan)
    if before["dtype"] != torch.float64:
        try:
            ref = _measure(copy.deepcopy(model).double(), _cast(inputs), targets, loss, seed)
            under = np.array([float(((g == 0) & (r != 0)).double().mean()) if g is not None
                              else np.nan for g, r in zip(before["grads"], ref["grads"],
                                                          strict=True)])
        except Exception as exc:  # a model that cannot run in float64: say so
            notes.append(f"underflow (the float64 reference pass failed: {exc})")
            under = np.full(len(before["names"]), np.nan)
    found = F.evaluate(before, under, "at the current weights")
    ratios, losses = np.full(len(before["names"]), np.nan), [before["loss"]]
    if steps:
        trained, ratios, losses = _train(model, inputs, targets, loss, steps, optimizer, seed)
        after = _measure(trained, inputs, targets, loss, seed)
        losses.append(after["loss"])
        have = {f.name for f in found}
        found += [f for f in F.evaluate(after, under * np.nan, f"after {steps} training steps",
                                       ratios, np.array(losses)) if f.name not in have]
    else:
        notes.append("update:data ratios and the loss trend (steps=0; pass steps=20)")
    notes += before["notes"]
    figures = F.headline(before, under, ratios, np.array(losses))
    if "grad:data spread" not in figures:
        notes.append(f"the gradient spread across depth (no layer role repeated "
                     f"{F.MIN_DEPTH_LAYERS} times or more)")
    order = list(F.CATALOGUE)
    found.sort(key=lambda f: order.index(f.name))
    return Diagnosis(
        findings=tuple(found), figures=figures, layer_names=before["names"],
        layer_types=before["types"], grad_norm=before["grad_norm"],
        weight_norm=before["weight_norm"], underflow=under, update_ratio=ratios,
        unit_names=before["unit_names"], saturation=before["saturation"],
        dead_fraction=before["dead"], unit_grad_norm=before["unit_grad"],
        losses=np.array(losses), not_measured=tuple(notes),
        dtype=str(before["dtype"]).replace("torch.", ""))


# -- measurement: the one place that reads gradients out of a model -----------------------
def _measure(model, inputs, targets, loss, seed) -> dict:
    """One forward/backward pass: every weight's gradient and every activation module's
    pre-activation, output and output gradient, reduced to per-layer numbers."""
    params = [(n, p) for n, p in model.named_parameters() if p.dim() >= 2]
    types = tuple(type(model.get_submodule(n.rpartition(".")[0])).__name__ for n, _ in params)
    names = {m: n for n, m in model.named_modules() if m is not model}
    units, handles = [], []

    def pre(m, args):  # copy the input now: an in-place activation overwrites it
        if m not in [u[0] for u in units] and args and isinstance(args[0], torch.Tensor):
            units.append([m, args[0].detach().clone(), None])

    def post(m, args, out):
        for u in units:
            if u[0] is m and u[2] is None and isinstance(out, torch.Tensor):
                u[2] = out

    for m in names:
        if activation_name(m) is not None:
            handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    with torch.random.fork_rng(devices=[]), preserved_buffers(model), torch.enable_grad():
        torch.manual_seed(seed)
        try:
            out = _call(model, inputs)
        finally:
            for h in handles:
                h.remove()
        value = _loss(out, targets, loss)
        units = [u for u in units if u[2] is not None]
        train = [p for _, p in params if p.requires_grad]
        outs = [u[2] for u in units if u[2].requires_grad]
        grads = list(torch.autograd.grad(value, train + outs, allow_unused=True))
    wgrad = iter(grads[:len(train)])
    wgrads = [next(wgrad) if p.requires_grad else None for _, p in params]
    wgrads = [torch.zeros_like(p) if g is None and p.requires_grad else g
              for g, (_, p) in zip(wgrads, params, strict=True)]
    ograd = iter(grads[len(train):])
    ugrads = [next(ograd) if u[2].requires_grad else None for u in units]
    nonfinite = {n: int((~torch.isfinite(t)).sum()) for n, t in
                 [(n, p.detach()) for n, p in params] + [(n, g) for (n, _), g in
                                                         zip(params, wgrads, strict=True)
                                                         if g is not None]
                 + [(names[u[0]], u[2].detach()) for u in units]}
    notes = []
    if not units:
        notes.append("saturated and dead units (no activation module such as nn.ReLU or "
                     "nn.Tanh; functional and fused activations are not seen)")
    if any(isinstance(m, _RECURRENT) for m in names):
        notes.append("saturation inside nn.RNN/LSTM/GRU cells and the gradient through time "
                     "step by step (lesson 9's tools measure it)")
    frozen = [n for n, p in params if not p.requires_grad]
    if frozen:
        more = ", ..." if len(frozen) > 3 else ""
        notes.append(f"frozen parameters ({', '.join(frozen[:3])}{more})")
    dtype = next((p.dtype for _, p in params if p.is_floating_point()), torch.float32)
    return dict(
        names=tuple(n for n, _ in params), types=types, grads=[None if g is None else g.detach()
                                                            for g in wgrads],
        grad_norm=np.array([_norm(g) if g is not None else np.nan for g in wgrads]),
        weight_norm=np.array([_norm(p) for _, p in params]),
        unit_names=tuple(names[u[0]] for u in units),
        saturation=np.array([_saturation(activation_name(u[0]), u[1]) for u in units]),
        dead=np.array([_dead(activation_name(u[0]), u[1]) for u in units]),
        unit_grad=np.array([_norm(g) if g is not None else np.nan for g in ugrads]),
        embedding=np.array([t == "Embedding" for t in types], dtype=bool),
        nonfinite=nonfinite | {"loss": int(not torch.isfinite(value.detach()))},
        eval_modules=tuple(n for m, n in names.items()
                           if isinstance(m, _MODE_TYPES) and not m.training),
        loss=float(value.detach()), dtype=dtype, notes=notes)


def _call(model, inputs):
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    if isinstance(inputs, torch.Tensor):
        return model(inputs)
    raise TypeError(f"inputs must be a tensor, a tuple of positional arguments or a dict of "
                    f"keyword arguments, got {type(inputs).__name__}")


def _loss(out, targets, loss) -> torch.Tensor:
    if not callable(loss) and not isinstance(out, torch.Tensor):
        raise TypeError(f"the model returned a {type(out).__name__}, not a tensor: pass "
                        "loss=callable(output, targets) -> scalar, e.g. "
                        "lambda out, y: torch.nn.functional.cross_entropy(out[0], y)")
    if callable(loss):  # as in helpers.capture: loss(output) when there are no targets
        value = loss(out) if targets is None else loss(out, targets)
    else:
        value = compute_loss(out, targets, loss)
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise ValueError(f"the loss must be a scalar tensor, got {type(value).__name__}")
    return value.reshape(())


def _cast(inputs, dtype=torch.float64):
    if isinstance(inputs, dict):
        return {k: _cast(v, dtype) for k, v in inputs.items()}
    if isinstance(inputs, (tuple, list)):
        return type(inputs)(_cast(v, dtype) for v in inputs)
    if isinstance(inputs, torch.Tensor) and inputs.is_floating_point():
        return inputs.to(dtype)
    return inputs


def _norm(t: torch.Tensor) -> float:
    """L2 norm in float64, scaled by the largest entry first (no under- or overflow)."""
    d = t.detach().double().flatten()
    top = float(d.abs().max()) if d.numel() else 0.0
    return top if top == 0 or not np.isfinite(top) else top * float(torch.linalg.norm(d / top))


def _saturation(act: str, z: torch.Tensor) -> float:
    bounds = ACTIVATIONS[act].saturation_bounds
    return float(((z < bounds[0]) | (z > bounds[1])).double().mean()) if bounds else 0.0


def _dead(act: str, z: torch.Tensor) -> float:
    if not ACTIVATIONS[act].relu_like or z.dim() < 2:
        return 0.0
    return 1.0 - float((z > 0).flatten(1).any(0).double().mean())  # unit: entry past dim 0


def _train(model, inputs, targets, loss, steps, optimizer, seed):
    """Train a deep copy for ``steps`` steps; per-layer median update:data and the losses."""
    trained = copy.deepcopy(model)
    params = [p for p in trained.parameters() if p.requires_grad]
    if optimizer is None:
        opt = torch.optim.Adam(params, lr=DEFAULT_LR)
    elif isinstance(optimizer, torch.optim.Optimizer):
        opt = type(optimizer)(params, **optimizer.defaults)
    elif callable(optimizer):
        opt = optimizer(params)
    else:
        raise TypeError("optimizer must be a torch.optim.Optimizer, a callable params -> "
                        f"optimizer, or None; got {type(optimizer).__name__}")
    weights = [p for n, p in trained.named_parameters() if p.dim() >= 2]
    ratios, losses = np.full((steps, len(weights)), np.nan), []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for t in range(steps):
            old = [w.detach().clone() for w in weights]
            opt.zero_grad(set_to_none=True)
            value = _loss(_call(trained, inputs), targets, loss)
            value.backward()
            opt.step()
            losses.append(float(value.detach()))
            ratios[t] = [_norm(w - o) / _norm(o) if w.requires_grad and _norm(o) > 0
                         else np.nan for w, o in zip(weights, old, strict=True)]
    median = np.array([np.median(c[~np.isnan(c)]) if (~np.isnan(c)).any() else np.nan
                       for c in ratios.T])
    return trained, median, losses
