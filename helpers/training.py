"""``train``: a small, deterministic training loop that records per-layer gradient statistics;
``decision_grid``: a 2-D classifier's class-1 probability on a grid (its decision boundary)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from helpers.capture import check_data, compute_loss
from helpers.models import MLP
from helpers.norms import norms
from helpers.validation import check_choice, check_float, check_int, check_seed

OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True, repr=False)
class History:
    """What ``train`` recorded; per-layer arrays are (records, layers), one column per Linear."""

    layer_names: tuple[str, ...]  # the model's Linear layers, input layer first
    steps: np.ndarray  # (records,) step index of each record (0 = before any update)
    loss: np.ndarray  # (records,) training loss at that step
    accuracy: np.ndarray  # (records,) training accuracy (NaN for regression losses)
    grad_norm: np.ndarray  # (records, layers) ||dLoss/dW|| per Linear layer
    update_ratio: np.ndarray  # (records, layers) ||W_after - W_before|| / ||W_before||
    stopped_early: bool  # the callback asked to stop, or the loss became NaN/inf
    diverged: bool  # the loss became NaN or infinite
    seconds: float  # wall time of the run
    # held-out evaluation (``eval_data``) after the recorded step's update; empty without it
    test_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (records,)
    test_accuracy: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (records,)

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1]) if len(self.loss) else math.nan

    @property
    def final_accuracy(self) -> float:
        return float(self.accuracy[-1]) if len(self.accuracy) else math.nan

    def __repr__(self) -> str:
        status = "diverged" if self.diverged else "stopped early" if self.stopped_early else "ok"
        return (f"History({len(self.steps)} records up to step "
                f"{int(self.steps[-1]) if len(self.steps) else 0}, final loss "
                f"{self.final_loss:.4g}, accuracy {self.final_accuracy:.3f}, {status}, "
                f"{self.seconds:.1f} s)")


def _make_optimizer(name: str, params, lr: float):
    params = list(params)  # a generator would be used up by a failed first attempt
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    try:  # the fused CPU kernel is ~5x faster than the default for small nets
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr)


def train(
    model: nn.Module,
    X,
    y,
    steps: int = 300,
    lr: float = 0.01,
    optimizer: str = "adam",
    seed: int = 0,
    record_every: int = 10,
    callback: Callable[[History], bool | None] | None = None,
    batch_size: int | None = None,
    loss="cross_entropy",
    eval_data=None,
) -> History:
    """Train ``model`` on ``(X, y)`` in place and return its ``History``.

    Args:
        steps: number of optimiser steps (>= 1).
        lr: learning rate (> 0).
        optimizer: ``"sgd"`` (plain) or ``"adam"``.
        seed: seeds the mini-batch order (full-batch training uses no randomness).
        record_every: record statistics every this many steps (and at the last step).
        callback: called with the history so far after each record; return ``True`` to stop.
        batch_size: mini-batch size; ``None`` trains on the full batch.
        loss: ``"cross_entropy"``, ``"mse"`` or a callable ``loss(output, y)``.
        eval_data: optional held-out ``(X_test, y_test)``, evaluated at every record in eval
            mode (BatchNorm uses its running statistics), without gradients.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    steps = check_int("steps", steps, 1)
    lr = check_float("lr", lr, 0.0, lo_open=True)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    record_every = check_int("record_every", record_every, 1)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable or None")
    X, y = check_data(X, y)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1)
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("the model has no nn.Linear layer to record")
    _check_features(model, X)
    first = next(model.parameters())
    X = X.to(first.dtype)
    if eval_data is not None:
        X_test, y_test = check_data(*eval_data)
        X_test = X_test.to(first.dtype)
    weights = [m.weight for _, m in linears]
    opt = _make_optimizer(optimizer, model.parameters(), float(lr))
    gen = torch.Generator().manual_seed(check_seed(seed))
    n = X.shape[0]
    classify = loss == "cross_entropy"
    rec: dict[str, list] = {k: [] for k in ("steps", "loss", "accuracy", "grad", "update",
                                            "test_loss", "test_accuracy")}
    stopped = diverged = False
    start = time.perf_counter()

    def history() -> History:
        k = len(rec["steps"])
        return History(
            layer_names=tuple(name for name, _ in linears),
            steps=np.asarray(rec["steps"], dtype=np.int64),
            loss=np.asarray(rec["loss"], dtype=np.float64),
            accuracy=np.asarray(rec["accuracy"], dtype=np.float64),
            grad_norm=np.asarray(rec["grad"], dtype=np.float64).reshape(k, len(linears)),
            update_ratio=np.asarray(rec["update"], dtype=np.float64).reshape(k, len(linears)),
            stopped_early=stopped, diverged=diverged, seconds=time.perf_counter() - start,
            test_loss=np.asarray(rec["test_loss"], dtype=np.float64),
            test_accuracy=np.asarray(rec["test_accuracy"], dtype=np.float64),
        )

    def evaluate() -> None:
        if eval_data is None:
            return
        with torch.no_grad():
            model.eval()
            try:
                out_test = model(X_test)
            finally:
                model.train()
            rec["test_loss"].append(float(compute_loss(out_test, y_test, loss)))
            rec["test_accuracy"].append(
                (out_test.argmax(1) == y_test).double().mean().item() if classify else math.nan)

    model.train()
    for step in range(steps):
        if batch_size is None or batch_size >= n:
            xb, yb = X, y
        else:
            idx = torch.randint(n, (batch_size,), generator=gen)
            xb, yb = X[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        out = model(xb)
        loss_value = compute_loss(out, yb, loss)
        value = float(loss_value.detach())
        if not math.isfinite(value):
            diverged = stopped = True
            rec["steps"].append(step)
            rec["loss"].append(value)
            rec["accuracy"].append(math.nan)
            rec["grad"].append([math.nan] * len(linears))
            rec["update"].append([math.nan] * len(linears))
            if eval_data is not None:
                rec["test_loss"].append(math.nan)
                rec["test_accuracy"].append(math.nan)
            break
        loss_value.backward()
        record = step % record_every == 0 or step == steps - 1
        if record:
            with torch.no_grad():
                grads = [w.grad if w.grad is not None else torch.zeros_like(w) for w in weights]
                rec["grad"].append(norms(grads).tolist())  # scaled: never under/overflows
                before = [w.detach().clone() for w in weights]
        opt.step()
        if record:
            with torch.no_grad():
                diffs = [w.detach() - b for w, b in zip(weights, before, strict=True)]
                num, den = norms(diffs), norms(before)
                rec["update"].append([float(a / b) if b > 0 else math.nan
                                      for a, b in zip(num, den, strict=True)])
                acc = (out.argmax(1) == yb).double().mean().item() if classify else math.nan
            rec["steps"].append(step)
            rec["loss"].append(value)
            rec["accuracy"].append(acc)
            evaluate()
            if callback is not None and callback(history()):
                stopped = True
                break
    return history()


@torch.no_grad()
def accuracy(model: nn.Module, X, y) -> float:
    """Fraction of examples whose arg-max output equals the label (model in eval mode)."""
    X, y = check_data(X, y)
    _check_features(model, X)
    was_training = model.training
    model.eval()
    try:
        out = model(X.to(next(model.parameters()).dtype))
    finally:
        model.train(was_training)
    if not y.is_floating_point() and len(y) and (int(y.min()) < 0
                                                  or int(y.max()) >= out.shape[-1]):
        raise ValueError(f"labels must be class indices from 0 to {out.shape[-1] - 1} (the "
                         f"model has {out.shape[-1]} outputs), got {int(y.min())} to "
                         f"{int(y.max())}")
    return float((out.argmax(1) == y).double().mean())


@torch.no_grad()
def decision_grid(model, points: int = 60, extent: float = 2.6) -> dict | None:
    """P(class 1) of a 2-class, 2-D ``model`` on a ``points`` x ``points`` grid (eval mode).

    Returns ``{"x": (points,), "y": (points,), "p": (points, points)}`` (row = y), or None
    when ``points`` is 0.
    """
    if points == 0:
        return None
    points = check_int("points", points, 2, 400)
    axis = np.linspace(-extent, extent, points)
    gx, gy = np.meshgrid(axis, axis)  # (points, points) each
    grid = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1))  # (points^2, 2)
    dtype = next(model.parameters()).dtype
    was_training = model.training
    model.eval()
    try:
        p = torch.softmax(model(grid.to(dtype)), dim=1)[:, 1]  # (points^2,)
    finally:
        model.train(was_training)
    return {"x": axis, "y": axis, "p": p.double().numpy().reshape(points, points)}


def _check_features(model: nn.Module, X: torch.Tensor) -> None:
    """A course MLP states its input size: say it, rather than torch's shape mismatch."""
    if isinstance(model, MLP) and (X.ndim != 2 or X.shape[1] != model.config.in_features):
        raise ValueError(f"X must have shape (n_examples, {model.config.in_features}) for this "
                         f"model (in_features={model.config.in_features}), got "
                         f"{tuple(X.shape)}")
