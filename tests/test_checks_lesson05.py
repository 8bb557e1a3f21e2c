"""Lesson 5 checks: a correct answer passes, a wrong one fails with a hint, a stub is 'not done'."""

import math

import numpy as np
import pytest

from helpers.checks.lesson05 import (
    check_he_std,
    check_phase,
    check_q_star,
    classify_reference,
    he_std_reference,
)
from helpers.theory import length_map, q_star


def stub(*args):
    raise NotImplementedError("Exercise 5.x")


def test_he_std():
    assert check_he_std(he_std_reference).passed
    wrong = check_he_std(lambda fan_in, a: 2.0 / ((1 + a * a) * fan_in))  # the variance
    assert wrong.status == "failed" and "square root" in wrong.hint
    assert check_he_std(lambda fan_in, a: math.sqrt(2.0 / fan_in)).status == "failed"
    assert check_he_std(stub).status == "not done"


def test_q_star():
    def iterate(sw, sb, steps=5000):
        q = 1.0
        for _ in range(steps):
            q = float(length_map("tanh", q, sw, sb))
        return q

    assert check_q_star(iterate).passed
    one_step = check_q_star(lambda sw, sb: iterate(sw, sb, steps=1))
    assert one_step.status == "failed" and "one step" in one_step.hint
    assert check_q_star(stub).status == "not done"
    for sw, sb in [(1.5, 0.05), (2.5, 0.1), (0.8, 0.2), (3.0, 0.0), (4.0, 0.3)]:
        # the check's reference against an independent solution (Gauss-Hermite quadrature)
        assert q_star("tanh", sw, sb) == pytest.approx(_tanh_q_star_hermite(sw, sb), rel=1e-9,
                                                       abs=1e-12)


def _tanh_q_star_hermite(sw, sb, nodes=200):
    """tanh's q* by Gauss-Hermite quadrature and fixed-point iteration: no helpers code."""
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()  # probabilists' weights, normalised to N(0, 1)
    q = 1.0
    for _ in range(10_000):
        new = sw * float(w @ np.tanh(np.sqrt(q) * z) ** 2) + sb
        if abs(new - q) < 1e-14:
            return new
        q = new
    return q


def _tanh_phase_hermite(sw, sb, nodes=200):
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    q = _tanh_q_star_hermite(sw, sb, nodes)
    chi = sw * float(w @ (1.0 - np.tanh(np.sqrt(q) * z) ** 2) ** 2)
    return "critical" if abs(chi - 1) <= 1e-3 else "ordered" if chi < 1 else "chaotic"


def test_q_star_against_independent_solution():
    """An answer computed without helpers passes; one off by 1e-4 fails with the hint."""
    assert check_q_star(_tanh_q_star_hermite).passed
    off = check_q_star(lambda sw, sb: _tanh_q_star_hermite(sw, sb) * (1 + 1e-4))
    assert off.status == "failed" and "one step" in off.hint and "differ" in off.message
    broken = check_q_star(lambda sw, sb: 1 / 0)
    assert broken.status == "error" and "ZeroDivisionError" in broken.message


def test_phase_against_independent_solution():
    assert check_phase(_tanh_phase_hermite).passed
    always = check_phase(lambda sw, sb: "ordered")
    assert always.status == "failed" and "'ordered', expected" in always.message
    assert "critical line" in always.hint


def test_phase():
    assert check_phase(_tanh_phase_hermite).passed
    for sw in (0.5, 1.2, 1.6, 2.2, 3.0):  # the reference against an independent one
        for sb in (0.05, 0.3):
            assert classify_reference(sw, sb) == _tanh_phase_hermite(sw, sb), (sw, sb)
    naive = check_phase(lambda sw, sb: "ordered" if sw < 1 else "chaotic" if sw > 1 else "critical")
    assert naive.status == "failed" and "chi_1" in naive.message
    assert check_phase(stub).status == "not done"


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError):
        check_phase(stub)
