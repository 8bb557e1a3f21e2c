"""Signal propagation measured in real networks: forward variances and backward gradients.

The theory lives in ``helpers.theory``; this module measures the same quantities in
``helpers.models`` networks so that lesson 5 can draw measurement over prediction.

Conventions (the same as the mean-field theory of Poole et al. 2016 and Schoenholz et al.
2017). Hidden layer ``l = 1..depth`` computes the pre-activation ``h_l = W_l a_{l-1} + b_l``
and the activation ``a_l = phi(h_l)``; the read-out is ``out = W_out a_depth + b_out``.
The loss is ``L = sum(out * v)`` with a fixed Gaussian ``v ~ N(0, 1)`` of the output's shape,
so the back-propagated gradients are isotropic (no direction is preferred by a task).
``delta_l = dL/dh_l`` is the gradient with respect to layer ``l``'s *pre-activation*; it obeys
``delta_l = phi'(h_l) * (W_{l+1}^T delta_{l+1})``, and in the wide-network limit
``||delta_l||^2 / ||delta_{l+1}||^2 -> chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from helpers.activations import activation_fn, derivative, get_spec
from helpers.growth import growth_per_layer
from helpers.jacobians import log_singular_values, random_network
from helpers.model_cache import ModelCache
from helpers.models import DTYPES, MLPConfig, trace_layers
from helpers.theory import chi1, chi1_grid, critical_line, q_star
from helpers.validation import check_choice, check_float, check_int

PHASE_ACTIVATIONS = ("tanh", "relu", "leaky_relu", "elu")  # GELU, SiLU: grids cost 10x more
SIGMA_W2_RANGE = (0.1, 4.0)  # the phase diagram's axes
SIGMA_B2_RANGE = (0.0, 0.3)
_model = ModelCache(maxsize=2)  # a 30-layer width-512 network is rebuilt only if its shape changes


@dataclass(frozen=True, repr=False)
class SignalProfile:
    """One forward/backward pass measured per hidden layer (arrays have ``depth`` entries)."""

    preact_second_moment: np.ndarray  # mean of h_l^2 over batch and units (= Var h_l, mean 0)
    activation_second_moment: np.ndarray  # mean of a_l^2 = phi(h_l)^2 over batch and units
    grad_sq_norm: np.ndarray  # ||dL/dh_l||^2 summed over units, averaged over the batch
    grad_second_moment: np.ndarray  # mean of (dL/dh_l)^2 over batch and units

    @property
    def depth(self) -> int:
        return len(self.grad_sq_norm)

    def __repr__(self) -> str:
        p, g = self.preact_second_moment, self.grad_sq_norm
        return (f"SignalProfile(depth={self.depth}, Var h: first {p[0]:.3g}, last {p[-1]:.3g}; "
                f"||dL/dh||^2: first {g[0]:.3g}, last {g[-1]:.3g})")


def _run(model: nn.Module, x: torch.Tensor, v_seed: int) -> SignalProfile:
    """Forward ``x`` (batch, in) through ``model``, back-propagate ``L = sum(out * v)``.

    ``h_l`` is hidden block ``l``'s Linear output and ``a_l`` its activation's output, read
    from ``trace_layers`` (so every norm position and skip connection is the model's own).
    """
    with torch.enable_grad():
        trace = trace_layers(model, x)
        hs, acts, out = trace.preact, trace.act_out, trace.output  # out: (batch, out_features)
        gen = torch.Generator().manual_seed(v_seed)
        v = torch.randn(out.shape, generator=gen, dtype=out.dtype)
        loss = (out * v).sum()
        grads = torch.autograd.grad(loss, hs)
    with torch.no_grad():
        batch = x.shape[0]
        h2 = torch.stack([(h * h).mean() for h in hs])
        a2 = torch.stack([(t * t).mean() for t in acts])
        g2 = torch.stack([(g * g).sum() / batch for g in grads])
        gm = torch.stack([(g * g).mean() for g in grads])
    as_np = lambda t: t.detach().double().numpy()  # noqa: E731
    return SignalProfile(as_np(h2), as_np(a2), as_np(g2), as_np(gm))


def variance_profile(config: MLPConfig, batch: int = 128, seed: int = 0) -> SignalProfile:
    """Per-layer ``Var h_l`` and ``||dL/dh_l||^2`` of the network ``config`` builds.

    Inputs are ``x ~ N(0, 1)`` of shape (batch, in_features) and the loss is
    ``sum(out * v)`` with ``v ~ N(0, 1)``; both are drawn from ``seed``, so configurations
    compared with the same ``seed`` see the same data (the weights follow ``config.seed``).
    """
    if not isinstance(config, MLPConfig):
        raise TypeError(f"expected an MLPConfig, got {type(config).__name__}")
    batch = check_int("batch", batch, 1, 100_000)
    model = _model(config)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, config.in_features, generator=gen, dtype=DTYPES[config.dtype])
    return _run(model, x, v_seed=seed + 1)


def fixed_point_inputs(activation: str, q: float, batch: int, width: int, seed: int = 0,
                       dtype: str = "float64") -> torch.Tensor:
    """Inputs shaped like the activations of a layer whose pre-activations have variance ``q``.

    ``x = phi(sqrt(q) z)``, ``z ~ N(0, 1)``, shape (batch, width). Fed to a layer with
    ``W ~ N(0, sigma_w2 / width)`` and ``b ~ N(0, sigma_b2)``, it gives pre-activations of
    variance ``length_map(activation, q, sigma_w2, sigma_b2)`` (in expectation), so with
    ``q = q*`` the network starts at the fixed point.
    """
    q = check_float("q", q, 0.0)
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(batch, width, generator=gen, dtype=torch.float64).numpy()
    return torch.from_numpy(activation_fn(activation)(math.sqrt(q) * z)).to(DTYPES[dtype])


def input_variance(activation: str, sigma_w2: float, sigma_b2: float = 0.0) -> float:
    """The ``q`` the measured networks start from: ``q*`` if it is finite and > 1e-8, else 1.

    Where ``q* = 0`` (e.g. tanh or ReLU with ``sigma_b2 = 0`` in the ordered phase) starting
    exactly there would feed zeros; where ``q* = inf`` (ReLU in the chaotic phase) there is
    no fixed point. Both start from ``q = 1`` instead.
    """
    q = float(q_star(activation, sigma_w2, sigma_b2))
    return q if math.isfinite(q) and q > 1e-8 else 1.0


def mean_field_profile(activation: str, sigma_w2: float, sigma_b2: float = 0.0, *,
                       depth: int = 30, width: int = 512, batch: int = 32, q0=None,
                       seed: int = 0) -> SignalProfile:
    """Measure a ``mean_field`` network (float64) whose input mimics a layer at variance ``q0``.

    ``q0`` defaults to ``input_variance(...)``. The first hidden layer has ``width`` inputs,
    so every layer has fan-in ``width`` and the read-out maps ``width`` to ``width``.
    """
    get_spec(activation)
    depth = check_int("depth", depth, 1, 1000)
    width = check_int("width", width, 2, 8192)
    batch = check_int("batch", batch, 1, 100_000)
    q0 = input_variance(activation, sigma_w2, sigma_b2) if q0 is None else float(q0)
    config = MLPConfig(depth=depth, width=width, activation=activation, init="mean_field",
                       sigma_w2=float(sigma_w2), sigma_b2=float(sigma_b2), in_features=width,
                       out_features=width, dtype="float64", seed=seed)
    x = fixed_point_inputs(activation, q0, batch, width, seed=seed + 1)
    return _run(_model(config), x, v_seed=seed + 2)


@dataclass(frozen=True, repr=False)
class GradientGrowth:
    """Measured layer-to-layer growth of ``||dL/dh_l||^2`` against the theory's ``chi_1``."""

    activation: str
    sigma_w2: float
    sigma_b2: float
    depth: int
    width: int
    seed: int
    q_star: float  # the theory's fixed point (inf if none)
    q_input: float  # the variance the network started from (see input_variance)
    chi1: float  # the theory's chi_1 = sigma_w2 E[phi'(sqrt(q*) z)^2]
    grad_sq_norm: np.ndarray  # (depth,) ||dL/dh_l||^2 per example, l = 1..depth
    preact_var: np.ndarray  # (depth,) measured Var h_l (the theory says q* in every layer)
    ratios: np.ndarray  # (depth - 1,) ||dL/dh_l||^2 / ||dL/dh_{l+1}||^2, l = 1..depth-1
    skip: int  # layers left out at each end of the fit
    growth: float  # geometric mean of ratios[skip : depth - 1 - skip]

    @property
    def prediction(self) -> np.ndarray:
        """``chi_1^(depth - l)`` times the measured last-layer value, l = 1..depth."""
        power = np.arange(self.depth - 1, -1, -1, dtype=np.float64)
        return self.grad_sq_norm[-1] * self.chi1 ** power

    @property
    def relative_error(self) -> float:
        """``growth / chi_1 - 1``."""
        return self.growth / self.chi1 - 1.0

    @property
    def phase(self) -> str:
        """'ordered', 'critical' or 'chaotic' from the theory's chi_1 (critical within 1e-3)."""
        return classify_chi1(self.chi1)

    def __repr__(self) -> str:
        return (f"GradientGrowth({self.activation}, sigma_w2={self.sigma_w2:.4g}, "
                f"sigma_b2={self.sigma_b2:.4g}, depth={self.depth}, width={self.width}: "
                f"measured growth {self.growth:.4f} vs chi_1 {self.chi1:.4f} "
                f"({100 * self.relative_error:+.2f}%), {self.phase})")


def classify_chi1(c: float, tol: float = 1e-3) -> str:
    """'critical' if ``|chi_1 - 1| <= tol``, else 'ordered' (< 1) or 'chaotic' (> 1)."""
    c = check_float("chi_1", c, 0.0, allow_inf=True)
    tol = check_float("tol", tol, 0.0)
    if abs(c - 1.0) <= tol:
        return "critical"
    return "ordered" if c < 1.0 else "chaotic"


def measure_gradient_growth(activation: str, sigma_w2: float, sigma_b2: float = 0.0,
                            depth: int = 30, width: int = 512, seed: int = 0, *,
                            batch: int = 32, skip: int = 5) -> GradientGrowth:
    """Measure the per-layer growth of the squared back-propagated gradient and compare to chi_1.

    A float64 network with ``init="mean_field"`` (``W ~ N(0, sigma_w2 / width)``,
    ``b ~ N(0, sigma_b2)``) starts at the fixed point (inputs ``phi(sqrt(q*) z)``, see
    ``input_variance``); ``L = sum(out * v)`` with Gaussian ``v``. ``grad_sq_norm[l-1]`` is
    ``||dL/dh_l||^2`` per example (pre-activation gradients, as in chi_1's definition) and
    ``growth`` the geometric mean of ``||dL/dh_l||^2 / ||dL/dh_{l+1}||^2`` over the middle
    layers (``skip`` layers left out at each end, where the read-out and the input differ
    from a typical layer). At width 512 it matches chi_1 to within a few percent
    (``tests/test_signal.py`` states and tests the tolerance).
    """
    depth = check_int("depth", depth, 3, 1000)
    skip = check_int("skip", skip, 0, (depth - 2) // 2)
    q_in = input_variance(activation, sigma_w2, sigma_b2)
    prof = mean_field_profile(activation, sigma_w2, sigma_b2, depth=depth, width=width,
                              batch=batch, q0=q_in, seed=seed)
    g = prof.grad_sq_norm
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = g[:-1] / g[1:]
    return GradientGrowth(
        activation=activation, sigma_w2=float(sigma_w2), sigma_b2=float(sigma_b2), depth=depth,
        width=width, seed=seed, q_star=float(q_star(activation, sigma_w2, sigma_b2)),
        q_input=q_in, chi1=float(chi1(activation, sigma_w2, sigma_b2)), grad_sq_norm=g,
        preact_var=prof.preact_second_moment, ratios=ratios, skip=skip,
        growth=growth_per_layer(g, estimator="ratios", skip=skip),
    )


def jacobian_factors(activation: str, sigma_w2: float, sigma_b2: float = 0.0, *,
                     init: str = "gaussian", depth: int = 30, width: int = 256,
                     seed: int = 0) -> list[np.ndarray]:
    """The per-layer factors ``D_k W_k`` (width, width) of ``d a_depth / d a_0`` at one input.

    The network is ``helpers.jacobians.random_network`` (``init`` "gaussian" or
    "orthogonal"); its input ``a_0 = phi(sqrt(q) x)``, ``x ~ N(0, 1)``, with
    ``q = input_variance(...)`` (``q*`` where finite and > 0), so every layer's
    pre-activations sit at the fixed point.
    """
    get_spec(activation)
    W, b, x = random_network(depth, width, sigma_w2, sigma_b2, init=init, seed=seed)
    phi, dphi = activation_fn(activation), derivative(activation)
    a = phi(math.sqrt(input_variance(activation, sigma_w2, sigma_b2)) * x)  # (width,)
    factors = []
    for Wk, bk in zip(W, b, strict=True):
        z = Wk @ a + bk  # (width,)
        factors.append(dphi(z)[:, None] * Wk)  # D_k W_k
        a = phi(z)
    return factors


def jacobian_singular_values(activation: str, sigma_w2: float, sigma_b2: float = 0.0, *,
                             init: str = "gaussian", depth: int = 30, width: int = 256,
                             seed: int = 0, method: str = "log_qr") -> np.ndarray:
    """Singular values (width,) of the input-output Jacobian ``d a_depth / d a_0`` at one input.

    ``method="log_qr"`` (default) accumulates them in the log domain
    (:func:`log_singular_values`), accurate however small; ``"svd"`` forms the product and
    calls ``np.linalg.svd``, whose values below about 1e-16 times the largest are round-off.
    Gaussian and orthogonal weights have the same ``E[||W x||^2]``, hence the same expected
    mean squared singular value ``chi_1^depth``; they differ in the spread.
    """
    check_choice("method", method, ("log_qr", "svd"))
    factors = jacobian_factors(activation, sigma_w2, sigma_b2, init=init, depth=depth,
                               width=width, seed=seed)
    if method == "log_qr":
        return np.exp(log_singular_values(factors))
    return np.linalg.svd(np.linalg.multi_dot(factors[::-1]) if depth > 1 else factors[0],
                         compute_uv=False)


def phase_grid(activation: str, n_w: int = 32, n_b: int = 13) -> dict:
    """chi_1 on an ``n_b x n_w`` grid over ``SIGMA_W2_RANGE x SIGMA_B2_RANGE``, and the
    critical line (``sigma_w2`` with chi_1 = 1) at each ``sigma_b2`` of the grid."""
    sw = np.linspace(*SIGMA_W2_RANGE, check_int("n_w", n_w, 2, 1000))
    sb = np.linspace(*SIGMA_B2_RANGE, check_int("n_b", n_b, 2, 1000))
    return {"sigma_w2": sw, "sigma_b2": sb, "chi1": chi1_grid(activation, sw, sb),
            "critical": critical_line(activation, sb)}
