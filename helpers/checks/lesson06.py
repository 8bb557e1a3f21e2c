"""Checks for lesson 6 (normalization): BatchNorm forward, running statistics, LayerNorm,
BatchNorm backward (against autograd)."""

from __future__ import annotations

import numpy as np

from helpers import norm_layers as _layers
from helpers.checks.core import CheckResult, compare, finish, run_student
from helpers.norm_layers import EPS, MOMENTUM, batch_norm_train
from helpers.topics import normalization as _norm
from helpers.topics.normalization import random_batches, torch_batch_norm_run

# Course functions that compute an exercise's answer: calling one fails the check.
FORBID_FORWARD = (_layers.batch_norm_train, _layers.batch_norm_step, _layers.batch_norm_eval,
                  _layers.update_running_stats, _layers.layer_norm, _norm.torch_batch_norm_run,
                  _norm.reference_run)
FORBID_BACKWARD = (_layers.batch_norm_backward, _norm.backward_vs_autograd, *FORBID_FORWARD)


def _inputs(seed: int = 0):
    """Batches with offset, scaled and one nearly constant feature (where eps matters)."""
    batches, gamma, beta = random_batches(n_batches=3, batch=8, features=4, seed=seed)
    tiny = batches[0].copy()
    tiny[:, 1] = 3.0 + 1e-4 * np.arange(len(tiny))  # variance ~1e-9 << eps
    return [(b, gamma, beta) for b in batches] + [(tiny, gamma, beta)]


def _matches(fn_values, reference) -> bool:
    return compare(fn_values, reference, 1e-6, 1e-9) is None


def _diagnose_bn(got, x, gamma, beta) -> str:
    """A hint naming the most likely mistake in a BatchNorm forward."""
    x = np.asarray(x)
    unbiased = gamma * (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + EPS) + beta
    no_eps = gamma * (x - x.mean(0)) / np.maximum(x.std(0), 1e-300) + beta
    rows = gamma * (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + EPS) + beta
    no_affine = (x - x.mean(0)) / np.sqrt(x.var(0) + EPS)
    if _matches(got, unbiased):
        return ("you normalised with the unbiased variance (divide by B - 1); BatchNorm "
                "normalises with the biased one (divide by B, np.var's default).")
    if _matches(got, rows):
        return ("you normalised each example over its features (axis=1): that is LayerNorm. "
                "BatchNorm normalises each feature over the batch (axis=0).")
    if _matches(got, no_affine):
        return "you returned x_hat; apply the affine step gamma * x_hat + beta."
    if _matches(got, no_eps) or not np.all(np.isfinite(np.asarray(got, dtype=float))):
        return "add eps inside the square root: sqrt(var + eps), so that tiny variances are safe."
    return ("per feature (axis=0): mean, biased variance, x_hat = (x - mean) / sqrt(var + eps), "
            "then gamma * x_hat + beta.")


def check_batch_norm_train(fn) -> CheckResult:
    """Exercise 6.1: ``fn(x, gamma, beta, eps=1e-5)`` equals BatchNorm's train-mode output."""
    for x, gamma, beta in _inputs():
        got, problem = run_student("6.1", fn, x, gamma, beta, forbid=FORBID_FORWARD)
        if problem is not None:
            return finish(problem)
        diff = compare(got, batch_norm_train(x, gamma, beta), 1e-6, 1e-9)
        if diff is not None:
            return finish(CheckResult("6.1", "failed", f"{diff}.",
                                       _diagnose_bn(got, x, gamma, beta)))
    return finish(CheckResult("6.1", "passed", "correct: your train-mode BatchNorm matches the "
                               "reference on 4 batches, including a nearly constant feature."))


