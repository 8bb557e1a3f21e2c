"""helpers.checks.lesson08: correct answers pass, typical mistakes fail with a hint."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.checks.lesson08 import (
    check_first_step,
    check_rescue,
    check_training_loop,
    stalled_config,
)
from helpers.training import train


def not_done(*args):
    raise NotImplementedError("Exercise")


# 8.1
def good_first(history, target):
    for step, acc in zip(history.steps, history.test_accuracy, strict=True):
        if acc >= target:
            return int(step)
    return None


def test_first_step_passes():
    assert check_first_step(good_first).passed


@pytest.mark.parametrize("bad, phrase", [
    (lambda h, t: next((i for i, a in enumerate(h.test_accuracy) if a >= t), None), "index"),
    (lambda h, t: next((int(s) for s, a in zip(h.steps, h.test_accuracy) if a > t), None),
     "use >="),
    (lambda h, t: next((int(s) for s, a in zip(h.steps, h.accuracy) if a >= t), None),
     "test_accuracy"),
    (lambda h, t: next((int(s) for s, a in zip(h.steps, h.test_accuracy) if a >= t), -1),
     "return None"),
])
def test_first_step_mistakes(bad, phrase):
    r = check_first_step(bad)
    assert r.status == "failed" and phrase in r.hint


@pytest.mark.parametrize("got", [None, True, 261, [260], "ten"])
def test_first_step_other_wrong_answers_name_no_mistake(got):
    """Answers that match no known mistake (the first history reaches 0.9 at step 260) get
    the plain hint, whatever their type; a list or a string does not crash the check."""
    first = check_first_step(good_first)
    assert first.passed and first.message == ("correct on 5 histories (including one that "
                                              "never reaches the target and one with a NaN).")
    r = check_first_step(lambda h, t: got)
    assert r.status == "failed"
    assert r.message == (f"with target 0.9 and 31 records you returned {got!r}, "
                         "expected 260.")
    assert r.hint.startswith("history.steps says which training step")


@pytest.mark.parametrize("got", ["260", 260.0, np.float64(260)])
def test_first_step_right_number_wrong_type(got):
    r = check_first_step(lambda h, t: got)
    assert r.status == "failed"
    assert r.hint.startswith(f"right step, but return it as an int, not a {type(got).__name__}. "
                             "history.steps says")


def test_first_step_not_done_error_strict(monkeypatch):
    assert check_first_step(not_done).status == "not done"
    assert check_first_step(lambda *a: 1 / 0).status == "error"
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError):
        check_first_step(not_done)


# 8.2
def loop(model, X, y, steps, lr, momentum=0.9, after=False, biases=False, buffer=False):
    """The exercise's loop; the flags plant mistakes: record after the update, the biases'
    norms, or the momentum buffer's (equal to the gradient only at the first step)."""
    params = [m for m in model.modules() if isinstance(m, nn.Linear)]
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    losses, norms = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        losses.append(loss.item())
        if after or buffer:
            opt.step()
        grads = [opt.state[m.weight]["momentum_buffer"] if buffer
                 else (m.bias if biases else m.weight).grad for m in params]
        norms.append([g.norm().item() for g in grads])
        if not (after or buffer):
            opt.step()
    return np.array(losses), np.array(norms)


def test_training_loop_passes():
    assert check_training_loop(loop).passed


def test_training_loop_plain_sgd_gets_a_specific_hint():
    r = check_training_loop(lambda *a: loop(*a, momentum=0.0))
    assert r.status == "failed" and "momentum" in r.hint


def test_training_loop_bias_norms_fail_at_the_first_step():
    r = check_training_loop(lambda *a: loop(*a, biases=True))
    assert r.status == "failed" and "first step" in r.hint


def test_training_loop_later_differences_get_the_plain_hint():
    """Wrong only after the first step: the first step's norms match train's, so no hint
    about them; a momentum of 0.5 shows in the losses; non-numbers do not crash the check."""
    for wrong, name in ((lambda *a: loop(*a, buffer=True), "grad_norms"),
                        (lambda *a: loop(*a, momentum=0.5), "losses"),
                        (lambda *a: ([None] * a[3], loop(*a)[1]), "losses")):
        r = check_training_loop(wrong)
        assert r.status == "failed" and r.message.startswith(f"{name}: "), r.message
        assert r.hint.startswith("record before optimizer.step(): the loss"), r.hint


def test_calling_train_does_not_pass():
    """helpers.training.train is reachable from the notebook; it cannot do momentum."""
    def shortcut(model, X, y, steps, lr):
        h = train(model, X, y, steps=steps, lr=lr, optimizer="sgd", record_every=1)
        return h.loss, h.grad_norm

    assert not check_training_loop(shortcut).passed


def test_training_loop_wrong_shape_and_not_done():
    assert check_training_loop(lambda *a: 3.0).status == "failed"
    assert check_training_loop(not_done).status == "not done"


# 8.3
def test_rescue_with_batchnorm_passes():
    r = check_rescue(lambda s: s.replace(norm="batch"))
    assert r.passed and "re-estimated" in r.message


def test_rescue_by_init_alone_fails_after_training():
    r = check_rescue(lambda s: s.replace(init="xavier"))
    assert r.status == "failed" and "below 90%" in r.message


def test_rescue_may_not_change_the_activation_or_depth():
    r = check_rescue(lambda s: s.replace(activation="relu", init="he"))
    assert r.status == "failed" and "activation" in r.message
    r = check_rescue(lambda s: s.replace(depth=3))
    assert r.status == "failed" and "depth" in r.message
    assert check_rescue(lambda s: "batch").status == "failed"
    assert check_rescue(not_done).status == "not done"
    assert stalled_config().activation == "sigmoid" and stalled_config().depth == 20


def test_returning_the_course_answer_does_not_pass():
    from helpers.topics.training import first_step_at

    def shortcut(history, target):
        return first_step_at(history.steps, history.test_accuracy, target)

    r = check_first_step(shortcut)
    assert r.status == "failed" and "`first_step_at`" in r.message
