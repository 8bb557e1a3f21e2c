"""Independent references the tests compare the package with, and the helpers several test
modules share (kept out of ``helpers``)."""

import numpy as np

from helpers.activations import activation_fn, derivative
from helpers.theory import chi1


def gradient_norm_prediction(activation: str, sigma_w2, sigma_b2, depth: int) -> np.ndarray:
    """Predicted ``||dL/dh_l||^2`` relative to the last hidden layer, for l = 1..depth."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be an int >= 1, got {depth!r}")
    c = chi1(activation, float(sigma_w2), float(sigma_b2))
    return c ** np.arange(depth - 1, -1, -1, dtype=np.float64)


def scalar_residual_chain_derivative(weights, x0: float, activation: str) -> float:
    """``prod_k (1 + w_k phi'(x_k))``: the same derivative by the chain rule, in NumPy."""
    phi, dphi = activation_fn(activation), derivative(activation)
    x, total = float(x0), 1.0
    for wk in np.asarray(weights, dtype=np.float64).ravel():
        total *= 1.0 + wk * float(dphi(np.array(x)))
        x = x + wk * float(phi(np.array(x)))
    return total


def tiny_gradient_chain(in_features: int, depth: int = 100, width: int = 16, std: float = 1e-3):
    """A float64 chain of ``depth`` linear layers with N(0, std^2) weights and zero biases
    (seeded): its first layer's weight gradient is nonzero, yet the plain sum of squares of
    its entries underflows to 0 (tests of the scaled norms)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers = [nn.Linear(in_features if i == 0 else width, width, dtype=torch.float64)
              for i in range(depth)]
    model = nn.Sequential(*layers, nn.Linear(width, 2, dtype=torch.float64))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, std) if p.ndim == 2 else p.zero_()
    return model



def params_equal(a, b) -> bool:
    """Two modules hold the same parameters and buffers, bit for bit."""
    import torch

    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
