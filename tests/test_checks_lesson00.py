"""helpers.checks.lesson00: the solution passes, plausible wrong answers fail with the mistake
named, the course's own measurement cannot be called, a stub says TODO."""

import numpy as np
import pytest
import torch

from helpers.capture import gradient_profile
from helpers.checks import core
from helpers.checks.lesson00 import check_layer_gradient_norms

SOLUTION = """
def answer(model, X, y):
    model.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(X), y)
    loss.backward()
    norms = []
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            norms.append(m.weight.grad.norm().item())
    return np.array(norms)
"""


def _define(source):
    ns = {"np": np, "torch": torch, "gradient_profile": gradient_profile}
    exec(source, ns)
    return ns["answer"]


@pytest.fixture(autouse=True)
def _fresh_attempts(monkeypatch):
    monkeypatch.setattr(core, "_ATTEMPTS", {})


def test_solution_passes():
    r = check_layer_gradient_norms(_define(SOLUTION))
    assert r.passed and "called twice" in r.message


@pytest.mark.parametrize("old,new,words", [
    ("    model.zero_grad()\n", "", "twice the gradient"),
    ("cross_entropy(model(X), y)", "cross_entropy(model(X), y, reduction='sum')",
     "batch size times too large"),
    ("return np.array(norms)", "return np.array(norms[::-1])", "reversed"),
    ("m.weight.grad.norm()", "m.weight.norm()", "norms of the weights themselves"),
    ("return np.array(norms)", "return np.array(norms[:-1])", "include the output layer"),
])
def test_plausible_wrong_answers_fail_with_the_mistake_named(old, new, words):
    assert old in SOLUTION
    r = check_layer_gradient_norms(_define(SOLUTION.replace(old, new)))
    assert r.status == "failed" and words in r.hint


def test_calling_the_course_measurement_fails():
    r = check_layer_gradient_norms(_define(
        "def answer(model, X, y):\n    return gradient_profile(model, X, y).weight_grad_norm\n"))
    assert r.status == "failed" and "`gradient_profile`" in r.message
    assert "course's own" in r.message


def test_not_done_error_and_hint_levels():
    def stub(model, X, y):
        raise NotImplementedError("Exercise 0.2: to do")

    r = check_layer_gradient_norms(stub)
    assert r.status == "not done" and r.hint == ""
    assert check_layer_gradient_norms(lambda m, X, y: 1 / 0).status == "error"
    wrong = _define(SOLUTION.replace("m.weight.grad.norm()", "2 * m.weight.grad.norm()"))
    first = check_layer_gradient_norms(wrong).hint
    assert "further hint" in first and "zero_grad" not in first
    check_layer_gradient_norms(wrong)
    last = check_layer_gradient_norms(wrong).hint
    assert "model.zero_grad()" in last and "further hint" not in last


@pytest.mark.parametrize("old,new,message", [
    ("return np.array(norms)", "return np.array(norms) * 1.5", "value(s) differ"),
    ("return np.array(norms)", "return np.array(norms[:-2])", "expected shape"),
    ("return np.array(norms)", "return ['n/a'] * len(norms)", "expected numbers, got list"),
])
def test_other_wrong_answers_fail_without_naming_a_mistake(old, new, message):
    """Right shape but wrong values, two layers missing, not numbers: each fails with the
    comparison's own words and none of the named mistakes."""
    r = check_layer_gradient_norms(_define(SOLUTION.replace(old, new)))
    assert r.status == "failed" and message in r.message
    for words in ("twice the gradient", "batch size times", "reversed", "themselves",
                  "include the output layer"):
        assert words not in r.hint
