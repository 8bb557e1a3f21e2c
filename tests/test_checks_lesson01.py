"""Tests for helpers.checks.lesson01: right answers pass, wrong ones fail with a hint."""

import numpy as np
import pytest
from scipy.special import expit, ndtr

from helpers.activations import derivative
from helpers.checks.lesson01 import check_saturated_fraction, check_sigmoid_prime, check_tanh_prime
from helpers.topics.neuron import saturation_bounds

Z_SAT = saturation_bounds("sigmoid")[1]


def stub(*args):
    raise NotImplementedError("Exercise 1.x: to do")


def test_sigmoid_prime_passes():
    assert check_sigmoid_prime(lambda z: expit(z) * expit(-z)).passed


@pytest.mark.parametrize("fn,words", [
    (lambda z: expit(z) * (1 - expit(z)), "exactly 0"),
    (lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2, "NaN"),
    (lambda z: expit(z), "check the formula"),
    (lambda z: 0.25 * np.ones(3), "shape"),
])
def test_sigmoid_prime_wrong_answers_fail_with_a_hint(fn, words):
    with np.errstate(all="ignore"):
        r = check_sigmoid_prime(fn)
    assert r.status == "failed" and r.hint
    assert words in r.message + r.hint


def test_not_done_and_errors():
    assert check_sigmoid_prime(stub).status == "not done"
    assert check_saturated_fraction(stub).status == "not done"
    assert check_tanh_prime(stub).status == "not done"
    assert check_tanh_prime(lambda z: 1 / 0).status == "error"


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match="1.3"):
        check_tanh_prime(lambda z: z)


def good_fraction(w, b):
    return float(ndtr((-Z_SAT - b) / abs(w)) + ndtr((b - Z_SAT) / abs(w)))


def test_saturated_fraction_passes():
    assert check_saturated_fraction(good_fraction).passed


@pytest.mark.parametrize("fn,words", [
    (lambda w, b: float(ndtr((b - Z_SAT) / abs(w))), "one tail"),
    (lambda w, b: float(ndtr((-Z_SAT - b) / w**2) + ndtr((b - Z_SAT) / w**2)), "w^2"),
    (lambda w, b: 2.0, "between 0 and 1"),
    (lambda w, b: good_fraction(w, 0.0), "differ"),
])
def test_saturated_fraction_wrong_answers(fn, words):
    r = check_saturated_fraction(fn)
    assert r.status == "failed" and words in r.message + r.hint


def test_tanh_prime_passes_for_the_identity_and_for_sech2():
    sp = derivative("sigmoid")
    assert check_tanh_prime(lambda z: 4 * sp(2 * z)).passed
    assert check_tanh_prime(lambda z: 1 / np.cosh(z) ** 2).passed


@pytest.mark.parametrize("factor,inner,label", [(2, 2, "2 sigma'(2z)"), (4, 1, "4 sigma'(z)"),
                                                (1, 2, "sigma'(2z)")])
def test_tanh_prime_names_the_missing_factor(factor, inner, label):
    sp = derivative("sigmoid")
    r = check_tanh_prime(lambda z: factor * sp(inner * z))
    assert r.status == "failed" and f"equals {label}," in r.message and "chain rule" in r.hint


def test_tanh_prime_other_wrong_answer():
    r = check_tanh_prime(np.tanh)
    assert r.status == "failed" and "differ" in r.message

def test_alias():
    from helpers.checks.lesson01 import check_sigmoid_derivative
    assert check_sigmoid_derivative is check_sigmoid_prime


def test_remaining_failure_branches():
    """One wrong answer per failure branch not tripped above, each with its own message."""
    def sigmoid_prime_ok(z):
        return expit(z) * expit(-z)

    r = check_sigmoid_prime(lambda z: "no numbers")
    assert r.status == "failed" and "expected an array of numbers, got str" in r.message
    # right for |z| <= 5 and never exactly 0, but 10% off in the tail: the tail branch
    r = check_sigmoid_prime(lambda z: np.where(np.abs(z) > 5, 1.1, 1.0) * sigmoid_prime_ok(z))
    assert r.status == "failed" and "the large-|z| tail loses precision" in r.message
    # w^2 as the standard deviation
    lo, hi = saturation_bounds("sigmoid")
    r = check_saturated_fraction(lambda w, b: float(ndtr((lo - b) / w**2) + ndtr((b - hi) / w**2)))
    assert r.status == "failed" and "w^2 was used as the standard deviation" in r.hint
    # a tanh' that matches no known mistake: the generic mismatch message
    sp = derivative("sigmoid")  # built before the check, as the lesson's sigma_prime is
    r = check_tanh_prime(lambda z: 4 * sp(2 * z) + 1e-3)
    assert r.status == "failed" and "values differ" in r.message
    assert not r.message.startswith("your function equals")


