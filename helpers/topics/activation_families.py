"""Activation-level measurements: dead units over a data set, per-layer gradient factors,
E[phi'(z)^2] tables and gradient flow compared across activations.

A hidden unit is *dead on a data set* when its pre-activation ``z`` is ``<= 0`` on every
example of that data set. For ReLU its derivative is then exactly 0 on every example, so
no gradient reaches the unit's incoming weights and bias at all; for LeakyReLU the same
unit still passes the gradient times 0.01, so it can move back into the active region.

The per-layer gradient factor: with ``delta_l = dL/dz_l`` and ``g_l = dL/da_l``, back-
propagation gives ``g_{l-1} = W_l^T (phi'(z_l) * g_l)``. If the weights are independent of
the back-propagated signal (the usual mean-field simplification), then::

    ||g_{l-1}||^2 / ||g_l||^2  ~  sigma_w^2 * E[phi'(z_l)^2],   sigma_w^2 = ||W_l||_F^2 / n_{l-1}

where the expectation is over ``z ~ N(0, q_l)`` and ``q_l`` is the mean of ``z_l^2``.
``gradient_factors`` measures the left side with autograd and evaluates the right side with
``helpers.theory.expected_squared_derivative``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from helpers.activation_modules import activation_name, dead_unit_mask
from helpers.activations import ACTIVATIONS, get_spec
from helpers.capture import check_data, compute_loss, gradient_profile
from helpers.growth import geometric_mean
from helpers.models import MLPConfig, build_mlp, trace_layers
from helpers.theory import expected_squared_derivative, monte_carlo_squared_derivative
from helpers.validation import check_float


def _blocks(model: nn.Module):
    blocks = getattr(model, "blocks", None)
    if blocks is None or not all(hasattr(b, "linear") and hasattr(b, "act") for b in blocks):
        raise TypeError("model must be an MLP made by helpers.models.build_mlp")
    if any(not isinstance(b.norm, nn.Identity) or b.residual for b in blocks):
        raise ValueError("this measurement needs a plain MLP (no norm, no residual blocks)")
    return list(blocks)


def _forward(model: nn.Module, X, y, loss):
    """Forward pass keeping every block's z and a; returns (zs, acts, loss_value)."""
    X, y = check_data(X, y)
    X = X.to(next(model.parameters()).dtype)
    _blocks(model)
    with torch.enable_grad():
        trace = trace_layers(model, X)  # plain blocks: z_l = W a_{l-1} + b, a_l = phi(z_l)
        value = compute_loss(trace.output, y, loss)
    return trace.preact, trace.act_out, value  # (examples, width) each


@dataclass(frozen=True, repr=False)
class DeadUnitReport:
    """Dead units per hidden layer over one data set, and the gradient that reaches them."""

    activation: str  # registry name of the hidden activation
    n_examples: int  # size of the data set the units were tested on
    width: np.ndarray  # (layers,) units per hidden layer
    dead_count: np.ndarray  # (layers,) units with z <= 0 on every example
    dead_masks: tuple  # one (width,) bool array per hidden layer
    dead_grad_norm: np.ndarray  # (layers,) ||dL/d(W, b)|| restricted to the dead units' rows
    alive_grad_norm: np.ndarray  # (layers,) the same over the other units' rows
    loss: float  # loss on the data set

    @property
    def dead_fraction(self) -> np.ndarray:
        return self.dead_count / self.width

    @property
    def total_dead(self) -> int:
        return int(self.dead_count.sum())

    def __repr__(self) -> str:
        label = ACTIVATIONS[self.activation].label if self.activation in ACTIVATIONS \
            else self.activation
        rows = [f"DeadUnitReport({label}, {self.n_examples} "
                f"examples, {self.total_dead} of {int(self.width.sum())} hidden units dead)",
                f"  {'layer':<8}{'dead':>8}{'dead %':>9}{'|grad| dead':>14}{'|grad| alive':>14}"]
        for i in range(len(self.width)):
            rows.append(f"  {i + 1:<8}{int(self.dead_count[i]):>8}"
                        f"{100 * self.dead_fraction[i]:>9.1f}{self.dead_grad_norm[i]:>14.3e}"
                        f"{self.alive_grad_norm[i]:>14.3e}")
        return "\n".join(rows)


