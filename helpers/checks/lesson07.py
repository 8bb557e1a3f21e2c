"""Checks for lesson 7 (residual connections)."""

from __future__ import annotations

import math

import numpy as np
import torch

from helpers.activations import activation_fn, derivative
from helpers.checks.core import CheckResult, compare, finish, run_student
from helpers.data import lesson_data
from helpers.models import MLPConfig
from helpers.topics.residual import (
    residual_block_reference,
    scalar_residual_chain_autograd,
    stream_profile,
)

RATIO_RANGE = (0.1, 10.0)
MAX_LOSS = 10.0
TARGET_DEPTH = 100


def _block_cases():
    gen = torch.Generator().manual_seed(7)
    cases = []
    for act, n, scale in (("relu", 4, 0.5), ("tanh", 6, 1.0), ("sigmoid", 3, 2.0)):
        x = torch.randn(5, n, generator=gen, dtype=torch.float64)  # (batch, n)
        W = torch.randn(n, n, generator=gen, dtype=torch.float64) * scale  # (out, in)
        b = torch.randn(n, generator=gen, dtype=torch.float64)
        cases.append((x, W, b, act))
    return cases


def check_residual_block(fn) -> CheckResult:
    """Exercise 7.1: ``fn(x, W, b, activation)`` returns ``x + phi(x W^T + b)``."""
    ex = "7.1"
    hint = ("a residual block adds its input to the plain block's output: "
            "x + phi(x @ W.T + b). W has shape (out, in) as in nn.Linear, so the batch "
            "(batch, n) is multiplied by W.T; `activation_fn(activation)` is NumPy-only, use "
            "torch functions (torch.relu, torch.tanh, torch.sigmoid) or `get_activation`.")
    for x, W, b, act in _block_cases():
        got, problem = run_student(ex, fn, x.clone(), W.clone(), b.clone(), act, hint=hint)
        if problem is not None:
            return finish(problem)
        expected = residual_block_reference(x, W, b, act)
        diff = compare(got, expected, rtol=1e-9, atol=1e-12)
        if diff is None:
            continue
        g = np.asarray(got.detach() if hasattr(got, "detach") else got, dtype=np.float64)
        xn, Wn, bn = x.numpy(), W.numpy(), b.numpy()
        phi = activation_fn(act)
        specific = ""
        if g.shape == xn.shape and np.allclose(g, phi(xn @ Wn.T + bn)):
            specific = "you returned the plain block phi(x W^T + b): add the skip, x + ... . "
        elif g.shape == xn.shape and np.allclose(g, xn + phi(xn @ Wn + bn)):
            specific = "you multiplied by W instead of W.T (nn.Linear stores W as (out, in)). "
        elif g.shape == xn.shape and np.allclose(g, phi(xn + xn @ Wn.T + bn)):
            specific = "the skip is added after phi, not inside it: x + phi(...). "
        return finish(CheckResult(ex, "failed", f"{act} block of width {W.shape[0]}: {diff}.",
                                   specific + hint))
    return finish(CheckResult(ex, "passed", "correct: your residual block matches the course's "
                                             "Block(residual=True) on 3 random blocks "
                                             "(ReLU, tanh, sigmoid)."))


def _chain_cases():
    rng = np.random.default_rng(11)
    return [(np.full(20, 0.5), 0.3, "tanh"), (rng.normal(0.0, 1.0, 30), -0.7, "sigmoid"),
            (rng.normal(0.0, 0.5, 12), 1.2, "relu"), (np.full(50, -0.2), 0.5, "tanh")]