def check_batch_norm_step(fn) -> CheckResult:
    """Exercise 6.2: feed the same batches to ``fn`` and to ``nn.BatchNorm1d`` in train mode,
    then in eval mode; compare outputs and running statistics after every batch."""
    batches, gamma, beta = random_batches(n_batches=4, batch=6, features=3, seed=1)
    theirs = torch_batch_norm_run(batches, gamma, beta)
    rm, rv = np.zeros(3), np.ones(3)
    for i, x in enumerate(batches):
        got, problem = run_student("6.2", fn, x, gamma, beta, rm, rv, True, MOMENTUM, EPS,
                                    forbid=FORBID_FORWARD)
        if problem is not None:
            return finish(problem)
        if not isinstance(got, tuple) or len(got) != 3:
            return finish(CheckResult("6.2", "failed", "return a tuple (y, new_running_mean, "
                                       "new_running_var).", ""))
        y, new_rm, new_rv = got
        for what, value, key in (("train-mode output", y, "train_out"),
                                 ("running mean", new_rm, "running_mean"),
                                 ("running variance", new_rv, "running_var")):
            diff = compare(value, theirs[key][i], 1e-6, 1e-9)
            if diff is not None:
                return finish(CheckResult("6.2", "failed", f"after train batch {i + 1}, the "
                                           f"{what} differs from nn.BatchNorm1d: {diff}.",
                                           _step_hint(key, value, x, rm, rv)))
        rm, rv = np.asarray(new_rm, dtype=float), np.asarray(new_rv, dtype=float)
    for i, x in enumerate(batches):
        got, problem = run_student("6.2", fn, x, gamma, beta, rm, rv, False, MOMENTUM, EPS,
                                    forbid=FORBID_FORWARD)
        if problem is not None:
            return finish(problem)
        diff = compare(got[0], theirs["eval_out"][i], 1e-6, 1e-9)
        if diff is not None:
            return finish(CheckResult(
                "6.2", "failed", f"eval-mode output for batch {i + 1} differs from "
                f"nn.BatchNorm1d.eval(): {diff}.",
                "in eval mode use the running mean and running variance, not the batch's, "
                "and return the running statistics unchanged."))
        if compare(got[1], rm, 1e-12, 0) is not None or compare(got[2], rv, 1e-12, 0) is not None:
            return finish(CheckResult("6.2", "failed", "eval mode changed the running "
                                       "statistics.", "eval mode must not update them."))
    return finish(CheckResult("6.2", "passed", "correct: outputs and running statistics match "
                               "nn.BatchNorm1d over 4 train batches and in eval mode."))


def _step_hint(key: str, value, x, rm, rv) -> str:
    m = MOMENTUM
    if key == "running_var":
        if _matches(value, (1 - m) * rv + m * x.var(0)):
            return ("the running variance uses the unbiased batch variance (np.var(x, axis=0, "
                    "ddof=1)), although the normalisation itself uses the biased one.")
        if _matches(value, m * rv + (1 - m) * x.var(0, ddof=1)):
            return ("PyTorch's momentum weights the NEW batch: "
                    "(1 - momentum) * old + momentum * new.")
    if key == "running_mean" and _matches(value, m * rm + (1 - m) * x.mean(0)):
        return "PyTorch's momentum weights the NEW batch: (1 - momentum) * old + momentum * new."
    if key == "train_out":
        return "in train mode normalise with the batch's own mean and biased variance (6.1)."
    return "running = (1 - momentum) * running + momentum * batch statistic."


def check_layer_norm(fn) -> CheckResult:
    """Exercise 6.3: ``fn(x, gamma, beta, eps=1e-5)`` equals ``nn.LayerNorm``'s output."""
    import torch
    import torch.nn.functional as F

    def reference(x, gamma, beta):
        t = torch.as_tensor(x, dtype=torch.float64)
        return F.layer_norm(t, (t.shape[1],), torch.as_tensor(gamma), torch.as_tensor(beta),
                            EPS).numpy()

    for x, gamma, beta in _inputs(seed=2):
        got, problem = run_student("6.3", fn, x, gamma, beta, forbid=FORBID_FORWARD)
        if problem is not None:
            return finish(problem)
        diff = compare(got, reference(x, gamma, beta), 1e-6, 1e-9)
        if diff is not None:
            hint = ("normalise each example (row) over its features: mean and biased variance "
                    "along axis=1 with keepdims=True, then gamma * x_hat + beta.")
            if _matches(got, batch_norm_train(x, gamma, beta)):
                hint = ("you normalised over the batch (axis=0): that is BatchNorm. "
                        + hint[0].upper() + hint[1:])
            return finish(CheckResult("6.3", "failed", f"{diff}.", hint))
    return finish(CheckResult("6.3", "passed", "correct: your LayerNorm matches "
                               "torch.nn.functional.layer_norm on 4 batches."))



