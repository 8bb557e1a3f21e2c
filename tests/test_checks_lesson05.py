"""Lesson 5 checks: a correct answer passes, a wrong one fails with a hint, a stub is 'not done'."""

import math

import numpy as np
import pytest

from helpers.activations import activation_fn
from helpers.checks.core import _ATTEMPTS
from helpers.checks.lesson05 import (
    check_he_std,
    check_mc_gain,
    check_phase,
    check_q_star,
    classify_reference,
    he_std_reference,
)
from helpers.theory import chi1, length_map, length_map_iterates, q_star, variance_preserving_gain
from helpers.topics.initialization import classify_chi1


def stub(*args):
    raise NotImplementedError("Exercise 5.x")


def test_he_std():
    assert check_he_std(he_std_reference).passed
    wrong = check_he_std(lambda fan_in, a: 2.0 / ((1 + a * a) * fan_in))  # the variance
    _ATTEMPTS.clear()
    for _ in range(3):
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
    _ATTEMPTS.clear()
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
    _ATTEMPTS.clear()
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


def test_stubs_show_no_hint():
    _ATTEMPTS.clear()
    for r in (check_he_std(stub), check_q_star(stub), check_phase(stub),
              check_mc_gain(stub, stub)):
        assert r.status == "not done" and r.hint == ""


def test_hints_escalate_over_wrong_answers():
    _ATTEMPTS.clear()
    first = check_phase(lambda sw, sb: "ordered")
    second = check_phase(lambda sw, sb: "ordered")
    assert first.status == second.status == "failed"
    assert "bias moves" in first.hint and "q_star" not in first.hint
    assert "find q* first" in second.hint


@pytest.mark.parametrize("check, cheat", [
    (check_he_std, lambda fan_in, a: variance_preserving_gain(
        lambda x: np.where(x > 0, x, a * x)) / math.sqrt(fan_in)),
    (check_q_star, lambda sw, sb: q_star("tanh", sw, sb)),
    (check_phase, lambda sw, sb: classify_chi1(chi1("tanh", sw, sb))),
])
def test_calling_the_course_answer_fails(check, cheat):
    r = check(cheat)
    assert r.status == "failed" and "course's own answer" in r.message


def mc_gain(name, q=1.0, n=400_000, seed=0):
    z = math.sqrt(q) * np.random.default_rng(seed).standard_normal(n)
    return math.sqrt(q / np.mean(activation_fn(name)(z) ** 2))


def second_moments(name, gain, depth=20, width=256, batch=256, q=1.0, seed=0):
    rng = np.random.default_rng(seed)
    phi = activation_fn(name)
    h = math.sqrt(q) * rng.standard_normal((batch, width))
    out = []
    for _ in range(depth):
        h = phi(h) @ (rng.standard_normal((width, width)) * (gain / math.sqrt(width))).T
        out.append(np.mean(h ** 2))
    return np.array(out)


def test_mc_gain_solution_passes_and_matches_calculate_gain():
    import torch

    assert check_mc_gain(mc_gain, second_moments).passed
    assert variance_preserving_gain("relu") == pytest.approx(torch.nn.init.calculate_gain("relu"),
                                                             rel=1e-12)
    # tanh: the gain that keeps q = 1 is 1.5925, below torch's heuristic 5/3
    assert variance_preserving_gain("tanh") == pytest.approx(1.592537, abs=1e-6)
    assert variance_preserving_gain("tanh", 4.0) == pytest.approx(2.509307, abs=1e-6)


