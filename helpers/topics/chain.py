"""The chain rule through depth: a chain of scalar neurons, and products of layer Jacobians.

Scalar chain (``scalar_chain``): ``a_0 = x0`` and, for k = 1..L,
``z_k = w_k a_{k-1} + b_k``, ``a_k = phi(z_k)``. By the chain rule

    d a_L / d a_k = prod_{j=k+1..L} w_j phi'(z_j),

a product of one *local factor* ``w_j phi'(z_j)`` per layer. The backward pass computes it
from the top down, ``d a_L / d a_{k-1} = (d a_L / d a_k) * w_k phi'(z_k)``, reusing the
``z_k`` stored by the forward pass. Since ``|phi'| <= max phi'`` (1/4 for sigmoid),

    |d a_L / d a_k| <= prod_{j=k+1..L} |w_j| * max phi'.

Matrix case (``jacobian_norms``): a network ``h_k = phi(W_k h_{k-1} + b_k)`` of equal width,
drawn and differentiated by ``helpers.jacobians`` (the course's one convention for random
networks).
The Jacobian of layer k is ``diag(phi'(z_k)) W_k``; a gradient travels backwards through
its transpose ``W_k^T diag(phi'(z_k))``. The per-layer factor is therefore the weight
matrix *and* the derivative, not ``phi'`` alone.

``over_seeds`` repeats ``jacobian_norms`` for several seeds: one network realises the
*typical* growth rate of ``log ||J_L||``, which lies below the mean-square rate
``sqrt(chi_1)`` of mean-field theory, and the spectral norm can sit far above the RMS gain
even where the RMS gain stays near 1.

Everything is computed in float64 with NumPy; ``autograd_chain_gradients``,
``autograd_input_jacobian`` and ``autograd_network_gradients`` compute the same gradients with
PyTorch autograd, as the oracle the tests (and the lesson's checks) compare with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.activations import activation_fn, derivative, get_spec
from helpers.jacobians import jacobian_layers, random_network
from helpers.validation import check_float, check_int

MAX_DEPTH = 1000
MAX_WIDTH = 1024


def _as_layers(values, name: str, depth: int | None = None) -> np.ndarray:
    """A 1-D float64 array of finite per-layer numbers (a scalar is repeated ``depth`` times)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 0 and depth is not None:
        v = np.full(depth, float(v))
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of numbers (one per layer)")
    if depth is not None and v.size != depth:
        raise ValueError(f"{name} has {v.size} entries but the chain has {depth} layers")
    if v.size > MAX_DEPTH:
        raise ValueError(f"a chain may have between 1 and {MAX_DEPTH} layers, got {v.size}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite numbers")
    return v


@dataclass(frozen=True)
class ChainResult:
    """Forward and backward pass of a scalar chain of L neurons (float64 arrays).

    Index conventions: ``a[k]`` is a_k for k = 0..L (``a[0]`` is the input); ``z``,
    ``local``, ``weights`` and ``biases`` hold layers 1..L at positions 0..L-1; ``grad[k]``
    and ``bound[k]`` refer to d a_L / d a_k for k = 0..L (``grad[L] = 1``).
    """

    activation: str  # registry name of phi
    weights: np.ndarray  # (L,) w_1..w_L
    biases: np.ndarray  # (L,) b_1..b_L
    z: np.ndarray  # (L,) pre-activations z_1..z_L, stored by the forward pass
    a: np.ndarray  # (L+1,) activations a_0..a_L
    derivative: np.ndarray  # (L,) phi'(z_1)..phi'(z_L)
    local: np.ndarray  # (L,) local factors d a_k / d a_{k-1} = w_k phi'(z_k)
    grad: np.ndarray  # (L+1,) d a_L / d a_k for k = 0..L
    bound: np.ndarray  # (L+1,) prod_{j>k} |w_j| * max phi', the bound on |grad[k]|

    @property
    def depth(self) -> int:
        return int(self.z.size)

    def __repr__(self) -> str:
        return (f"ChainResult({self.activation}, depth={self.depth}, a_L={self.a[-1]:.4g}, "
                f"d a_L/d a_0={self.grad[0]:.4g}, bound={self.bound[0]:.4g})")


