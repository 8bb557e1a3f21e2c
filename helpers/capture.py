"""Measure gradients and activations layer by layer, for our MLPs or any ``torch.nn.Module``.

``gradient_profile`` runs one forward and backward pass and returns per-layer statistics
as NumPy arrays, one entry per ``nn.Linear`` in forward order. ``GradientMonitor`` (defined
in ``helpers.monitor``, importable from here) records statistics over many training steps.

What a layer's *activation* is: the output of the activation module (``nn.Tanh``,
``nn.ReLU``, ... any type in ``helpers.activations.MODULE_TYPES``) that the model calls
after that Linear and before the next one; for a Linear with no activation after it
(the output layer) it is the Linear's own output (the logits).

The course's own networks (``helpers.models.MLP``, as ``build_mlp`` makes them) record
these tensors as they run; any other model gets forward hooks for the duration of one call,
always removed. Gradients are taken with ``torch.autograd.grad``, so the model's ``.grad``
fields are never touched, and buffers such as BatchNorm's running statistics are restored
afterwards: measuring does not change the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.activations import ACTIVATIONS, MODULE_TYPES, activation_name
from helpers.models import MLP, Block
from helpers.monitor import GradientMonitor, MonitorHistory

__all__ = ["GradientProfile", "gradient_profile", "CapturedPass", "capture_pass", "GradientMonitor",
           "MonitorHistory"]

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


def _saturation_and_dead(z: torch.Tensor, act: str) -> tuple[np.ndarray, np.ndarray]:
    """Per layer of a stacked (layers, batch, units...) pre-activation: saturation, dead."""
    k = z.shape[0]
    spec = ACTIVATIONS[act]
    sat, dead = np.zeros(k), np.zeros(k)
    if spec.saturation_bounds is not None:
        lo, hi = spec.saturation_bounds
        # In-place comparisons on one float copy (1.0 where z lies outside [lo, hi], 0.0
        # elsewhere and for NaN), summed exactly: a bool mask and its count took 2-3x longer.
        if lo == -hi:
            outside = z.abs().gt_(hi)
        elif hi == math.inf:
            outside = z.neg().gt_(-lo)  # z < lo
        else:
            outside = ((z < lo) | (z > hi)).to(z.dtype)
        sat = _count_rows(outside.flatten(1)) / z[0].numel()
    if spec.relu_like:
        # A unit is alive if z > 0 on some example: its maximum over the batch decides that
        # in one reduction, unless a NaN (which the maximum propagates) hides a positive z.
        top = z.amax(dim=1).flatten(1)  # (layers, units)
        if torch.isnan(top).any():
            top = (z > 0).any(dim=1).flatten(1).to(z.dtype)
        dead = 1.0 - torch.count_nonzero(top > 0, dim=1).numpy() / top.shape[1]
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
    m, s = np.asarray(mean, dtype=float)[hidden], np.asarray(std, dtype=float)[hidden]
    ok = np.isfinite(m) & np.isfinite(s)
    if not ok.any():
        return -1.0, 1.0
    lo, hi = float((m - 4 * s)[ok].min()), float((m + 4 * s)[ok].max())
    if all(ACTIVATIONS[n].relu_like for n in names) and names:
        lo = max(lo, -0.05 * hi)  # nothing much lives below 0 for ReLU-like units
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _histograms(samples: torch.Tensor, lo: float, hi: float, bins: int) -> np.ndarray:
    """(layers, bins) fractions of ``samples`` (layers, n) per bin; outliers in end bins.

    ``samples`` is overwritten (callers pass a float64 copy): in place, the bin index
    takes a few passes over the samples and no MB-sized temporaries.
    """
    k, n = samples.shape
    x = torch.nan_to_num_(samples, nan=lo, posinf=hi, neginf=lo)
    # clamped to [0, bins - 1] before the cast, truncation is the floor
    idx = x.sub_(lo).mul_(bins / (hi - lo)).clamp_(0, bins - 1).long()
    idx += torch.arange(0, k * bins, bins)[:, None]
    return torch.bincount(idx.view(-1), minlength=k * bins).view(k, bins).numpy() / n


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
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 1000:
        raise ValueError(f"bins must be an int between 1 and 1000, got {bins!r}")
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
        raise ValueError(f"sample must be a positive int, got {sample!r}")
    return _statistics(capture_pass(model, X, y, loss), bins, sample)


@dataclass(frozen=True)
class CapturedPass:
    """The raw tensors of one measured pass, before any statistics are taken."""

    layer_names: tuple[str, ...]
    activations: tuple[str, ...]  # activation name per layer ("linear" if none)
    weights: list  # each Linear's weight
    pre_activations: list  # the activation's input per layer (the Linear output if none)
    outputs: list  # the activation's output per layer
    weight_grads: list  # dLoss/dW per layer
    output_grads: list  # dLoss/d(activation output) per layer
    loss: torch.Tensor
    dtype: torch.dtype


def capture_pass(model: nn.Module, X, y, loss="cross_entropy") -> CapturedPass:
    """One forward and backward pass of ``model``, keeping each layer's tensors.

    This is the capture half of ``gradient_profile`` (which validates its arguments and
    then takes statistics of the result); it is separate so that its cost can be measured.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    X, y = check_data(X, y)
    first_param = next(model.parameters(), None)
    if first_param is not None and first_param.is_floating_point():
        X = X.to(first_param.dtype)

    # Activations and Linear outputs, in call order: ("linear", module, out) or
    # ("act", name, z, a). The course's own MLPs record them as they run; any other model
    # gets a forward hook on every Linear and activation module for the duration of the pass.
    events: list[tuple] = []
    own_modules = _built_mlp_modules(model)
    own = own_modules is not None
    if own:
        names = {block.linear: f"blocks.{i}.linear" for i, block in enumerate(model.blocks)}
        names[model.output] = "output"
    else:  # walk the module tree once: it is slow on deep nets
        names = {m: n for n, m in model.named_modules()}
    modules = own_modules if own else list(names)
    buffers = [b for m in modules for b in m._buffers.values() if b is not None]
    saved_buffers = [b.detach().clone() for b in buffers]
    handles = []
    try:
        if not own:
            def on_linear(module, inputs, out):
                events.append(("linear", module, out))

            def on_act(module, inputs, out):
                events.append(("act", activation_name(module), inputs[0], out))

            for m in modules:
                if isinstance(m, nn.Linear):
                    handles.append(m.register_forward_hook(on_linear))
                elif activation_name(m) is not None:
                    handles.append(m.register_forward_hook(on_act))
        with torch.enable_grad():
            out = model(X, record=events) if own else model(X)
            loss_value = compute_loss(out, y, loss)

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
            raise ValueError(
                "the model has no nn.Linear layer that takes part in the forward pass")

        weights = [layer["module"].weight for layer in layers]
        acts = [layer["a"] for layer in layers]
        grads = torch.autograd.grad(loss_value, weights + acts, allow_unused=True)
    finally:
        for h in handles:
            h.remove()
        # Restored only after the backward pass, which checks that BatchNorm's buffers are
        # unchanged since the forward (their version counter); also when the pass raised.
        with torch.no_grad():
            for b, saved in zip(buffers, saved_buffers, strict=True):
                b.copy_(saved)
    return CapturedPass(
        layer_names=tuple(names[layer["module"]] for layer in layers),
        activations=tuple(layer["act"] for layer in layers),
        weights=[w.detach() for w in weights],
        pre_activations=[layer["z"].detach() for layer in layers],
        outputs=[a.detach() for a in acts],
        weight_grads=[g if g is not None else torch.zeros_like(w)
                      for g, w in zip(grads[:len(weights)], weights, strict=True)],
        output_grads=[g if g is not None else torch.zeros_like(a)
                      for g, a in zip(grads[len(weights):], acts, strict=True)],
        loss=loss_value.detach(), dtype=X.dtype,
    )


