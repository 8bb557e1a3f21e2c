"""Measure gradients and activations layer by layer, for our MLPs or any ``torch.nn.Module``.

``gradient_profile`` runs one forward and backward pass and returns per-layer statistics
as NumPy arrays, one entry per ``nn.Linear`` in forward order. ``GradientMonitor`` (defined
in ``helpers.monitor``, importable from here) records statistics over many training steps.

What a layer's *activation* is: the output of the activation module (``nn.Tanh``,
``nn.ReLU``, ... any type in ``helpers.activations.MODULE_TYPES``) that the model calls
after that Linear and before the next one; for a Linear with no activation after it
(the output layer) it is the Linear's own output (the logits).

Hooks are registered for the duration of one call and always removed. Gradients are taken
with ``torch.autograd.grad``, so the model's ``.grad`` fields are never touched, and
buffers such as BatchNorm's running statistics are restored afterwards: measuring does
not change the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.activations import ACTIVATIONS, activation_name
from helpers.monitor import GradientMonitor, MonitorHistory

__all__ = ["GradientProfile", "gradient_profile", "GradientMonitor", "MonitorHistory"]

LOSSES = ("cross_entropy", "mse")


@dataclass(frozen=True, repr=False)
class GradientProfile:
    """Per-layer statistics of one forward/backward pass; arrays have one entry per Linear."""

    layer_names: tuple[str, ...]  # module names of the Linear layers, input layer first
    activations: tuple[str, ...]  # activation after each Linear ("linear" if none)
    weight_grad_norm: np.ndarray  # ||dLoss/dW|| (L2 over all entries)
    weight_norm: np.ndarray  # ||W||
    grad_zero_fraction: np.ndarray  # fraction of dLoss/dW entries exactly 0 (underflow, dead)
    activation_mean: np.ndarray  # mean of the layer's activation over batch and units
    activation_std: np.ndarray  # std of the same values
    activation_grad_norm: np.ndarray  # ||dLoss/d activation|| over the batch
    saturation: np.ndarray  # fraction of units in the saturating region (see activations)
    dead_fraction: np.ndarray  # ReLU-like: fraction of units inactive on every example
    hist_edges: np.ndarray  # (bins + 1,) common bin edges of the activation histograms
    activation_hist: np.ndarray  # (layers, bins) fraction of sampled activations per bin
    loss: float  # loss value of this pass
    dtype: str  # floating-point type the pass ran in

    @property
    def grad_data_ratio(self) -> np.ndarray:
        """||dLoss/dW|| / ||W|| per layer: how big a gradient step is relative to the weights."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.weight_grad_norm / self.weight_norm

    @property
    def first_to_last_ratio(self) -> float:
        """First hidden layer's weight-gradient norm over the last hidden layer's."""
        n = len(self.layer_names)
        last = n - 2 if n >= 2 else 0
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(self.weight_grad_norm[0] / self.weight_grad_norm[last])

    def __len__(self) -> int:
        return len(self.layer_names)

    def __repr__(self) -> str:
        rows = [
            f"GradientProfile({len(self)} layers, loss={self.loss:.4g}, dtype={self.dtype}, "
            f"first/last hidden grad ratio={self.first_to_last_ratio:.3g})",
            f"  {'layer':<16}{'act':<11}{'|dW|':>11}{'|W|':>10}{'act std':>10}"
            f"{'sat %':>8}{'dead %':>8}",
        ]
        idx = list(range(len(self)))
        if len(idx) > 12:
            idx = idx[:5] + [-1] + idx[-5:]
        for i in idx:
            if i == -1:
                rows.append("  ...")
                continue
            rows.append(
                f"  {self.layer_names[i]:<16}{self.activations[i]:<11}"
                f"{self.weight_grad_norm[i]:>11.3e}{self.weight_norm[i]:>10.3g}"
                f"{self.activation_std[i]:>10.3g}{100 * self.saturation[i]:>8.1f}"
                f"{100 * self.dead_fraction[i]:>8.1f}"
            )
        return "\n".join(rows)


