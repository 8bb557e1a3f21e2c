"""helpers.checks.lesson06: correct answers pass, wrong ones fail with a hint, stubs are TODO."""

import numpy as np
import pytest

from helpers.checks.lesson06 import check_batch_norm_step, check_batch_norm_train, check_layer_norm
from helpers.topics.normalization import batch_norm_step, batch_norm_train, layer_norm


def _stub(*args, **kwargs):
    raise NotImplementedError("Exercise")


def test_batch_norm_train_check():
    assert check_batch_norm_train(batch_norm_train).passed
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
