"""The measurements of lesson 6: the from-scratch layers (``helpers.norm_layers``) against
PyTorch, gradient profiles with and without a norm, the per-layer growth against its
estimate (``helpers.theory.norm_growth_estimate``), the forward collapse of the plain net,
batch noise, and train- vs eval-mode accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from helpers.capture import GradientProfile, compute_loss, gradient_profile
from helpers.data import lesson_data
from helpers.growth import growth_per_layer
from helpers.models import MLPConfig, build_mlp, preserved_buffers, trace_layers
from helpers.norm_layers import (
    EPS,
    MOMENTUM,
    batch_norm_backward,
    batch_norm_step,
)
from helpers.theory import norm_growth_estimate
from helpers.validation import check_float, check_int


def random_batches(n_batches: int = 4, batch: int = 16, features: int = 5, seed: int = 0):
    """Test batches with non-zero means and unequal scales, plus random ``gamma``, ``beta``.

    Drawn in this order from ``np.random.default_rng(seed)``: each feature's mean from
    N(0, 2^2) and scale from U(0.5, 3); then ``n_batches`` arrays (batch, features) of
    mean + scale * N(0, 1); then ``gamma`` from U(0.5, 2) and ``beta`` from N(0, 1).
    """
    rng = np.random.default_rng(seed)
    loc = rng.normal(0, 2, features)
    scale = rng.uniform(0.5, 3, features)
    xs = [loc + scale * rng.standard_normal((batch, features)) for _ in range(n_batches)]
    return xs, rng.uniform(0.5, 2, features), rng.normal(0, 1, features)


def torch_batch_norm_run(batches, gamma, beta, momentum: float = MOMENTUM, eps: float = EPS):
    """Feed ``batches`` to an ``nn.BatchNorm1d`` in train mode, then each again in eval mode.

    Returns a dict of NumPy arrays: ``train_out`` and ``eval_out`` (lists, one per batch),
    ``running_mean`` and ``running_var`` (lists, after each train batch).
    """
    features = np.asarray(batches[0]).shape[1]
    bn = nn.BatchNorm1d(features, eps=eps, momentum=momentum).double()
    with torch.no_grad():
        bn.weight.copy_(torch.as_tensor(gamma))
        bn.bias.copy_(torch.as_tensor(beta))
    out = {"train_out": [], "eval_out": [], "running_mean": [], "running_var": []}
    bn.train()
    with torch.no_grad():
        for x in batches:
            out["train_out"].append(bn(torch.as_tensor(x, dtype=torch.float64)).numpy())
            out["running_mean"].append(bn.running_mean.numpy().copy())
            out["running_var"].append(bn.running_var.numpy().copy())
        bn.eval()
        for x in batches:
            out["eval_out"].append(bn(torch.as_tensor(x, dtype=torch.float64)).numpy())
    return out


def reference_run(step_fn, batches, gamma, beta, momentum: float = MOMENTUM, eps: float = EPS):
    """The same protocol as ``torch_batch_norm_run`` with a NumPy ``step_fn`` such as
    ``batch_norm_step`` (running statistics start at mean 0, variance 1, as in PyTorch)."""
    features = np.asarray(batches[0]).shape[1]
    rm, rv = np.zeros(features), np.ones(features)
    out = {"train_out": [], "eval_out": [], "running_mean": [], "running_var": []}
    for x in batches:
        y, rm, rv = step_fn(x, gamma, beta, rm, rv, True, momentum, eps)
        out["train_out"].append(np.asarray(y))
        out["running_mean"].append(np.asarray(rm))
        out["running_var"].append(np.asarray(rv))
    for x in batches:
        y, _, _ = step_fn(x, gamma, beta, rm, rv, False, momentum, eps)
        out["eval_out"].append(np.asarray(y))
    return out


def compare_with_torch(step_fn=batch_norm_step, seed: int = 0) -> dict[str, float]:
    """Largest absolute difference between ``step_fn`` and ``nn.BatchNorm1d`` per quantity,
    over the batches of ``random_batches(seed=seed)`` (``reference_run`` against
    ``torch_batch_norm_run``)."""
    batches, gamma, beta = random_batches(seed=seed)
    ours = reference_run(step_fn, batches, gamma, beta)
    theirs = torch_batch_norm_run(batches, gamma, beta)
    return {k: float(max(np.abs(a - b).max() for a, b in zip(ours[k], theirs[k], strict=True)))
            for k in theirs}


def backward_vs_autograd(seed: int = 0) -> dict[str, float]:
    """Largest absolute difference of ``batch_norm_backward`` from autograd through
    ``nn.BatchNorm1d`` (train mode) for ``dx``, ``dgamma`` and ``dbeta``, on the batch of
    ``random_batches(n_batches=1, seed=seed)`` with an upstream gradient drawn from N(0, 1) by
    ``np.random.default_rng(seed + 1)``."""
    batches, gamma, beta = random_batches(n_batches=1, seed=seed)
    x = torch.as_tensor(batches[0]).requires_grad_(True)
    dy = np.random.default_rng(seed + 1).standard_normal(batches[0].shape)
    bn = nn.BatchNorm1d(x.shape[1]).double().train()
    with torch.no_grad():
        bn.weight.copy_(torch.as_tensor(gamma))
        bn.bias.copy_(torch.as_tensor(beta))
    bn(x).backward(torch.as_tensor(dy))
    dx, dgamma, dbeta = batch_norm_backward(dy, batches[0], gamma)
    return {"dx": float(np.abs(dx - x.grad.numpy()).max()),
            "dgamma": float(np.abs(dgamma - bn.weight.grad.numpy()).max()),
            "dbeta": float(np.abs(dbeta - bn.bias.grad.numpy()).max())}


def norm_profiles(norms=(None, "batch", "layer"), *, depth: int = 20, width: int = 64,
                  activation: str = "sigmoid", init: str = "default", weight_std: float = 0.1,
                  batch: int = 256, seed: int = 0) -> dict:
    """``{norm: GradientProfile}`` for the same float64 network (same seed, same batch of
    spirals) with each normalization, measured in train mode at initialization."""
    X, y = lesson_data(batch, seed=seed)
    out = {}
    for norm in norms:
        config = MLPConfig(depth=depth, width=width, activation=activation, norm=norm, init=init,
                           weight_std=weight_std, dtype="float64", seed=seed)
        model = build_mlp(config).train()
        out[norm] = gradient_profile(model, X, y)
    return out


def norm_growth_table(activations=("relu", "tanh", "sigmoid"), norms=("batch", "layer"), *,
                      depth: int = 100, init: str = "he", seed: int = 0) -> dict:
    """``{(activation, norm): (estimate, measured)}``: ``norm_growth_estimate`` against the
    log-fitted growth per layer of ``||dL/dW||`` (first layer and read-out left out) of a
    float64 net of width 64 on 256 spiral points, at initialization."""
    out = {}
    for act in activations:
        profiles = norm_profiles(tuple(norms), depth=depth, activation=act, init=init, seed=seed)
        for norm, p in profiles.items():
            measured = growth_per_layer(p.weight_grad_norm, estimator="log_fit", skip=1)
            out[act, norm] = (norm_growth_estimate(act, norm), measured)
    return out


def forward_spread(config: MLPConfig, X=None) -> np.ndarray:
    """(depth,) spread across examples of each block's output: the std over the batch of
    every unit, averaged over units. 0 means every example gives the same output."""
    X = lesson_data()[0] if X is None else X
    model = build_mlp(config).train()
    with torch.no_grad(), preserved_buffers(model):
        trace = trace_layers(model, torch.as_tensor(X).to(next(model.parameters()).dtype))
    return np.array([float(h.std(0, unbiased=False).mean()) for h in trace.block_out])


def last_layer_identity(config: MLPConfig, X=None) -> dict[str, int]:
    """How alike the examples are at the last block's output: the number of distinct output
    vectors over the batch, and of units whose value is the same, to the last bit, for every
    example (out of ``width``)."""
    X = lesson_data()[0] if X is None else X
    model = build_mlp(config).train()
    with torch.no_grad(), preserved_buffers(model):
        X = torch.as_tensor(X).to(next(model.parameters()).dtype)
        h = trace_layers(model, X).block_out[-1]  # (examples, width)
    return {"distinct": len(torch.unique(h, dim=0)),
            "constant_units": int((h == h[0]).all(0).sum()),
            "examples": int(h.shape[0]), "width": int(h.shape[1])}


def adam_final_loss(config: MLPConfig, X, y, *, steps: int = 300, lr: float = 0.01,
                    eps: float = 1e-8) -> float:
    """Full-batch Adam with the given ``eps`` (PyTorch's default is 1e-8): final loss."""
    steps, eps = check_int("steps", steps, 1), check_float("eps", eps, 0.0, 1.0)
    model = build_mlp(config).train()
    X = torch.as_tensor(X).to(next(model.parameters()).dtype)
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=eps)
    for _ in range(steps):
        opt.zero_grad()
        loss = compute_loss(model(X), y, "cross_entropy")
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(compute_loss(model(X), y, "cross_entropy"))


