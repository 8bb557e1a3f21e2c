"""What goes into a model and what comes out: input checks, model calls, losses.

``check_data`` validates a data set ``(X, y)`` of tensors or NumPy arrays, as the course's
training loops use it. ``model_inputs`` and ``call_model`` pass any input the way the
model expects it: a tensor (``model(X)``), a tuple or list (``model(*X)``) or a dict of
keyword arguments (``model(**X)``, e.g. a Hugging Face ``input_ids=...``).
``compute_loss`` turns the output into the scalar loss: a named loss, or a callable
of the output (``loss(out)``) or of the output and the targets (``loss(out, y)``).
``first_tensor`` picks the tensor to measure from a module's output (the capture pass and
the monitor read module outputs through it).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LOSSES", "check_data", "compute_loss", "model_inputs", "call_model"]

LOSSES = ("cross_entropy", "mse")
_EMBEDDINGS = (nn.Embedding, nn.EmbeddingBag)


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
    y = _check_targets(y, name_y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name_y} must have one entry per example ({X.shape[0]}), got shape {tuple(y.shape)}"
        )
    return X, y


def _check_targets(y, name_y: str = "y") -> torch.Tensor:
    y = _as_tensor(y, name_y)
    if y.ndim == 0:
        raise ValueError(f"{name_y} must have one entry per example, got a scalar")
    if y.is_floating_point() and not torch.isfinite(y).all():
        raise ValueError(f"{name_y} contains NaN or infinite values")
    return y


def _as_tensor(a, name: str) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a.detach()
    if isinstance(a, np.ndarray):
        if a.dtype.kind not in "fiub":
            raise TypeError(f"{name} must hold numbers, got a NumPy array of dtype {a.dtype}")
        # ascontiguousarray makes a 0-d array 1-d: keep the caller's shape
        return torch.from_numpy(np.ascontiguousarray(a).reshape(a.shape))
    raise TypeError(f"{name} must be a torch.Tensor or a NumPy array, got {type(a).__name__}")


def model_inputs(model: nn.Module, X, y=None):
    """``(X, y)`` ready for ``call_model``: tensors checked, floats in the model's dtype.

    ``X``: a tensor or NumPy array, a tuple/list of them (positional arguments) or a dict
    (keyword arguments; values that are not arrays are passed unchanged). Floating-point
    inputs take the dtype of the model's first floating-point parameter. Integer inputs
    stay integers (token ids) if the model has an ``nn.Embedding``; otherwise they are
    cast to that float type, as features. ``y`` may be None when the loss is a callable
    of the output alone.
    """
    params = [p for p in model.parameters() if p.is_floating_point()]
    dtype = params[0].dtype if params else torch.get_default_dtype()
    ids = any(isinstance(m, _EMBEDDINGS) for m in model.modules())

    def one(a, name, required):
        if not required and not isinstance(a, (torch.Tensor, np.ndarray)):
            return a
        t = _as_tensor(a, name)
        if name == "X" and (t.ndim == 0 or t.shape[0] == 0):
            raise ValueError(f"{name} is empty or a scalar (shape {tuple(t.shape)}): it needs "
                             "a batch dimension with at least one example")
        if t.is_floating_point() or t.is_complex():
            if t.is_complex():
                raise TypeError(f"{name} is complex; the model needs real inputs")
            if not torch.isfinite(t).all():
                raise ValueError(f"{name} contains NaN or infinite values; clean the data first")
            if t.ndim < 2 and not ids and name == "X":
                raise ValueError(f"{name} must have shape (n_examples, features...), got "
                                 f"{tuple(t.shape)}; for a single example use {name}[None]")
            return t.to(dtype)
        return t if ids else t.to(dtype)

    if isinstance(X, dict):
        if not X:
            raise ValueError("X is an empty dict; give the model's keyword arguments")
        X = {k: one(v, f"X[{k!r}]", False) for k, v in X.items()}
    elif isinstance(X, (tuple, list)):
        if not X or not all(isinstance(v, (torch.Tensor, np.ndarray)) for v in X):
            raise TypeError(
                "X must be a torch.Tensor or a NumPy array, a tuple of them (positional "
                f"arguments) or a dict of keyword arguments; got a {type(X).__name__} of "
                f"{', '.join(sorted({type(v).__name__ for v in X})) or 'nothing'}")
        X = tuple(one(v, f"X[{i}]", True) for i, v in enumerate(X))
    else:
        X = one(X, "X", True)
    return X, (None if y is None else _check_targets(y))


def call_model(model: nn.Module, X):
    """``model(X)``, ``model(*X)`` or ``model(**X)`` for a tensor, tuple or dict ``X``."""
    if isinstance(X, dict):
        return model(**X)
    if isinstance(X, tuple):
        return model(*X)
    return model(X)


def compute_loss(out, y, loss) -> torch.Tensor:
    """The scalar loss: ``"cross_entropy"`` (y: class indices), ``"mse"`` or a callable.

    A callable gets ``loss(out, y)``, or ``loss(out)`` when ``y`` is None.
    """
    if callable(loss):
        value = loss(out) if y is None else loss(out, y)
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"the loss callable must return a tensor, got {type(value).__name__}")
        return value
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; valid choices: {', '.join(LOSSES)} or a callable")
    if not isinstance(out, torch.Tensor):
        kind = type(out).__name__
        hint = ("out.logits" if hasattr(out, "logits") else "out[0]"
                if isinstance(out, (tuple, list)) else "out['...']")
        raise TypeError(
            f"the model returned a {kind}, not a tensor, so the {loss!r} loss cannot be taken; "
            f"pass loss as a callable of the output, e.g. "
            f"loss=lambda out, y: F.cross_entropy({hint}, y)")
    if y is None:
        raise ValueError(f"the {loss!r} loss needs targets y; give y, or a loss callable "
                         "of the output alone, loss=lambda out: ...")
    batch = out.shape[0] if out.ndim else 0
    if y.shape[0] != batch:
        raise ValueError(f"y must have one entry per example ({batch}) of the output, got "
                         f"shape {tuple(y.shape)}; for other layouts (e.g. sequence-first "
                         "outputs) pass loss as a callable")
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
    target = y.to(out.dtype)
    if target.shape != out.shape:
        if target.numel() != out.numel():
            raise ValueError(f"mse needs one target per output, shape {tuple(out.shape)}; "
                             f"got y of shape {tuple(y.shape)}")
        target = target.reshape(out.shape)
    return F.mse_loss(out, target)


def first_tensor(out):
    """A module's output as one tensor: the output itself, the first entry of a tuple or list
    output (an LSTM's ``(output, (h, c))``), or None when there is no tensor to measure."""
    if isinstance(out, (tuple, list)) and out:
        out = out[0]
    return out if isinstance(out, torch.Tensor) else None

