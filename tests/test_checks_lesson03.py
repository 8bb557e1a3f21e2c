"""helpers.checks.lesson03: right answers pass, wrong ones fail with a hint, stubs say TODO."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.capture import gradient_profile
from helpers.checks import lesson03 as L
from helpers.data import spirals
from helpers.models import MLPConfig, build_mlp, linear_layers


def stub(*args):
    raise NotImplementedError("Exercise 3.x")


# -- 3.1 ------------------------------------------------------------------------------------
def test_first_last_ratio_right_wrong_and_stub():
    assert L.check_first_last_ratio(lambda p: p.weight_grad_norm[0] / p.weight_grad_norm[-2]).passed
    # the profile's own ratio (property or flow_summary) is the answer: neither can pass
    r = L.check_first_last_ratio(lambda p: p.first_to_last_ratio)
    assert not r.passed and "first_to_last_ratio" in r.message
    from helpers.topics import gradient_flow

    r = L.check_first_last_ratio(lambda p: gradient_flow.flow_summary(p).weight_ratio)
    assert r.status == "failed" and "flow_summary" in r.message
    r = L.check_first_last_ratio(lambda p: p.weight_grad_norm[0] / p.weight_grad_norm[-1])
    assert r.status == "failed" and "OUTPUT layer" in r.hint
    r = L.check_first_last_ratio(lambda p: p.weight_grad_norm[-2] / p.weight_grad_norm[0])
    assert r.status == "failed" and "last / first" in r.hint
    from helpers.checks import core

    core._ATTEMPTS.pop("3.1", None)
    r = L.check_first_last_ratio(lambda p: 1.0)
    assert r.status == "failed" and "index -2" not in r.hint  # a nudge first ...
    r = L.check_first_last_ratio(lambda p: 1.0)
    assert r.status == "failed" and "index -2" in r.hint  # ... then the recipe
    assert L.check_first_last_ratio(stub).status == "not done"


def test_first_last_ratio_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match="3.1"):
        L.check_first_last_ratio(lambda p: 1.0)


# -- 3.2 ------------------------------------------------------------------------------------
def solution_grad_data(model):
    return np.array([float(lin.weight.grad.norm() / lin.weight.detach().norm())
                     for _, lin in linear_layers(model)])


@torch.no_grad()
def with_biases(model):
    """A common mistake: weights and biases together."""
    return np.array([float(torch.cat([lin.weight.grad.flatten(), lin.bias.grad]).norm()
                           / torch.cat([lin.weight.flatten(), lin.bias]).norm())
                     for _, lin in linear_layers(model)])


def test_reference_grad_data_ratio_matches_autograd_and_capture():
    """The package's grad:data ratio equals the one built from raw .grad after backward()."""
    X, y = spirals(48, seed=5)
    model = build_mlp(MLPConfig(depth=4, width=12, activation="tanh", dtype="float64", seed=3))
    ref = L.reference_grad_data_ratio(model, X, y)
    assert all(lin.weight.grad is None for _, lin in linear_layers(model))  # untouched
    F.cross_entropy(model(X.double()), y).backward()
    np.testing.assert_allclose(ref, solution_grad_data(model), rtol=1e-12)
    np.testing.assert_allclose(gradient_profile(model, X, y).grad_data_ratio, ref, rtol=1e-10)


def test_grad_data_ratio_right_wrong_and_stub():
    assert L.check_grad_data_ratio(solution_grad_data).passed
    as_tensor = L.check_grad_data_ratio(
        lambda m: torch.stack([lin.weight.grad.norm() / lin.weight.norm()
                               for _, lin in linear_layers(m)]))
    assert as_tensor.passed
    r = L.check_grad_data_ratio(
        lambda m: np.array([float(lin.weight.grad.norm()) for _, lin in linear_layers(m)]))
    assert r.status == "failed" and "divide each by the weight's norm" in r.hint
    r = L.check_grad_data_ratio(with_biases)
    assert r.status == "failed" and "not the biases" in r.hint
    r = L.check_grad_data_ratio(lambda m: 1.0 / solution_grad_data(m))
    assert r.status == "failed" and "over the weight" in r.hint
    r = L.check_grad_data_ratio(lambda m: solution_grad_data(m)[:-1])
    assert r.status == "failed" and "shape" in r.message
    assert L.check_grad_data_ratio(stub).status == "not done"
    assert L.check_grad_data_ratio(lambda m: m.nope).status == "error"


def test_grad_data_ratio_cannot_be_passed_with_the_course_capture():
    X, y = spirals(64, noise=0.1, seed=4)
    r = L.check_grad_data_ratio(lambda m: gradient_profile(m, X, y).grad_data_ratio)
    assert r.status == "failed" and "gradient_profile" in r.message


# -- 3.3 ------------------------------------------------------------------------------------
def test_balanced_config_passes_and_reports_the_activation_gradient_ratio():
    r = L.check_balanced_config(lambda: MLPConfig(depth=20, activation="tanh", init="xavier",
                                                  dtype="float64"))
    assert r.passed and "||dL/da_1|| / ||dL/da_20||" in r.message
    assert "largest ||dL/dW||" in r.message


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_lessons_healthy_example_relu_he_passes_on_every_seed(dtype):
    for seed in range(10):
        config = MLPConfig(depth=20, width=64, activation="relu", init="he", dtype=dtype,
                           seed=seed)
        ok, text = L.balanced_verdict(config)
        assert ok, (seed, text)


