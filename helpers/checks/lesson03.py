"""Checks for lesson 3 (gradients in deep networks).

Exercises 3.2 and 3.3 take their reference gradients with ``torch.autograd.grad`` directly;
exercise 3.4, where the student writes a hook-based capture, is compared with the course's own
``helpers.capture.gradient_profile`` (itself tested against autograd). Every check forbids the
course functions that compute its answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

from helpers.capture import GradientMonitor, capture_pass, gradient_profile
from helpers.checks.core import CheckResult, check_true, compare, finish, run_student
from helpers.data import spirals
from helpers.models import MLPConfig, build_mlp, linear_layers, trace_layers
from helpers.topics.gradient_flow import flow_summary, measure_config

BALANCED_FACTOR = 10.0  # exercise 3.3: first/last ||dL/da|| ratio within this factor of 1
MIN_GRADIENT = 1e-3  # exercise 3.3: the largest ||dL/dW|| of any layer is at least this
BALANCED_DEPTH = 20


# -- Exercise 3.1 ---------------------------------------------------------------------------
def reference_first_last_ratio(profile) -> float:
    """First hidden layer's weight-gradient norm over the last hidden layer's (index -2)."""
    g = np.asarray(profile.weight_grad_norm, dtype=np.float64)
    return float(g[0] / g[-2])


@lru_cache(maxsize=1)
def _sample_profiles() -> tuple:
    X, y = spirals(64, noise=0.1, seed=3)
    configs = [MLPConfig(depth=6, width=16, activation="sigmoid", dtype="float64", seed=1),
               MLPConfig(depth=4, width=8, activation="relu", init="he", dtype="float64", seed=2)]
    return tuple(gradient_profile(build_mlp(c), X, y) for c in configs)


def check_first_last_ratio(fn: Callable) -> CheckResult:
    """Exercise 3.1: ``fn(profile)`` returns the first/last hidden-layer gradient ratio."""
    hint = ("weight_grad_norm has one entry per Linear layer, input layer first.",
            "the LAST entry is the output layer, so the last hidden layer is at index -2; "
            "divide the first entry by that one.")
    for profile in _sample_profiles():
        # the student gets the arrays only: the profile's own ratio property is the answer
        view = SimpleNamespace(layer_names=profile.layer_names,
                               weight_grad_norm=profile.weight_grad_norm.copy(),
                               activation_grad_norm=profile.activation_grad_norm.copy())
        got, problem = run_student("3.1", fn, view, hint=hint, forbid=(flow_summary,))
        if problem is not None:
            return finish(problem)
        g = profile.weight_grad_norm
        expected = reference_first_last_ratio(profile)
        diff = compare(got, expected, rtol=1e-9, atol=0.0)
        if diff is None:
            continue
        specific = hint
        if compare(got, g[0] / g[-1], 1e-9, 0.0) is None:
            specific = ("you divided by the OUTPUT layer's gradient (index -1); the last "
                        "hidden layer is index -2.")
        elif compare(got, g[-2] / g[0], 1e-9, 0.0) is None:
            specific = "you computed last / first; the ratio is first / last."
        return finish(CheckResult("3.1", "failed", f"{diff}.", specific))
    return finish(CheckResult("3.1", "passed",
                               f"correct on {len(_sample_profiles())} measured profiles."))


# -- Exercise 3.2 ---------------------------------------------------------------------------
def reference_grad_data_ratio(model, X, y) -> np.ndarray:
    """||dLoss/dW|| / ||W|| per Linear layer, with gradients from ``torch.autograd.grad``."""
    weights = [lin.weight for _, lin in linear_layers(model)]
    X = X.to(weights[0].dtype)
    loss = F.cross_entropy(model(X), y)
    grads = torch.autograd.grad(loss, weights)
    with torch.no_grad():
        return np.array([float(g.norm() / w.norm()) for g, w in zip(grads, weights, strict=True)])


def _grad_checks_cases():
    X, y = spirals(64, noise=0.1, seed=4)
    return [(MLPConfig(depth=3, width=8, activation="tanh", dtype="float64", seed=1), X, y),
            (MLPConfig(depth=5, width=16, activation="relu", init="he", dtype="float64",
                       seed=2), X, y)]


def check_grad_data_ratio(fn: Callable) -> CheckResult:
    """Exercise 3.2: ``fn(model)`` returns ||grad W|| / ||W|| per Linear after ``backward()``."""
    hint = ("after loss.backward() each layer's weight has a .grad, and linear_layers(model) "
            "lists the layers.",
            "for every (name, layer) in linear_layers(model) take layer.weight.grad.norm() / "
            "layer.weight.norm(), and return one number per Linear layer (output included).")
    for config, X, y in _grad_checks_cases():
        model = build_mlp(config)
        expected = reference_grad_data_ratio(model, X, y)
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(X.to(torch.float64)), y).backward()
        got, problem = run_student("3.2", fn, model, hint=hint,
                                   forbid=(gradient_profile, capture_pass))
        if problem is not None:
            return finish(problem)
        diff = compare(got, expected, rtol=1e-6, atol=0.0)
        if diff is None:
            continue
        specific = hint
        lins = [lin for _, lin in linear_layers(model)]
        with torch.no_grad():  # common mistakes, to give a specific hint
            grad_only = np.array([float(lin.weight.grad.norm()) for lin in lins])
            with_bias = np.array([
                float(torch.cat([lin.weight.grad.flatten(), lin.bias.grad]).norm()
                      / torch.cat([lin.weight.flatten(), lin.bias]).norm()) for lin in lins])
        if compare(got, grad_only, 1e-6, 0.0) is None:
            specific = "you returned ||grad W|| only: divide each by the weight's norm ||W||."
        elif compare(got, with_bias, 1e-6, 0.0) is None:
            specific = "use the weights only (layer.weight), not the biases."
        elif compare(got, 1.0 / expected, 1e-6, 0.0) is None:
            specific = "you computed ||W|| / ||grad W||: it is the gradient over the weight."
        return finish(CheckResult("3.2", "failed", f"{diff}.", specific))
    return finish(CheckResult("3.2", "passed",
                               "correct: matches PyTorch autograd on two networks."))


# -- Exercise 3.3 ---------------------------------------------------------------------------
def balanced_verdict(config: MLPConfig) -> tuple[bool, str]:
    """Whether ``config``'s network passes exercise 3.3, and a sentence with its numbers.

    Healthy means: the first/last hidden-layer *activation*-gradient ratio within a factor
    ``BALANCED_FACTOR`` of 1, and the largest ``||dL/dW||`` of any layer at least
    ``MIN_GRADIENT`` (finite). The weight-gradient ratio is not used: it also carries each
    layer's input scale and can read 1.5 for a net whose every gradient is 1e-23.
    """
    s = flow_summary(measure_config(config))
    ratio, largest = s.activation_ratio, s.largest_weight_grad
    balanced = math.isfinite(ratio) and 1.0 / BALANCED_FACTOR <= ratio <= BALANCED_FACTOR
    alive = math.isfinite(largest) and largest >= MIN_GRADIENT
    orders = f"{s.activation_orders:+.1f}" if math.isfinite(s.activation_orders) else "undefined"
    text = (f"||dL/da_1|| / ||dL/da_{config.depth}|| = {ratio:.3g} (log10 {orders}, needs a "
            f"factor {BALANCED_FACTOR:g} of 1) and the largest ||dL/dW|| is {largest:.3g} "
            f"(needs at least {MIN_GRADIENT:g})")
    return balanced and alive, text


def check_balanced_config(fn: Callable) -> CheckResult:
    """Exercise 3.3: ``fn()`` returns a depth-20 ``MLPConfig`` whose gradient neither vanishes
    nor explodes on the explorer's data (see :func:`balanced_verdict`)."""
    hint = ("open the explorer at depth 20 and look for a setting where the activation std "
            "stays roughly constant from layer to layer and the status line's ||dL/da|| ratio "
            "is near 1.",
            "the per-layer factor is W^T diag(phi'): pick the init whose weight variance "
            "makes n Var(W) E[phi'(z)^2] close to 1 for your activation.")
    config, problem = run_student("3.3", fn, hint=hint)
    if problem is not None:
        return finish(problem)
    if not isinstance(config, MLPConfig):
        return check_true("3.3", False, "", f"expected an MLPConfig, got {type(config).__name__}",
                          "return MLPConfig(depth=20, ...) with the settings you chose.")
    if config.depth != BALANCED_DEPTH:
        return check_true("3.3", False, "", f"depth is {config.depth}, the task asks for "
                          f"{BALANCED_DEPTH}", "keep depth=20 and change the other settings.")
    if (config.in_features, config.out_features) != (2, 2):
        return check_true("3.3", False, "", "the spirals have 2 input features and 2 classes",
                          "leave in_features and out_features at their defaults (2).")
    ok, text = balanced_verdict(config)
    return check_true("3.3", ok, f"healthy: {text}.", f"not healthy: {text}.", hint)


