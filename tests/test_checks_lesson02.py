"""helpers.checks.lesson02: correct answers pass, wrong ones fail with a hint, stubs say TODO."""

import math

import numpy as np
import pytest

from helpers.activations import activation_fn, derivative, get_spec
from helpers.checks.lesson02 import (
    best_case_depth,
    check_chain_backward,
    check_depth_prediction,
    check_gradient_bound,
    check_network_backward,
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
    assert r.status == "failed" and "the weight belongs to it" in r.hint
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


# --- no hidden reference: a solution that calls the course's answer fails -----------------

def _lesson_namespace():
    """The course functions the lesson's setup cell imports that compute an answer."""
    from helpers.theory import chain_bound, sigmoid_derivative_bound
    from helpers.topics import chain

    return {"np": np, "math": math, "derivative": derivative, "get_spec": get_spec,
            "activation_fn": activation_fn, "chain": chain, "chain_bound": chain_bound,
            "sigmoid_derivative_bound": sigmoid_derivative_bound,
            "best_case_depth": best_case_depth,
            **{n: getattr(chain, n) for n in ("scalar_chain", "autograd_chain_gradients",
                                              "autograd_input_jacobian", "jacobian_norms",
                                              "depth_below", "autograd_network_gradients")}}


def _define(source):
    ns = _lesson_namespace()
    exec(source, ns)
    return ns["answer"]


@pytest.mark.parametrize("source,name", [
    ("def answer(w, z, act):\n    return autograd_chain_gradients(w, z * 0, act, 0.0)\n",
     "autograd_chain_gradients"),
    ("def answer(w, z, act):\n    return chain.scalar_chain(w, 0.0, act, 0.0).grad\n",
     "scalar_chain"),
])
def test_chain_backward_calling_the_course_fails(source, name):
    r = check_chain_backward(_define(source))
    assert r.status == "failed" and f"`{name}`" in r.message and "course's own" in r.message


@pytest.mark.parametrize("source,name", [
    ("def answer(w, act):\n    return chain.bound_to_output(w, act)\n", "bound_to_output"),
    ("def answer(w, act):\n    return np.append(chain_bound(w[::-1], act)[::-1], 1.0)\n",
     "chain_bound"),
    ("def answer(w, act):\n    return scalar_chain(w, 0.0, act, 0.0).bound\n", "scalar_chain"),
])
def test_gradient_bound_calling_the_course_fails(source, name):
    r = check_gradient_bound(_define(source))
    assert r.status == "failed" and f"`{name}`" in r.message


@pytest.mark.parametrize("source,name", [
    ("def answer(t):\n    return best_case_depth(t)\n", "best_case_depth"),
    ("def answer(t):\n    return depth_below(scalar_chain(np.ones(100), -0.5, 'sigmoid', 0.5),"
     " t)\n", "scalar_chain"),
    ("def answer(t):\n    L = 0\n    while sigmoid_derivative_bound(L) >= t:\n        L += 1\n"
     "    return L\n", "sigmoid_derivative_bound"),
])
def test_depth_prediction_calling_the_course_fails(source, name):
    r = check_depth_prediction(_define(source))
    assert r.status == "failed" and f"`{name}`" in r.message


# --- exercise 2.4: the backward pass of a network, by hand --------------------------------

SOLUTION_24 = """
def answer(x, weights, biases, activation, grad_out):
    phi, dphi = activation_fn(activation), derivative(activation)
    h, z = [np.asarray(x, dtype=float)], []
    for W, b in zip(weights, biases):
        z.append(W @ h[-1] + b)
        h.append(phi(z[-1]))
    grad_h, grad_W = [np.asarray(grad_out, dtype=float)], []
    for k in range(len(weights) - 1, -1, -1):
        delta = grad_h[0] * dphi(z[k])
        grad_W.insert(0, np.outer(delta, h[k]))
        grad_h.insert(0, weights[k].T @ delta)
    return grad_h, grad_W
"""


def test_network_backward_solution_passes():
    r = check_network_backward(_define(SOLUTION_24))
    assert r.passed and "autograd" in r.message


@pytest.mark.parametrize("old,new,words", [
    ("grad_h[0] * dphi(z[k])", "grad_h[0]", "you left out phi'(z_k)"),
    ("weights[k].T @ delta", "weights[k] @ delta", "not its transpose"),
    ("np.outer(delta, h[k])", "np.outer(h[k], delta)", "weight gradients are transposed"),
    ("dphi(z[k])", "dphi(h[k + 1])", "differs from autograd"),  # phi' at the output
])
def test_network_backward_plausible_wrong_answers_fail(old, new, words, monkeypatch):
    from helpers.checks import core

    monkeypatch.setattr(core, "_ATTEMPTS", {})
    assert old in SOLUTION_24
    r = check_network_backward(_define(SOLUTION_24.replace(old, new)))
    assert r.status == "failed" and words in r.message + r.hint


def test_network_backward_shape_and_structure_errors():
    r = check_network_backward(lambda *a: 3.0)
    assert r.status == "failed" and "pair (grad_h, grad_W)" in r.message
    r = check_network_backward(_define(SOLUTION_24.replace("return grad_h, grad_W",
                                                           "return grad_h[1:], grad_W")))
    assert r.status == "failed" and "input gradients (h_0..h_L)" in r.message
    assert check_network_backward(stub).status == "not done"


@pytest.mark.parametrize("call,name", [
    ("autograd_network_gradients(x, weights, biases, activation, grad_out)",
     "autograd_network_gradients"),
    ("(chain.autograd_network_gradients(x, weights, biases, activation, grad_out))",
     "autograd_network_gradients"),
])
def test_network_backward_calling_the_course_fails(call, name):
    r = check_network_backward(_define(
        f"def answer(x, weights, biases, activation, grad_out):\n    return {call}\n"))
    assert r.status == "failed" and f"`{name}`" in r.message and "course's own" in r.message


def test_chain_backward_wrong_answers_that_match_no_mistake():
    """Right shape and wrong values, or two values short: no named mistake in the hint."""
    for wrong in (lambda w, z, a: 2 * backward(w, z, a), lambda w, z, a: backward(w, z, a)[:-2]):
        r = check_chain_backward(wrong)
        assert r.status == "failed"
        for words in ("the weight belongs to it", "reversed", "L values"):
            assert words not in r.hint