def bound_to_output(weights, activation: str = "sigmoid") -> np.ndarray:
    """``prod_{j=k+1..L} |w_j| * max phi'`` for k = 0..L: the bound on ``|d a_L / d a_k|``.

    The entry for k = L is 1 (an empty product). Computed as a running product from the
    top, so that it overflows to ``inf`` or underflows to 0 exactly as the measurement can.
    """
    w = _as_layers(weights, "weights")
    factors = np.abs(w) * get_spec(activation).max_derivative  # (L,)
    with np.errstate(over="ignore", under="ignore"):
        tail = np.cumprod(factors[::-1])[::-1]  # tail[k] = prod_{j >= k} factors[j]
    return np.append(tail, 1.0)


def scalar_chain(weights, biases, activation: str, x0: float) -> ChainResult:
    """Forward pass storing every ``z_k``, then the hand-written backward pass (float64).

    Args:
        weights: w_1..w_L (the length sets the depth L).
        biases: b_1..b_L, or one number used for every layer.
        activation: a registry name (``helpers.activations.ACTIVATIONS``).
        x0: the input a_0.
    """
    w = _as_layers(weights, "weights")
    b = _as_layers(biases, "biases", depth=w.size)
    phi, dphi = activation_fn(activation), derivative(activation)
    x0 = float(x0)
    if not np.isfinite(x0):
        raise ValueError(f"x0 must be a finite number, got {x0}")
    L = w.size
    a = np.empty(L + 1)
    z = np.empty(L)
    a[0] = x0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(L):  # forward: layer k + 1
            z[k] = w[k] * a[k] + b[k]
            a[k + 1] = phi(z[k])
        d = np.asarray(dphi(z), dtype=np.float64)
        local = w * d
        grad = np.empty(L + 1)
        grad[L] = 1.0  # d a_L / d a_L
        for k in range(L, 0, -1):  # backward: multiply in one local factor per layer
            grad[k - 1] = grad[k] * local[k - 1]
    return ChainResult(activation, w, b, z, a, d, local, grad, bound_to_output(w, activation))


def autograd_chain_gradients(weights, biases, activation: str, x0: float) -> np.ndarray:
    """``d a_L / d a_k`` for k = 0..L from PyTorch autograd (float64), the reference."""
    import torch

    w = _as_layers(weights, "weights")
    b = _as_layers(biases, "biases", depth=w.size)
    phi = get_spec(activation).module()
    a = [torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)]
    for k in range(w.size):
        a.append(phi(w[k] * a[-1] + b[k]))
    for t in a[:-1]:
        t.retain_grad()
    a[-1].backward()
    return np.array([float(t.grad) for t in a[:-1]] + [1.0])


@dataclass(frozen=True)
class JacobianNorms:
    """How the input-output Jacobian of an MLP's first L layers scales with L (float64).

    ``J_L = d h_L / d h_0 = D_L W_L ... D_1 W_1`` with ``D_k = diag(phi'(z_k))``; a
    gradient arriving at h_L leaves h_0 multiplied by ``J_L^T``. Entry L-1 of each array is
    for the network made of the first L layers.
    """

    activation: str
    sigma_w: float  # weights W_ij ~ N(0, sigma_w^2 / width)
    sigma_b: float  # biases b_i ~ N(0, sigma_b^2)
    width: int
    spectral: np.ndarray  # (depth,) ||J_L||_2, the largest gain for any gradient direction
    rms: np.ndarray  # (depth,) ||J_L||_F / sqrt(width): RMS gain of a random gradient vector
    factor_norm: np.ndarray  # (depth,) ||W_k^T D_k||_2, the norm of one layer's factor
    weight_norm: np.ndarray  # (depth,) ||W_k||_2
    mean_derivative: np.ndarray  # (depth,) mean of phi'(z_k) over the units of layer k

    @property
    def depth(self) -> int:
        return int(self.spectral.size)

    def __repr__(self) -> str:
        return (f"JacobianNorms({self.activation}, sigma_w={self.sigma_w:g}, width={self.width}, "
                f"depth={self.depth}, ||J||_2 at full depth={self.spectral[-1]:.3g})")


