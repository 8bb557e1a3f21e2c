"""Checks for lesson 2 (the chain rule and depth).

The course's chain functions (``scalar_chain``, ``bound_to_output``, the autograd oracles,
the Jacobian helpers) compute these answers, so each check forbids them while the student's
code runs (see ``helpers.checks.core``).
"""

from __future__ import annotations

import numpy as np

from helpers.activations import activation_fn, derivative
from helpers.checks.core import CheckResult, compare, finish, run_student
from helpers.jacobians import input_output_jacobian, jacobian_layers
from helpers.theory import chain_bound, sigmoid_derivative_bound
from helpers.topics.chain import (
    autograd_chain_gradients,
    autograd_input_jacobian,
    autograd_network_gradients,
    bound_to_output,
    depth_below,
    input_gradients,
    jacobian_norms,
    scalar_chain,
)
from helpers.validation import check_float

# the course functions that compute a chain's gradients or bounds
CHAIN_FUNCTIONS = (scalar_chain, autograd_chain_gradients, input_gradients, bound_to_output,
                   chain_bound, depth_below)
NETWORK_FUNCTIONS = (autograd_network_gradients, autograd_input_jacobian, jacobian_norms,
                     jacobian_layers, input_output_jacobian, scalar_chain,
                     autograd_chain_gradients)


def _chain_cases():
    rng = np.random.default_rng(2)
    return [
        scalar_chain(np.ones(6), 0.0, "sigmoid", 0.5),
        scalar_chain(rng.normal(0.0, 2.0, 8), rng.normal(0.0, 1.0, 8), "tanh", 0.3),
        scalar_chain([1.5, -2.0, 0.5, 3.0], [0.1, 0.2, -0.3, 0.0], "sigmoid", -1.0),
        scalar_chain([2.0, -1.0, 1.0], 0.0, "relu", 1.0),  # the second layer is dead: exact 0
    ]


def check_chain_backward(fn) -> CheckResult:
    """Exercise 2.1: ``fn(weights, z, activation)`` returns ``d a_L / d a_k`` for k = 0..L."""
    ex = "2.1"
    hint = ("start at the top: d a_L / d a_L = 1, then walk down one layer at a time.",
            "each step down multiplies by one layer's local factor w_k * phi'(z_k).",
            "grad[L] = 1; for k = L..1: grad[k-1] = grad[k] * weights[k-1] * "
            "derivative(activation)(z[k-1]); the result has L + 1 entries.")
    for r in _chain_cases():
        got, problem = run_student(ex, fn, r.weights.copy(), r.z.copy(), r.activation, hint=hint,
                                   forbid=CHAIN_FUNCTIONS)
        if problem is not None:
            return finish(problem)
        diff = compare(got, r.grad, rtol=1e-9, atol=1e-14)
        if diff is None:
            continue
        g = np.asarray(got, dtype=np.float64).ravel()
        d = derivative(r.activation)(r.z)
        only_phi = np.append(np.cumprod(d[::-1])[::-1], 1.0)
        specific = ""
        if g.shape == r.grad.shape and np.allclose(g, only_phi, rtol=1e-9):
            specific = ("you multiplied only the derivatives phi'(z_k): each layer's local "
                        "factor is w_k * phi'(z_k), the weight belongs to it. ")
        elif g.shape == r.grad.shape and np.allclose(g[::-1], r.grad, rtol=1e-9):
            specific = "your array is reversed: entry k must be d a_L / d a_k (entry L is 1). "
        elif g.size == r.grad.size - 1:
            specific = "you returned L values; include k = 0 (the input) and k = L (which is 1). "
        return finish(CheckResult(
            ex, "failed", f"{r.activation} chain of depth {r.depth}: {diff}.", (specific, *hint)))
    return finish(CheckResult(ex, "passed", "correct: your backward pass matches the "
                                             "reference on 4 chains (sigmoid, tanh, ReLU)."))


