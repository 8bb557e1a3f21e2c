"""Diagnose any model's gradients in one call: what is wrong, how it was measured, what to try.

``diagnose(model, inputs, targets)`` measures one forward/backward pass at the current
weights; with ``steps > 0`` it also trains a deep copy for a few steps (the model itself is
never changed). It compares what it measured with the thresholds of ``helpers.findings``
and returns a ``Diagnosis``: its findings (each with the figure, the threshold and why,
the layers, likely causes and fixes with the lesson for each) and the per-layer data.

Every pass is measured by ``helpers.recorder.capture_pass`` (under diagnose's seed) and
its norms by ``helpers.norms``, so a *layer* here is what capture records: every parameter
with two or more dimensions that takes part in the pass (weight matrices and kernels,
found by shape, so Conv, LSTM, attention and Hugging Face ``Conv1D`` weights all count;
a parametrized weight by its ``original`` tensors; a frozen one without a gradient), in
forward order. A *unit* is an entry of an activation module's output (``nn.ReLU``,
``nn.Tanh``, ... any module in ``helpers.activations.MODULE_TYPES``, and Hugging Face's
GELU modules), each module measured at its first call.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from helpers import findings as F
from helpers.activations import ACTIVATIONS
from helpers.layer_stats import saturation_and_dead
from helpers.model_io import call_model, compute_loss, model_inputs
from helpers.norms import norms
from helpers.recorder import capture_pass
from helpers.validation import check_int, check_seed

DEFAULT_LR = 1e-3  # Adam's usual learning rate, for steps > 0 without an optimizer
_MODE_TYPES = (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)
_RECURRENT = (nn.RNNBase,)


@dataclass(frozen=True, repr=False)
class Diagnosis:
    """What ``diagnose`` measured and found; arrays have one entry per layer or unit module."""

    findings: tuple[F.Finding, ...]
    figures: dict  # headline numbers behind the verdict, by name
    layer_names: tuple[str, ...]  # qualified parameter names, forward order
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
            (keyword arguments), as ``capture_pass`` takes them: floating tensors are cast
            to the model's dtype, integer ones (token ids) stay integers when the model has
            an ``nn.Embedding``.
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
    if not isinstance(inputs, (torch.Tensor, np.ndarray, tuple, list, dict)):
        raise TypeError(f"inputs must be a tensor, a tuple of positional arguments or a dict "
                        f"of keyword arguments, got {type(inputs).__name__}")
    before = _measure(model, inputs, targets, loss, seed)
    notes = []
    under = np.full(len(before["names"]), np.nan)
    if before["dtype"] != torch.float64:
        try:
            ref = _measure(copy.deepcopy(model).double(), inputs, targets, loss, seed)
            under = np.array([float(((g == 0) & (r != 0)).double().mean()) if g is not None
                              else np.nan for g, r in zip(before["grads"], ref["grads"],
                                                          strict=True)])
        except Exception as exc:  # a model that cannot run in float64: say so
            notes.append(f"underflow (the float64 reference pass failed: {exc})")
            under = np.full(len(before["names"]), np.nan)
    found = F.evaluate(before, under, "at the current weights")
    ratios, losses = np.full(len(before["names"]), np.nan), [before["loss"]]
    if steps:
        trained, ratios, losses = _train(model, before["names"], inputs, targets, loss, steps,
                                         optimizer, seed)
        after = _measure(trained, inputs, targets, loss, seed)
        losses.append(after["loss"])
        for f in F.evaluate(after, under * np.nan, f"after {steps} training steps", ratios,
                            np.array(losses)):
            if f.name not in {g.name for g in found}:  # each name once, the first measured
                found.append(f)
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


# -- measurement: through helpers.recorder.capture_pass and helpers.norms ------------------
def _measure(model, inputs, targets, loss, seed) -> dict:
    """One forward/backward pass (``capture_pass``, under ``seed``), reduced to per-layer
    and per-unit-module numbers."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        cap = capture_pass(model, inputs, targets, loss)
    names = tuple(f"{mod}.parametrizations.{p}" if kind else f"{mod}.{p}" if mod else p
                  for mod, p, kind in zip(cap.layer_names, cap.param_names,
                                          cap.parametrizations, strict=True))
    types = tuple(type(model.get_submodule(mod)).__name__ for mod in cap.layer_names)
    grads = [g for g in cap.weight_grads if g is not None]
    grad_norm, k = np.full(len(names), np.nan), iter(norms(grads))
    grad_norm[[not f for f in cap.frozen]] = [next(k) for _ in grads]
    ugrads = [g for g in cap.unit_output_grads if g is not None]
    unit_grad, k = np.full(len(cap.unit_names), np.nan), iter(norms(ugrads))
    unit_grad[[g is not None for g in cap.unit_output_grads]] = [next(k) for _ in ugrads]
    nonfinite = {}
    for n, t in [*zip(names, cap.weights, strict=True),
                 *zip(names, cap.weight_grads, strict=True),
                 *zip(cap.unit_names, cap.unit_outputs, strict=True)]:
        if t is not None:
            nonfinite[n] = nonfinite.get(n, 0) + int((~torch.isfinite(t)).sum())
    modules = [m for m in model.modules() if m is not model]
    notes = []
    if not cap.unit_names:
        notes.append("saturated and dead units (no activation module such as nn.ReLU or "
                     "nn.Tanh; functional and fused activations are not seen)")
    if any(isinstance(m, _RECURRENT) for m in modules):
        notes.append("saturation inside nn.RNN/LSTM/GRU cells and the gradient through time "
                     "step by step (lesson 9's tools measure it)")
    frozen = [n for n, f in zip(names, cap.frozen, strict=True) if f]
    if frozen:
        more = ", ..." if len(frozen) > 3 else ""
        notes.append(f"frozen parameters ({', '.join(frozen[:3])}{more})")
    sat_dead = [_saturation_and_dead(a, z) for a, z in zip(cap.unit_activations,
                                                          cap.unit_inputs, strict=True)]
    return dict(
        names=names, types=types, grads=cap.weight_grads, grad_norm=grad_norm,
        weight_norm=norms(cap.weights), unit_names=cap.unit_names,
        saturation=np.array([s for s, _ in sat_dead]), dead=np.array([d for _, d in sat_dead]),
        unit_grad=unit_grad, embedding=np.array([t == "Embedding" for t in types], dtype=bool),
        nonfinite=nonfinite | {"loss": int(not torch.isfinite(cap.loss))},
        eval_modules=tuple(n for n, m in model.named_modules()
                           if isinstance(m, _MODE_TYPES) and not m.training),
        loss=float(cap.loss), dtype=cap.dtype, notes=notes)


