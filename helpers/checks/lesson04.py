"""Checks for lesson 4 (activation functions)."""

from __future__ import annotations

import math

import numpy as np

from helpers import activations
from helpers.checks.core import CheckResult, check_function, compare, finish, run_student
from helpers.theory import expected_squared_derivative, monte_carlo_squared_derivative
from helpers.topics import activation_families as topic
from helpers.topics.activation_families import dead_unit_mask

# Course functions that compute each answer (``forbid=``).
_DERIVATIVES = (activations.derivative, activations.get_spec)
_DEAD = (dead_unit_mask, topic.dead_units)
_SQUARED = (expected_squared_derivative, monte_carlo_squared_derivative,
            topic.squared_derivative_table)


def _leaky_reference(z, slope=0.01):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, slope)  # PyTorch's convention: slope at z = 0


def check_leaky_relu_derivative(fn) -> CheckResult:
    """4.1: ``fn(z, slope=0.01)`` returns LeakyReLU's derivative elementwise (slope at 0)."""
    z = np.array([-50.0, -3.0, -1e-9, 0.0, 1e-9, 0.5, 2.0, 40.0])
    inputs = [(z,), (z, 0.2), (np.linspace(-4, 4, 81), 0.05)]
    return check_function(
        "4.1", fn, _leaky_reference, inputs, rtol=1e-12, atol=1e-12,
        hint=("Look at what autograd returned at exactly z = 0 for LeakyReLU, and use the "
              "function's `slope` argument rather than a hard-coded 0.01.",
              "phi'(z) is 1 where z > 0 and `slope` where z < 0; at exactly z = 0 use the "
              "slope, as PyTorch's autograd does.",
              "np.where(z > 0, 1.0, slope) does it elementwise."),
        forbid=_DERIVATIVES,
        what="1 for z > 0, the slope for z <= 0, for slopes 0.01, 0.2 and 0.05")


def _dead_matrices():
    rng = np.random.default_rng(4)
    A = np.maximum(rng.standard_normal((50, 12)), 0.0)  # (examples, units) ReLU outputs
    A[:, [2, 7]] = 0.0  # dead on every example
    A[:, 5] = 0.0
    A[17, 5] = 0.3  # active on one example only: alive
    B = np.zeros((5, 4))
    B[0, 1] = 1e-3
    C = np.maximum(rng.standard_normal((200, 64)) - 2.5, 0.0)
    return [A, B, C]


def check_count_dead_units(fn) -> CheckResult:
    """4.2: ``fn(A)`` returns how many columns (units) of ``A`` are 0 on every row."""
    hint = ("A has one row per example and one column per unit; a unit is dead when it is 0 "
            "on EVERY example, so the question is about columns.",
            "A unit is alive if it is > 0 on at least one example: reduce (A > 0) along axis "
            "0 with .any(axis=0).",
            "Count the units where (A > 0).any(axis=0) is False and return an int.")
    for A in _dead_matrices():
        got, problem = run_student("4.2", fn, A.copy(), hint=hint, forbid=_DEAD)
        if problem is not None:
            return finish(problem)
        expected = int(dead_unit_mask(A).sum())
        diff = compare(got, expected, 0, 0)
        if diff is not None:
            extra = ""
            if np.ndim(got) == 0 and int(got) == int((A <= 0).all(axis=1).sum()):
                extra = " You counted examples (rows) that are all 0, not units (columns)."
            elif np.ndim(got) == 0 and int(got) == int((A == 0).sum()):
                extra = " You counted zero entries; count whole units instead."
            return finish(CheckResult("4.2", "failed", f"for a {A.shape[0]} x {A.shape[1]} "
                                       f"matrix: {diff}.{extra}", hint))
    return finish(CheckResult("4.2", "passed", "correct: dead units counted on three "
                               "activation matrices, including a unit active on one example."))


def check_monte_carlo_gelu(fn) -> CheckResult:
    """4.3: ``fn(q, n, seed)`` estimates E[GELU'(z)^2], z ~ N(0, q), by Monte Carlo."""
    hint = ("q is a variance: how do you turn standard normal draws into draws with "
            "variance q?",
            "Draw z = sqrt(q) * rng.standard_normal(n) with rng = np.random.default_rng(seed), "
            "not q * rng.standard_normal(n).",
            "Evaluate derivative('gelu')(z), square it and return the mean as a float.")
    n = 200_000
    for q in (0.25, 1.0, 9.0):
        got, problem = run_student("4.3", fn, q, n, 0, hint=hint, forbid=_SQUARED)
        if problem is not None:
            return finish(problem)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return finish(CheckResult("4.3", "failed", f"expected one number, got "
                                       f"{type(got).__name__}", hint))
        exact = float(expected_squared_derivative("gelu", q))
        _, se = monte_carlo_squared_derivative("gelu", q, n=n, seed=1)
        if not math.isfinite(got) or abs(got - exact) > 5 * se:
            return finish(CheckResult(
                "4.3", "failed", f"for q = {q} you estimated {got:.5f}; quadrature gives "
                f"{exact:.5f}, and a Monte Carlo estimate with n = {n} should be within "
                f"{5 * se:.1e} of it (5 standard errors).", hint))
    return finish(CheckResult("4.3", "passed", "correct: your estimates agree with the "
                               "quadrature within 5 standard errors for q = 0.25, 1 and 9."))
