"""helpers.checks.lesson06: correct answers pass, wrong ones fail with a hint, stubs are TODO,
and a solution that calls the course's own function fails."""

from pathlib import Path

import numpy as np
import pytest

from helpers import norm_layers as course
from helpers.checks import core
from helpers.checks.lesson06 import (
    check_batch_norm_backward,
    check_batch_norm_step,
    check_batch_norm_train,
    check_layer_norm,
)
from tools.solutions import load_solutions

ROOT = Path(__file__).resolve().parents[1]
SOLVED: dict = {"np": np}
for _code in load_solutions(ROOT / "solutions" / "06_normalization.py").values():
    exec(_code, SOLVED)
batch_norm_step, batch_norm_train = SOLVED["batch_norm_step"], SOLVED["batch_norm_train"]
layer_norm, batch_norm_backward = SOLVED["layer_norm"], SOLVED["batch_norm_backward"]


@pytest.fixture(autouse=True)
def _fresh_hints():
    core._ATTEMPTS.clear()


def _stub(*args, **kwargs):
    raise NotImplementedError("Exercise")


def test_batch_norm_train_check():
    assert check_batch_norm_train(_torch_batch_norm_train).passed
    assert check_batch_norm_train(_stub).status == "not done"

    def unbiased(x, g, b, eps=1e-5):
        return g * (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps) + b

    r = check_batch_norm_train(unbiased)
    assert r.status == "failed" and "biased" in r.hint
    r = check_batch_norm_train(lambda x, g, b, eps=1e-5: layer_norm(x, g, b, eps))
    assert r.status == "failed" and "LayerNorm" in r.hint
    r = check_batch_norm_train(lambda x, g, b, eps=1e-5: (x - x.mean(0)) / x.std(0) * g + b)
    assert r.status == "failed" and "eps" in r.hint
    r = check_batch_norm_train(lambda x, g, b, eps=1e-5: batch_norm_train(x, 1.0, 0.0, eps))
    assert r.status == "failed" and "gamma" in r.hint


def test_batch_norm_step_check():
    assert check_batch_norm_step(batch_norm_step).passed
    assert check_batch_norm_step(_stub).status == "not done"

    def biased_running(x, g, b, rm, rv, training, momentum=0.1, eps=1e-5):
        y, m, v = batch_norm_step(x, g, b, rm, rv, training, momentum, eps)
        return (y, m, (1 - momentum) * rv + momentum * x.var(0)) if training else (y, m, v)

    r = check_batch_norm_step(biased_running)
    assert r.status == "failed" and "unbiased" in r.hint

    def swapped(x, g, b, rm, rv, training, momentum=0.1, eps=1e-5):
        y, m, v = batch_norm_step(x, g, b, rm, rv, training, momentum, eps)
        return (y, momentum * rm + (1 - momentum) * x.mean(0), v) if training else (y, m, v)

    r = check_batch_norm_step(swapped)
    assert r.status == "failed" and "NEW batch" in r.hint

    def eval_uses_batch(x, g, b, rm, rv, training, momentum=0.1, eps=1e-5):
        if training:
            return batch_norm_step(x, g, b, rm, rv, True, momentum, eps)
        return batch_norm_train(x, g, b, eps), rm, rv

    r = check_batch_norm_step(eval_uses_batch)
    assert r.status == "failed" and "eval" in r.message and "running" in r.hint
    r = check_batch_norm_step(lambda *a: batch_norm_step(*a)[0])
    assert r.status == "failed" and "tuple" in r.message


def test_layer_norm_check():
    assert check_layer_norm(layer_norm).passed
    assert check_layer_norm(_stub).status == "not done"
    r = check_layer_norm(lambda x, g, b, eps=1e-5: batch_norm_train(x, g, b, eps))
    assert r.status == "failed" and "BatchNorm" in r.hint


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError):
        check_layer_norm(_stub)


def _torch_batch_norm_train(x, g, b, eps=1e-5):
    """Train-mode BatchNorm by torch, an oracle independent of helpers.normalization."""
    import torch
    import torch.nn.functional as F

    t = torch.as_tensor(x, dtype=torch.float64)
    return F.batch_norm(t, None, None, torch.as_tensor(g, dtype=torch.float64),
                        torch.as_tensor(b, dtype=torch.float64), training=True, eps=eps).numpy()


