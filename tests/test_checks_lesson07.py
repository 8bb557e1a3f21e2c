"""helpers.checks.lesson07: correct answers pass, typical mistakes fail with a hint, and a
solution that calls the course's own function fails."""

from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.activation_modules import get_activation
from helpers.activations import activation_fn, derivative
from helpers.checks import core
from helpers.checks.lesson07 import (
    check_deep_config,
    check_residual_block,
    check_residual_chain_derivative,
    check_residual_stack_jacobian,
    deep_config_profile,
)
from helpers.models import MLPConfig
from helpers.topics import residual as course
from tools.solutions import load_solutions

ROOT = Path(__file__).resolve().parents[1]
SOLVED: dict = {"np": np, "torch": torch, "MLPConfig": MLPConfig,
                "activation_fn": activation_fn, "derivative": derivative}
for _code in load_solutions(ROOT / "solutions" / "07_residual_connections.py").values():
    exec(_code, SOLVED)


@pytest.fixture(autouse=True)
def _fresh_hints():
    core._ATTEMPTS.clear()


def test_the_solutions_pass():
    assert check_residual_block(SOLVED["residual_block"]).passed
    assert check_residual_chain_derivative(SOLVED["residual_chain_derivative"]).passed
    assert check_deep_config(SOLVED["healthy_config"]).passed
    assert check_residual_stack_jacobian(SOLVED["residual_stack_jacobian"]).passed


@pytest.mark.parametrize("check, cheat", [
    (check_residual_block, lambda x, W, b, a: course.residual_block_reference(x, W, b, a)),
    (check_residual_chain_derivative,
     lambda w, x0, a: course.scalar_residual_chain_autograd(w, x0, a)),
    (check_residual_stack_jacobian,
     lambda x, Ws, bs, a: course.residual_stack_jacobian_autograd(x, Ws, bs, a)),
])
def test_calling_the_course_function_fails(check, cheat):
    r = check(cheat)
    assert r.status == "failed" and "course's own answer" in r.message


def not_done(*args):
    raise NotImplementedError("Exercise")


# 7.1
def good_block(x, W, b, activation):
    return x + get_activation(activation)(x @ W.T + b)


def test_block_passes():
    assert check_residual_block(good_block).passed


@pytest.mark.parametrize("bad, phrase", [
    (lambda x, W, b, a: get_activation(a)(x @ W.T + b), "add the skip"),
    (lambda x, W, b, a: x + get_activation(a)(x @ W + b), "W.T"),
    (lambda x, W, b, a: get_activation(a)(x + x @ W.T + b), "after phi"),
    (lambda x, W, b, a: x, "differ"),
])
def test_block_mistakes(bad, phrase):
    r = check_residual_block(bad)
    assert r.status == "failed" and phrase in r.message
    assert r.hint.startswith("a residual block adds") and "x @ W.T + b)." not in r.hint


def test_block_hints_escalate_to_the_recipe():
    for _ in range(3):
        r = check_residual_block(lambda x, W, b, a: x)
    assert "return x + phi(x @ W.T + b)." in r.hint and "torch.relu" in r.hint


def test_block_not_done_and_error():
    assert check_residual_block(not_done).status == "not done"
    assert check_residual_block(lambda *a: 1 / 0).status == "error"


def test_block_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError):
        check_residual_block(not_done)


# 7.2
def good_chain(weights, x0, activation):
    phi, dphi = activation_fn(activation), derivative(activation)
    x, total = float(x0), 1.0
    for w in weights:
        total *= 1.0 + w * float(dphi(np.array(x)))
        x = x + w * float(phi(np.array(x)))
    return total


def autograd_chain(weights, x0, activation):
    x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    h, phi = x, get_activation(activation)
    for w in weights:
        h = h + float(w) * phi(h)
    h.backward()
    return x.grad.item()


def plain_factors(weights, x0, activation):
    phi, dphi = activation_fn(activation), derivative(activation)
    x, total = float(x0), 1.0
    for w in weights:
        total *= w * float(dphi(np.array(x)))
        x = x + w * float(phi(np.array(x)))
    return total


def at_x0_only(weights, x0, activation):
    dphi = derivative(activation)
    return float(np.prod([1.0 + w * float(dphi(np.array(float(x0)))) for w in weights]))


def test_chain_passes():
    assert check_residual_chain_derivative(good_chain).passed
    assert check_residual_chain_derivative(autograd_chain).passed


def test_chain_mistakes():
    r = check_residual_chain_derivative(plain_factors)
    assert r.status == "failed" and "adds 1" in r.message and r.hint.startswith("the chain rule")
    r = check_residual_chain_derivative(at_x0_only)
    assert r.status == "failed" and "not at x_0" in r.message
    assert "1 + w_k phi'(x_k)" in r.hint  # second wrong answer: second level
    r = check_residual_chain_derivative(lambda w, x0, a: 1.0)
    assert r.status == "failed" and "total *= 1 + w * phi'(x)" in r.hint
    assert check_residual_chain_derivative(not_done).status == "not done"


# 7.3
def test_config_passes_with_pre_layer_norm():
    r = check_deep_config(lambda: MLPConfig(depth=100, activation="sigmoid", residual=True,
                                            norm="layer", norm_position="pre"))
    assert r.passed and "first/last" in r.message


