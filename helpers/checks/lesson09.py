"""Checks for lesson 9 (vanishing and exploding gradients through time).

Every reference is computed here with PyTorch autograd (or ``clip_grad_norm_``) on inputs
the check draws itself, so no value the student can reach passes a check.
"""

from __future__ import annotations

import numpy as np
import torch

from helpers.checks.core import CheckResult, compare, finish, prefixed, run_student


def _rnn_case(seed: int, hidden: int, inputs: int, steps: int, scale: float):
    rng = np.random.default_rng(seed)
    W_xh = rng.normal(0, 1 / np.sqrt(inputs), (hidden, inputs))
    W_hh = rng.normal(0, scale / np.sqrt(hidden), (hidden, hidden))
    b = rng.normal(0, 0.1, hidden)
    x = rng.normal(0, 1, (steps, inputs))
    g = rng.normal(0, 1, hidden)  # dL/dh_T
    return W_xh, W_hh, b, x, g


def _autograd_bptt(W_xh, W_hh, b, x, g):
    """dL/dh_t for t = 1..T and dL/dW_hh of L = g . h_T, by autograd (h_0 = 0)."""
    Wx, Wh, bb = (torch.tensor(a, dtype=torch.float64) for a in (W_xh, W_hh, b))
    Wh.requires_grad_(True)
    h = torch.zeros(len(bb), dtype=torch.float64)
    hs = []
    for t in range(len(x)):
        h = torch.tanh(Wx @ torch.tensor(x[t]) + Wh @ h + bb)
        h.retain_grad()
        hs.append(h)
    (h @ torch.tensor(g)).backward()
    return np.stack([v.grad.numpy() for v in hs]), Wh.grad.numpy()


def check_bptt(fn) -> CheckResult:
    """Exercise 9.1: ``fn(W_xh, W_hh, b, x, g)`` returns ``(dh, dW_hh)`` by hand."""
    ex = "9.1"
    hint = ("run the forward pass first and keep every h_t (h_0 = 0).",
            "then go backward from "
            "dh[T-1] = g: with delta_t = (1 - h_t**2) * dh_t (tanh' in terms of its output), "
            "dh_{t-1} = W_hh.T @ delta_t and dW_hh += outer(delta_t, h_{t-1}).")
    cases = [_rnn_case(0, 5, 3, 6, 1.0), _rnn_case(1, 8, 2, 12, 2.5), _rnn_case(2, 4, 4, 1, 1.0)]
    for W_xh, W_hh, b, x, g in cases:
        got, problem = run_student(ex, fn, W_xh.copy(), W_hh.copy(), b.copy(), x.copy(),
                                   g.copy(), hint=hint)
        if problem is not None:
            return finish(problem)
        dh_ref, dW_ref = _autograd_bptt(W_xh, W_hh, b, x, g)
        if not isinstance(got, tuple) or len(got) != 2:
            return finish(CheckResult(ex, "failed", "return a pair (dh, dW_hh)", hint))
        where = f"T = {len(x)}, hidden {len(b)}"
        diff = compare(got[0], dh_ref, rtol=1e-8, atol=1e-12)
        if diff is not None:
            specific = ""
            d = np.asarray(got[0], dtype=float)
            if d.shape == dh_ref.shape and np.allclose(d[::-1], dh_ref, rtol=1e-8):
                specific = "your rows are in reverse order: row t must be dL/dh_{t+1}. "
            return finish(CheckResult(ex, "failed", f"dh ({where}): {diff}.",
                                      prefixed(specific, hint)))
        diff = compare(got[1], dW_ref, rtol=1e-8, atol=1e-12)
        if diff is not None:
            specific = ""
            d = np.asarray(got[1], dtype=float)
            if d.shape == dW_ref.shape and np.allclose(d.T, dW_ref, rtol=1e-8):
                specific = "your dW_hh is transposed: entry (i, j) pairs delta_i with h_j. "
            return finish(CheckResult(ex, "failed", f"dW_hh ({where}): {diff}.",
                                      prefixed(specific, hint)))
    return finish(CheckResult(ex, "passed", "correct: your backward pass through time matches "
                                             "autograd on 3 RNNs (T = 6, 12 and 1)."))


def _autograd_jacobian_norms(W_xh, W_hh, b, x):
    """||dh_T/dh_t||_2 for t = 1..T, each Jacobian from autograd on the unrolled steps."""
    Wx, Wh, bb = (torch.tensor(a, dtype=torch.float64) for a in (W_xh, W_hh, b))
    xs = torch.tensor(x, dtype=torch.float64)
    hs, h = [], torch.zeros(len(bb), dtype=torch.float64)
    for t in range(len(xs)):
        h = torch.tanh(Wx @ xs[t] + Wh @ h + bb)
        hs.append(h)

    def rest(h0, start):
        for t in range(start, len(xs)):
            h0 = torch.tanh(Wx @ xs[t] + Wh @ h0 + bb)
        return h0

    norms = []
    for t in range(len(xs)):  # h_{t+1} is hs[t]; steps t+1..T-1 remain
        J = torch.autograd.functional.jacobian(lambda v, s=t + 1: rest(v, s), hs[t])
        norms.append(float(torch.linalg.matrix_norm(J, 2)))
    return np.array(norms), np.stack([v.numpy() for v in hs])


