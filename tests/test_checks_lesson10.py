"""helpers.checks.lesson10: the solutions pass, stubs say not done, typical mistakes fail."""

from pathlib import Path

import pytest
import torch
from torch import nn

from helpers.checks import core
from helpers.checks.lesson10 import check_dead_fractions, check_fixed_model, check_mystery_names
from helpers.diagnose import diagnose
from tools.solutions import load_solutions

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def solved():
    """The solutions file, run in a namespace like the lesson's."""
    ns = {"torch": torch, "nn": nn, "diagnose": diagnose}
    for code in load_solutions(ROOT / "solutions" / "10_diagnose_your_own_model.py").values():
        exec(code, ns)
    return ns


def not_done(*args):
    raise NotImplementedError("Exercise")


@pytest.mark.parametrize("check", [check_dead_fractions, check_mystery_names,
                                   check_fixed_model])
def test_stubs_are_not_done(check):
    r = check(not_done)
    assert r.status == "not done" and not r.hint


def test_solutions_pass(solved):
    assert check_dead_fractions(solved["dead_fractions"]).passed
    assert check_mystery_names(solved["name_pathologies"]).passed
    assert check_fixed_model(solved["fix_mystery"]).passed


def test_dead_fraction_mistakes(solved):
    right = solved["dead_fractions"]
    off = check_dead_fractions(lambda m, X: {k: v + 0.01 for k, v in right(m, X).items()})
    assert off.status == "failed" and "measured" in off.message

    def leaves_hooks(model, X):
        for m in model.modules():
            if isinstance(m, nn.ReLU):
                m.register_forward_hook(lambda *a: None)
        return right(model, X)

    r = check_dead_fractions(leaves_hooks)
    assert r.status == "failed" and "hooks" in r.message

    # "never positive on one example" instead of "on every example": a mean, not an any
    core._ATTEMPTS.clear()
    r = check_dead_fractions(lambda m, X: {k: 0.0 for k in right(m, X)})
    assert r.status == "failed"
    second = check_dead_fractions(lambda m, X: {k: 0.0 for k in right(m, X)})
    assert second.hint != r.hint  # hints escalate


def test_dead_fraction_answers_of_the_wrong_kind(solved):
    """Each failure branch of 10.1 with one answer that trips it."""
    right = solved["dead_fractions"]

    def changes_weights(model, X):
        with torch.no_grad():
            next(model.parameters()).add_(1.0)
        return right(model, X)

    r = check_dead_fractions(changes_weights)
    assert r.status == "failed" and r.message == "your function changed the model's weights"
    r = check_dead_fractions(lambda m, X: list(right(m, X).values()))
    assert r.status == "failed" and r.message.startswith("expected a dict with keys [")
    assert r.message.endswith(", got list")
    r = check_dead_fractions(lambda m, X: dict(list(right(m, X).items())[1:]))
    assert r.status == "failed" and r.message.startswith("expected a dict with keys [")
    r = check_dead_fractions(lambda m, X: {k: "none" for k in right(m, X)})
    assert r.status == "failed" and ": you gave 'none', measured " in r.message


def test_mystery_name_mistakes():
    r = check_mystery_names(lambda ms: {"A": "saturated units", "B": "dead units",
                                        "C": "vanishing gradients"})
    assert r.status == "failed" and "C" in r.message
    r = check_mystery_names(lambda ms: {"A": "sat", "B": "dead units", "C": "x"})
    assert r.status == "failed" and "valid names" in r.message
    assert check_mystery_names(lambda ms: ["A"]).status == "failed"


def test_fix_mistakes(solved):
    # returning the broken model unchanged: still exploding
    r = check_fixed_model(lambda ms: ("C", ms["C"].model))
    assert r.status == "failed" and "exploding gradients" in r.message
    # a model that trains already is not the one to fix
    r = check_fixed_model(lambda ms: ("A", ms["A"].model))
    assert r.status == "failed" and "already reaches" in r.message
    # a different architecture is not a fix
    r = check_fixed_model(lambda ms: ("C", nn.Linear(8, 4)))
    assert r.status == "failed" and "architecture" in r.message
    assert check_fixed_model(lambda ms: ("Z", None)).status == "failed"
    assert check_fixed_model(lambda ms: "C").status == "failed"
    r = check_fixed_model(lambda ms: ("C", ms["C"].model.state_dict()))
    assert r.status == "failed" and r.message == "expected an nn.Module, got OrderedDict"

    def frozen_recurrence(ms):  # healthy by diagnose, but only the head can learn
        letter, fixed = solved["fix_mystery"](ms)
        fixed.rnn.requires_grad_(False)
        return letter, fixed

    r = check_fixed_model(frozen_recurrence)
    assert r.status == "failed"
    assert r.message.startswith("diagnosed healthy, but after 100 steps it reaches ")
    assert r.message.endswith("(needed 90%)")


@pytest.mark.parametrize("measure", ["capture_pass", "diagnose"])
def test_dead_fractions_from_the_course_tools_do_not_pass(measure):
    from helpers.diagnose import diagnose
    from helpers.recorder import capture_pass

    def shortcut(model, X):
        if measure == "diagnose":
            diagnose(model, X, None)
        else:
            capture_pass(model, X, None)
        return {}

    r = check_dead_fractions(shortcut)
    assert r.status == "failed" and f"`{measure}`" in r.message