@dataclass(frozen=True)
class BatchNoise:
    """Spread of BatchNorm's output for one fixed example, over random batch-mates."""

    batch_sizes: np.ndarray  # (k,) batch sizes
    spread: np.ndarray  # (k,) std over batches of the example's normalised value, mean over units
    theory: np.ndarray  # (k,) large-batch prediction sqrt((1 + x_hat^2 / 2) / B), unit mean
    n_batches: int  # batches drawn per size

    def __repr__(self) -> str:
        pairs = zip(self.batch_sizes, self.spread, strict=True)
        rows = ", ".join(f"B={b}: {s:.3f}" for b, s in pairs)
        return f"BatchNoise({rows})"


def batch_noise(batch_sizes=(4, 16, 64, 256), *, n_batches: int = 200, width: int = 32,
                population: int = 4096, seed: int = 0, features=None) -> BatchNoise:
    """How much one example's BatchNorm output changes with the other examples in its batch.

    The pre-activations of the first layer of a random network on spiral data (``width``
    units, ``population`` examples) are the population, or ``features`` if given (an
    (examples, units) array; then ``width`` and ``population`` are not used). Row 0 is the
    fixed example. For each batch size ``B``, draw ``n_batches`` batches of it plus
    ``B - 1`` random others, normalise in train mode and record its normalised value.
    Large-batch theory (the batch mean has variance ``sigma^2 / B``, the batch std about
    ``sigma^2 / (2B)``) predicts a spread of ``sqrt((1 + x_hat^2 / 2) / B)``, with ``x_hat``
    the example's value under the population's mean and std; it is exact only for Gaussian
    features (``seed`` also draws the batches).
    """
    n_batches = check_int("n_batches", n_batches, 2)
    if features is None:
        X, _ = lesson_data(check_int("population", population, 2), seed=seed)
        gen = torch.Generator().manual_seed(seed)
        layer = nn.Linear(X.shape[1], check_int("width", width, 1)).double()
        with torch.no_grad():
            layer.weight.normal_(0, 1, generator=gen)
            layer.bias.normal_(0, 1, generator=gen)
            Z = layer(X.double()).numpy()  # (population, width)
    else:
        Z = np.asarray(features, dtype=np.float64)
        if Z.ndim != 2 or len(Z) < 2 or not np.isfinite(Z).all():
            raise ValueError("features must be a finite (examples, units) array with at least "
                             f"2 examples, got shape {Z.shape}")
    population = len(Z)
    sizes = np.asarray(batch_sizes)
    if (sizes.ndim != 1 or len(sizes) == 0 or not np.issubdtype(sizes.dtype, np.integer)
            or sizes.min() < 2 or sizes.max() > population):
        raise ValueError(f"batch sizes must be integers between 2 and population={population}, "
                         f"got {batch_sizes!r}")
    sizes = sizes.astype(np.int64)
    x0, others = Z[0], Z[1:]
    x_hat = (x0 - Z.mean(0)) / Z.std(0)  # the example's value under population statistics
    rng = np.random.default_rng(seed)
    spread = []
    for b in sizes:
        values = np.empty((n_batches, Z.shape[1]))
        for i in range(n_batches):
            batch = np.vstack([x0, others[rng.choice(len(others), b - 1, replace=False)]])
            values[i] = (x0 - batch.mean(0)) / np.sqrt(batch.var(0) + EPS)
        spread.append(values.std(0).mean())
    theory = np.array([np.sqrt((1 + x_hat**2 / 2) / b).mean() for b in sizes])
    return BatchNoise(sizes, np.array(spread), theory, n_batches)