def check_gradient_bound(fn) -> CheckResult:
    """Exercise 2.2: ``fn(weights, activation)`` returns the bound on ``|d a_L / d a_k|``."""
    ex = "2.2"
    hint = ("entry L is an empty product; each entry below it has one more factor.",
            "each layer's factor is |w_j| * max phi'; weights may be negative.",
            "bound[L] = 1; bound[k-1] = bound[k] * |weights[k-1]| * "
            "get_spec(activation).max_derivative.")
    cases = [(np.ones(5), "sigmoid"), (np.array([2.0, -3.0, 0.5, 4.0]), "sigmoid"),
             (np.array([1.5, -0.5, 2.0]), "tanh"), (np.full(12, 8.0), "sigmoid")]
    for w, act in cases:
        got, problem = run_student(ex, fn, w.copy(), act, hint=hint, forbid=CHAIN_FUNCTIONS)
        if problem is not None:
            return finish(problem)
        expected = bound_to_output(w, act)
        diff = compare(got, expected, rtol=1e-9, atol=0.0)
        if diff is not None:
            g = np.asarray(got, dtype=np.float64).ravel()
            specific = ""
            no_abs = np.append(np.cumprod((w * 0.25 if act == "sigmoid" else w)[::-1])[::-1], 1)
            if g.shape == expected.shape and np.any(w < 0) and np.allclose(g, no_abs):
                specific = "some of your bounds are negative: use |w_j|. "
            elif g.shape == expected.shape and np.allclose(g[::-1], expected):
                specific = "your array is reversed: entry k bounds d a_L / d a_k. "
            return finish(CheckResult(ex, "failed", f"weights {w.tolist()} ({act}): {diff}.",
                                       (specific, *hint)))
    return finish(CheckResult(ex, "passed", "correct: your bound matches on 4 chains."))


def best_case_depth(threshold: float) -> int:
    """The smallest depth L with ``(1/4)^L < threshold`` (a sigmoid chain with w = 1)."""
    threshold = check_float("threshold", threshold, 0.0, 1.0, lo_open=True, hi_open=True)
    depth, value = 0, 1.0
    while value >= threshold:  # powers of 1/4 are exact in binary, so equality is exact
        value *= 0.25
        depth += 1
    return depth


def check_depth_prediction(fn) -> CheckResult:
    """Exercise 2.3: ``fn(threshold)`` predicts the depth where the best case drops below it."""
    ex = "2.3"
    hint = ("what is the best case's gradient after L layers, as a formula in L?",
            "it is (1/4)^L: find the smallest whole L with (1/4)^L < threshold (strictly).",
            "L > log(1/threshold) / log(4); when the two are equal (a power of 1/4), one more "
            "layer is needed.")
    forbid = (best_case_depth, sigmoid_derivative_bound, *CHAIN_FUNCTIONS)
    for t in (1e-6, 1e-3, 0.25, 1e-30, 0.5, 4.0**-7):
        got, problem = run_student(ex, fn, t, hint=hint, forbid=forbid)
        if problem is not None:
            return finish(problem)
        expected = best_case_depth(t)
        try:
            ok = float(got) == expected
        except (TypeError, ValueError):
            ok = False
        if not ok:
            return finish(CheckResult(ex, "failed", f"for threshold {t:g} you predicted "
                                                     f"{got!r}, expected {expected}.", hint))
    return finish(CheckResult(ex, "passed", "correct: your prediction matches on 6 thresholds "
                                             f"(for 1e-6: depth {best_case_depth(1e-6)})."))


def _network_cases():
    """(x, weights, biases, activation, grad_out): square and non-square, every activation."""
    rng = np.random.default_rng(24)

    def net(widths, act, scale):
        pairs = zip(widths[:-1], widths[1:], strict=True)  # (n_in, n_out) per layer
        Ws = [rng.normal(0.0, scale / np.sqrt(m), (n, m)) for m, n in pairs]
        bs = [rng.normal(0.0, 0.3, n) for n in widths[1:]]
        return rng.normal(0.0, 1.0, widths[0]), Ws, bs, act, rng.normal(0.0, 1.0, widths[-1])

    return [net([4, 4, 4, 4], "tanh", 1.5), net([3, 5, 4, 2], "sigmoid", 2.0),
            net([6] * 6, "relu", 1.4), net([3] * 9, "sigmoid", 4.0)]


def _numpy_backward(x, Ws, bs, act, g, *, dphi=True, transpose=True):
    """The backward pass, optionally with a known mistake (for naming it in a hint)."""
    phi, d = activation_fn(act), derivative(act)
    h, zs = [np.asarray(x, float)], []
    for W, b in zip(Ws, bs, strict=True):
        zs.append(W @ h[-1] + b)
        h.append(phi(zs[-1]))
    grads_h, grads_W = [np.asarray(g, float)], []
    for k in range(len(Ws) - 1, -1, -1):
        delta = grads_h[0] * (d(zs[k]) if dphi else 1.0)
        grads_W.insert(0, np.outer(delta, h[k]))
        grads_h.insert(0, (Ws[k].T if transpose else Ws[k]) @ delta)
    return grads_h, grads_W