def test_relu_he_pre_layer_norm_fails_naming_pre_norm_drift():
    """The lesson's ReLU + He + pre-LN: ratio 11.6 and loss 21.6; the message names why."""
    config = MLPConfig(depth=100, activation="relu", init="he", residual=True, norm="layer",
                       norm_position="pre")
    p = deep_config_profile(config)
    assert 10 < p.ratio < 13 and 20 < p.loss < 23
    assert 15 < p.stream_std[-1] / p.stream_std[0] < 22  # the stream's drift over 100 blocks
    r = check_deep_config(lambda: config)
    assert r.status == "failed" and "pre-norm's drift" in r.message
    assert "ratio is outside" in r.message and "loss is not below" in r.message
    # the same block with PyTorch's default init (smaller branches) passes
    q = deep_config_profile(config.replace(init="default"))
    assert 1 < q.ratio < 10 and q.loss < 1
    assert check_deep_config(lambda: config.replace(init="default")).passed


@pytest.mark.parametrize("config, phrase", [
    (MLPConfig(depth=100, activation="relu", init="he", residual=True), "explodes"),
    (MLPConfig(depth=100, activation="relu", init="he", residual=True, norm="layer",
               norm_position="post"), "post-norm"),
    (MLPConfig(depth=100, activation="relu", init="he", residual=True, norm="layer"),
     "norm inside"),
    (MLPConfig(depth=100, activation="sigmoid", residual=True), "loss"),
    (MLPConfig(depth=50, activation="sigmoid", residual=True), "depth 100"),
    (MLPConfig(depth=100, activation="relu", init="he"), "residual"),
    (MLPConfig(depth=100, width=512, residual=True), "width"),
])
def test_config_failures(config, phrase):
    r = check_deep_config(lambda: config)
    assert r.status == "failed" and phrase in r.message


def test_config_not_a_config_and_not_done():
    assert check_deep_config(lambda: "relu").status == "failed"
    assert check_deep_config(not_done).status == "not done"


def test_measure_config_uses_float64():
    p = deep_config_profile(MLPConfig(depth=3, width=8, residual=True))
    assert p.config.dtype == "float64"


def test_residual_chain_derivative_non_numeric_answer():
    r = check_residual_chain_derivative(lambda w, x0, act: "one")
    assert r.status == "failed" and "expected numbers, got str" in r.message
    assert r.hint.startswith("the chain rule")


# 7.4
def test_stack_jacobian_mistakes_fail():
    solve = SOLVED["residual_stack_jacobian"]

    def plain(x, Ws, bs, a):
        phi, dphi = activation_fn(a), derivative(a)
        J, h = np.eye(len(x)), x
        for W, b in zip(Ws, bs, strict=True):
            z = W @ h + b
            J = dphi(z)[:, None] * W @ J
            h = h + phi(z)
        return J

    def reversed_order(x, Ws, bs, a):
        phi, dphi = activation_fn(a), derivative(a)
        J, h = np.eye(len(x)), x
        for W, b in zip(Ws, bs, strict=True):
            z = W @ h + b
            J = J @ (np.eye(len(x)) + dphi(z)[:, None] * W)
            h = h + phi(z)
        return J

    def transposed(x, Ws, bs, a):
        return solve(x, [W.T for W in Ws], bs, a)  # not exactly the variant, still wrong

    r = check_residual_stack_jacobian(plain)
    assert r.status == "failed" and "dropped the identity" in r.message
    assert r.hint.startswith("the chain rule") and "J = np.eye(n)" not in r.hint
    r = check_residual_stack_jacobian(reversed_order)
    assert r.status == "failed" and "wrong order" in r.message
    r = check_residual_stack_jacobian(transposed)
    assert r.status == "failed" and "J = np.eye(n)" in r.hint  # third attempt: the recipe
    assert check_residual_stack_jacobian(not_done).status == "not done"


def test_stack_jacobian_oracle_matches_finite_differences():
    rng = np.random.default_rng(0)
    x, Ws, bs = rng.normal(size=3), [rng.normal(size=(3, 3)) for _ in range(2)], [np.zeros(3)] * 2
    J = course.residual_stack_jacobian_autograd(x, Ws, bs, "tanh")

    def f(v):
        for W, b in zip(Ws, bs, strict=True):
            v = v + np.tanh(W @ v + b)
        return v

    fd = np.stack([(f(x + 1e-6 * e) - f(x - 1e-6 * e)) / 2e-6 for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8)


def test_stack_jacobian_of_the_wrong_shape_or_matching_no_mistake():
    solve = SOLVED["residual_stack_jacobian"]
    r = check_residual_stack_jacobian(lambda x, Ws, bs, a: np.diag(solve(x, Ws, bs, a)))
    assert r.status == "failed" and "expected shape" in r.message
    r = check_residual_stack_jacobian(lambda x, Ws, bs, a: 2 * solve(x, Ws, bs, a))
    assert r.status == "failed" and "value(s) differ" in r.message
    for words in ("dropped the identity", "wrong order", "not I + W^T", "own pre-activation"):
        assert words not in r.message