# -- Exercise 3.4 ---------------------------------------------------------------------------
CAPTURE_FORBID = (gradient_profile, capture_pass, trace_layers, GradientMonitor, flow_summary,
                  measure_config)


def _capture_cases():
    X, y = spirals(64, noise=0.1, seed=6)
    return [(MLPConfig(depth=6, width=16, activation="sigmoid", dtype="float64", seed=1), X, y),
            (MLPConfig(depth=4, width=12, activation="relu", init="he", dtype="float64",
                       seed=2), X, y)]


def _hook_count(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               for m in model.modules())


def check_activation_grad_capture(fn: Callable) -> CheckResult:
    """Exercise 3.4: ``fn(model, X, y)`` returns ||dL/da_l|| for every hidden layer, captured
    with hooks, and leaves no hook behind; compared with ``gradient_profile``."""
    hint = ("a forward hook on layer l's activation module sees its output a_l; a hook "
            "registered on that output tensor receives dL/da_l during backward().",
            "keep the handles that register_forward_hook returns and call .remove() on each "
            "in a finally: block; return one norm per hidden layer, first layer first.",
            "recipe: for each block, handle = block.act.register_forward_hook(hook) where "
            "hook(module, inputs, out) calls out.register_hook(lambda g: norms.append("
            "g.norm().item())); then loss = F.cross_entropy(model(X), y); loss.backward(). "
            "Gradients arrive last layer first: reverse the list.")
    for config, X, y in _capture_cases():
        model = build_mlp(config)
        expected = gradient_profile(model, X, y).activation_grad_norm[:-1]  # hidden layers
        before = _hook_count(model)
        model.zero_grad(set_to_none=True)
        got, problem = run_student("3.4", fn, model, X.to(torch.float64), y, hint=hint,
                                   forbid=CAPTURE_FORBID)
        if problem is not None:
            return finish(problem)
        if _hook_count(model) != before:
            return finish(CheckResult(
                "3.4", "failed", f"{_hook_count(model) - before} hook(s) are still registered "
                "on the model after your function returned: remove every hook you add.", hint))
        diff = compare(got, expected, rtol=1e-6, atol=0.0)
        if diff is None:
            continue
        specific = hint
        with torch.no_grad():
            weight_norms = np.array([float(lin.weight.grad.norm()) if lin.weight.grad is not None
                                     else np.nan for _, lin in linear_layers(model)])
        if compare(got, weight_norms[:-1], 1e-6, 0.0) is None or compare(
                got, weight_norms, 1e-6, 0.0) is None:
            specific = ("these are the weight gradients ||dL/dW||; the exercise asks for the "
                        "gradient with respect to each layer's activation output a_l.")
        elif compare(got, expected[::-1], 1e-6, 0.0) is None:
            specific = ("right numbers, wrong order: backward() visits the last layer first; "
                        "return the first hidden layer first.")
        return finish(CheckResult("3.4", "failed", f"{diff}.", specific))
    return finish(CheckResult("3.4", "passed", "correct: your hooks capture the same "
                              "||dL/da|| as gradient_profile on two networks, and leave none "
                              "behind."))