def check_data(X, y=None, *, name_x: str = "X", name_y: str = "y"):
    """Validate and convert ``X`` (and ``y``) to tensors; raise clear errors on bad data."""
    X = _as_tensor(X, name_x)
    if X.ndim < 2:
        raise ValueError(
            f"{name_x} must have shape (n_examples, features...), got {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise ValueError(f"{name_x} is empty: it needs at least one example")
    if not X.is_floating_point():
        X = X.float()
    if not torch.isfinite(X).all():
        raise ValueError(f"{name_x} contains NaN or infinite values; clean the data first")
    if y is None:
        return X
    y = _as_tensor(y, name_y)
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name_y} must have one entry per example ({X.shape[0]}), got shape {tuple(y.shape)}"
        )
    if y.is_floating_point() and not torch.isfinite(y).all():
        raise ValueError(f"{name_y} contains NaN or infinite values")
    return X, y


def _as_tensor(a, name: str) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a.detach()
    if isinstance(a, np.ndarray):
        if a.dtype.kind not in "fiub":
            raise TypeError(f"{name} must hold numbers, got a NumPy array of dtype {a.dtype}")
        return torch.from_numpy(np.ascontiguousarray(a))
    raise TypeError(f"{name} must be a torch.Tensor or a NumPy array, got {type(a).__name__}")


def compute_loss(out: torch.Tensor, y: torch.Tensor, loss) -> torch.Tensor:
    """The scalar loss: ``"cross_entropy"`` (y: class indices), ``"mse"`` or a callable."""
    if callable(loss):
        return loss(out, y)
    if loss == "cross_entropy":
        if y.is_floating_point() or y.ndim != 1:
            raise ValueError("cross_entropy needs y as a 1-D tensor of integer class indices")
        if out.ndim != 2:
            raise ValueError(
                f"cross_entropy needs (batch, classes) outputs, got {tuple(out.shape)}")
        if y.min() < 0 or y.max() >= out.shape[1]:
            raise ValueError(
                f"class labels must lie in 0..{out.shape[1] - 1} for a model with "
                f"{out.shape[1]} outputs; got labels {int(y.min())}..{int(y.max())}"
            )
        return F.cross_entropy(out, y.long())
    if loss == "mse":
        target = y.to(out.dtype)
        if target.shape != out.shape:
            if target.numel() != out.numel():
                raise ValueError(f"mse needs one target per output, shape {tuple(out.shape)}; "
                                 f"got y of shape {tuple(y.shape)}")
            target = target.reshape(out.shape)
        return F.mse_loss(out, target)
    raise ValueError(f"unknown loss {loss!r}; valid choices: {', '.join(LOSSES)} or a callable")