def check_jacobian_product(fn) -> CheckResult:
    """Exercise 9.2: ``fn(W_hh, hs)`` returns ``||dh_T/dh_t||_2`` for t = 1..T (tanh RNN)."""
    ex = "9.2"
    hint = ("the Jacobian of one step is J_t = dh_t/dh_{t-1} = diag(1 - h_t**2) @ W_hh.",
            "dh_T/dh_t = J_T @ J_{T-1} @ ... @ J_{t+1} (the identity for t = T): build it from "
            "the last step backwards and take np.linalg.norm(product, 2) each time.")
    for seed, scale, steps in ((3, 1.0, 8), (4, 3.0, 15), (5, 0.5, 5)):
        W_xh, W_hh, b, x, _ = _rnn_case(seed, 6, 3, steps, scale)
        expected, hs = _autograd_jacobian_norms(W_xh, W_hh, b, x)
        got, problem = run_student(ex, fn, W_hh.copy(), hs.copy(), hint=hint)
        if problem is not None:
            return finish(problem)
        diff = compare(got, expected, rtol=1e-7, atol=1e-14)
        if diff is not None:
            g = np.asarray(got, dtype=float).ravel()
            specific = ""
            if g.shape == expected.shape and np.allclose(g[::-1], expected, rtol=1e-7):
                specific = "your array is reversed: entry t must be ||dh_T/dh_{t+1}||, last = 1. "
            elif g.size == expected.size - 1:
                specific = "include t = T, where the product is empty (the identity, norm 1). "
            return finish(CheckResult(ex, "failed", f"T = {steps}: {diff}.",
                                      prefixed(specific, hint)))
    return finish(CheckResult(ex, "passed", "correct: your Jacobian products match autograd's "
                                             "Jacobians on 3 sequences."))


def check_clip_by_norm(fn) -> CheckResult:
    """Exercise 9.3: ``fn(grads, max_norm)`` returns ``(clipped, total_norm)``."""
    ex = "9.3"
    hint = ("total_norm = sqrt of the sum of squares of every entry of every gradient.",
            "if it exceeds max_norm, multiply every gradient by max_norm / total_norm (the same "
            "factor for all), otherwise return them unchanged. Do not modify the inputs.")
    rng = np.random.default_rng(9)
    cases = [([rng.normal(0, 3, (4, 3)), rng.normal(0, 3, 5)], 1.0),
             ([rng.normal(0, 0.01, (2, 2)), rng.normal(0, 0.01, 3)], 1.0),
             ([rng.normal(0, 50, (6,)), rng.normal(0, 1, (3, 3)), rng.normal(0, 1, 1)], 5.0)]
    for arrays, max_norm in cases:
        grads = [torch.tensor(a) for a in arrays]
        params = [torch.zeros_like(g, requires_grad=True) for g in grads]
        for p, g in zip(params, grads, strict=True):
            p.grad = g.clone()
        total_ref = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        ref = [p.grad for p in params]
        got, problem = run_student(ex, fn, [g.clone() for g in grads], max_norm, hint=hint)
        if problem is not None:
            return finish(problem)
        if not isinstance(got, tuple) or len(got) != 2 or len(got[0]) != len(grads):
            return finish(CheckResult(ex, "failed", f"return (clipped, total_norm) with one "
                                                     f"clipped tensor per gradient "
                                                     f"({len(grads)} here)", hint))
        clipped, total = got
        diff = compare(total, total_ref, rtol=1e-9, atol=0)
        if diff is not None:
            return finish(CheckResult(ex, "failed", f"total_norm: {diff}.", hint))
        for i, (c, r) in enumerate(zip(clipped, ref, strict=True)):
            diff = compare(c, r, rtol=1e-6, atol=1e-12)
            if diff is not None:
                specific = ""
                by_value = np.clip(arrays[i], -max_norm, max_norm)
                if np.allclose(np.asarray(_np(c)), by_value):
                    specific = ("you clipped each entry (clipping by value): that changes the "
                                "gradient's direction. Scale the whole gradient instead. ")
                return finish(CheckResult(ex, "failed", f"gradient {i} (total norm "
                                          f"{total_ref:.3g}, max_norm {max_norm}): {diff}.",
                                          prefixed(specific, hint)))
    return finish(CheckResult(ex, "passed", "correct: your clipping matches clip_grad_norm_ "
                                             "on 3 sets of gradients (clipped and unclipped)."))


def _np(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x, dtype=float)