@torch.no_grad()
def _statistics(cap: CapturedPass, bins: int, sample: int) -> GradientProfile:
    """Per-layer statistics of a captured pass.

    Statistics of same-shaped layers are taken together on stacked copies: a few operations
    per group instead of several per layer (per-operation overhead, not arithmetic, is
    what costs at these sizes).
    """
    n = len(cap.layer_names)
    stats = {k: np.zeros(n) for k in ("w", "wg", "zero", "mean", "std", "ag", "sat", "dead")}
    hist = np.zeros((n, bins))
    for idx in _groups([tuple(w.shape) for w in cap.weights]).values():
        stats["w"][idx] = _row_norms(_stack([cap.weights[i] for i in idx]))
        G = _stack([cap.weight_grads[i] for i in idx]).flatten(1)
        stats["wg"][idx] = _row_norms(G)
        stats["zero"][idx] = 1.0 - _count_nonzero_rows(G) / G.shape[1]
    samples = []
    keys = [(tuple(a.shape), name) for a, name in zip(cap.outputs, cap.activations,
                                                      strict=True)]
    for (_, act), idx in _groups(keys).items():
        stats["ag"][idx] = _row_norms(_stack([cap.output_grads[i] for i in idx]))
        spec = ACTIVATIONS[act]
        if spec.saturation_bounds is not None or spec.relu_like:
            Z = _stack([cap.pre_activations[i] for i in idx])  # (k, batch, units...)
            stats["sat"][idx], stats["dead"][idx] = _saturation_and_dead(Z, act)
            del Z
        # a copy (stack makes one even of a single tensor): centred in place below
        A = torch.stack([cap.outputs[i] for i in idx]).flatten(1)  # (k, batch*units)
        step = max(1, A.shape[1] // sample)  # evenly spaced sample for the histograms
        samples.append((idx, A[:, ::step][:, :sample].to(torch.float64, copy=True)))
        mean = A.mean(1)
        stats["mean"][idx] = mean.double().numpy()
        centered = torch.linalg.vector_norm(A.sub_(mean[:, None]), dim=1)  # two-pass std
        stats["std"][idx] = centered.double().numpy() / A.shape[1] ** 0.5
    lo, hi = _histogram_range(cap.activations, stats["mean"], stats["std"])
    for idx, smp in samples:
        hist[idx] = _histograms(smp, lo, hi, bins)
    return GradientProfile(
        layer_names=cap.layer_names, activations=cap.activations,
        weight_grad_norm=stats["wg"], weight_norm=stats["w"], grad_zero_fraction=stats["zero"],
        activation_mean=stats["mean"], activation_std=stats["std"],
        activation_grad_norm=stats["ag"], saturation=stats["sat"], dead_fraction=stats["dead"],
        hist_edges=np.linspace(lo, hi, bins + 1), activation_hist=hist,
        loss=float(cap.loss), dtype=str(cap.dtype).replace("torch.", ""),
    )


def _stack(tensors: list) -> torch.Tensor:
    """``torch.stack`` for reading: a single tensor becomes a view instead of a copy."""
    return tensors[0].unsqueeze(0) if len(tensors) == 1 else torch.stack(tensors)


_NORM_TYPES = (nn.Identity, nn.BatchNorm1d, nn.LayerNorm)
_BLOCK_PARTS = {"linear", "norm", "act"}
_GLOBAL_HOOKS = ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
                 "_global_backward_pre_hooks")