BACKWARD_HINT = (
    "y = gamma * x_hat + beta with x_hat = (x - mean) / s, s = sqrt(var + eps): the batch mean "
    "and variance depend on every example, so dx has a path through each of them besides the "
    "direct one.",
    "per feature, the direct path gives gamma / s * dy, the mean's path subtracts the batch "
    "mean of dy, the variance's path subtracts x_hat times the batch mean of dy * x_hat.",
    "dx = gamma / s * (dy - dy.mean(0) - x_hat * (dy * x_hat).mean(0)), "
    "dgamma = (dy * x_hat).sum(0), dbeta = dy.sum(0).",
)


def autograd_batch_norm_backward(dy, x, gamma, eps: float = EPS):
    """``(dx, dgamma, dbeta)`` of train-mode BatchNorm by PyTorch autograd (float64)."""
    import torch
    import torch.nn.functional as F

    xt = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    g = torch.tensor(np.asarray(gamma, dtype=np.float64), requires_grad=True)
    b = torch.zeros_like(g, requires_grad=True)
    y = F.batch_norm(xt, None, None, g, b, training=True, eps=eps)  # (batch, features)
    y.backward(torch.as_tensor(np.asarray(dy, dtype=np.float64)))
    return xt.grad.numpy(), g.grad.numpy(), b.grad.numpy()


def _diagnose_backward(dx, dy, x, gamma) -> str:
    """A sentence naming a likely mistake in dx, or ""."""
    s = np.sqrt(x.var(0) + EPS)
    x_hat = (x - x.mean(0)) / s
    mean_term, var_term = dy.mean(0), x_hat * (dy * x_hat).mean(0)
    if _matches(dx, gamma / s * (dy - var_term)):
        return "the path through the batch mean is missing (the mean of dy). "
    if _matches(dx, gamma / s * (dy - mean_term)):
        return "the path through the batch variance is missing (the x_hat term). "
    if _matches(dx, gamma / s * dy):
        return "only the direct path: the batch statistics depend on x too. "
    if _matches(dx, (dy - mean_term - var_term) / s):
        return "gamma is missing from dx. "
    return ""


def check_batch_norm_backward(fn) -> CheckResult:
    """Exercise 6.4: ``fn(dy, x, gamma, eps=1e-5)`` returns ``(dx, dgamma, dbeta)`` of
    train-mode BatchNorm, compared with PyTorch autograd on 4 batches."""
    ex = "6.4"
    rng = np.random.default_rng(5)
    for x, gamma, _ in _inputs(seed=4):
        dy = rng.standard_normal(x.shape)  # (batch, features)
        got, problem = run_student(ex, fn, dy.copy(), x.copy(), gamma.copy(), hint=BACKWARD_HINT,
                                   forbid=FORBID_BACKWARD)
        if problem is not None:
            return finish(problem)
        if not isinstance(got, tuple) or len(got) != 3:
            return finish(CheckResult(ex, "failed", "return a tuple (dx, dgamma, dbeta).",
                                      BACKWARD_HINT))
        for name, value, expected in zip(("dx", "dgamma", "dbeta"), got,
                                         autograd_batch_norm_backward(dy, x, gamma), strict=True):
            diff = compare(value, expected, 1e-6, 1e-9)
            if diff is not None:
                specific = (_diagnose_backward(np.asarray(value, dtype=float), dy, x, gamma)
                            if name == "dx" and np.shape(value) == x.shape else "")
                return finish(CheckResult(ex, "failed", f"{specific}{name} differs from "
                                          f"autograd: {diff}.", BACKWARD_HINT))
    return finish(CheckResult(ex, "passed", "correct: dx, dgamma and dbeta match PyTorch "
                              "autograd on 4 batches, including a nearly constant feature."))
