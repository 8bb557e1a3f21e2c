"""helpers.checks.lesson07: correct answers pass, typical mistakes fail with a hint."""

import numpy as np
import pytest
import torch

from helpers.activation_modules import get_activation
from helpers.activations import activation_fn, derivative
from helpers.checks.lesson07 import (
    check_deep_config,
    check_residual_block,
    check_residual_chain_derivative,
    deep_config_profile,
)
from helpers.models import MLPConfig


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
    (lambda x, W, b, a: x, "residual block adds"),
])
def test_block_mistakes(bad, phrase):
    r = check_residual_block(bad)
    assert r.status == "failed" and phrase in r.hint


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
    assert r.status == "failed" and "adds 1" in r.hint
    r = check_residual_chain_derivative(at_x0_only)
    assert r.status == "failed" and "not at x_0" in r.hint
    r = check_residual_chain_derivative(lambda w, x0, a: 1.0)
    assert r.status == "failed" and "1 + w_k phi'(x_k)" in r.hint
    assert check_residual_chain_derivative(not_done).status == "not done"


# 7.3
def test_config_passes_with_pre_layer_norm():
    r = check_deep_config(lambda: MLPConfig(depth=100, activation="sigmoid", residual=True,
                                            norm="layer", norm_position="pre"))
    assert r.passed and "first/last" in r.message


@pytest.mark.parametrize("config, phrase", [
    (MLPConfig(depth=100, activation="relu", init="he", residual=True), "outside"),
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
    assert "1 + w_k phi'(x_k)" in r.hint
