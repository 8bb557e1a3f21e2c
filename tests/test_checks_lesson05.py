"""Lesson 5 checks: a correct answer passes, a wrong one fails with a hint, a stub is 'not done'."""

import math

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
    assert check_q_star(lambda sw, sb: q_star("tanh", sw, sb)).passed


def test_phase():
    assert check_phase(classify_reference).passed
    naive = check_phase(lambda sw, sb: "ordered" if sw < 1 else "chaotic" if sw > 1 else "critical")
    assert naive.status == "failed" and "chi_1" in naive.message
    assert check_phase(stub).status == "not done"


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError):
        check_phase(stub)
