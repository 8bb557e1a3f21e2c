"""``GradientMonitor``: per-module and per-weight statistics over many training steps.

Use it around an ordinary training loop::

    with GradientMonitor(model, every=10) as monitor:   # record steps 0, 10, 20, ...
        for step in range(100):
            opt.zero_grad()
            loss_fn(model(X), y).backward()
            opt.step()
    history = monitor.history()   # a MonitorHistory of (records, modules/weights) arrays

Rules:
- A *step* starts each time the model's forward runs with gradients enabled; steps
  ``0, every, 2 * every, ...`` are recorded. On the other steps only one hook on the
  model runs (it counts the step): no per-module hook is registered.
- Per module that owns parameters (Linear, Conv, LSTM, norms, ...) and per activation
  module: the output's mean and std and the norm of the gradient reaching that output (a
  tuple output counts by its first tensor). Per weight (every parameter with 2 or more
  dimensions, whatever its name; a parametrized weight by its ``original`` tensors): its
  norm before the step's update, its gradient's norm and the update:data ratio
  ``||W_after - W_before|| / ||W_before||`` of the optimiser step that followed. Frozen
  weights are marked and keep NaN gradients.
- A module called twice in one step is recorded at its first call only (its weight
  gradient is the total over all calls, as autograd accumulates it).
- A step's gradients are those of the first backward pass after its forward, measured
  when that backward pass ends (a weight whose ``.grad`` that pass did not write, e.g.
  under ``torch.autograd.grad``, keeps NaN); a backward pass that runs after the ``with`` block has
  exited records nothing (the step keeps NaN gradients).

Norms are batched (``helpers.norms``: one ``torch._foreach_norm`` and one transfer per
step) and never under- or overflow; float32 tensors are summed in float32 (relative
error ~1e-6, half the time of float64). A step's outputs are kept until its backward
pass ends and measured then, together; an output the model changes in place later is
measured as soon as its module returns it instead. Hooks only read tensors and return ``None``, so
outputs and gradients are unchanged; all hooks are removed on exit, even if the body raises.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from helpers.activation_modules import activation_name
from helpers.model_io import first_tensor
from helpers.monitor_history import MonitorHistory
from helpers.norms import moments, norms
from helpers.validation import check_bool, check_int

__all__ = ["GradientMonitor", "MonitorHistory"]

_MODULE_FIELDS = ("output_mean", "output_std", "output_grad_norm")
_WEIGHT_FIELDS = ("weight_norm", "weight_grad_norm", "update_ratio")


class GradientMonitor:
    """Context manager that records per-module and per-weight statistics of training steps."""

    def __init__(self, model: nn.Module, track_updates: bool = True, every: int = 1):
        """Args:
        model: any ``torch.nn.Module``.
        track_updates: keep a copy of each weight to measure update:data ratios.
        every: record every this many steps (1: every step).
        """
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.track_updates = check_bool("track_updates", track_updates)
        self.every = check_int("every", every, 1)
        self._handles: list = []  # the step counter, while active
        self._step_handles: list = []  # per-module and per-weight hooks, on recorded steps
        self._active = False
        self._modules = [  # the root too, when it owns parameters itself (e.g. nn.Linear)
            (name or type(m).__name__, m) for name, m in model.named_modules()
            if ".parametrizations" not in f".{name}"
            and (next(m.parameters(recurse=False), None) is not None
                 or hasattr(m, "parametrizations")
                 or (m is not model and activation_name(m) is not None))
        ]
        if not self._modules:
            raise ValueError("the model has no module with parameters or a known activation")
        self._index = {m: j for j, (_, m) in enumerate(self._modules)}
        self._weights = [(name, p) for name, p in model.named_parameters() if p.ndim >= 2]
        self._records: list[dict] = []
        # modules whose outputs are changed in place later (in-place activations after them)
        self._eager = {j - 1 for j, (_, m) in enumerate(self._modules)
                       if j > 0 and getattr(m, "inplace", False)}
        self._step = -1  # index of the current step
        self._current: dict | None = None  # its record, if it is recorded
        self._pending: dict | None = None  # record whose update ratio awaits the next step
        self._prev_weights: list | None = None

    # -- steps ---------------------------------------------------------------------
    def _start_step(self, module, inputs):
        if not torch.is_grad_enabled():
            return
        self._finish_updates()
        if self._records and self._records[-1]["moments"] is None:
            self._measure_outputs(self._records[-1])  # its backward pass never ran
        self._step += 1
        recorded = self._step % self.every == 0
        if recorded and not self._step_handles:
            self._register_step_hooks()
        elif not recorded and self._step_handles:
            self._remove_step_hooks()
        self._current = None
        if not recorded:
            return
        rec = {"step": self._step, "seen": set(), "outputs": {}, "eager": {},
               "moments": None, "grads": {}, "armed": False,
               "done": False,
               "weight_grad_norm": None, "update_ratio": None}
        with torch.no_grad():
            weights = [p.detach() for _, p in self._weights]
            rec["weight_norm"] = norms(weights, fast=True)
            # which .grad this step's backward pass writes: a new tensor or a new version
            rec["old_grads"] = [(g, g._version) if g is not None else None
                                for g in (p.grad for _, p in self._weights)]
            if self.track_updates:
                self._prev_weights = [w.clone() for w in weights]
        self._records.append(rec)
        self._pending = self._current = rec

    def _finish_updates(self):
        """Fill in the update ratio of the last recorded step, now that the optimiser stepped."""
        rec, before = self._pending, self._prev_weights
        self._pending = self._prev_weights = None
        if rec is None or before is None:
            return
        with torch.no_grad():
            after = [p.detach() for _, p in self._weights]
            same = [i for i, (a, b) in enumerate(zip(after, before, strict=True))
                    if a.shape == b.shape]
            ratio = np.full(len(after), np.nan)
            if same:  # a model without weight matrices has no ratio to fill in
                diff = [before[i] for i in same]
                torch._foreach_sub_(diff, [after[i] for i in same])  # in place: before - after
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio[same] = norms(diff, fast=True) / rec["weight_norm"][same]
            rec["update_ratio"] = ratio

    # -- hooks on recorded steps ------------------------------------------------------
    def _on_forward(self, module, inputs, out):
        if type(out) is not torch.Tensor:  # a tuple's first tensor, or nothing to measure
            out = first_tensor(out)
            if out is None:
                return
        rec = self._current
        if rec is None or module in rec["seen"] or not torch.is_grad_enabled():
            return
        rec["seen"].add(module)
        j = self._index[module]
        if out.is_floating_point() and out.numel() > 0:
            if j in self._eager:  # its output gets changed in place later: measure it now
                d = out.detach().double()
                m = d.mean()
                rec["eager"][j] = (m, torch.linalg.vector_norm(d - m) / d.numel() ** 0.5)
            else:  # kept until the backward pass ends, then measured with the others
                rec["outputs"][j] = (out.detach(), out._version)
        if out.requires_grad:
            grads = rec["grads"]

            def on_grad(grad):
                if j not in grads and not rec["done"] and self._active:
                    grads[j] = grad.detach()
                    if not rec["armed"]:
                        self._arm(rec)
            out.register_hook(on_grad)

    def _arm(self, rec):
        """Measure the gradients once, when the running backward pass ends (the first
        output-gradient hook of a backward pass arms this; weights need no hooks)."""
        if not rec["armed"]:
            rec["armed"] = True
            engine = torch.autograd.Variable._execution_engine
            engine.queue_callback(lambda: self._end_backward(rec))

    def _end_backward(self, rec):
        if not self._active or rec["done"]:
            return
        rec["done"] = True
        grads = [p.grad for _, p in self._weights]
        old = rec.pop("old_grads")
        have = [i for i, g in enumerate(grads) if g is not None  # and written by this pass
                and (old[i] is None or old[i][0] is not g or old[i][1] != g._version)]
        wg = np.full(len(grads), np.nan)
        wg[have] = norms([grads[i] for i in have], fast=True)
        rec["weight_grad_norm"] = wg
        cols = sorted(rec["grads"])
        rec["grad_cols"], rec["grad_norms"] = cols, norms([rec["grads"][j] for j in cols],
                                                           fast=True)
        rec["grads"] = {}
        self._measure_outputs(rec)

    def _measure_outputs(self, rec):
        """Mean and std of the step's module outputs, in a few batched operations.

        An output changed in place after its module returned it (``relu_(h)``, ``h += x``)
        no longer holds what the module computed: it is left out (NaN) on this step, and
        measured as soon as the module returns it on later steps.
        """
        kept = {j: t for j, (t, version) in rec["outputs"].items() if t._version == version}
        self._eager.update(set(rec["outputs"]) - set(kept))
        rec["outputs"] = {}
        cols = list(kept)
        mean, std = moments([kept[j] for j in cols])
        eager = rec.pop("eager", {})
        cols += list(eager)
        mean = np.append(mean, [float(m) for m, _ in eager.values()])
        std = np.append(std, [float(sd) for _, sd in eager.values()])
        rec["moments"] = (cols, mean, std) if cols else None

    def _register_step_hooks(self):
        try:
            for _, m in self._modules:
                self._step_handles.append(m.register_forward_hook(self._on_forward))
        except BaseException:
            self._remove_step_hooks()
            raise

    def _remove_step_hooks(self):
        for h in self._step_handles:
            h.remove()
        self._step_handles.clear()

    # -- context manager ---------------------------------------------------------
    def __enter__(self) -> GradientMonitor:
        if self._active:
            raise RuntimeError("this GradientMonitor is already active")
        self._active = True
        try:
            self._handles.append(self.model.register_forward_pre_hook(self._start_step))
            self._register_step_hooks()  # the first step is always recorded
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._records and self._records[-1]["moments"] is None:
                self._measure_outputs(self._records[-1])
            self._finish_updates()
        finally:
            self._remove()

    def _remove(self):
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self._remove_step_hooks()
        self._pending = self._prev_weights = self._current = None
        self._active = False

    @property
    def num_hooks(self) -> int:
        """Hooks currently registered (0 outside the ``with`` block)."""
        return len(self._handles) + len(self._step_handles)

    def history(self) -> MonitorHistory:
        """Everything recorded so far, as NumPy arrays."""
        n, k = len(self._modules), len(self._weights)
        cols = {f: np.full((len(self._records), n), np.nan) for f in _MODULE_FIELDS}
        rows = {f: np.full((len(self._records), k), np.nan) for f in _WEIGHT_FIELDS}
        for i, rec in enumerate(self._records):
            if rec["moments"] is None:
                self._measure_outputs(rec)  # a step without a backward pass
            if rec["moments"] is not None:
                js, mean, std = rec["moments"]
                cols["output_mean"][i, js] = mean
                cols["output_std"][i, js] = std
            if "grad_cols" in rec and rec["grad_cols"]:
                cols["output_grad_norm"][i, rec["grad_cols"]] = rec["grad_norms"]
            for f in _WEIGHT_FIELDS:
                if rec[f] is not None:
                    rows[f][i] = rec[f]
        return MonitorHistory(
            module_names=tuple(name for name, _ in self._modules),
            module_types=tuple(type(m).__name__ for _, m in self._modules),
            weight_names=tuple(name for name, _ in self._weights),
            weight_frozen=np.array([not p.requires_grad for _, p in self._weights], dtype=bool),
            steps=np.array([rec["step"] for rec in self._records], dtype=np.int64),
            **cols, **rows,
        )

