"""Checks for lesson 4 (activation functions)."""

from __future__ import annotations

import math

import numpy as np

from helpers import activations
from helpers.checks.core import (
    CheckResult,
    check_function,
    compare,
    finish,
    prefixed,
    run_student,
)
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


SMOOTH = ("elu", "gelu", "silu")


def _autograd_smooth(z: np.ndarray) -> dict[str, np.ndarray]:
    """Each smooth activation's derivative at ``z``, by PyTorch's autograd."""
    import torch
    import torch.nn.functional as F

    out = {}
    for name, f in (("elu", F.elu), ("gelu", F.gelu), ("silu", F.silu)):
        t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(f(t).sum(), t)
        out[name] = g.numpy()
    return out


def _smooth_mistake(name: str, z: np.ndarray, got: np.ndarray) -> str:
    """Name a typical wrong derivative, if ``got`` is one."""
    from scipy.special import expit, ndtr

    wrong = {"gelu": (ndtr(z), "that is Phi(z) alone: GELU(z) = z Phi(z) is a product, so its "
                      "derivative has a second term. "),
             "silu": (expit(z), "that is sigma(z) alone: SiLU(z) = z sigma(z) is a product, so "
                      "its derivative has a second term. "),
             "elu": (np.where(z > 0, 1.0, np.expm1(z)), "for z < 0 that is ELU itself, "
                     "e^z - 1, not its derivative. ")}
    guess, text = wrong[name]
    return text if np.allclose(got, guess, rtol=1e-6, atol=1e-9) else ""


def check_smooth_derivatives(fn) -> CheckResult:
    """4.4: ``fn(z)`` returns {"elu": ELU'(z), "gelu": GELU'(z), "silu": SiLU'(z)} (NumPy
    arrays, elementwise; ELU with alpha = 1, exact GELU), checked against autograd."""
    ex = "4.4"
    hint = ("Differentiate each definition: ELU(z) = z for z > 0 and e^z - 1 otherwise; "
            "GELU(z) = z Phi(z) with Phi the standard normal CDF; SiLU(z) = z sigma(z).",
            "GELU and SiLU are products: by the product rule GELU'(z) = Phi(z) + z N(z), with "
            "N the normal density exp(-z^2/2)/sqrt(2 pi), and SiLU'(z) = sigma(z) + z "
            "sigma(z)(1 - sigma(z)). scipy.special.ndtr is Phi, scipy.special.expit is sigma.",
            "ELU'(z) = 1 for z > 0 and e^z for z <= 0; return the three arrays in a dict "
            "keyed 'elu', 'gelu', 'silu'.")
    z = np.concatenate([np.linspace(-12.0, 12.0, 481), [-40.0, -1e-9, 0.0, 1e-9, 40.0]])
    got, problem = run_student(ex, fn, z.copy(), hint=hint, forbid=_DERIVATIVES)
    if problem is not None:
        return finish(problem)
    if not isinstance(got, dict) or set(got) != set(SMOOTH):
        keys = sorted(got) if isinstance(got, dict) else type(got).__name__
        return finish(CheckResult(ex, "failed", f"expected a dict with keys {list(SMOOTH)}, "
                                  f"got {keys}.", hint))
    expected = _autograd_smooth(z)
    for name in SMOOTH:
        diff = compare(got[name], expected[name], rtol=1e-7, atol=1e-12)
        if diff is not None:
            try:
                mistake = _smooth_mistake(name, z, np.asarray(got[name], dtype=np.float64))
            except (TypeError, ValueError):
                mistake = ""
            return finish(CheckResult(ex, "failed", f"{name}: {diff}.",
                                      prefixed(mistake, hint)))
    return finish(CheckResult(ex, "passed", f"correct: ELU', GELU' and SiLU' match autograd "
                                             f"at {z.size} points from -40 to 40."))
