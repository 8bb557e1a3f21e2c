"""Checks for lesson 5 (initialization and signal propagation)."""

from __future__ import annotations

import math

import numpy as np

from helpers import theory
from helpers.activations import activation_fn
from helpers.checks.core import CheckResult, check_function, compare, finish, run_student
from helpers.theory import chi1, critical_line, q_star, variance_preserving_gain
from helpers.topics import initialization as init_topic
from helpers.topics.initialization import classify_chi1

# Course functions that compute the answers to 5.1-5.4 (``forbid=``): mean-field theory, the
# measured profiles, and the gain.
_THEORY = (theory.q_star, theory.chi1, theory.chi1_grid, theory.critical_line,
           theory.depth_scale, theory.length_map_iterates, classify_chi1)
_GAIN = (variance_preserving_gain, theory.gaussian_expectation, theory.length_map,
         theory.length_map_iterates, theory.q_star, theory.expected_squared_derivative,
         theory.monte_carlo_squared_derivative, init_topic.variance_profile,
         init_topic.mean_field_profile, init_topic.fixed_point_inputs)


def he_std_reference(fan_in: int, a: float) -> float:
    """He et al. (2015): std = gain / sqrt(fan_in) with gain^2 = 2 / (1 + a^2)."""
    return math.sqrt(2.0 / ((1.0 + a * a) * fan_in))


HE_INPUTS = ((256, 0.0), (100, 0.01), (64, 0.2), (512, 1.0), (3, 0.5))


def check_he_std(fn) -> CheckResult:
    """Exercise 5.1: ``he_std(fan_in, a)`` against the formula, which equals torch's
    ``calculate_gain('leaky_relu', a) / sqrt(fan_in)`` on ``HE_INPUTS`` (a test asserts it)."""
    inputs = HE_INPUTS
    hint = ("He init keeps E[h^2] the same in every layer: Var W times fan_in times "
            "E[relu-like(h)^2] / Var h must be 1.",
            "For LeakyReLU with slope a, E[phi(h)^2] = (1 + a^2) / 2 Var h, so gain^2 = "
            "2 / (1 + a^2); use fan_in, not fan_out.",
            "Var W = gain^2 / fan_in; return the standard deviation, i.e. the square root "
            "of the variance.")
    result = check_function("5.1", fn, he_std_reference, inputs, rtol=1e-9, hint=hint,
                            forbid=(variance_preserving_gain,))
    if not result.passed:
        return result
    return finish(CheckResult("5.1", "passed", "correct: your std equals "
                               "calculate_gain('leaky_relu', a) / sqrt(fan_in) for "
                               f"{len(inputs)} cases."))


def check_q_star(fn) -> CheckResult:
    """Exercise 5.3: ``find_q_star(sigma_w2, sigma_b2)`` for tanh against ``theory.q_star``."""
    points = [(1.5, 0.05), (2.5, 0.1), (0.8, 0.2), (3.0, 0.0), (4.0, 0.3)]
    hint = ("q* is where the length map returns its input; one step of the map is not "
            "enough.",
            "start from q = 1 and repeat q = length_map('tanh', q, sigma_w2, sigma_b2) until "
            "q stops changing (say |change| < 1e-12).")
    return check_function("5.3", fn, lambda sw, sb: q_star("tanh", sw, sb), points,
                          rtol=1e-6, atol=1e-9, hint=hint, forbid=_THEORY,
                          what="your fixed points match q* at 5 (sigma_w2, sigma_b2) points")


def classify_reference(sigma_w2: float, sigma_b2: float) -> str:
    """'ordered', 'critical' or 'chaotic' for tanh, from chi_1 (critical within 1e-3)."""
    return classify_chi1(chi1("tanh", sigma_w2, sigma_b2))


def check_phase(fn) -> CheckResult:
    """Exercise 5.4: ``classify(sigma_w2, sigma_b2)`` for tanh via chi_1."""
    crit = float(critical_line("tanh", 0.1))
    points = [(0.8, 0.05), (crit, 0.1), (2.5, 0.05), (1.5, 0.3), (1.0, 0.0), (1.8, 0.0)]
    hint = ("Do not compare sigma_w2 with 1: the bias moves the critical line. The phase is "
            "decided by chi_1 at the fixed point.",
            "chi_1 = sigma_w2 * E[tanh'(sqrt(q*) z)^2]: find q* first.",
            "q = q_star('tanh', sigma_w2, sigma_b2), chi_1 = sigma_w2 * "
            "expected_squared_derivative('tanh', q); 'critical' if |chi_1 - 1| <= 1e-3, else "
            "'ordered' if chi_1 < 1, else 'chaotic'.")
    forbid = tuple(f for f in _THEORY if f is not theory.q_star)  # q* is a building block
    for sw, sb in points:
        got, problem = run_student("5.4", fn, sw, sb, hint=hint, forbid=forbid)
        if problem is not None:
            return finish(problem)
        want = classify_reference(sw, sb)
        if got != want:
            return finish(CheckResult(
                "5.4", "failed", f"for sigma_w2 = {sw:.4g}, sigma_b2 = {sb:.3g} you returned "
                f"{got!r}, expected {want!r} (chi_1 = {chi1('tanh', sw, sb):.4f}).", hint))
    return finish(CheckResult("5.4", "passed", f"correct: all {len(points)} points classified "
                               "as chi_1 says, including one on the critical line."))


