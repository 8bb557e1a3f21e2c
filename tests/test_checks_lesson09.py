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


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError):
        check_clip_by_norm(not_done)