def dead_units(model: nn.Module, X, y, loss="cross_entropy") -> DeadUnitReport:
    """Count units that are never active on the whole data set ``X`` (one full batch).

    Also returns the norm of the loss gradient on the dead units' incoming weights and
    biases (their rows of ``W`` and entries of ``b``), computed with autograd: exactly 0
    for ReLU, nonzero for LeakyReLU. The model's ``.grad`` fields are not touched.
    """
    blocks = _blocks(model)
    zs, _, value = _forward(model, X, y, loss)
    params = [p for b in blocks for p in (b.linear.weight, b.linear.bias)]
    grads = torch.autograd.grad(value, params)
    width, count, masks, dead_g, alive_g = [], [], [], [], []
    for i, z in enumerate(zs):
        mask = dead_unit_mask(z).numpy()
        gw, gb = grads[2 * i].detach(), grads[2 * i + 1].detach()  # (width, n_in), (width,)
        row_sq = (gw.double() ** 2).sum(1).numpy() + gb.double().numpy() ** 2
        masks.append(mask)
        width.append(len(mask))
        count.append(int(mask.sum()))
        dead_g.append(float(np.sqrt(row_sq[mask].sum())))
        alive_g.append(float(np.sqrt(row_sq[~mask].sum())))
    act = activation_name(blocks[0].act) or type(blocks[0].act).__name__
    return DeadUnitReport(
        activation=act, n_examples=int(zs[0].shape[0]), width=np.array(width),
        dead_count=np.array(count), dead_masks=tuple(masks), dead_grad_norm=np.array(dead_g),
        alive_grad_norm=np.array(alive_g), loss=float(value.detach()))


@torch.no_grad()
def shift_biases(model: nn.Module, shift: float) -> nn.Module:
    """Add ``shift`` to every hidden layer's bias in place (a negative shift kills units)."""
    shift = check_float("shift", shift)
    for block in _blocks(model):
        block.linear.bias += shift
    return model


@dataclass(frozen=True, repr=False)
class GradientFactors:
    """Measured and predicted per-layer factors of the back-propagated squared gradient."""

    activation: str
    q: np.ndarray  # (layers,) mean of z_l^2 in hidden layer l
    sigma_w2: np.ndarray  # (layers,) ||W_l||_F^2 / n_{l-1}
    measured: np.ndarray  # (layers - 1,) ||g_{l-1}||^2 / ||g_l||^2 for l = 2..layers (autograd)
    predicted: np.ndarray  # (layers - 1,) sigma_w2_l * E[phi'(z)^2], z ~ N(0, q_l)

    @property
    def measured_mean(self) -> float:
        """Geometric mean of the measured factors (the typical per-layer factor)."""
        return geometric_mean(self.measured)

    @property
    def predicted_mean(self) -> float:
        return geometric_mean(self.predicted)

    def __repr__(self) -> str:
        return (f"GradientFactors({self.activation}: per-layer factor measured "
                f"{self.measured_mean:.3g}, predicted {self.predicted_mean:.3g})")


def gradient_factors(model: nn.Module, X, y, loss="cross_entropy") -> GradientFactors:
    """Per hidden layer: how much the squared back-propagated gradient grows going down.

    ``measured[k]`` is ``||dL/da_k||^2 / ||dL/da_{k+1}||^2`` (0-based hidden layers) from
    autograd; ``predicted[k]`` is ``sigma_w2 * E[phi'(z)^2]`` for layer ``k + 1``, evaluated
    at that layer's measured ``q``.
    """
    blocks = _blocks(model)
    zs, acts, value = _forward(model, X, y, loss)
    g = torch.autograd.grad(value, acts)
    sq = np.array([float((gi.double() ** 2).sum()) for gi in g])
    q = np.array([float((z.detach().double() ** 2).mean()) for z in zs])
    sw2 = np.array([float((b.linear.weight.detach().double() ** 2).sum()) / b.linear.in_features
                    for b in blocks])
    act = activation_name(blocks[0].act)
    if act is None:
        raise ValueError(f"unknown activation module {type(blocks[0].act).__name__}")
    with np.errstate(divide="ignore", invalid="ignore"):
        measured = sq[:-1] / sq[1:]
    predicted = sw2[1:] * expected_squared_derivative(act, q[1:])
    return GradientFactors(act, q, sw2, measured, np.asarray(predicted, dtype=np.float64))


