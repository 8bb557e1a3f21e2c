"""BatchNorm and LayerNorm from scratch in NumPy, forward and backward (lesson 6's references).

They follow PyTorch's conventions exactly, so that they can be checked against
``nn.BatchNorm1d`` and ``nn.LayerNorm``:

* train mode normalises each feature with the batch mean and the *biased* batch variance
  (divide by ``B``), then applies ``gamma * x_hat + beta``;
* the running statistics are updated with the *unbiased* batch variance (divide by
  ``B - 1``): ``running = (1 - momentum) * running + momentum * batch_statistic``;
* eval mode normalises with the running statistics, so an example's output no longer
  depends on the other examples in its batch.

NumPy only: never loads torch.
"""

from __future__ import annotations

import numpy as np

from helpers.validation import check_float

EPS = 1e-5  # PyTorch's default epsilon for BatchNorm1d and LayerNorm
MOMENTUM = 0.1  # PyTorch's default momentum for the running statistics


def _as_2d(x, name: str = "x") -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (batch, features), got {x.shape}")
    return x


def batch_norm_train(x, gamma, beta, eps: float = EPS) -> np.ndarray:
    """BatchNorm's train-mode forward: normalise each feature over the batch (biased var)."""
    x = _as_2d(x)  # (batch, features)
    if x.shape[0] < 2:
        raise ValueError("train-mode BatchNorm needs at least 2 examples per batch "
                         f"(got {x.shape[0]}): one example has no variance")
    mean = x.mean(axis=0)  # (features,)
    var = x.var(axis=0)  # biased: divides by B, as the normalisation does
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def update_running_stats(running_mean, running_var, x, momentum: float = MOMENTUM):
    """New ``(running_mean, running_var)`` after one train-mode batch (unbiased variance)."""
    x = _as_2d(x)
    momentum = check_float("momentum", momentum, 0.0, 1.0)
    new_mean = (1 - momentum) * np.asarray(running_mean) + momentum * x.mean(axis=0)
    new_var = (1 - momentum) * np.asarray(running_var) + momentum * x.var(axis=0, ddof=1)
    return new_mean, new_var


def batch_norm_eval(x, gamma, beta, running_mean, running_var, eps: float = EPS) -> np.ndarray:
    """BatchNorm's eval-mode forward: normalise with the running statistics."""
    x = _as_2d(x)
    return gamma * (x - running_mean) / np.sqrt(np.asarray(running_var) + eps) + beta


def batch_norm_step(x, gamma, beta, running_mean, running_var, training: bool,
                    momentum: float = MOMENTUM, eps: float = EPS):
    """One call of a BatchNorm layer: returns ``(y, new_running_mean, new_running_var)``."""
    if training:
        y = batch_norm_train(x, gamma, beta, eps)
        new_mean, new_var = update_running_stats(running_mean, running_var, x, momentum)
        return y, new_mean, new_var
    y = batch_norm_eval(x, gamma, beta, running_mean, running_var, eps)
    return y, np.asarray(running_mean, dtype=np.float64), np.asarray(running_var, np.float64)


def batch_norm_backward(dy, x, gamma, eps: float = EPS):
    """Gradients ``(dx, dgamma, dbeta)`` of train-mode BatchNorm, given ``dy = dL/dy``.

    With ``x_hat = (x - mean) / s``, ``s = sqrt(var + eps)``, the batch statistics depend on
    every example, which gives ``dx = gamma / s * (dy - mean(dy) - x_hat * mean(dy * x_hat))``
    (means over the batch, per feature).
    """
    x, dy = _as_2d(x), _as_2d(dy, "dy")
    s = np.sqrt(x.var(axis=0) + eps)  # (features,)
    x_hat = (x - x.mean(axis=0)) / s  # (batch, features)
    dgamma = (dy * x_hat).sum(axis=0)
    dbeta = dy.sum(axis=0)
    dx = gamma / s * (dy - dy.mean(axis=0) - x_hat * (dy * x_hat).mean(axis=0))
    return dx, dgamma, dbeta


def layer_norm(x, gamma, beta, eps: float = EPS) -> np.ndarray:
    """LayerNorm: normalise each example over its own features (no batch statistics)."""
    x = _as_2d(x)
    mean = x.mean(axis=1, keepdims=True)  # (batch, 1)
    var = x.var(axis=1, keepdims=True)  # biased, as in nn.LayerNorm
    return gamma * (x - mean) / np.sqrt(var + eps) + beta
