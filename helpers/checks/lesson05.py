"""Checks for lesson 5 (initialization and signal propagation)."""

from __future__ import annotations

import math

from helpers.checks.core import CheckResult, check_function, compare, finish, run_student
from helpers.theory import chi1, critical_line, q_star
from helpers.topics.initialization import classify_chi1


def he_std_reference(fan_in: int, a: float) -> float:
    """He et al. (2015): std = gain / sqrt(fan_in) with gain^2 = 2 / (1 + a^2)."""
    return math.sqrt(2.0 / ((1.0 + a * a) * fan_in))


def check_he_std(fn) -> CheckResult:
    """Exercise 5.1: ``he_std(fan_in, a)`` against the formula and torch's calculate_gain."""
    import torch

    inputs = [(256, 0.0), (100, 0.01), (64, 0.2), (512, 1.0), (3, 0.5)]
    hint = ("Var W = gain^2 / fan_in with gain^2 = 2 / (1 + a^2); return the standard "
            "deviation, i.e. the square root of the variance, and use fan_in (not fan_out).")
    result = check_function("5.1", fn, he_std_reference, inputs, rtol=1e-9, hint=hint)
    if not result.passed:
        return result
    for fan_in, a in inputs:  # the reference agrees with PyTorch, so the student does too
        torch_std = torch.nn.init.calculate_gain("leaky_relu", a) / math.sqrt(fan_in)
        if compare(he_std_reference(fan_in, a), torch_std, 1e-12, 0.0) is not None:
            raise AssertionError("reference disagrees with torch.nn.init.calculate_gain")
    return finish(CheckResult("5.1", "passed", "correct: your std equals "
                               "calculate_gain('leaky_relu', a) / sqrt(fan_in) for 5 cases."))


def check_q_star(fn) -> CheckResult:
    """Exercise 5.2: ``find_q_star(sigma_w2, sigma_b2)`` for tanh against ``theory.q_star``."""
    points = [(1.5, 0.05), (2.5, 0.1), (0.8, 0.2), (3.0, 0.0), (4.0, 0.3)]
    hint = ("start from q = 1 and repeat q = length_map('tanh', q, sigma_w2, sigma_b2) until "
            "q stops changing (say |change| < 1e-12); one step is not enough.")
    return check_function("5.2", fn, lambda sw, sb: q_star("tanh", sw, sb), points,
                          rtol=1e-6, atol=1e-9, hint=hint,
                          what="your fixed points match q* at 5 (sigma_w2, sigma_b2) points")


def classify_reference(sigma_w2: float, sigma_b2: float) -> str:
    """'ordered', 'critical' or 'chaotic' for tanh, from chi_1 (critical within 1e-3)."""
    return classify_chi1(chi1("tanh", sigma_w2, sigma_b2))


def check_phase(fn) -> CheckResult:
    """Exercise 5.3: ``classify(sigma_w2, sigma_b2)`` for tanh via chi_1."""
    crit = float(critical_line("tanh", 0.1))
    points = [(0.8, 0.05), (crit, 0.1), (2.5, 0.05), (1.5, 0.3), (1.0, 0.0), (1.8, 0.0)]
    hint = ("compute q* = q_star('tanh', sigma_w2, sigma_b2), then chi_1 = sigma_w2 * "
            "expected_squared_derivative('tanh', q*); return 'critical' if |chi_1 - 1| <= 1e-3, "
            "else 'ordered' if chi_1 < 1, else 'chaotic'. Do not compare sigma_w2 with 1: "
            "the bias moves the critical line.")
    for sw, sb in points:
        got, problem = run_student("5.3", fn, sw, sb, hint=hint)
        if problem is not None:
            return finish(problem)
        want = classify_reference(sw, sb)
        if got != want:
            return finish(CheckResult(
                "5.3", "failed", f"for sigma_w2 = {sw:.4g}, sigma_b2 = {sb:.3g} you returned "
                f"{got!r}, expected {want!r} (chi_1 = {chi1('tanh', sw, sb):.4f}).", hint))
    return finish(CheckResult("5.3", "passed", f"correct: all {len(points)} points classified "
                               "as chi_1 says, including one on the critical line."))