def test_batch_norm_train_reference_against_torch():
    """The check's reference itself agrees with torch on the check's kind of input."""
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, size=(8, 4))
    x[:, 1] = 3.0 + 1e-4 * np.arange(8)  # a nearly constant feature, where eps matters
    g, b = rng.normal(size=4), rng.normal(size=4)
    np.testing.assert_allclose(batch_norm_train(x, g, b), _torch_batch_norm_train(x, g, b),
                               rtol=1e-12, atol=1e-12)


def test_batch_norm_train_every_branch():
    no_affine = check_batch_norm_train(lambda x, g, b, eps=1e-5: _torch_batch_norm_train(
        x, np.ones_like(g), np.zeros_like(b), eps))
    assert no_affine.status == "failed" and "affine step" in no_affine.hint
    other = check_batch_norm_train(lambda x, g, b, eps=1e-5: _torch_batch_norm_train(x, g, b) + 1)
    assert other.status == "failed" and "per feature (axis=0)" in other.hint
    assert "differ" in other.message
    broken = check_batch_norm_train(lambda x, g, b, eps=1e-5: x.nope)
    assert broken.status == "error" and "AttributeError" in broken.message


def _torch_step(x, g, b, rm, rv, training, momentum=0.1, eps=1e-5):
    """One BatchNorm1d call in torch, returning (y, running_mean, running_var)."""
    import torch

    bn = torch.nn.BatchNorm1d(x.shape[1], eps=eps, momentum=momentum).double()
    with torch.no_grad():
        bn.weight.copy_(torch.as_tensor(g))
        bn.bias.copy_(torch.as_tensor(b))
        bn.running_mean.copy_(torch.as_tensor(rm))
        bn.running_var.copy_(torch.as_tensor(rv))
        bn.train(training)
        y = bn(torch.as_tensor(x, dtype=torch.float64)).numpy()
    return y, bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()


def test_batch_norm_step_every_branch():
    assert check_batch_norm_step(_torch_step).passed

    def eval_updates_stats(x, g, b, rm, rv, training, momentum=0.1, eps=1e-5):
        y, m, v = _torch_step(x, g, b, rm, rv, training, momentum, eps)
        return (y, m, v) if training else (y, m + 0.01, v)

    r = check_batch_norm_step(eval_updates_stats)
    assert r.status == "failed" and r.message == "eval mode changed the running statistics."
    assert "must not update" in r.hint

    def wrong_train_output(x, g, b, rm, rv, training, momentum=0.1, eps=1e-5):
        y, m, v = _torch_step(x, g, b, rm, rv, training, momentum, eps)
        return (y * 2, m, v)

    r = check_batch_norm_step(wrong_train_output)
    assert r.status == "failed" and "train-mode output" in r.message and "(6.1)" in r.hint

    def other_running_mean(x, g, b, rm, rv, training, momentum=0.1, eps=1e-5):
        y, m, v = _torch_step(x, g, b, rm, rv, training, momentum, eps)
        return (y, m + 1.0, v) if training else (y, m, v)

    def swapped_var(x, g, b, rm, rv, training, momentum=0.1, eps=1e-5):
        y, m, v = _torch_step(x, g, b, rm, rv, training, momentum, eps)
        if not training:
            return y, m, v
        return y, m, momentum * rv + (1 - momentum) * x.var(0, ddof=1)

    r = check_batch_norm_step(swapped_var)
    assert r.status == "failed" and "running variance differs" in r.message
    assert "NEW batch" in r.hint

    def running_var_off(x, g, b, rm, rv, training, momentum=0.1, eps=1e-5):
        y, m, v = _torch_step(x, g, b, rm, rv, training, momentum, eps)
        return (y, m, v * 1.01) if training else (y, m, v)  # neither known mistake

    r = check_batch_norm_step(running_var_off)
    assert r.status == "failed" and "running variance differs" in r.message
    assert r.hint.startswith("running = (1 - momentum)")

    r = check_batch_norm_step(other_running_mean)
    assert r.status == "failed" and "running mean differs" in r.message
    assert r.hint.startswith("running = (1 - momentum)")

    def eval_stub(x, g, b, rm, rv, training, momentum=0.1, eps=1e-5):
        if not training:
            raise NotImplementedError("Exercise 6.2")
        return _torch_step(x, g, b, rm, rv, training, momentum, eps)

    assert check_batch_norm_step(eval_stub).status == "not done"


