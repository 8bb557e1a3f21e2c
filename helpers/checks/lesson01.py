"""Checks for lesson 1 (the sigmoid and its derivative).

Each check calls the student's function on test inputs, compares with the reference from
``helpers.activations`` / ``helpers.topics.neuron`` and returns a ``CheckResult`` whose hint
names the likely mistake. The course functions that compute an answer (``derivative``, the
notebook's ``sigma_prime`` / ``tanh_prime``, ``saturated_fraction``) are forbidden while the
student's code runs.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from helpers.activations import derivative, get_spec
from helpers.checks.core import CheckResult, Hint, compare, finish, run_student
from helpers.topics.neuron import saturated_fraction, saturated_fraction_curve, saturation_bounds

# z from -50 to 50 (every 0.05) plus points where round-off bites, and +-1000 where a naive
# exp(-z) overflows; every value is checked to a relative 1e-6 (the tails too).
SIGMOID_GRID = np.concatenate([np.linspace(-50.0, 50.0, 2001),
                               [0.0, 5.0, 10.0, -10.0, 36.5, -1000.0, 1000.0]])
TANH_GRID = np.linspace(-20.0, 20.0, 1601)
# (w, b) pairs for exercise 1.2: both tails, a negative weight, a bias that shifts z.
FRACTION_CASES = [(1.0, 0.0), (2.0, 0.0), (5.0, 0.0), (0.5, 3.0), (-3.0, 1.0), (4.0, -2.0),
                  (0.25, -4.0), (10.0, 0.5)]


def derivative_functions(fn, activation: str) -> list:
    """``derivative`` and every name in ``fn``'s namespace bound to the course's ``phi'`` for
    ``activation`` (``sigma_prime = derivative("sigmoid")`` in the lesson's setup cell).

    ``get_spec`` stays allowed: ``activation_fn`` calls it, and the sigmoid itself is fair to use.
    """
    target, code = get_spec(activation).derivative, derivative(activation).__code__
    found = [derivative, target]
    for value in list(getattr(fn, "__globals__", {}).values()):
        cells = getattr(value, "__closure__", None) or ()
        if getattr(value, "__code__", None) is code and any(
                c.cell_contents is target for c in cells):
            found.append(value)
    return found


def _values(fn, exercise: str, z: np.ndarray, hint: Hint, forbid=()):
    got, problem = run_student(exercise, fn, z.copy(), hint=hint, forbid=forbid)
    if problem is not None:
        return None, problem
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return None, CheckResult(exercise, "failed", f"expected an array of numbers, got "
                                 f"{type(got).__name__}", hint)
    if arr.shape != z.shape:
        return None, CheckResult(exercise, "failed", f"for an input of shape {z.shape} your "
                                 f"function returned shape {arr.shape}; it must work "
                                 "element-wise on a NumPy array", hint)
    return arr, None


def _first_mismatch(z, got, expected, rtol, atol) -> str:
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=False)
    i = int(np.argmax(bad))
    return (f"{int(bad.sum())} of {bad.size} values differ; e.g. at z = {z[i]:g} you gave "
            f"{got[i]:.6g}, expected {expected[i]:.6g}")


def check_sigmoid_prime(fn) -> CheckResult:
    """Exercise 1.1: ``fn(z)`` = sigma'(z), element-wise, to 1e-6 relative even at |z| = 50."""
    ex = "1.1"
    hint = ("look at the tails: far out, sigma'(z) is tiny but neither 0 nor NaN.",
            "1 - sigma(z) = sigma(-z): sigma(z) * sigma(-z) never subtracts two nearly equal "
            "numbers.",
            "compute sigma without overflow, taking exp only of a non-positive number "
            "(np.exp(-np.abs(z))), or use scipy.special.expit; return sigma(z) * sigma(-z).")
    got, problem = _values(fn, ex, SIGMOID_GRID, hint, derivative_functions(fn, "sigmoid"))
    if problem is not None:
        return finish(problem)
    z = SIGMOID_GRID
    expected = derivative("sigmoid")(z)
    rtol = 1e-6
    if np.isclose(got, expected, rtol=rtol, atol=0.0).all():
        return finish(CheckResult(ex, "passed", f"correct: sigma'(z) matches the reference at "
                                   f"{z.size} points for -50 <= z <= 50 and at z = +-1000, to a "
                                   "relative 1e-6, including the tiny tail values."))
    if np.isnan(got).any():
        i = int(np.argmax(np.isnan(got)))
        return finish(CheckResult(ex, "failed", f"your function returns NaN, e.g. at z = {z[i]:g}",
                                   ("NaN usually comes from inf / inf or 0 * inf: exp(-z) "
                                    "overflows for large negative z.", *hint)))
    body = np.abs(z) <= 5
    if not np.isclose(got[body], expected[body], rtol=1e-4, atol=1e-9).all():
        return finish(CheckResult(ex, "failed", _first_mismatch(z[body], got[body],
                                                                 expected[body], 1e-4, 1e-9),
                                   ("the values are wrong even for small |z|: check the "
                                    "formula.", "sigma'(z) = sigma(z) (1 - sigma(z)).",
                                    hint[2])))
    zero_tail = (got == 0) & (expected > 0)
    if zero_tail.any():
        i = int(np.argmax(zero_tail))
        return finish(CheckResult(
            ex, "failed", f"your sigma'({z[i]:g}) is exactly 0, but the true value is "
            f"{expected[i]:.3g}: 1 - sigma(z) rounds to 0 in floating point once sigma(z) "
            "rounds to 1 (from about z = 36.7 on)", ("the derivative is small there but not 0.",
                                                     *hint[1:])))
    return finish(CheckResult(ex, "failed", _first_mismatch(z, got, expected, rtol, 0.0) +
                               " (the large-|z| tail loses precision)", hint))


check_sigmoid_derivative = check_sigmoid_prime  # the name used in the package docs


def check_saturated_fraction(fn) -> CheckResult:
    """Exercise 1.2: ``fn(w, b)`` = fraction of x ~ N(0, 1) with sigmoid(w x + b) saturated."""
    ex = "1.2"
    hint = ("z = w x + b is normal: what are its mean and standard deviation?",
            "z ~ N(b, w^2), with standard deviation |w|; saturated means z < -z_sat or "
            "z > z_sat: two tails.",
            "return Phi((-z_sat - b) / |w|) + Phi((b - z_sat) / |w|), with "
            "Phi = scipy.special.ndtr.")
    forbid = (saturated_fraction, saturated_fraction_curve)
    for w, b in FRACTION_CASES:
        got, problem = run_student(ex, fn, w, b, hint=hint, forbid=forbid)
        if problem is not None:
            return finish(problem)
        expected = saturated_fraction(w, b)
        diff = compare(got, expected, rtol=1e-6, atol=1e-9)
        if diff is None:
            continue
        specific = _fraction_mistake(got, w, b)
        return finish(CheckResult(ex, "failed", f"for w = {w:g}, b = {b:g}: {diff}.",
                                   (specific, *hint)))
    return finish(CheckResult(ex, "passed", f"correct: matches the exact fraction for "
                               f"{len(FRACTION_CASES)} (w, b) pairs, including a negative w "
                               "and shifted biases."))


def _fraction_mistake(got, w: float, b: float) -> str:
    """Name a common mistake in exercise 1.2 if the answer matches it, else ''."""
    if np.size(got) != 1:
        return ""
    g = float(np.asarray(got, dtype=np.float64).ravel()[0])
    lo, hi = saturation_bounds("sigmoid")
    s = abs(w)
    lower, upper = float(ndtr((lo - b) / s)), float(ndtr((b - hi) / s))
    if np.isclose(g, lower, rtol=1e-4) or np.isclose(g, upper, rtol=1e-4):
        return "It looks like only one tail was counted: add both."
    if np.isclose(g, float(ndtr((lo - b) / w**2) + ndtr((b - hi) / w**2)), rtol=1e-4):
        return "It looks like w^2 was used as the standard deviation; it is |w|."
    if not 0.0 <= g <= 1.0:
        return "A fraction lies between 0 and 1."
    return ""


def check_tanh_prime(fn) -> CheckResult:
    """Exercise 1.3: ``fn(z)`` = tanh'(z) on -20 <= z <= 20 (built from sigma'(2z))."""
    ex = "1.3"
    hint = ("differentiate tanh(z) = 2 sigma(2z) - 1 with the chain rule: an outer and an "
            "inner derivative.",
            "the outer factor 2 stays, and the inner function 2z contributes its own factor.",
            "tanh'(z) = 2 * sigma'(2z) * 2 = 4 sigma'(2z).")
    # tanh' is forbidden; the lesson's sigma_prime stays allowed: it is what 1.3 builds on
    got, problem = _values(fn, ex, TANH_GRID, hint, derivative_functions(fn, "tanh"))
    if problem is not None:
        return finish(problem)
    z = TANH_GRID
    expected = derivative("tanh")(z)
    if np.isclose(got, expected, rtol=1e-6, atol=1e-12).all():
        return finish(CheckResult(ex, "passed", f"correct: tanh'(z) = 4 sigma'(2z) matches "
                                   f"1 / cosh(z)^2 at {z.size} points for -20 <= z <= 20."))
    sp = derivative("sigmoid")
    guesses = {"2 sigma'(2z)": 2 * sp(2 * z), "sigma'(2z)": sp(2 * z),
               "4 sigma'(z)": 4 * sp(z), "2 sigma'(z)": 2 * sp(z)}
    for label, values in guesses.items():
        if np.allclose(got, values, rtol=1e-6, atol=1e-12):
            return finish(CheckResult(ex, "failed", f"your function equals {label}, not "
                                       "tanh'(z) (e.g. at z = 0 it gives "
                                       f"{float(np.interp(0.0, z, got)):.4g}, tanh'(0) = 1)",
                                       hint))
    return finish(CheckResult(ex, "failed", _first_mismatch(z, got, expected, 1e-6, 1e-12),
                               hint))