def _saturation_and_dead(z: torch.Tensor, act: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Per layer of a stacked (layers, batch, units...) pre-activation: saturation, dead."""
    k = z.shape[0]
    spec = ACTIVATIONS[act]
    per_layer = z[0].numel()
    if spec.saturation_bounds is None:
        sat = torch.zeros(k, dtype=torch.float64)
    else:
        lo, hi = spec.saturation_bounds
        # Count z outside [lo, hi] with float arithmetic: |z| - hi > 0 exactly when |z| > hi,
        # and sign() turns that into a 1. Comparisons that produce a bool mask, and sums of
        # it, took 2-4x longer. A NaN would count as NaN here: such layers are redone below.
        if lo == -hi:
            over = z.abs().sub_(hi)
        elif hi == math.inf:
            over = z.neg().add_(lo)  # lo - z > 0 exactly when z < lo
        else:
            over = None
        if over is not None:
            sat = over.clamp_(min=0).sign_().flatten(1).sum(1).double() / per_layer
        if over is None or torch.isnan(sat).any():
            mask = z.abs() > hi if lo == -hi else (z < lo) | (z > hi)
            sat = mask.flatten(1).sum(1).double() / per_layer
    if spec.relu_like:
        # A unit is alive if z > 0 on some example: its maximum over the batch decides that
        # in one reduction, unless a NaN (which the maximum propagates) hides a positive z.
        top = z.amax(dim=1).flatten(1)  # (layers, units)
        if torch.isnan(top).any():
            top = (z > 0).any(dim=1).flatten(1).to(z.dtype)
        dead = 1.0 - torch.count_nonzero(top > 0, dim=1).double() / top.shape[1]
    else:
        dead = torch.zeros(k, dtype=torch.float64)
    return sat, dead


def _groups(keys: list) -> dict:
    """Indices of equal keys, so that same-shaped layers are stacked and reduced at once."""
    groups: dict = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    return groups


def _histogram_range(act_names, mean, std) -> tuple[float, float]:
    """Common bin range: the activation's range if bounded, else mean +- 4 std over layers."""
    names = set(act_names) - {"linear"}
    if names == {"sigmoid"}:
        return 0.0, 1.0
    if names and names <= {"sigmoid", "tanh"}:
        return -1.0, 1.0
    hidden = [i for i, n in enumerate(act_names) if n != "linear"] or list(range(len(act_names)))
    m, s = mean[hidden], std[hidden]
    ok = torch.isfinite(m) & torch.isfinite(s)
    if not ok.any():
        return -1.0, 1.0
    lo, hi = float((m - 4 * s)[ok].min()), float((m + 4 * s)[ok].max())
    if all(ACTIVATIONS[n].relu_like for n in names) and names:
        lo = max(lo, -0.05 * hi)  # nothing much lives below 0 for ReLU-like units
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _histograms(flat_samples: torch.Tensor, lo: float, hi: float, bins: int) -> torch.Tensor:
    """(layers, bins) fractions of ``flat_samples`` (layers, n) per bin; outliers in end bins."""
    k, n = flat_samples.shape
    # In place on one float64 copy: fewer passes over the samples, fewer MB-sized temporaries.
    x = flat_samples.to(torch.float64, copy=True)
    x = torch.nan_to_num_(x, nan=lo, posinf=hi, neginf=lo)
    x.sub_(lo).mul_(bins / (hi - lo)).floor_().clamp_(0, bins - 1)
    idx = x.long()
    idx += torch.arange(0, k * bins, bins)[:, None]
    return torch.bincount(idx.view(-1), minlength=k * bins).view(k, bins).double() / n


def gradient_profile(
    model: nn.Module,
    X,
    y,
    loss="cross_entropy",
    *,
    bins: int = 40,
    sample: int = 4096,
) -> GradientProfile:
    """One forward/backward pass of ``model`` on ``(X, y)``, measured layer by layer.

    Args:
        model: any module containing ``nn.Linear`` layers (run in its current train/eval mode).
        X: inputs, (n_examples, features...); cast to the model's floating-point type.
        y: targets, class indices for ``"cross_entropy"``, values for ``"mse"``.
        loss: ``"cross_entropy"``, ``"mse"`` or a callable ``loss(output, y) -> scalar``.
        bins: number of histogram bins.
        sample: at most this many evenly spaced values per layer go into the histograms.
    Returns:
        A ``GradientProfile``; arrays are float64 with one entry per Linear in forward order.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 1000:
        raise ValueError(f"bins must be an int between 1 and 1000, got {bins!r}")
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
        raise ValueError(f"sample must be a positive int, got {sample!r}")
    X, y = check_data(X, y)
    modules = list(model.named_modules())  # walk the module tree once: it is slow on deep nets
    names = {m: n for n, m in modules}
    first_param = next(model.parameters(), None)
    if first_param is not None and first_param.is_floating_point():
        X = X.to(first_param.dtype)

    events: list[tuple] = []  # ("linear", module, out) or ("act", name, z, a), in call order

    def on_linear(module, inputs, out):
        events.append(("linear", module, out))

    def on_act(module, inputs, out):
        events.append(("act", activation_name(module), inputs[0], out))

    handles = []
    buffers = [b for _, m in modules for b in m._buffers.values() if b is not None]
    saved_buffers = [b.detach().clone() for b in buffers]
    try:
        for _, m in modules:
            if isinstance(m, nn.Linear):
                handles.append(m.register_forward_hook(on_linear))
            elif activation_name(m) is not None:
                handles.append(m.register_forward_hook(on_act))
        with torch.enable_grad():
            out = model(X)
            loss_value = compute_loss(out, y, loss)
    except BaseException:  # e.g. bad labels: undo the forward's update of running statistics
        with torch.no_grad():
            for b, saved in zip(buffers, saved_buffers, strict=True):
                b.copy_(saved)
        raise
    finally:
        for h in handles:
            h.remove()

    # Pair each Linear (first call only) with the activation that follows it.
    layers: list[dict] = []
    seen = set()
    for ev in events:
        if ev[0] == "linear":
            if ev[1] in seen:
                layers.append(None)  # a repeated call: nothing after it pairs with a layer
                continue
            seen.add(ev[1])
            layers.append({"module": ev[1], "z": ev[2], "a": ev[2], "act": "linear"})
        elif layers and layers[-1] is not None and layers[-1]["act"] == "linear":
            layers[-1].update(z=ev[2], a=ev[3], act=ev[1])
    layers = [layer for layer in layers if layer is not None]
    if not layers:
        raise ValueError("the model has no nn.Linear layer that takes part in the forward pass")

    weights = [layer["module"].weight for layer in layers]
    acts = [layer["a"] for layer in layers]
    grads = torch.autograd.grad(loss_value, weights + acts, allow_unused=True)
    wgrads = [g if g is not None else torch.zeros_like(w)
              for g, w in zip(grads[:len(weights)], weights, strict=True)]
    agrads = [g if g is not None else torch.zeros_like(a)
              for g, a in zip(grads[len(weights):], acts, strict=True)]

    n = len(layers)
    stats = {k: torch.zeros(n, dtype=torch.float64) for k in ("mean", "std", "sat", "dead")}
    with torch.no_grad():
        flat = [t.detach() for t in weights + wgrads + agrads]
        norms = torch.stack(torch._foreach_norm(flat)).double()  # one type per model
        # Below ~1e-19 (above ~1e19) float32 squares underflow to 0 (overflow to inf), so a
        # norm of tiny but nonzero gradients came out as exactly 0: redo those in float64.
        for i in torch.nonzero(~((norms > 1e-15) & (norms < 1e15))).flatten().tolist():
            if flat[i].dtype != torch.float64:
                norms[i] = torch.linalg.vector_norm(flat[i].double())
        norms = norms.view(3, n)
        numel = torch.tensor([g.numel() for g in wgrads], dtype=torch.float64)
        zero = 1.0 - torch.stack([torch.count_nonzero(g) for g in wgrads]).double() / numel
        keys = [(tuple(layer["a"].shape), layer["act"]) for layer in layers]
        group_samples = []
        for (_, act), idx in _groups(keys).items():
            A = torch.stack([acts[i].detach() for i in idx]).flatten(1)  # (k, batch*units)
            Z = torch.stack([layers[i]["z"].detach() for i in idx])  # (k, batch, units...)
            mean = A.mean(1)
            stats["mean"][idx] = mean.double()
            centered = torch.linalg.vector_norm(A - mean[:, None], dim=1).double()
            stats["std"][idx] = centered / A.shape[1] ** 0.5
            stats["sat"][idx], stats["dead"][idx] = _saturation_and_dead(Z, act)
            step = max(1, A.shape[1] // sample)  # evenly spaced sample for the histograms
            group_samples.append((idx, A[:, ::step][:, :sample]))
        lo, hi = _histogram_range([layer["act"] for layer in layers], stats["mean"], stats["std"])
        hist = torch.zeros(n, bins, dtype=torch.float64)
        for idx, smp in group_samples:
            hist[idx] = _histograms(smp, lo, hi, bins)
        edges = np.linspace(lo, hi, bins + 1)
        # Restored only now: the backward pass above checks that BatchNorm's buffers are
        # unchanged since the forward (their version counter), so they cannot be reset earlier.
        for b, saved in zip(buffers, saved_buffers, strict=True):
            b.copy_(saved)
    stats.update(w=norms[0], wg=norms[1], ag=norms[2], zero=zero)

    s = {k: v.numpy() for k, v in stats.items()}
    return GradientProfile(
        layer_names=tuple(names[layer["module"]] for layer in layers),
        activations=tuple(layer["act"] for layer in layers),
        weight_grad_norm=s["wg"], weight_norm=s["w"], grad_zero_fraction=s["zero"],
        activation_mean=s["mean"], activation_std=s["std"], activation_grad_norm=s["ag"],
        saturation=s["sat"], dead_fraction=s["dead"],
        hist_edges=edges, activation_hist=hist.numpy(),
        loss=float(loss_value.detach()), dtype=str(X.dtype).replace("torch.", ""),
    )