def test_layer_norm_every_branch():
    def torch_layer_norm(x, g, b, eps=1e-5):
        import torch
        import torch.nn.functional as F

        t = torch.as_tensor(x, dtype=torch.float64)
        return F.layer_norm(t, (t.shape[1],), torch.as_tensor(g), torch.as_tensor(b), eps).numpy()

    assert check_layer_norm(torch_layer_norm).passed
    r = check_layer_norm(lambda x, g, b, eps=1e-5: torch_layer_norm(x, g, b) - b)
    assert r.status == "failed" and r.hint.startswith("normalise each example (row)")


@pytest.mark.parametrize("check, course_fn", [
    (check_batch_norm_train, lambda x, g, b, eps=1e-5: course.batch_norm_train(x, g, b, eps)),
    (check_batch_norm_step, lambda *a: course.batch_norm_step(*a)),
    (check_layer_norm, lambda x, g, b, eps=1e-5: course.layer_norm(x, g, b, eps)),
    (check_batch_norm_backward, lambda dy, x, g, eps=1e-5: course.batch_norm_backward(dy, x, g)),
])
def test_calling_the_course_function_fails(check, course_fn):
    r = check(course_fn)
    assert r.status == "failed" and "course's own answer" in r.message


def test_batch_norm_backward_check():
    assert check_batch_norm_backward(batch_norm_backward).passed
    assert check_batch_norm_backward(_stub).status == "not done"

    def no_mean_term(dy, x, g, eps=1e-5):
        dx, dg, db = batch_norm_backward(dy, x, g, eps)
        return dx + g * dy.mean(0) / np.sqrt(x.var(0) + eps), dg, db

    def no_variance_term(dy, x, g, eps=1e-5):
        s = np.sqrt(x.var(0) + eps)
        x_hat = (x - x.mean(0)) / s
        return g / s * (dy - dy.mean(0)), (dy * x_hat).sum(0), dy.sum(0)

    def unbiased(dy, x, g, eps=1e-5):
        s = np.sqrt(x.var(0, ddof=1) + eps)
        x_hat = (x - x.mean(0)) / s
        dx = g / s * (dy - dy.mean(0) - x_hat * (dy * x_hat).mean(0))
        return dx, (dy * x_hat).sum(0), dy.sum(0)

    r = check_batch_norm_backward(no_mean_term)
    assert r.status == "failed" and "batch mean is missing" in r.message
    assert r.hint.startswith("y = gamma * x_hat + beta") and "dx = gamma" not in r.hint
    r = check_batch_norm_backward(no_variance_term)
    assert r.status == "failed" and "batch variance is missing" in r.message
    assert "direct path gives" in r.hint  # the second wrong answer shows the second level
    r = check_batch_norm_backward(unbiased)
    assert r.status == "failed" and "dx differs from autograd" in r.message
    assert "dx = gamma / s" in r.hint  # the third shows the recipe
    r = check_batch_norm_backward(lambda dy, x, g, eps=1e-5: (*batch_norm_backward(dy, x, g)[:2],
                                                             dy.mean(0)))
    assert r.status == "failed" and "dbeta differs" in r.message
    r = check_batch_norm_backward(lambda dy, x, g, eps=1e-5: batch_norm_backward(dy, x, g)[0])
    assert r.status == "failed" and "tuple" in r.message

    def direct_path_only(dy, x, g, eps=1e-5):
        dx, dg, db = batch_norm_backward(dy, x, g, eps)
        return g / np.sqrt(x.var(0) + eps) * dy, dg, db

    def no_gamma(dy, x, g, eps=1e-5):
        dx, dg, db = batch_norm_backward(dy, x, g, eps)
        return dx / g, dg, db

    r = check_batch_norm_backward(direct_path_only)
    assert r.status == "failed" and r.message.startswith(
        "only the direct path: the batch statistics depend on x too. dx differs from autograd")
    r = check_batch_norm_backward(no_gamma)
    assert r.status == "failed" and r.message.startswith(
        "gamma is missing from dx. dx differs from autograd")


def test_batch_norm_backward_oracle_is_autograd():
    """The check's oracle agrees with the course's hand-written backward."""
    from helpers.checks.lesson06 import autograd_batch_norm_backward

    rng = np.random.default_rng(0)
    x, dy, g = rng.normal(1, 2, (8, 3)), rng.normal(size=(8, 3)), rng.uniform(0.5, 2, 3)
    for a, b in zip(autograd_batch_norm_backward(dy, x, g), course.batch_norm_backward(dy, x, g),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