GAIN_CASES = (("relu", 1.0), ("leaky_relu", 1.0), ("linear", 1.0), ("tanh", 1.0),
              ("tanh", 4.0), ("gelu", 1.0), ("silu", 2.0), ("elu", 1.0))
# Where torch derives the gain too (name: its param); a test asserts the quadrature's
# variance-preserving gain equals calculate_gain on these, as the pass message says.
_TORCH_GAIN = {"relu": None, "leaky_relu": 0.01, "linear": None}


def gain_tolerance(name: str, q: float, n: int) -> float:
    """Five standard errors of a Monte Carlo gain ``sqrt(q / mean(phi(sqrt(q) z)^2))``.

    Delta method: ``SE(g) = g / 2 * SE(m) / m`` with ``m = E[phi^2]``, the spread of
    ``phi^2`` estimated from 200,000 independent draws.
    """
    z = np.sqrt(q) * np.random.default_rng(12345).standard_normal(200_000)
    f2 = activation_fn(name)(z) ** 2
    g = variance_preserving_gain(name, q)
    return 5.0 * g / 2.0 * (f2.std() / np.sqrt(n)) / f2.mean() + 1e-12


def check_mc_gain(mc_gain, second_moments) -> CheckResult:
    """Exercise 5.2: Monte Carlo gains for eight (activation, q) cases, and a random network
    whose measured ``E[h_l^2]`` follows the length map."""
    hint = ("The gain keeps E[h^2] = q: Var W = g^2 / fan_in, and the next layer's E[h^2] is "
            "g^2 E[phi(h)^2] with h ~ N(0, q). Which power of phi, and which power of g?",
            "Draw h = sqrt(q) * z with z ~ N(0, 1) (q is a variance, so scale by its square "
            "root), estimate m = mean(phi(h)**2), return sqrt(q / m).",
            "second_moments: h_0 = sqrt(q) * z of shape (batch, width); for each layer draw "
            "W (width, width) with std gain / sqrt(width), set h = phi(h) @ W.T and record "
            "mean(h**2); return the depth values as an array.")
    n = 400_000
    for name, q in GAIN_CASES:
        got, problem = run_student("5.2", mc_gain, name, q, n, 7, hint=hint, forbid=_GAIN)
        if problem is not None:
            return finish(problem)
        want, tol = variance_preserving_gain(name, q), gain_tolerance(name, q, n)
        diff = compare(got, want, 0.0, tol)
        if diff is not None:
            return finish(CheckResult("5.2", "failed", f"mc_gain({name!r}, q={q:g}): {diff} "
                                      f"(allowed: 5 standard errors, {tol:.1e}).", hint))
    sm = lambda *a: run_student("5.2", second_moments, *a, hint=hint, forbid=_GAIN)  # noqa: E731
    for gain in (5.0 / 3.0, variance_preserving_gain("tanh")):  # tanh: q drifts or stays
        got, problem = sm("tanh", gain, 20, 256, 256, 1.0, 3)
        if problem is not None:
            return finish(problem)
        theory_q = theory.length_map_iterates("tanh", gain * gain, 0.0, [1.0], steps=20)[0, 1:]
        diff = compare(got, theory_q, 0.15, 0.0)
        if diff is not None:
            return finish(CheckResult("5.2", "failed", f"second_moments('tanh', gain={gain:.4f})"
                                      f" does not follow the length map within 15%: {diff}.",
                                      hint))
    got, problem = sm("relu", float(np.sqrt(2.0)), 20, 256, 256, 1.0, 3)
    if problem is not None:
        return finish(problem)
    last = np.asarray(got, dtype=np.float64).ravel()[-1:]
    if not (last.size and 0.2 < last[0] < 5.0):
        return finish(CheckResult("5.2", "failed", "with ReLU and gain sqrt(2), E[h_20^2] "
                                  f"should stay near q = 1; you measured {last}.", hint))
    return finish(CheckResult("5.2", "passed", f"correct: your Monte Carlo gains match the "
                              f"quadrature for {len(GAIN_CASES)} cases (and calculate_gain for "
                              "ReLU, LeakyReLU and linear), and your network follows the "
                              "length map for tanh at gains 5/3 and variance-preserving."))