def test_balanced_config_fails_the_net_the_weight_ratio_calls_healthy():
    config = MLPConfig(depth=20, width=64, activation="tanh", init="normal", weight_std=0.01,
                       dtype="float64")
    p = L.measure_config(config)
    assert 0.1 <= p.first_to_last_ratio <= 10  # the weight-gradient ratio is fooled ...
    s = L.flow_summary(p)
    assert s.activation_ratio < 1e-20 and s.largest_weight_grad < 1e-22
    from helpers.checks import core

    core._ATTEMPTS.pop("3.3", None)  # a first wrong answer
    r = L.check_balanced_config(lambda: config)
    assert r.status == "failed" and f"{s.activation_ratio:.3g}" in r.message  # ... this is not
    assert r.hint and "W^T diag" not in r.hint  # the first wrong answer shows the nudge only


def test_balanced_config_measures_the_students_network():
    config = MLPConfig(depth=20, activation="sigmoid", dtype="float64")
    ratio = L.flow_summary(L.measure_config(config)).activation_ratio
    assert ratio < 1e-10  # this network vanishes ...
    r = L.check_balanced_config(lambda: config)
    assert r.status == "failed" and f"{ratio:.3g}" in r.message  # ... so the check fails
    exploding = MLPConfig(depth=20, activation="tanh", init="normal", weight_std=0.2)
    assert L.check_balanced_config(lambda: exploding).status == "failed"


@pytest.mark.parametrize("answer, words", [
    (lambda: MLPConfig(depth=10, activation="tanh", init="xavier"), "depth is 10"),
    (lambda: {"depth": 20}, "expected an MLPConfig"),
    (lambda: MLPConfig(depth=20, activation="tanh", init="xavier", in_features=3), "2 input"),
])
def test_balanced_config_rejects_wrong_answers(answer, words):
    r = L.check_balanced_config(answer)
    assert r.status == "failed" and words in r.message and r.hint


def test_balanced_config_stub_and_error():
    assert L.check_balanced_config(stub).status == "not done"
    assert L.check_balanced_config(lambda: MLPConfig(depth=-1)).status == "error"


# -- 3.4 ------------------------------------------------------------------------------------
def solution_capture(model, X, y):
    norms = []

    def forward_hook(module, inputs, out):
        out.register_hook(lambda grad: norms.append(grad.norm().item()))

    handles = [block.act.register_forward_hook(forward_hook) for block in model.blocks]
    try:
        F.cross_entropy(model(X), y).backward()
    finally:
        for handle in handles:
            handle.remove()
    return np.array(norms[::-1])


def test_capture_solution_matches_autograd():
    X, y = spirals(32, seed=2)
    model = build_mlp(MLPConfig(depth=3, width=8, activation="tanh", dtype="float64", seed=1))
    got = solution_capture(model, X.double(), y)
    from helpers.models import trace_layers

    model.zero_grad()
    trace = trace_layers(model, X.double())
    grads = torch.autograd.grad(F.cross_entropy(trace.output, y), trace.act_out)
    np.testing.assert_allclose(got, [float(g.norm()) for g in grads], rtol=1e-12)


def test_capture_right_answer_passes_and_stub_is_not_done():
    assert L.check_activation_grad_capture(solution_capture).passed
    assert L.check_activation_grad_capture(stub).status == "not done"


def test_capture_weight_gradients_instead_of_activation_gradients_fails():
    def weight_norms(model, X, y):
        F.cross_entropy(model(X), y).backward()
        return np.array([float(lin.weight.grad.norm()) for _, lin in linear_layers(model)[:-1]])

    r = L.check_activation_grad_capture(weight_norms)
    assert r.status == "failed" and "weight gradients" in r.hint


def test_capture_that_leaves_its_hooks_behind_fails():
    def leaky(model, X, y):
        norms = []

        def forward_hook(module, inputs, out):
            out.register_hook(lambda g: norms.append(g.norm().item()))

        for block in model.blocks:
            block.act.register_forward_hook(forward_hook)  # never removed
        F.cross_entropy(model(X), y).backward()
        return np.array(norms[::-1])

    r = L.check_activation_grad_capture(leaky)
    assert r.status == "failed" and "still registered" in r.message


def test_capture_in_backward_order_fails_with_a_specific_hint():
    r = L.check_activation_grad_capture(lambda m, X, y: solution_capture(m, X, y)[::-1])
    assert r.status == "failed" and "wrong order" in r.hint


@pytest.mark.parametrize("course_function", ["gradient_profile", "capture_pass", "trace_layers"])
def test_capture_cannot_call_the_course_capture(course_function):
    import helpers.capture
    import helpers.models

    def via_course(model, X, y):
        if course_function == "trace_layers":
            t = helpers.models.trace_layers(model, X)
            grads = torch.autograd.grad(F.cross_entropy(t.output, y), t.act_out)
            return np.array([float(g.norm()) for g in grads])
        fn = getattr(helpers.capture, course_function)
        return fn(model, X, y)

    r = L.check_activation_grad_capture(via_course)
    assert r.status == "failed" and course_function in r.message


def test_capture_wrong_values_name_no_mistake():
    """Twice the right norms: neither the weight-gradient nor the order hint applies."""
    r = L.check_activation_grad_capture(lambda m, X, y: 2 * solution_capture(m, X, y))
    assert r.status == "failed" and "value(s) differ" in r.message
    assert "weight gradients" not in r.hint and "wrong order" not in r.hint
