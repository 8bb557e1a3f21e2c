"""Checks for lesson 7 (residual connections)."""

from __future__ import annotations

import math

import numpy as np
import torch

from helpers.activations import activation_fn, derivative
from helpers.checks.core import CheckResult, compare, finish, run_student
from helpers.data import lesson_data
from helpers.jacobians import input_output_jacobian, jacobian_layers
from helpers.models import MLPConfig
from helpers.topics.residual import (
    residual_block_reference,
    residual_stack_jacobian_autograd,
    scalar_residual_chain_autograd,
    stream_profile,
)

# Course functions that compute an exercise's answer: calling one fails the check.
FORBID = (residual_block_reference, scalar_residual_chain_autograd,
          residual_stack_jacobian_autograd, input_output_jacobian, jacobian_layers)

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
    hint = ("a residual block adds its input to the plain block's output.",
            "W has shape (out, in) as in nn.Linear, so the batch (batch, n) is multiplied by "
            "W.T; the inputs are tensors, so use torch.relu, torch.tanh or torch.sigmoid "
            "(`activation_fn` is NumPy-only).",
            "return x + phi(x @ W.T + b).")
    for x, W, b, act in _block_cases():
        got, problem = run_student(ex, fn, x.clone(), W.clone(), b.clone(), act, hint=hint,
                                   forbid=FORBID)
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
        return finish(CheckResult(ex, "failed", f"{specific}{act} block of width {W.shape[0]}: "
                                                 f"{diff}.", hint))
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
    hint = ("the chain rule: d x_L / d x_0 is the product of the steps' derivatives "
            "d x_{k+1} / d x_k.",
            "each step's derivative is 1 + w_k phi'(x_k), with phi' taken at the step's own "
            "input x_k, so the chain must be run forward as you multiply.",
            "x, total = x0, 1.0; for each w: total *= 1 + w * phi'(x); x = x + w * phi(x). "
            "`derivative(activation)` gives phi' as a NumPy function.")
    for w, x0, act in _chain_cases():
        got, problem = run_student(ex, fn, w.copy(), x0, act, hint=hint, forbid=FORBID)
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
            ex, "failed", f"{specific}{act} chain of {w.size} steps from x_0 = {x0}: {diff}.",
            hint))
    return finish(CheckResult(ex, "passed", "correct: your derivative matches PyTorch autograd "
                                             "on 4 residual chains (tanh, sigmoid, ReLU)."))


def deep_config_profile(config: MLPConfig):
    """The measurement exercise 7.3 is judged by: float64, the lesson's spirals batch."""
    return stream_profile(config.replace(dtype="float64"), *lesson_data())


def _deep_config_diagnosis(config: MLPConfig, p) -> str:
    """A sentence naming the failure mode of a measured deep residual config, or ""."""
    growth = float(p.stream_std[-1] / p.stream_std[0])
    if not math.isfinite(growth) or growth > 1e3:
        return (f"the forward signal explodes (the stream's std grew {growth:.3g}x over the "
                "blocks): each branch adds its variance to the stream and nothing bounds it. ")
    if config.norm is not None and config.norm_position == "pre":
        return (f"this is pre-norm's drift: the stream's std grew {growth:.3g}x over "
                f"{config.depth} blocks (like sqrt(l), with a larger step per block the larger "
                "each branch's weights are), each block's norm divides the gradient entering "
                "its branch by the stream's size, and the read-out, with no norm before it, "
                "receives the large stream. ")
    if config.norm is not None and config.norm_position == "post":
        return ("post-norm puts the norm on the skip path too, so the identity path no longer "
                "protects the gradient's scale across depth. ")
    if config.norm is not None:
        return ("with the norm inside, each branch adds a positive-mean activation to the "
                "stream, whose mean drifts with depth. ")
    return ""


DEEP_HINT = ("sections 2-4 measured several residual configurations at depth 100: which ones "
             "kept both the gradient ratio and the loss at initialization moderate?",
             "where the norm sits (norm_position) matters most; then how large each branch's "
             "output starts (the init and the activation).",
             "pre-norm keeps the skip path clean; with pre-norm, a branch that starts small "
             "(the default init rather than He, or a bounded activation) keeps the stream's "
             "drift small.")