def jacobian_norms(depth: int, width: int = 64, activation: str = "sigmoid",
                   sigma_w: float = 1.0, sigma_b: float = 0.0, seed: int = 0) -> JacobianNorms:
    """Forward through one ``helpers.jacobians.random_network``, ``J_L`` layer by layer.

    ``sigma_w``, ``sigma_b`` are the weight and bias *standard deviations* the lesson's
    sliders show (the network's variances are their squares); ``x ~ N(0, 1)`` is the input.
    """
    sigma_w = check_float("sigma_w", sigma_w, 0.0)
    sigma_b = check_float("sigma_b", sigma_b, 0.0)
    width = check_int("width", width, 1, MAX_WIDTH)
    W, b, x = random_network(depth, width, sigma_w**2, sigma_b**2, seed=seed)
    out = {k: np.empty(len(W)) for k in ("spectral", "rms", "factor", "wnorm", "mean_d")}
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for k, (d, J) in enumerate(jacobian_layers(activation, W, b, x)):
            finite = np.all(np.isfinite(J))
            out["spectral"][k] = np.linalg.norm(J, 2) if finite else np.inf
            out["rms"][k] = np.linalg.norm(J) / np.sqrt(width) if finite else np.inf
            out["factor"][k] = np.linalg.norm(W[k].T * d[None, :], 2)  # W_k^T D_k
            out["wnorm"][k] = np.linalg.norm(W[k], 2)
            out["mean_d"][k] = d.mean()
    return JacobianNorms(activation, float(sigma_w), float(sigma_b), int(width), out["spectral"],
                         out["rms"], out["factor"], out["wnorm"], out["mean_d"])


def autograd_input_jacobian(depth: int, width: int = 64, activation: str = "sigmoid",
                            sigma_w: float = 1.0, sigma_b: float = 0.0,
                            seed: int = 0) -> np.ndarray:
    """``d h_L / d h_0`` of the same network as ``jacobian_norms``, by PyTorch autograd."""
    import torch

    W, b, x = random_network(depth, width, sigma_w**2, sigma_b**2, seed=seed)
    Wt, bt = torch.from_numpy(W), torch.from_numpy(b)
    phi = get_spec(activation).module()

    def net(h):  # (width,) -> (width,)
        for k in range(depth):
            h = phi(Wt[k] @ h + bt[k])
        return h

    return torch.autograd.functional.jacobian(net, torch.from_numpy(x)).numpy()


def over_seeds(depth: int, width: int = 64, activation: str = "sigmoid", sigma_w: float = 1.0,
               seeds=range(5)) -> dict[str, np.ndarray]:
    """``jacobian_norms`` of one network per seed; one entry per seed in each array.

    Returns ``{"seeds", "rms_rate": ||J_L||_F/sqrt(width) ** (1/L), the geometric-mean RMS
    gain per layer; "rms": the RMS gain at full depth; "spectral": ||J_L||_2 at full depth}``.
    """
    runs = [jacobian_norms(depth, width, activation, sigma_w=sigma_w, seed=s) for s in seeds]
    if not runs:
        raise ValueError("seeds must name at least one seed")
    rms = np.array([r.rms[-1] for r in runs])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        rate = rms ** (1.0 / runs[0].depth)
    return {"seeds": np.array(list(seeds)), "rms_rate": rate, "rms": rms,
            "spectral": np.array([r.spectral[-1] for r in runs])}


def autograd_network_gradients(x, weights, biases, activation: str, grad_out):
    """``(grad_h, grad_W)`` of ``loss = grad_out . h_L`` by PyTorch autograd (float64).

    The network is ``h_k = phi(W_k h_{k-1} + b_k)``, ``h_0 = x``; ``grad_h[k]`` is
    ``d loss / d h_k`` for k = 0..L (``grad_h[L] = grad_out``), ``grad_W[k-1]`` is
    ``d loss / d W_k`` for k = 1..L. Lists of NumPy arrays; the widths may differ.
    """
    import torch

    phi = get_spec(activation).module()
    Ws = [torch.tensor(np.asarray(W, dtype=np.float64), requires_grad=True) for W in weights]
    h = [torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)]
    for W, b in zip(Ws, biases, strict=True):
        h.append(phi(W @ h[-1] + torch.tensor(np.asarray(b, dtype=np.float64))))
    for t in h[1:]:
        t.retain_grad()
    (h[-1] * torch.tensor(np.asarray(grad_out, dtype=np.float64))).sum().backward()
    return [t.grad.numpy().copy() for t in h], [W.grad.numpy().copy() for W in Ws]


def input_gradients(result: ChainResult) -> np.ndarray:
    """``d a_n / d a_0`` for n = 1..L: the gradient at the input of the chain's first n layers.

    A chain of depth n shares its layers with the first n of this one, so this is the
    running product of the local factors from the bottom.
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return np.cumprod(result.local)


def depth_below(result: ChainResult, threshold: float) -> int | None:
    """The smallest depth n with ``|d a_n / d a_0| < threshold`` (None if none up to L)."""
    below = np.flatnonzero(np.abs(input_gradients(result)) < threshold)
    return int(below[0]) + 1 if below.size else None