def _saturation_and_dead(act: str, z: torch.Tensor) -> tuple[float, float]:
    """Share of ``z`` (batch, units...) in ``act``'s saturating region, and share of its
    units dead on the batch, as ``gradient_profile`` measures them."""
    if ACTIVATIONS[act].saturation_bounds is None and not ACTIVATIONS[act].relu_like:
        return 0.0, 0.0
    z = z.reshape(z.shape[0] if z.dim() else 1, -1)  # (batch, units)
    sat, dead = saturation_and_dead(z.unsqueeze(0), act)
    return float(sat[0]), float(dead[0])


def _train(model, names, inputs, targets, loss, steps, optimizer, seed):
    """Train a deep copy for ``steps`` steps; median update:data of each parameter in
    ``names`` (qualified names) and the losses."""
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
    weights = [trained.get_parameter(n) for n in names]
    X, y = model_inputs(trained, inputs, targets)
    ratios, losses = np.full((steps, len(weights)), np.nan), []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for t in range(steps):
            old = [w.detach().clone() for w in weights]
            opt.zero_grad(set_to_none=True)
            value = compute_loss(call_model(trained, X), y, loss)
            value.backward()
            opt.step()
            losses.append(float(value.detach()))
            size = norms(old)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios[t] = np.where([w.requires_grad for w in weights] & (size > 0),
                                     norms([w - o for w, o in zip(weights, old, strict=True)])
                                     / size, np.nan)
    median = np.array([np.median(c[~np.isnan(c)]) if (~np.isnan(c)).any() else np.nan
                       for c in ratios.T])
    return trained, median, losses