# --- no hidden reference: a solution that calls the course's answer fails -----------------

def _lesson_namespace():
    """The names the lesson's setup cell defines that compute an answer."""
    from helpers.activations import get_spec
    from helpers.topics.neuron import saturated_fraction, saturated_fraction_curve

    return {"np": np, "derivative": derivative, "get_spec": get_spec,
            "sigma_prime": derivative("sigmoid"), "tanh_prime": derivative("tanh"),
            "saturated_fraction": saturated_fraction,
            "saturated_fraction_curve": saturated_fraction_curve}


def _define(ns, source):
    exec(source, ns)
    return ns["answer"]


@pytest.mark.parametrize("body,name", [
    ("return sigma_prime(z)", "sigma_prime"),
    ("return derivative('sigmoid')(z)", "derivative"),
])
def test_sigmoid_prime_calling_the_reference_fails(body, name):
    ns = _lesson_namespace()
    r = check_sigmoid_prime(_define(ns, f"def answer(z):\n    {body}\n"))
    assert r.status == "failed" and f"`{name}`" in r.message and "course's own" in r.message
    assert ns["sigma_prime"](0.0) == 0.25  # restored afterwards
    assert derivative("sigmoid")(0.0) == 0.25


def test_the_solutions_pass_with_the_lesson_namespace():
    ns = _lesson_namespace()
    assert check_sigmoid_prime(_define(
        ns, "def answer(z):\n    from scipy.special import expit\n"
            "    return expit(z) * expit(-z)\n")).passed
    # the course's sigmoid (not its derivative) is fair to use, even built inside the answer
    from helpers.activations import activation_fn
    ns["activation_fn"] = activation_fn
    assert check_sigmoid_prime(_define(
        ns, "def answer(z):\n    s = activation_fn('sigmoid')\n    return s(z) * s(-z)\n")).passed
    ns["ndtr"], ns["z_sat"] = ndtr, Z_SAT
    assert check_saturated_fraction(_define(
        ns, "def answer(w, b):\n"
            "    return float(ndtr((-z_sat - b) / abs(w)) + ndtr((b - z_sat) / abs(w)))\n")).passed
    # 1.3 builds on the lesson's sigma_prime: that stays allowed
    tanh_via_sigmoid = "def answer(z):\n    return 4 * sigma_prime(2 * z)\n"
    assert check_tanh_prime(_define(ns, tanh_via_sigmoid)).passed


@pytest.mark.parametrize("body,name", [
    ("return saturated_fraction(w, b)", "saturated_fraction"),
    ("return float(saturated_fraction_curve(np.array([abs(w)]), b=b)['exact']['sigmoid'][0])",
     "saturated_fraction_curve"),
])
def test_saturated_fraction_calling_the_reference_fails(body, name):
    r = check_saturated_fraction(_define(_lesson_namespace(), f"def answer(w, b):\n    {body}\n"))
    assert r.status == "failed" and f"`{name}`" in r.message


@pytest.mark.parametrize("body,name", [
    ("return tanh_prime(z)", "<lambda>"),
    ("return derivative('tanh')(z)", "derivative"),
])
def test_tanh_prime_calling_the_reference_fails(body, name):
    r = check_tanh_prime(_define(_lesson_namespace(), f"def answer(z):\n    {body}\n"))
    assert r.status == "failed" and "course's own" in r.message


def test_hints_escalate_from_a_nudge_to_the_recipe(monkeypatch):
    from helpers.checks import core

    monkeypatch.setattr(core, "_ATTEMPTS", {})
    wrong = lambda z: expit(z) * (1 - expit(z))  # noqa: E731 (the rounding mistake)
    first = check_sigmoid_prime(wrong).hint
    assert "further hint" in first and "expit" not in first
    for _ in range(3):
        last = check_sigmoid_prime(wrong).hint
    assert "expit" in last and "further hint" not in last
    assert check_sigmoid_prime(stub).hint == ""  # not done: no hint


def test_saturated_fraction_answers_that_match_no_mistake():
    """An array where one number is due, and a fraction in [0, 1] matching no known mistake,
    fail with the plain hint, naming none of the known mistakes."""
    for wrong in (lambda w, b: np.array([good_fraction(w, b)] * 2),
                  lambda w, b: 0.7 * good_fraction(w, b)):
        r = check_saturated_fraction(wrong)
        assert r.status == "failed"
        for words in ("only one tail was counted", "w^2 was used", "A fraction lies"):
            assert words not in r.hint