def _matches(got_h, got_W, ref_h, ref_W) -> bool:
    """Whether every gradient matches (the caller has checked that the counts agree)."""
    return all(compare(a, b, 1e-8, 1e-12) is None
               for a, b in zip([*got_h, *got_W], [*ref_h, *ref_W], strict=True))


def check_network_backward(fn) -> CheckResult:
    """Exercise 2.4: ``fn(x, weights, biases, activation, grad_out)`` returns
    ``(grad_h, grad_W)``: d loss / d h_k for k = 0..L and d loss / d W_k for k = 1..L, for
    ``loss = grad_out . h_L``; compared with PyTorch autograd on four networks."""
    ex = "2.4"
    hint = ("run the forward pass first and keep every z_k and h_k: the backward pass needs "
            "both. Then go down from grad_h[L] = grad_out.",
            "at layer k, first turn d loss / d h_k into d loss / d z_k (one factor per unit), "
            "then use it twice: for the weight gradient and for d loss / d h_{k-1}.",
            "delta = grad_h[k] * phi'(z_k); grad_W[k-1] = np.outer(delta, h_{k-1}); "
            "grad_h[k-1] = W_k.T @ delta.")
    for x, Ws, bs, act, g in _network_cases():
        args = (x.copy(), [W.copy() for W in Ws], [b.copy() for b in bs], act, g.copy())
        got, problem = run_student(ex, fn, *args, hint=hint,
                                   forbid=(*NETWORK_FUNCTIONS, _numpy_backward))
        if problem is not None:
            return finish(problem)
        shape = " x ".join(str(n) for n in [x.size] + [b.size for b in bs])
        where = f"{act} network of widths {shape}"
        ref_h, ref_W = autograd_network_gradients(x, Ws, bs, act, g)
        try:
            got_h, got_W = (list(v) for v in got)
        except (TypeError, ValueError):
            return finish(CheckResult(ex, "failed", f"{where}: return a pair (grad_h, grad_W) of "
                                      "lists, got " + type(got).__name__, hint))
        if len(got_h) != len(ref_h) or len(got_W) != len(ref_W):
            return finish(CheckResult(
                ex, "failed", f"{where}: expected {len(ref_h)} input gradients (h_0..h_L) and "
                f"{len(ref_W)} weight gradients, got {len(got_h)} and {len(got_W)}.", hint))
        for name, got_list, ref_list, first in (("d loss / d h", got_h, ref_h, 0),
                                                ("d loss / d W", got_W, ref_W, 1)):
            for k, (a, b) in enumerate(zip(got_list, ref_list, strict=True)):
                diff = compare(a, b, 1e-8, 1e-12)
                if diff is None:
                    continue
                return finish(CheckResult(ex, "failed", f"{where}: {name}_{k + first} "
                                          f"differs from autograd's: {diff}.",
                                          (_network_mistake(got_h, got_W, args), *hint)))
    return finish(CheckResult(ex, "passed", "correct: every d loss / d h_k and d loss / d W_k "
                                            "matches PyTorch autograd on 4 networks (tanh, "
                                            "sigmoid, ReLU; square and non-square)."))


def _network_mistake(got_h, got_W, args) -> str:
    """Name a known mistake of exercise 2.4 if the answer matches it, else ''."""
    if _matches(got_h, got_W, *_numpy_backward(*args, dphi=False)):
        return ("you left out phi'(z_k): the gradient passes through the activation, and its "
                "slope multiplies it, unit by unit.")
    if _matches(got_h, got_W, *_numpy_backward(*args, transpose=False)):
        return ("you multiplied by W_k, not its transpose: a gradient travels backwards, from "
                "layer k's units to layer k-1's, which is W_k.T.")
    ref_h, ref_W = _numpy_backward(*args)
    if _matches(got_h, [np.asarray(w).T for w in got_W], ref_h, ref_W):
        return "your weight gradients are transposed: d loss / d W_k has W_k's shape."
    return ""
