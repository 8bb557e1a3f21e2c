"""Checks for lesson 0 (start here).

Exercise 0.2 has the student measure what the lesson's first chart shows, the norm of the
loss gradient for every layer's weights, with plain PyTorch; the course's own measurement
(``gradient_profile`` and the capture it is built on) is forbidden while their code runs.
"""

from __future__ import annotations

import numpy as np

from helpers.capture import gradient_profile
from helpers.checks.core import CheckResult, compare, finish, run_student
from helpers.data import spirals
from helpers.models import MLPConfig, build_mlp
from helpers.recorder import capture_pass

# (depth, width, activation, seed): small nets, a deep sigmoid one among them
GRADIENT_CASES = [(3, 8, "sigmoid", 1), (6, 16, "tanh", 2), (10, 12, "sigmoid", 3)]


def _case(depth: int, width: int, activation: str, seed: int):
    model = build_mlp(MLPConfig(depth=depth, width=width, activation=activation,
                                dtype="float64", seed=seed))
    X, y = spirals(n=64, noise=0.1, seed=seed)
    return model, X.double(), y


def _mistake(got: np.ndarray, expected: np.ndarray, model, X, y) -> str:
    """Name a common mistake of exercise 0.2 if the answer matches it, else ''."""
    if got.shape == expected.shape:
        if np.allclose(got, 2 * expected, rtol=1e-6):
            return ("the second call gave twice the gradient: PyTorch adds each backward "
                    "pass to .grad, so clear the old gradients first.")
        if np.allclose(got, expected * X.shape[0], rtol=1e-6):
            return ("your norms are the batch size times too large: the loss is the mean "
                    "over the batch (cross_entropy's default), not the sum.")
        if np.allclose(got, expected[::-1], rtol=1e-6):
            return "your list is reversed: the first entry is the first layer's."
        weights = [p.detach() for n, p in model.named_parameters() if n.endswith("weight")]
        if np.allclose(got, [float(w.norm()) for w in weights], rtol=1e-6):
            return "these are the norms of the weights themselves, not of their gradients."
    if got.size == expected.size - 1:
        return "one layer is missing: include the output layer too."
    return ""


def check_layer_gradient_norms(fn) -> CheckResult:
    """Exercise 0.2: ``fn(model, X, y)`` returns ``||dL/dW||`` for each ``nn.Linear`` weight,
    in forward order, for the mean cross-entropy loss; called twice on the same model."""
    ex = "0.2"
    hint = ("PyTorch fills each parameter's .grad when you call .backward() on the loss.",
            "the loss is the mean cross-entropy of model(X) against y; PyTorch adds every "
            "backward pass to .grad, so clear it first; the weights belong to the nn.Linear "
            "modules, in forward order.",
            "model.zero_grad(); torch.nn.functional.cross_entropy(model(X), y).backward(); "
            "then, for every module m in model.modules() that is an nn.Linear, append "
            "m.weight.grad.norm().item(), and return the list as a NumPy array.")
    forbid = (gradient_profile, capture_pass)
    for depth, width, act, seed in GRADIENT_CASES:
        model, X, y = _case(depth, width, act, seed)
        expected = gradient_profile(model, X, y).weight_grad_norm
        where = f"{act} net of depth {depth}"
        for call in ("first", "second"):
            got, problem = run_student(ex, fn, model, X, y, hint=hint, forbid=forbid)
            if problem is not None:
                return finish(problem)
            diff = compare(got, expected, rtol=1e-6, atol=1e-12)
            if diff is None:
                continue
            try:
                g = np.asarray([float(v) for v in np.ravel(np.asarray(got, dtype=object))])
            except (TypeError, ValueError):
                g = np.array([])
            return finish(CheckResult(ex, "failed", f"{where}, {call} call: {diff}.",
                                      (_mistake(g, expected, model, X, y), *hint)))
    return finish(CheckResult(ex, "passed", f"correct: your norms match the course's "
                                            f"measurement on {len(GRADIENT_CASES)} networks, "
                                            "also when called twice on the same model."))
