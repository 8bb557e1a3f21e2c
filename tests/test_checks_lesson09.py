"""helpers.checks.lesson09: correct answers pass, typical mistakes fail with a hint."""

from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.checks.lesson09 import check_bptt, check_clip_by_norm, check_jacobian_product

# The lesson's solutions, run as the solved notebook runs them (np and torch from its setup).
SOL = {"np": np, "torch": torch}
exec((Path(__file__).resolve().parents[1] / "solutions" / "09_through_time.py").read_text(), SOL)


def not_done(*args):
    raise NotImplementedError("Exercise")


def test_solutions_pass():
    assert check_bptt(SOL["bptt_by_hand"]).passed
    assert check_jacobian_product(SOL["jacobian_product_norms"]).passed
    assert check_clip_by_norm(SOL["clip_by_norm"]).passed


def test_unfinished_and_crashing_answers():
    for check in (check_bptt, check_jacobian_product, check_clip_by_norm):
        assert check(not_done).status == "not done"
        assert check(lambda *a: 1 / 0).status == "error"


# 9.1
def test_bptt_mistakes():
    good = SOL["bptt_by_hand"]
    r = check_bptt(lambda *a: (good(*a)[0][::-1], good(*a)[1]))
    assert r.status == "failed" and "reverse" in r.hint
    r = check_bptt(lambda *a: (good(*a)[0], good(*a)[1].T))
    assert r.status == "failed" and "transposed" in r.hint

    def no_tanh_derivative(W_xh, W_hh, b, x, g):  # forgets phi': multiplies by W_hh.T only
        dh, grad = np.zeros((len(x), len(b))), g
        for t in range(len(x) - 1, -1, -1):
            dh[t], grad = grad, W_hh.T @ grad
        return dh, np.zeros_like(W_hh)
    assert check_bptt(no_tanh_derivative).status == "failed"

    def outer_with_h_t(W_xh, W_hh, b, x, g):  # dh right, dW_hh pairs delta_t with h_t
        dh, _ = good(W_xh, W_hh, b, x, g)
        hs = [np.zeros(len(b))]
        for t in range(len(x)):
            hs.append(np.tanh(W_xh @ x[t] + W_hh @ hs[-1] + b))
        dW, grad = np.zeros_like(W_hh), np.asarray(g, dtype=float)
        for t in range(len(x), 0, -1):
            delta = (1 - hs[t] ** 2) * grad
            dW += np.outer(delta, hs[t])
            grad = W_hh.T @ delta
        return dh, dW

    r = check_bptt(outer_with_h_t)
    assert r.status == "failed" and r.message.startswith("dW_hh (T = ")
    assert "transposed" not in r.hint and "reverse" not in r.hint
    assert check_bptt(lambda *a: good(*a)[0]).status == "failed"  # not a pair


# 9.2
def test_jacobian_mistakes():
    good = SOL["jacobian_product_norms"]
    r = check_jacobian_product(lambda W, hs: good(W, hs)[::-1])
    assert r.status == "failed" and "reversed" in r.hint
    r = check_jacobian_product(lambda W, hs: good(W, hs)[:-1])
    assert r.status == "failed" and "identity" in r.hint
    bound = lambda W, hs: np.linalg.norm(W, 2) ** np.arange(len(hs) - 1, -1, -1)  # noqa: E731
    assert check_jacobian_product(bound).status == "failed"  # the bound is not the product


# 9.3
def test_clip_mistakes():
    def by_value(grads, max_norm):
        total = float(torch.sqrt(sum((g ** 2).sum() for g in grads)))
        return [g.clamp(-max_norm, max_norm) for g in grads], total
    r = check_clip_by_norm(by_value)
    assert r.status == "failed" and "by value" in r.hint

    def always_scale(grads, max_norm):
        total = float(torch.sqrt(sum((g ** 2).sum() for g in grads)))
        return [g * max_norm / total for g in grads], total
    assert check_clip_by_norm(always_scale).status == "failed"  # scales up small gradients too

    def per_tensor(grads, max_norm):
        total = float(torch.sqrt(sum((g ** 2).sum() for g in grads)))
        return [g * min(1.0, max_norm / float(g.norm())) for g in grads], total
    assert check_clip_by_norm(per_tensor).status == "failed"
    assert check_clip_by_norm(lambda g, m: g).status == "failed"

    def norm_after_clipping(grads, max_norm):
        clipped, _ = SOL["clip_by_norm"](grads, max_norm)
        return clipped, float(torch.sqrt(sum((c ** 2).sum() for c in clipped)))

    def sum_of_norms(grads, max_norm):
        clipped, _ = SOL["clip_by_norm"](grads, max_norm)
        return clipped, float(sum(g.norm() for g in grads))

    for wrong in (norm_after_clipping, sum_of_norms):
        r = check_clip_by_norm(wrong)
        assert r.status == "failed" and r.message.startswith("total_norm: "), r.message


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError):
        check_clip_by_norm(not_done)
