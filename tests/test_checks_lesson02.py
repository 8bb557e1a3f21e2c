"""helpers.checks.lesson02: correct answers pass, wrong ones fail with a hint, stubs say TODO."""

import math

import numpy as np
import pytest

from helpers.activations import derivative, get_spec
from helpers.checks.lesson02 import (
    best_case_depth,
    check_chain_backward,
    check_depth_prediction,
    check_gradient_bound,
)


def backward(weights, z, activation):
    local = np.asarray(weights) * derivative(activation)(np.asarray(z))
    return np.append(np.cumprod(local[::-1])[::-1], 1.0)


def stub(*args):
    raise NotImplementedError("Exercise")


def test_chain_backward():
    assert check_chain_backward(backward).passed
    only_phi = lambda w, z, a: backward(np.ones_like(w), z, a)  # noqa: E731
    r = check_chain_backward(only_phi)
    assert r.status == "failed" and "w_k * phi'(z_k)" in r.hint
    r = check_chain_backward(lambda w, z, a: backward(w, z, a)[::-1])
    assert r.status == "failed" and "reversed" in r.hint
    r = check_chain_backward(lambda w, z, a: backward(w, z, a)[:-1])
    assert r.status == "failed" and "L values" in r.hint
    assert check_chain_backward(stub).status == "not done"
    assert check_chain_backward(lambda *a: 1 / 0).status == "error"


def bound(weights, activation):
    f = np.abs(np.asarray(weights)) * get_spec(activation).max_derivative
    return np.append(np.cumprod(f[::-1])[::-1], 1.0)


def test_gradient_bound():
    assert check_gradient_bound(bound).passed
    no_abs = lambda w, a: np.append(  # noqa: E731
        np.cumprod((np.asarray(w) * get_spec(a).max_derivative)[::-1])[::-1], 1.0)
    r = check_gradient_bound(no_abs)
    assert r.status == "failed" and "|w_j|" in r.hint
    r = check_gradient_bound(lambda w, a: np.cumprod(np.abs(w) * 0.25))
    assert r.status == "failed" and r.hint
    assert check_gradient_bound(stub).status == "not done"


def test_depth_prediction():
    def good(t):
        d = math.ceil(math.log(t) / math.log(0.25))
        return d + 1 if 0.25**d >= t else d

    assert check_depth_prediction(good).passed
    naive = lambda t: math.ceil(math.log(t) / math.log(0.25))  # noqa: E731 (misses equality)
    r = check_depth_prediction(naive)
    assert r.status == "failed" and "threshold 0.25" in r.message and r.hint
    assert check_depth_prediction(lambda t: "ten").status == "failed"
    assert check_depth_prediction(stub).status == "not done"
    assert [best_case_depth(t) for t in (1e-6, 0.25, 1e-30, 0.5)] == [10, 2, 50, 1]
    with pytest.raises(ValueError, match="between"):
        best_case_depth(1.0)


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError):
        check_gradient_bound(stub)


def test_gradient_bound_reversed_is_named():
    def reversed_bound(w, act):
        w = np.abs(np.asarray(w, float)) * get_spec(act).max_derivative
        return np.append(np.cumprod(w[::-1])[::-1], 1.0)[::-1]

    r = check_gradient_bound(reversed_bound)
    assert r.status == "failed" and r.hint.startswith("your array is reversed")