def check_deep_config(fn) -> CheckResult:
    """Exercise 7.3: ``fn()`` returns a residual ``MLPConfig`` of depth 100 whose first/last
    ``||dL/dx||`` ratio lies in [0.1, 10] and whose loss at initialization is below 10; a
    failure names its mode (explosion, pre-norm drift, post-norm, drifting mean)."""
    ex = "7.3"
    lo, hi = RATIO_RANGE
    hint = DEEP_HINT
    config, problem = run_student(ex, fn, hint=hint, forbid=FORBID)
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
    ratio_ok = math.isfinite(p.ratio) and lo <= p.ratio <= hi
    loss_ok = math.isfinite(p.loss) and p.loss < MAX_LOSS
    if ratio_ok and loss_ok:
        return finish(CheckResult(ex, "passed", f"correct: {what}."))
    broken = [] if ratio_ok else [f"the ratio is outside [{lo:g}, {hi:g}]"]
    broken += [] if loss_ok else [f"the loss is not below {MAX_LOSS:g}"]
    return finish(CheckResult(ex, "failed", f"{what}: {' and '.join(broken)}. "
                                             f"{_deep_config_diagnosis(config, p)}", hint))


def _stack_cases():
    rng = np.random.default_rng(17)
    cases = []
    for act, n, blocks, scale in (("tanh", 4, 3, 1.0), ("sigmoid", 5, 4, 2.0),
                                  ("relu", 3, 5, 0.7)):
        Ws = [rng.normal(0.0, scale / np.sqrt(n), (n, n)) for _ in range(blocks)]  # (out, in)
        bs = [rng.normal(0.0, 0.5, n) for _ in range(blocks)]
        cases.append((rng.normal(0.0, 1.0, n), Ws, bs, act))
    return cases


def _stack_variants(x, Ws, bs, act) -> dict:
    """Plausible wrong Jacobians of a residual stack, by the mistake that gives each."""
    phi, dphi = activation_fn(act), derivative(act)
    eye = np.eye(len(x))
    plain, reversed_, transposed, frozen = eye, eye, eye, eye
    h = np.asarray(x, dtype=np.float64)
    d0 = dphi(Ws[0] @ h + bs[0])
    for W, b in zip(Ws, bs, strict=True):
        d = dphi(W @ h + b)  # (n,)
        plain = d[:, None] * W @ plain
        reversed_ = reversed_ @ (eye + d[:, None] * W)
        transposed = (eye + W.T * d[None, :]) @ transposed
        frozen = (eye + d0[:, None] * W) @ frozen
        h = h + phi(W @ h + b)
    return {"you dropped the identity: that is the plain stack's Jacobian. ": plain,
            "the product is in the wrong order: a later block's Jacobian multiplies on the "
            "left. ": reversed_,
            "each block's Jacobian is I + diag(phi'(z)) W, not I + W^T diag(phi'(z)). ":
            transposed,
            "phi' must be taken at each block's own pre-activation, so run the stack forward "
            "as you multiply. ": frozen}


def check_residual_stack_jacobian(fn) -> CheckResult:
    """Exercise 7.4: ``fn(x, weights, biases, activation)`` returns ``d x_L / d x_0`` (n, n)
    of ``x_{k+1} = x_k + phi(W_k x_k + b_k)``, compared with torch.autograd.functional.jacobian."""
    ex = "7.4"
    hint = ("the chain rule: d x_L / d x_0 is the product of the blocks' Jacobians "
            "d x_{k+1} / d x_k, later blocks on the left.",
            "differentiate x + phi(W x + b) with respect to x: the identity plus phi'(z) "
            "times W, row by row (z = W x + b, this block's own pre-activation).",
            "J = np.eye(n); for each block: z = W @ x + b; J = (np.eye(n) + dphi(z)[:, None] "
            "* W) @ J; x = x + phi(z).")
    for x, Ws, bs, act in _stack_cases():
        got, problem = run_student(ex, fn, x.copy(), [W.copy() for W in Ws],
                                   [b.copy() for b in bs], act, hint=hint, forbid=FORBID)
        if problem is not None:
            return finish(problem)
        expected = residual_stack_jacobian_autograd(x, Ws, bs, act)
        diff = compare(got, expected, rtol=1e-8, atol=1e-10)
        if diff is None:
            continue
        specific = ""
        if np.shape(got) == expected.shape:
            for mistake, wrong in _stack_variants(x, Ws, bs, act).items():
                if compare(got, wrong, 1e-8, 1e-10) is None:
                    specific = mistake
                    break
        return finish(CheckResult(ex, "failed", f"{specific}{act} stack of {len(Ws)} blocks of "
                                                 f"width {len(x)}: {diff}.", hint))
    return finish(CheckResult(ex, "passed", "correct: your Jacobian matches "
                                             "torch.autograd.functional.jacobian on 3 residual "
                                             "stacks (tanh, sigmoid, ReLU)."))
