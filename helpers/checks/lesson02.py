"""Checks for lesson 2 (the chain rule and depth)."""

from __future__ import annotations

import numpy as np

from helpers.activations import derivative
from helpers.checks.core import CheckResult, compare, finish, run_student
from helpers.topics.chain import bound_to_output, scalar_chain
from helpers.validation import check_float


def _chain_cases():
    rng = np.random.default_rng(2)
    return [
        scalar_chain(np.ones(6), 0.0, "sigmoid", 0.5),
        scalar_chain(rng.normal(0.0, 2.0, 8), rng.normal(0.0, 1.0, 8), "tanh", 0.3),
        scalar_chain([1.5, -2.0, 0.5, 3.0], [0.1, 0.2, -0.3, 0.0], "sigmoid", -1.0),
        scalar_chain([2.0, -1.0, 1.0], 0.0, "relu", 1.0),  # the second layer is dead: exact 0
    ]


def check_chain_backward(fn) -> CheckResult:
    """Exercise 2.1: ``fn(weights, z, activation)`` returns ``d a_L / d a_k`` for k = 0..L."""
    ex = "2.1"
    hint = ("start from d a_L / d a_L = 1 at the top (index L) and go down: "
            "grad[k-1] = grad[k] * w_k * phi'(z_k), with w_k = weights[k-1] and "
            "z_k = z[k-1]; the result has L + 1 entries.")
    for r in _chain_cases():
        got, problem = run_student(ex, fn, r.weights.copy(), r.z.copy(), r.activation, hint=hint)
        if problem is not None:
            return finish(problem)
        diff = compare(got, r.grad, rtol=1e-9, atol=1e-14)
        if diff is None:
            continue
        g = np.asarray(got, dtype=np.float64).ravel()
        d = derivative(r.activation)(r.z)
        only_phi = np.append(np.cumprod(d[::-1])[::-1], 1.0)
        specific = ""
        if g.shape == r.grad.shape and np.allclose(g, only_phi, rtol=1e-9):
            specific = ("you multiplied only the derivatives phi'(z_k): each layer's local "
                        "factor is w_k * phi'(z_k), the weight belongs to it. ")
        elif g.shape == r.grad.shape and np.allclose(g[::-1], r.grad, rtol=1e-9):
            specific = "your array is reversed: entry k must be d a_L / d a_k (entry L is 1). "
        elif g.size == r.grad.size - 1:
            specific = "you returned L values; include k = 0 (the input) and k = L (which is 1). "
        return finish(CheckResult(
            ex, "failed", f"{r.activation} chain of depth {r.depth}: {diff}.", specific + hint))
    return finish(CheckResult(ex, "passed", "correct: your backward pass matches the "
                                             "reference on 4 chains (sigmoid, tanh, ReLU)."))


def check_gradient_bound(fn) -> CheckResult:
    """Exercise 2.2: ``fn(weights, activation)`` returns the bound on ``|d a_L / d a_k|``."""
    ex = "2.2"
    hint = ("bound[k] = prod_{j=k+1..L} |w_j| * max phi' (max phi' is 1/4 for sigmoid, 1 for "
            "tanh; `get_spec(activation).max_derivative` has it); bound[L] = 1 (an empty "
            "product); weights may be negative, so take absolute values.")
    cases = [(np.ones(5), "sigmoid"), (np.array([2.0, -3.0, 0.5, 4.0]), "sigmoid"),
             (np.array([1.5, -0.5, 2.0]), "tanh"), (np.full(12, 8.0), "sigmoid")]
    for w, act in cases:
        got, problem = run_student(ex, fn, w.copy(), act, hint=hint)
        if problem is not None:
            return finish(problem)
        expected = bound_to_output(w, act)
        diff = compare(got, expected, rtol=1e-9, atol=0.0)
        if diff is not None:
            g = np.asarray(got, dtype=np.float64).ravel()
            specific = ""
            no_abs = np.append(np.cumprod((w * 0.25 if act == "sigmoid" else w)[::-1])[::-1], 1)
            if g.shape == expected.shape and np.any(w < 0) and np.allclose(g, no_abs):
                specific = "some of your bounds are negative: use |w_j|. "
            elif g.shape == expected.shape and np.allclose(g[::-1], expected):
                specific = "your array is reversed: entry k bounds d a_L / d a_k. "
            return finish(CheckResult(ex, "failed", f"weights {w.tolist()} ({act}): {diff}.",
                                       specific + hint))
    return finish(CheckResult(ex, "passed", "correct: your bound matches on 4 chains."))


def best_case_depth(threshold: float) -> int:
    """The smallest depth L with ``(1/4)^L < threshold`` (a sigmoid chain with w = 1)."""
    threshold = check_float("threshold", threshold, 0.0, 1.0, lo_open=True, hi_open=True)
    depth, value = 0, 1.0
    while value >= threshold:  # powers of 1/4 are exact in binary, so equality is exact
        value *= 0.25
        depth += 1
    return depth


def check_depth_prediction(fn) -> CheckResult:
    """Exercise 2.3: ``fn(threshold)`` predicts the depth where the best case drops below it."""
    ex = "2.3"
    hint = ("with w = 1 the best a sigmoid chain can do is phi' = 1/4 at every layer, so "
            "|d a_L / d a_0| <= (1/4)^L. Find the smallest integer L with (1/4)^L < threshold, "
            "i.e. L > log(1/threshold) / log(4); mind the case where the two are equal.")
    for t in (1e-6, 1e-3, 0.25, 1e-30, 0.5, 4.0**-7):
        got, problem = run_student(ex, fn, t, hint=hint)
        if problem is not None:
            return finish(problem)
        expected = best_case_depth(t)
        try:
            ok = float(got) == expected
        except (TypeError, ValueError):
            ok = False
        if not ok:
            return finish(CheckResult(ex, "failed", f"for threshold {t:g} you predicted "
                                                     f"{got!r}, expected {expected}.", hint))
    return finish(CheckResult(ex, "passed", "correct: your prediction matches on 6 thresholds "
                                             f"(for 1e-6: depth {best_case_depth(1e-6)})."))