def small_derivative_intervals(name: str, fraction: float = 0.1,
                               z_range=(-40.0, 40.0)) -> list[tuple[float, float]]:
    """The intervals of ``z`` where ``|phi'(z)| < fraction * max |phi'|``, ends to 1e-10.

    An interval that reaches an end of ``z_range`` is reported open there (``-inf`` or
    ``inf``): every registry activation keeps its behaviour beyond ``|z| = 40``. GELU has
    two: the far negative tail and a window around the zero of its derivative.
    """
    from scipy.optimize import brentq

    spec = get_spec(name)
    fraction = check_float("fraction", fraction, 0.0, 1.0, lo_open=True)
    d = spec.derivative
    gap = lambda z: abs(float(d(np.float64(z)))) - fraction * spec.max_derivative  # noqa: E731
    z = np.linspace(*z_range, 80_001)
    small = np.abs(d(z)) < fraction * spec.max_derivative
    edges = np.flatnonzero(np.diff(small.astype(np.int8)))
    roots = [brentq(gap, z[i], z[i + 1], xtol=1e-12) for i in edges]
    bounds = ([-np.inf] if small[0] else []) + roots + ([np.inf] if small[-1] else [])
    return [(float(a), float(b)) for a, b in zip(bounds[::2], bounds[1::2], strict=True)]


def squared_derivative_table(names, q_values, n: int = 100_000, seed: int = 0) -> dict:
    """``E[phi'(z)^2]``, ``z ~ N(0, q)``, by quadrature and by Monte Carlo for each name.

    Returns ``{"names", "q", "quadrature", "monte_carlo", "std_error"}``; the last three
    are (activations, q values) arrays. Every activation and q uses the same ``seed``.
    """
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        get_spec(name)
    q = np.atleast_1d(np.asarray(q_values, dtype=np.float64))
    quad = np.array([expected_squared_derivative(name, q) for name in names])
    mc = np.zeros_like(quad)
    se = np.zeros_like(quad)
    for i, name in enumerate(names):
        for j, qj in enumerate(q):
            mc[i, j], se[i, j] = monte_carlo_squared_derivative(name, float(qj), n=n, seed=seed)
    return {"names": tuple(names), "q": q, "quadrature": quad, "monte_carlo": mc,
            "std_error": se}


@dataclass(frozen=True, repr=False)
class ActivationComparison:
    """Gradient flow of the same network with different activations (same seed, same data)."""

    names: tuple[str, ...]
    config: MLPConfig  # the configuration shared by all runs (its activation is the first)
    weight_grad_norm: np.ndarray  # (activations, layers) ||dL/dW|| per Linear layer
    factor_measured: np.ndarray  # (activations,) geometric-mean per-layer gradient factor
    factor_predicted: np.ndarray  # (activations,) sigma_w^2 E[phi'(z)^2], same mean

    @property
    def first_to_last(self) -> np.ndarray:
        """First hidden layer's ||dL/dW|| over the last hidden layer's, per activation."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.weight_grad_norm[:, 0] / self.weight_grad_norm[:, -2]

    def __repr__(self) -> str:
        c = self.config
        rows = [f"ActivationComparison(depth {c.depth}, width {c.width}, init {c.init}, "
                f"{c.dtype}, seed {c.seed})",
                f"  {'activation':<20}{'first/last |dW|':>16}{'factor meas.':>14}"
                f"{'factor pred.':>14}"]
        for i, name in enumerate(self.names):
            rows.append(f"  {ACTIVATIONS[name].label:<20}{self.first_to_last[i]:>16.3g}"
                        f"{self.factor_measured[i]:>14.3g}{self.factor_predicted[i]:>14.3g}")
        return "\n".join(rows)


def compare_activations(names, X, y, *, depth: int = 20, width: int = 64, init: str = "he",
                        dtype: str = "float64", seed: int = 0) -> ActivationComparison:
    """Build the same MLP once per activation (same seed) and measure its gradients on (X, y).

    Integer ``y`` are class labels (cross-entropy, one output per class); float ``y`` are
    regression targets (mean squared error, one output).
    """
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("names must list at least one activation")
    X, y = check_data(X, y)
    out, loss = (1, "mse") if y.is_floating_point() else (int(y.max()) + 1, "cross_entropy")
    norms, meas, pred, first = [], [], [], None
    for name in names:
        config = MLPConfig(depth=depth, width=width, activation=name, init=init, dtype=dtype,
                           seed=seed, in_features=int(X.shape[1]), out_features=out)
        first = first or config
        model = build_mlp(config)
        norms.append(gradient_profile(model, X, y, loss).weight_grad_norm)
        f = gradient_factors(model, X, y, loss)
        meas.append(f.measured_mean)
        pred.append(f.predicted_mean)
    return ActivationComparison(tuple(names), first, np.array(norms), np.array(meas),
                                np.array(pred))
