"""``GradientMonitor``: per-module statistics over many training steps, for any model.

Use it around an ordinary training loop::

    with GradientMonitor(model) as monitor:
        for step in range(100):
            opt.zero_grad()
            loss_fn(model(X), y).backward()
            opt.step()
    history = monitor.history()   # a MonitorHistory of (steps, modules) arrays

A *step* starts each time the model's forward runs with gradients enabled. The monitor
records, for every module that owns parameters directly (Linear, Conv, norms, ...) and
every activation module: the output's mean and std, the norm of the gradient reaching
that output, and for modules with a ``weight``: the weight's norm, its gradient's norm
and the update:data ratio ``||W_after - W_before|| / ||W_before||`` of the optimiser step
that followed. Hooks only read tensors and return ``None``, so outputs and gradients are
unchanged; all hooks are removed on exit, even if the body raises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from helpers.activations import activation_name

_FIELDS = ("output_mean", "output_std", "output_grad_norm", "weight_norm", "weight_grad_norm",
           "update_ratio")


def _norm(t: torch.Tensor) -> float:
    """L2 norm in float64 (float32 squares of tiny or huge entries would under/overflow)."""
    return float(torch.linalg.vector_norm(t.double()))


def _moments(t: torch.Tensor) -> tuple[float, float]:
    """Mean and population std, computed in float64 (two passes: ``var_mean`` is far slower)."""
    d = t.double()
    mean = d.mean()
    return float(mean), float(torch.linalg.vector_norm(d - mean)) / math.sqrt(d.numel())


@dataclass(frozen=True, repr=False)
class MonitorHistory:
    """What a ``GradientMonitor`` recorded; arrays are (steps, modules), NaN where unknown."""

    module_names: tuple[str, ...]  # qualified names, in registration order
    module_types: tuple[str, ...]  # class names, e.g. "Linear", "ReLU"
    steps: np.ndarray  # (steps,) 0, 1, 2, ...
    output_mean: np.ndarray  # mean of each module's output
    output_std: np.ndarray  # std of each module's output
    output_grad_norm: np.ndarray  # ||dLoss/d output||
    weight_norm: np.ndarray  # ||W|| before the step's update (NaN: no weight)
    weight_grad_norm: np.ndarray  # ||dLoss/dW|| (NaN: no weight)
    update_ratio: np.ndarray  # ||W_after - W_before|| / ||W_before|| (NaN: no weight/update)

    @property
    def grad_data_ratio(self) -> np.ndarray:
        """||dLoss/dW|| / ||W|| per step and module."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.weight_grad_norm / self.weight_norm

    def __repr__(self) -> str:
        lines = [f"MonitorHistory({len(self.steps)} steps, {len(self.module_names)} modules)"]
        if len(self.steps):
            lines.append(f"  {'module':<24}{'type':<12}{'|dW| last':>12}{'update ratio':>14}")
            names = zip(self.module_names, self.module_types, strict=True)
            for j, (name, kind) in enumerate(names):
                updates = self.update_ratio[:, j]
                mean_update = updates[np.isfinite(updates)].mean() if np.isfinite(updates).any() \
                    else np.nan
                lines.append(f"  {name[:23]:<24}{kind:<12}{self.weight_grad_norm[-1, j]:>12.3e}"
                             f"{mean_update:>14.3e}")
        return "\n".join(lines)


class GradientMonitor:
    """Context manager that records per-module statistics of every training step."""

    def __init__(self, model: nn.Module, track_updates: bool = True):
        """Args:
        model: any ``torch.nn.Module``.
        track_updates: keep a copy of each weight to measure update:data ratios.
        """
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.track_updates = bool(track_updates)
        self._handles: list = []
        self._active = False
        self._modules = [  # the root too, when it owns parameters itself (e.g. nn.Linear)
            (name or type(m).__name__, m) for name, m in model.named_modules()
            if next(m.parameters(recurse=False), None) is not None
            or (m is not model and activation_name(m) is not None)
        ]
        if not self._modules:
            raise ValueError("the model has no module with parameters or a known activation")
        self._index = {m: j for j, (_, m) in enumerate(self._modules)}
        self._weights = [(j, m.weight) for j, (_, m) in enumerate(self._modules)
                         if isinstance(getattr(m, "weight", None), torch.Tensor)]
        self._records: list[dict] = []
        self._prev_weights: dict[int, torch.Tensor] = {}

    # -- hooks ---------------------------------------------------------------------
    def _start_step(self, module, inputs):
        if not torch.is_grad_enabled():
            return
        self._finish_updates()
        rec = {f: [math.nan] * len(self._modules) for f in _FIELDS}
        with torch.no_grad():
            for j, w in self._weights:
                rec["weight_norm"][j] = _norm(w.detach())
                if self.track_updates:
                    self._prev_weights[j] = w.detach().clone()
        self._records.append(rec)

    def _finish_updates(self):
        """Fill in the update ratio of the last step, now that the optimiser has stepped."""
        if not self._records or not self._prev_weights:
            return
        rec = self._records[-1]
        with torch.no_grad():
            for j, before in self._prev_weights.items():
                after = self._modules[j][1].weight.detach()
                if after.shape == before.shape:
                    rec["update_ratio"][j] = _norm(after - before) / _norm(before)
        self._prev_weights = {}

    def _on_forward(self, module, inputs, out):
        if not self._records or not torch.is_grad_enabled() or not isinstance(out, torch.Tensor):
            return
        rec, j = self._records[-1], self._index[module]
        if out.numel() > 0:
            rec["output_mean"][j], rec["output_std"][j] = _moments(out.detach())
        if out.requires_grad:
            def on_grad(grad, rec=rec, j=j):
                rec["output_grad_norm"][j] = _norm(grad.detach())
            out.register_hook(on_grad)

    def _on_weight_grad(self, j):
        def hook(param):
            if self._records and param.grad is not None:
                self._records[-1]["weight_grad_norm"][j] = _norm(param.grad.detach())
        return hook

    # -- context manager ---------------------------------------------------------
    def __enter__(self) -> GradientMonitor:
        if self._active:
            raise RuntimeError("this GradientMonitor is already active")
        self._active = True
        try:
            self._handles.append(self.model.register_forward_pre_hook(self._start_step))
            for j, (_, m) in enumerate(self._modules):
                self._handles.append(m.register_forward_hook(self._on_forward))
                w = getattr(m, "weight", None)
                if isinstance(w, nn.Parameter) and w.requires_grad:
                    self._handles.append(w.register_post_accumulate_grad_hook(
                        self._on_weight_grad(j)))
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._finish_updates()
        finally:
            self._remove()

    def _remove(self):
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self._prev_weights = {}
        self._active = False

    @property
    def num_hooks(self) -> int:
        """Hooks currently registered (0 outside the ``with`` block)."""
        return len(self._handles)

    def history(self) -> MonitorHistory:
        """Everything recorded so far, as NumPy arrays."""
        n = len(self._modules)
        arrays = {f: np.array([r[f] for r in self._records], dtype=np.float64).reshape(-1, n)
                  for f in _FIELDS}
        return MonitorHistory(
            module_names=tuple(name for name, _ in self._modules),
            module_types=tuple(type(m).__name__ for _, m in self._modules),
            steps=np.arange(len(self._records)),
            **arrays,
        )