def _built_mlp_modules(model: nn.Module) -> list[nn.Module] | None:
    """Every module of ``model`` if it is an ``MLP`` exactly as ``build_mlp`` makes it, so
    that its forward pass can record its own layers; None if anything was swapped in,
    subclassed, shared, patched, added or hooked (such models are measured with hooks)."""
    if type(model) is not MLP or model._modules.keys() != {"blocks", "output"}:
        return None
    blocks, output = model._modules["blocks"], model._modules["output"]
    if type(blocks) is not nn.ModuleList or type(output) is not nn.Linear:
        return None
    modules = [model, blocks, output]
    for block in blocks._modules.values():  # _modules directly: attribute access is slow
        if type(block) is not Block:
            return None
        parts = block._modules
        if (parts.keys() != _BLOCK_PARTS or type(parts["linear"]) is not nn.Linear
                or type(parts["norm"]) not in _NORM_TYPES
                or type(parts["act"]) not in MODULE_TYPES):
            return None
        modules += (block, parts["linear"], parts["norm"], parts["act"])
    if len(set(map(id, modules))) != len(modules):
        return None  # a module used twice: the hooks' first-call rules apply
    for m in modules:
        if (m._forward_hooks or m._forward_pre_hooks or m._backward_hooks
                or m._backward_pre_hooks or "forward" in m.__dict__):
            return None
    if any(getattr(torch.nn.modules.module, h) for h in _GLOBAL_HOOKS):
        return None
    return modules


def _row_norms(rows: torch.Tensor) -> np.ndarray:
    """L2 norm of each ``rows[i]`` as float64; float32 rows are redone in float64 where needed."""
    rows = rows.flatten(1)
    if rows.dtype not in (torch.float32, torch.float64):
        rows = rows.double()  # half precision: its squares over- and underflow far too soon
    norms = torch.linalg.vector_norm(rows, dim=1).double().numpy()
    if rows.dtype != torch.float64:
        # Below ~1e-19 (above ~1e19) float32 squares underflow to 0 (overflow to inf), so a
        # norm of tiny but nonzero gradients came out as exactly 0: redo those in float64.
        redo = ~((norms > 1e-15) & (norms < 1e15))
        if redo.any():
            norms[redo] = torch.linalg.vector_norm(
                rows[torch.from_numpy(redo)].double(), dim=1).numpy()
    return norms


def _count_nonzero_rows(rows: torch.Tensor) -> np.ndarray:
    """Number of nonzero entries in each row (NaN counts as nonzero), as float64."""
    # 1.0 where x != 0 (and where x is NaN), summed: 3x faster than count_nonzero here
    return _count_rows(rows.abs().ne_(0))


def _count_rows(ones: torch.Tensor) -> np.ndarray:
    """Row sums of a 2-D tensor of 0.0s and 1.0s, exact, as float64."""
    # Sums of 0/1 are exact in float32 below 2**24 per row; summing with dtype=float64
    # would first copy the whole tensor to float64.
    exact = ones.dtype == torch.float64 or (ones.dtype == torch.float32
                                            and ones.shape[1] < 2**24)
    return ones.sum(1, dtype=None if exact else torch.float64).double().numpy()