@pytest.mark.parametrize("wrong", [
    lambda name, q=1.0, n=400_000, seed=0: math.sqrt(q) / np.mean(np.abs(activation_fn(name)(
        math.sqrt(q) * np.random.default_rng(seed).standard_normal(n)))),  # E|phi|, not E[phi^2]
    lambda name, q=1.0, n=400_000, seed=0: mc_gain(name, q, n, seed) ** 2,  # no square root
    lambda name, q=1.0, n=400_000, seed=0: math.sqrt(q / np.mean(activation_fn(name)(
        q * np.random.default_rng(seed).standard_normal(n)) ** 2)),  # scaled by q, not sqrt q
    lambda name, q=1.0, n=400_000, seed=0: math.sqrt(1 / np.mean(activation_fn(name)(
        math.sqrt(q) * np.random.default_rng(seed).standard_normal(n)) ** 2)),  # drops q
    lambda name, q=1.0, n=400_000, seed=0: (torch_gain := __import__("torch").nn.init
                                           .calculate_gain(name)) and torch_gain,
])
def test_mc_gain_wrong_answers_fail(wrong):
    assert check_mc_gain(wrong, second_moments).status in ("failed", "error")


def test_second_moments_wrong_answers_fail():
    def post_activation(name, gain, depth=20, width=256, batch=256, q=1.0, seed=0):
        rng = np.random.default_rng(seed)
        phi, h, out = activation_fn(name), math.sqrt(q) * rng.standard_normal((batch, width)), []
        for _ in range(depth):
            h = phi(h) @ (rng.standard_normal((width, width)) * (gain / math.sqrt(width))).T
            out.append(np.mean(phi(h) ** 2))  # records a_l, not h_l
        return np.array(out)

    assert check_mc_gain(mc_gain, post_activation).status == "failed"
    no_scale = lambda name, gain, *a: second_moments(name, 1.0, *a)  # noqa: E731 ignores gain
    assert check_mc_gain(mc_gain, no_scale).status == "failed"
    cheat = lambda name, gain, depth=20, *a: length_map_iterates(  # noqa: E731
        name, gain * gain, 0.0, [1.0], steps=depth)[0, 1:]
    assert "course's own answer" in check_mc_gain(mc_gain, cheat).message


def test_the_references_agree_with_torch_where_the_pass_messages_say_so():
    """5.1 and 5.2 tell the student their answer equals torch's calculate_gain: the checks
    compare with the references, so the references must equal torch on those cases."""
    import torch

    from helpers.checks.lesson05 import _TORCH_GAIN, GAIN_CASES, HE_INPUTS

    for fan_in, a in HE_INPUTS:
        torch_std = torch.nn.init.calculate_gain("leaky_relu", a) / math.sqrt(fan_in)
        assert he_std_reference(fan_in, a) == pytest.approx(torch_std, rel=1e-12)
    cases = [(name, q) for name, q in GAIN_CASES if name in _TORCH_GAIN]
    assert {name for name, _ in cases} == set(_TORCH_GAIN)
    for name, q in cases:
        want = torch.nn.init.calculate_gain(name, _TORCH_GAIN[name])
        assert variance_preserving_gain(name, q) == pytest.approx(want, rel=1e-9), name


def test_second_moments_relu_branches():
    """The ReLU network is checked after the two tanh ones: an answer right for tanh but
    wrong for ReLU must fail there, and one that raises there must show its error."""
    def tanh_or_linear(name, gain, depth=20, width=256, batch=256, q=1.0, seed=0):
        rng = np.random.default_rng(seed)
        phi = np.tanh if name == "tanh" else (lambda x: x)  # every other name taken as linear
        h, out = math.sqrt(q) * rng.standard_normal((batch, width)), []
        for _ in range(depth):
            h = phi(h) @ (rng.standard_normal((width, width)) * (gain / math.sqrt(width))).T
            out.append(np.mean(h ** 2))
        return np.array(out)

    result = check_mc_gain(mc_gain, tanh_or_linear)
    assert result.status == "failed"
    assert result.message.startswith("with ReLU and gain sqrt(2), E[h_20^2] should stay near "
                                     "q = 1; you measured [")

    def tanh_only(name, *args):
        if name != "tanh":
            raise KeyError(name)
        return second_moments(name, *args)

    result = check_mc_gain(mc_gain, tanh_only)
    assert result.status == "error" and "KeyError" in result.message