@torch.no_grad()
def mode_accuracies(model: nn.Module, X, y, batch_sizes=(2, 4, 16)) -> dict[str, float]:
    """Accuracy of ``model`` evaluated in eval mode, and in train mode on the whole data and
    on consecutive batches of each size. The model's buffers and mode are restored
    afterwards (train-mode forwards would otherwise move the running statistics)."""
    was_training = model.training
    X = torch.as_tensor(X).to(next(model.parameters()).dtype)
    y = torch.as_tensor(y)

    def acc(out):
        return float((out.argmax(1) == y).double().mean())

    with preserved_buffers(model):
        try:
            model.eval()
            result = {"eval mode": acc(model(X))}
            model.train()
            result["train mode, whole data as one batch"] = acc(model(X))
            for b in batch_sizes:
                outs = [model(X[i:i + b]) for i in range(0, len(X) - len(X) % b, b)]
                keep = len(X) - len(X) % b
                result[f"train mode, batches of {b}"] = float(
                    (torch.cat(outs).argmax(1) == y[:keep]).double().mean())
        finally:
            model.train(was_training)
    return result


def norm_explorer_profile(depth: int, activation: str, norm, batch: int, *, width: int = 64,
                          init: str = "default", seed: int = 0) -> GradientProfile:
    """The profile the normalization explorer draws: float64, spirals, train mode."""
    return norm_profiles((norm,), depth=depth, width=width, activation=activation, init=init,
                         batch=batch, seed=seed)[norm]
