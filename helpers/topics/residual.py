"""Residual connections: the gradient reaching each block's output, plain vs residual.

A residual block computes ``x_{l+1} = x_l + F(x_l)``; its Jacobian is ``I + dF/dx``, so

    d x_L / d x_l = prod_{k=l..L-1} (I + J_k) = I + sum_k J_k + (products of two or more J's),

which always contains the identity: a direct path for the gradient. A plain block
``x_{l+1} = F(x_l)`` has Jacobian ``J_k`` alone, and the product ``prod_k J_k`` can vanish.

``stream_profile`` measures one network at initialization: the *stream* ``x_l`` is the
output of block ``l`` (what the next block receives), and the quantities per block are
``||dL/dx_l||`` (the back-propagated signal) and the std of ``x_l`` (the forward signal).
For plain blocks and residual blocks with the norm ``"inside"`` this ``||dL/dx_l||`` equals
``GradientProfile.activation_grad_norm`` of ``helpers.capture`` (the gradient with respect to
``phi(...)`` equals the gradient with respect to ``x + phi(...)``). For ``"pre"`` and ``"post"``
the activation module is not the last operation of a block, so the block output is hooked
directly here. ``compare_plain_residual`` measures the same configuration with and without
the skip connections (same seed, same data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from helpers.capture import check_data, compute_loss
from helpers.data import lesson_data
from helpers.models import MLPConfig, build_mlp, linear_layers, preserved_buffers, trace_layers


@dataclass(frozen=True, repr=False)
class StreamProfile:
    """One forward/backward pass at initialization, measured at every block output."""

    config: MLPConfig  # the network that was measured
    grad_norm: np.ndarray  # (depth,) ||dL/dx_l||, x_l the output of hidden block l (1..depth)
    stream_std: np.ndarray  # (depth,) std of x_l over batch and units (the forward signal)
    stream_rms: np.ndarray  # (depth,) root mean square of x_l's entries (includes the mean)
    weight_grad_norm: np.ndarray  # (depth + 1,) ||dL/dW|| of hidden 1..depth, then the output
    loss: float  # cross-entropy at initialization

    @property
    def ratio(self) -> float:
        """``||dL/dx_1|| / ||dL/dx_depth||``: first over last hidden block's gradient."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.float64(self.grad_norm[0]) / self.grad_norm[-1])

    @property
    def weight_ratio(self) -> float:
        """First hidden layer's ``||dL/dW||`` over the last hidden layer's."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.float64(self.weight_grad_norm[0]) / self.weight_grad_norm[-2])

    def __repr__(self) -> str:
        c = self.config
        kind = f"residual ({c.norm_position})" if c.residual else "plain"
        return (f"StreamProfile({kind}, {c.activation}, init={c.init}, norm={c.norm}, "
                f"depth={c.depth}, width={c.width}, {c.dtype}: first/last ||dL/dx|| = "
                f"{self.ratio:.3g}, loss = {self.loss:.3g}, last stream std = "
                f"{self.stream_std[-1]:.3g})")


def stream_profile(config: MLPConfig, X=None, y=None, *, model=None) -> StreamProfile:
    """Build ``config``'s network (or use ``model``) and measure one pass on ``(X, y)``.

    ``X, y`` default to ``lesson_data()``. The model runs in train mode (BatchNorm uses
    batch statistics) and its parameters' ``.grad`` are not touched; buffers such as
    BatchNorm's running statistics are restored afterwards.
    """
    if not isinstance(config, MLPConfig):
        raise TypeError(f"config must be an MLPConfig, got {type(config).__name__}")
    if X is None:
        X, y = lesson_data()
    X, y = check_data(X, y)
    if X.ndim != 2 or X.shape[1] != config.in_features:
        raise ValueError(f"X must have shape (n_examples, {config.in_features}) for this config, "
                         f"got {tuple(X.shape)}")
    model = build_mlp(config) if model is None else model
    model.train()
    X = X.to(next(model.parameters()).dtype)
    with preserved_buffers(model), torch.enable_grad():
        trace = trace_layers(model, X)
        outputs = trace.block_out  # block outputs x_1..x_depth, each (batch, width)
        loss = compute_loss(trace.output, y, "cross_entropy")
        weights = [lin.weight for _, lin in linear_layers(model)]
        grads = torch.autograd.grad(loss, outputs + weights)
    with torch.no_grad():
        norms = torch.stack(torch._foreach_norm(list(grads))).double().numpy()
        stacked = torch.stack([o.detach() for o in outputs]).flatten(1)  # (depth, batch*width)
        stds = stacked.std(dim=1, unbiased=False).double().numpy()
        rms = stacked.double().pow(2).mean(dim=1).sqrt().numpy()
    depth = len(outputs)
    return StreamProfile(config, norms[:depth], stds, rms, norms[depth:], float(loss.detach()))


@dataclass(frozen=True, repr=False)
class ResidualComparison:
    """The same configuration measured without (``plain``) and with skip connections."""

    plain: StreamProfile
    residual: StreamProfile

    def __repr__(self) -> str:
        return f"ResidualComparison(\n  plain:    {self.plain!r}\n  residual: {self.residual!r})"


def compare_plain_residual(config: MLPConfig, X=None, y=None) -> ResidualComparison:
    """``stream_profile`` of ``config`` with ``residual=False`` and with ``residual=True``.

    Both networks share the seed (hence identical initial weights) and the data, so the
    skip connections are the only difference. ``norm_position`` affects the residual one
    only: a plain block always applies its norm between the Linear and the activation.
    """
    if X is None:
        X, y = lesson_data()
    return ResidualComparison(stream_profile(config.replace(residual=False), X, y),
                              stream_profile(config.replace(residual=True), X, y))


def residual_block_reference(x, W, b, activation: str):
    """``x + phi(x W^T + b)`` computed by the course's own ``Block`` (the exercise's oracle).

    ``x``: (batch, n), ``W``: (n, n), ``b``: (n,), as tensors or arrays; returns a tensor.
    """
    from helpers.models import Block

    x = torch.as_tensor(x, dtype=torch.float64)
    W = torch.as_tensor(W, dtype=torch.float64)
    n = W.shape[0]
    if W.shape != (n, n) or x.shape[-1] != n:
        raise ValueError(f"W must be square (n, n) with n = x.shape[-1]; got W {tuple(W.shape)}, "
                         f"x {tuple(x.shape)}")
    block = Block(n, n, activation, None, residual=True).double()
    with torch.no_grad():
        block.linear.weight.copy_(W)
        block.linear.bias.copy_(torch.as_tensor(b, dtype=torch.float64))
        return block(x)


def scalar_residual_chain_autograd(weights, x0: float, activation: str) -> float:
    """``d x_L / d x_0`` of ``x_{k+1} = x_k + w_k phi(x_k)`` by PyTorch autograd (float64)."""
    from helpers.activations import get_spec

    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size == 0 or not np.all(np.isfinite(w)) or not math.isfinite(float(x0)):
        raise ValueError("weights must be a non-empty sequence of finite numbers, x0 finite")
    phi = get_spec(activation).module()
    x = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    h = x
    for wk in w:
        h = h + float(wk) * phi(h)
    (g,) = torch.autograd.grad(h, x)
    return float(g)


def residual_stack_jacobian_autograd(x, weights, biases, activation: str) -> np.ndarray:
    """``d x_L / d x_0`` (n, n) of ``x_{k+1} = x_k + phi(W_k x_k + b_k)`` for one example
    ``x`` (n,), by ``torch.autograd.functional.jacobian`` through the course's ``Block``s."""
    from helpers.models import Block

    x = torch.as_tensor(np.asarray(x, dtype=np.float64))
    n = x.shape[0]
    blocks = []
    for W, b in zip(weights, biases, strict=True):
        block = Block(n, n, activation, None, residual=True).double()
        with torch.no_grad():
            block.linear.weight.copy_(torch.as_tensor(np.asarray(W, dtype=np.float64)))
            block.linear.bias.copy_(torch.as_tensor(np.asarray(b, dtype=np.float64)))
        blocks.append(block)

    def forward(v):  # (n,) -> (n,)
        h = v[None]  # (1, n)
        for block in blocks:
            h = block(h)
        return h[0]

    return torch.autograd.functional.jacobian(forward, x).numpy()
