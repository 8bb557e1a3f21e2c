"""Checks for lesson 10 (diagnose your own model).

Every reference here is measured when the check runs: dead fractions by running each
model's layers one by one, the mystery models' pathologies by ``diagnose`` itself, and
"it trains" by training. Hints come after a wrong answer and grow more specific with
each attempt.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import torch
from torch import nn

from helpers.activation_modules import dead_unit_mask
from helpers.capture import gradient_profile
from helpers.checks.core import CheckResult, finish, run_student
from helpers.diagnose import diagnose
from helpers.findings import CATALOGUE
from helpers.recorder import capture_pass
from helpers.topics.diagnose import accuracy, mystery_models, train_briefly

# course functions that measure dead units: exercise 10.1 asks for the hooks themselves
_MEASURERS = (diagnose, capture_pass, gradient_profile, dead_unit_mask)
TRAIN_STEPS = 100  # Adam steps of train_briefly for "it trains"
TRAINS_ACCURACY = 0.9  # accuracy on its own batch that counts as "it trains"


def _dead_reference(model: nn.Module, X: torch.Tensor) -> dict:
    """Dead fraction of every nn.ReLU, found by running nested Sequentials layer by layer."""
    out: dict = {}

    def run(module, x, prefix):
        for name, child in module.named_children():
            full = f"{prefix}{name}"
            if isinstance(child, nn.Sequential):
                x = run(child, x, full + ".")
                continue
            x = child(x)
            if isinstance(child, nn.ReLU):
                alive = (x > 0).flatten(1).any(0)  # (units,) active on some example
                out[full] = 1.0 - alive.double().mean().item()
        return x

    with torch.no_grad():
        run(model, X, "")
    return out


def _dead_cases():
    gen = torch.Generator().manual_seed(3)
    planted = nn.Sequential(nn.Linear(5, 20), nn.ReLU(), nn.Linear(20, 12), nn.ReLU(),
                            nn.Linear(12, 3))
    with torch.no_grad():
        planted[0].bias[:7] = -100.0  # 7 of 20 units can never be active
        planted[2].weight[:, 10:] = 0.0
    nested = nn.Sequential(OrderedDict(
        stem=nn.Sequential(nn.Linear(6, 16), nn.ReLU()),
        body=nn.Sequential(nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 8), nn.ReLU()),
        head=nn.Linear(8, 2)))
    with torch.no_grad():
        nested.body[2].bias[:3] = -50.0
    mystery = mystery_models()["B"]
    return [(planted, torch.randn(64, 5, generator=gen)),
            (nested, torch.randn(40, 6, generator=gen)),
            (mystery.model, mystery.inputs)]


def check_dead_fractions(fn) -> CheckResult:
    """Exercise 10.1: ``fn(model, X)`` -> {name of each nn.ReLU: fraction of dead units}."""
    ex = "10.1"
    hints = ("register a forward hook on every nn.ReLU (model.named_modules() gives the "
             "qualified names), run the model once under torch.no_grad(), and remove the "
             "hooks in a finally block.",
             "a unit is one column of the ReLU's output (batch, units): it is dead if its "
             "output is 0 for every example, i.e. not (out > 0).any(dim=0).",
             "return {name: 1 - alive.float().mean().item()} with alive = (out > 0).any(0), "
             "one entry per nn.ReLU, keyed by the name named_modules() gives it.")
    for model, X in _dead_cases():
        expected = _dead_reference(model, X)
        hooks_before = sum(len(m._forward_hooks) for m in model.modules())
        state = copy.deepcopy(model.state_dict())
        got, problem = run_student(ex, fn, model, X.clone(), hint=hints, forbid=_MEASURERS)
        if problem is not None:
            return finish(problem)
        if sum(len(m._forward_hooks) for m in model.modules()) != hooks_before:
            return finish(CheckResult(ex, "failed", "your function left hooks registered on "
                                      "the model: remove every handle (handle.remove()) "
                                      "when done, even if the forward pass raises.",
                                      hints))
        if any(not torch.equal(v, model.state_dict()[k]) for k, v in state.items()):
            return finish(CheckResult(ex, "failed", "your function changed the model's weights",
                                      hints))
        if not isinstance(got, dict) or set(got) != set(expected):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            return finish(CheckResult(ex, "failed", f"expected a dict with keys "
                                      f"{sorted(expected)}, got {keys}", hints))
        for name, value in expected.items():
            try:
                ok = abs(float(got[name]) - value) < 1e-9
            except (TypeError, ValueError):
                ok = False
            if not ok:
                return finish(CheckResult(ex, "failed", f"{name}: you gave {got[name]!r}, "
                                          f"measured {value:.4f}", hints))
    return finish(CheckResult(ex, "passed", "correct on 3 models (a planted 7-of-20 dead "
                                            "layer, nested Sequentials, mystery model B); "
                                            "hooks removed, weights unchanged."))


def check_mystery_names(fn) -> CheckResult:
    """Exercise 10.2: ``fn(mysteries)`` maps "A", "B", "C" to the finding each model has."""
    ex = "10.2"
    answers, problem = run_student(ex, fn, mystery_models())
    if problem is not None:
        return finish(problem)
    if not isinstance(answers, dict) or set(answers) != {"A", "B", "C"}:
        return finish(CheckResult(ex, "failed", 'answers must be a dict with keys "A", "B", '
                                  '"C"', "e.g. {'A': 'vanishing gradients', ...}"))
    unknown = [v for v in answers.values() if v not in CATALOGUE]
    if unknown:
        return finish(CheckResult(ex, "failed", f"unknown finding(s) {unknown}; valid names: "
                                  f"{', '.join(CATALOGUE)}"))
    wrong = []
    for letter, mystery in mystery_models().items():
        found = diagnose(mystery.model, mystery.inputs, mystery.targets).names
        if answers[letter] != found[0]:
            wrong.append(letter)
    if wrong:
        hint = tuple([
            "measure each model: d = diagnose(m.model, m.inputs, m.targets), then read "
            "d.figures and compare with the checklist's thresholds.",
            "saturation and dead units are about single units (read d.saturation and "
            "d.dead_fraction); vanishing vs exploding is the direction of the spread "
            "across depth: is the first third smaller or larger than the last?",
            "the name to give is the first of d.names for each model."])
        return finish(CheckResult(ex, "failed", f"{len(wrong)} of 3 wrong: "
                                  f"{', '.join(wrong)}", hint))
    return finish(CheckResult(ex, "passed", "correct: all three named as measured."))


def check_fixed_model(fn) -> CheckResult:
    """Exercise 10.3: ``fn(mysteries)`` -> (letter, that mystery's model fixed): diagnosed
    healthy, and it trains where the original does not."""
    ex = "10.3"
    mysteries = mystery_models()
    result, problem = run_student(ex, fn, mystery_models())
    if problem is not None:
        return finish(problem)
    if not isinstance(result, tuple) or len(result) != 2:
        return finish(CheckResult(ex, "failed", "return a pair (letter, fixed model)"))
    letter, model = result
    if letter not in mysteries:
        return finish(CheckResult(ex, "failed", f"letter must be one of {sorted(mysteries)}, "
                                  f"got {letter!r}"))
    m = mysteries[letter]
    if not isinstance(model, nn.Module):
        return finish(CheckResult(ex, "failed", f"expected an nn.Module, got "
                                  f"{type(model).__name__}"))
    shapes = [tuple(p.shape) for p in m.model.parameters()]
    if [tuple(p.shape) for p in model.parameters()] != shapes:
        return finish(CheckResult(ex, "failed", "keep the architecture: the fixed model must "
                                  f"have the mystery's parameter shapes {shapes}",
                                  "change how it is initialised, not what it is."))
    original = copy.deepcopy(m.model)
    train_briefly(original, m.inputs, m.targets, steps=TRAIN_STEPS)
    if accuracy(original, m.inputs, m.targets) >= TRAINS_ACCURACY:
        return finish(CheckResult(ex, "failed", f"mystery {letter} already reaches "
                                  f"{TRAINS_ACCURACY:.0%} with train_briefly despite its "
                                  "finding: fix the one that does not learn.",
                                  "train a copy of each mystery with train_briefly and "
                                  "compare accuracy(...) on its own batch."))
    d = diagnose(model, m.inputs, m.targets, steps=20)
    if not d.healthy:
        return finish(CheckResult(ex, "failed", f"diagnose still finds: {', '.join(d.names)}",
                                  ("look at which layer the finding names, and how "
                                                 "that weight was initialised (lesson 5, 9).",
                                             "an orthogonal recurrent matrix (spectral radius "
                                             "1) keeps the signal through time neither "
                                             "growing nor shrinking.")))
    trained = copy.deepcopy(model)
    train_briefly(trained, m.inputs, m.targets, steps=TRAIN_STEPS)
    acc = accuracy(trained, m.inputs, m.targets)
    if acc < TRAINS_ACCURACY:
        return finish(CheckResult(ex, "failed", f"diagnosed healthy, but after {TRAIN_STEPS} "
                                  f"steps it reaches {acc:.0%} (needed "
                                  f"{TRAINS_ACCURACY:.0%})"))
    return finish(CheckResult(ex, "passed", f"healthy by diagnose, and it trains: {acc:.0%} "
                                            f"after {TRAIN_STEPS} steps."))