def check_residual_chain_derivative(fn) -> CheckResult:
    """Exercise 7.2: ``fn(weights, x0, activation)`` returns ``d x_L / d x_0`` (checked by
    autograd) for the scalar chain ``x_{k+1} = x_k + w_k phi(x_k)``."""
    ex = "7.2"
    hint = ("each step's derivative is d x_{k+1} / d x_k = 1 + w_k phi'(x_k), with phi' taken "
            "at the step's own input x_k; run the chain forward, multiplying these factors "
            "as you go. `derivative(activation)` gives phi' as a NumPy function.")
    for w, x0, act in _chain_cases():
        got, problem = run_student(ex, fn, w.copy(), x0, act, hint=hint)
        if problem is not None:
            return finish(problem)
        expected = scalar_residual_chain_autograd(w, x0, act)
        diff = compare(got, expected, rtol=1e-9, atol=1e-12)
        if diff is None:
            continue
        specific = ""
        try:
            g = float(np.asarray(got, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            g = math.nan
        phi, dphi = activation_fn(act), derivative(act)
        x, plain = x0, 1.0
        for wk in w:
            plain *= wk * float(dphi(np.array(x)))
            x = x + wk * float(phi(np.array(x)))
        if math.isclose(g, plain, rel_tol=1e-9, abs_tol=1e-300):
            specific = ("you multiplied w_k phi'(x_k) only, the plain chain's factor: the skip "
                        "adds 1 to every factor. ")
        elif math.isclose(g, float(np.prod([1.0 + wk * float(dphi(np.array(x0))) for wk in w])),
                          rel_tol=1e-9):
            specific = ("phi' must be evaluated at each step's own input x_k, not at x_0: update "
                        "x_k as you go. ")
        return finish(CheckResult(
            ex, "failed", f"{act} chain of {w.size} steps from x_0 = {x0}: {diff}.",
            specific + hint))
    return finish(CheckResult(ex, "passed", "correct: your derivative matches PyTorch autograd "
                                             "on 4 residual chains (tanh, sigmoid, ReLU)."))


def deep_config_profile(config: MLPConfig):
    """The measurement exercise 7.3 is judged by: float64, the lesson's spirals batch."""
    return stream_profile(config.replace(dtype="float64"), *lesson_data())


def check_deep_config(fn) -> CheckResult:
    """Exercise 7.3: ``fn()`` returns a residual ``MLPConfig`` of depth 100 whose first/last
    ``||dL/dx||`` ratio lies in [0.1, 10] and whose loss at initialization is below 10."""
    ex = "7.3"
    lo, hi = RATIO_RANGE
    hint = ("try the explorer above at depth 100: the residual series should stay flat within a "
            "factor of 10 and the residual loss should be small. Normalization and where it sits "
            "(norm_position) matter most; the activation and the init too.")
    config, problem = run_student(ex, fn, hint=hint)
    if problem is not None:
        return finish(problem)
    if not isinstance(config, MLPConfig):
        return finish(CheckResult(ex, "failed", f"return an MLPConfig, got "
                                                 f"{type(config).__name__}.", hint))
    if config.depth != TARGET_DEPTH or not config.residual:
        return finish(CheckResult(
            ex, "failed", f"the network must be residual with depth {TARGET_DEPTH}; got "
                          f"depth={config.depth}, residual={config.residual}.", hint))
    if config.width > 256:
        return finish(CheckResult(ex, "failed", f"keep width <= 256 (got {config.width}).", hint))
    p = deep_config_profile(config)
    what = (f"first/last ||dL/dx|| = {p.ratio:.3g}, loss at init = {p.loss:.3g} "
            f"(measured in float64 on the lesson's spirals)")
    if not (math.isfinite(p.ratio) and lo <= p.ratio <= hi):
        return finish(CheckResult(ex, "failed", f"{what}: the ratio is outside [{lo:g}, {hi:g}].",
                                   hint))
    if not (math.isfinite(p.loss) and p.loss < MAX_LOSS):
        return finish(CheckResult(ex, "failed", f"{what}: the loss must be finite and below "
                                                 f"{MAX_LOSS:g}; the forward signal is too large.",
                                   hint))
    return finish(CheckResult(ex, "passed", f"correct: {what}."))
