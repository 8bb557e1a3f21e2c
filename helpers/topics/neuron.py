"""A single neuron ``a = phi(w x + b)`` and how often Gaussian inputs saturate it (NumPy only).

Saturation uses the course-wide definition of ``helpers.activations``: ``z`` is saturated
where ``|phi'(z)|`` stays below 10% of its maximum, i.e. ``z`` outside
``saturation_bounds = (lo, hi)`` (for sigmoid ``|z| > 3.6369``, for tanh ``|z| > 1.8184``).

For inputs ``x ~ N(0, 1)`` the pre-activation ``z = w x + b`` is ``N(b, w^2)``, so the
saturated fraction has a closed form with the standard normal CDF ``Phi``:

    P(z < lo) + P(z > hi) = Phi((lo - b) / |w|) + Phi((b - hi) / |w|)      (w != 0).

With ``w = 0`` every input gives ``z = b``: the fraction is 1 if ``b`` is saturated, else 0.
``saturated_fraction_mc`` estimates the same number by sampling, with a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from helpers.activations import activation_fn, derivative, get_spec, is_saturated
from helpers.validation import check_int, check_seed

Z_RANGE = (-12.0, 12.0)  # the z window drawn by the neuron explorer


def saturation_bounds(activation: str = "sigmoid") -> tuple[float, float] | None:
    """``(lo, hi)``: ``z`` is saturated when ``z < lo`` or ``z > hi``; ``None`` if never."""
    return get_spec(activation).saturation_bounds


def _finite(name: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def saturated_fraction(w, b=0.0, activation: str = "sigmoid"):
    """Exact fraction of inputs ``x ~ N(0, 1)`` for which ``z = w x + b`` is saturated.

    ``w`` and ``b`` may be arrays (they broadcast); returns a float for scalar inputs.
    """
    w, b = np.broadcast_arrays(_finite("w", w), _finite("b", b))
    bounds = saturation_bounds(activation)
    if bounds is None:
        out = np.zeros(w.shape)
    else:
        lo, hi = bounds
        s = np.abs(w)
        safe = np.where(s > 0, s, 1.0)
        with np.errstate(invalid="ignore"):  # (+-inf - b) / s is fine; inf - inf does not occur
            tails = ndtr((lo - b) / safe) + ndtr((b - hi) / safe)
        out = np.where(s > 0, tails, ((b < lo) | (b > hi)).astype(np.float64))
    return out if out.ndim else float(out)


def saturated_fraction_mc(w, b=0.0, activation: str = "sigmoid", n: int = 100_000,
                          seed: int = 0) -> tuple[float, float]:
    """Monte Carlo estimate of ``saturated_fraction(w, b)`` and its standard error.

    Draws ``n`` inputs ``x ~ N(0, 1)`` from ``seed``; the same seed gives the same inputs
    for every ``w`` and ``b``, so compared settings differ only in the neuron.
    """
    n = check_int("n", n, 2)
    w, b = float(_finite("w", w)), float(_finite("b", b))
    get_spec(activation)
    x = np.random.default_rng(check_seed(seed)).standard_normal(n)
    p = float(is_saturated(activation, w * x + b).mean())
    return p, math.sqrt(p * (1.0 - p) / n)


def saturated_fraction_curve(w_values, b: float = 0.0, activations=("sigmoid", "tanh"),
                             mc_w_values=None, n: int = 100_000, seed: int = 0) -> dict:
    """Saturated fraction against ``w`` for a fixed ``b``, per activation.

    Returns ``{"w": w_values, "b": b, "exact": {name: array}, "mc_w": mc_w_values,
    "mc": {name: array}, "mc_se": {name: array}}`` (Monte Carlo only where asked).
    """
    names = [activations] if isinstance(activations, str) else list(activations)
    w = _finite("w_values", w_values).ravel()
    mc_w = np.asarray([] if mc_w_values is None else mc_w_values, dtype=np.float64).ravel()
    out = {"w": w, "b": float(b), "exact": {}, "mc_w": mc_w, "mc": {}, "mc_se": {}}
    for name in names:
        out["exact"][name] = np.asarray(saturated_fraction(w, b, name), dtype=np.float64)
        est = [saturated_fraction_mc(v, b, name, n=n, seed=seed) for v in mc_w]
        out["mc"][name] = np.array([e[0] for e in est])
        out["mc_se"][name] = np.array([e[1] for e in est])
    return out


def _normal_pdf(z, mean: float, std: float) -> np.ndarray:
    return np.exp(-0.5 * ((z - mean) / std) ** 2) / (std * math.sqrt(2.0 * math.pi))


@dataclass(frozen=True, repr=False)
class NeuronState:
    """One neuron ``a = phi(w x + b)`` at one input, and its Gaussian-input statistics."""

    activation: str
    x: float  # the chosen input
    w: float  # weight
    b: float  # bias
    z: float  # pre-activation w x + b
    a: float  # phi(z)
    slope: float  # phi'(z) = da/dz
    grad_w: float  # da/dw = x phi'(z)
    grad_b: float  # da/db = phi'(z)
    grad_x: float  # da/dx = w phi'(z)
    saturated: bool  # is this z in the saturating region?
    bounds: tuple[float, float] | None  # saturation bounds of the activation
    fraction: float  # exact saturated fraction for x ~ N(0, 1)
    fraction_mc: float  # Monte Carlo estimate of it
    fraction_se: float  # its standard error
    n: int  # Monte Carlo sample size
    seed: int  # Monte Carlo seed
    z_grid: np.ndarray  # (n_grid,) z values for the curves and the density
    density: np.ndarray  # (n_grid,) pdf of z = w x + b (zeros if w = 0)
    density_saturated: np.ndarray  # (n_grid,) the same pdf where z is saturated, NaN elsewhere
    hist_centers: np.ndarray  # (bins,) centres of the Monte Carlo histogram
    hist_density: np.ndarray  # (bins,) sampled z as a density (mass outside Z_RANGE not drawn)
    outside: float  # fraction of sampled z outside the drawn window

    def __repr__(self) -> str:
        return (f"NeuronState({self.activation}: x={self.x:.3g}, w={self.w:.3g}, b={self.b:.3g}, "
                f"z={self.z:.4g}, a={self.a:.4g}, phi'={self.slope:.4g}, saturated fraction "
                f"{self.fraction:.4f} exact, {self.fraction_mc:.4f} +- {self.fraction_se:.4f} MC)")


def neuron_state(x: float, w: float, b: float, activation: str = "sigmoid", n: int = 50_000,
                 seed: int = 0, z_range=Z_RANGE, grid: int = 481, bins: int = 60) -> NeuronState:
    """Everything the neuron explorer draws, for one ``(x, w, b)``."""
    x, w, b = float(_finite("x", x)), float(_finite("w", w)), float(_finite("b", b))
    lo_z, hi_z = (float(v) for v in z_range)
    if not lo_z < hi_z:
        raise ValueError(f"z_range must satisfy lo < hi, got {z_range}")
    f, d = activation_fn(activation), derivative(activation)
    z = w * x + b
    slope = float(d(z))
    z_grid = np.linspace(lo_z, hi_z, grid)
    density = _normal_pdf(z_grid, b, abs(w)) if w != 0 else np.zeros(grid)
    sat = is_saturated(activation, z_grid)
    samples = w * np.random.default_rng(seed).standard_normal(int(n)) + b
    edges = np.linspace(lo_z, hi_z, bins + 1)
    counts, _ = np.histogram(samples, bins=edges)
    p_mc, se = saturated_fraction_mc(w, b, activation, n=n, seed=seed)
    return NeuronState(
        activation=activation, x=x, w=w, b=b, z=z, a=float(f(z)), slope=slope,
        grad_w=x * slope, grad_b=slope, grad_x=w * slope,
        saturated=bool(is_saturated(activation, np.array(z))),
        bounds=saturation_bounds(activation), fraction=saturated_fraction(w, b, activation),
        fraction_mc=p_mc, fraction_se=se, n=int(n), seed=int(seed), z_grid=z_grid,
        density=density, density_saturated=np.where(sat, density, np.nan),
        hist_centers=0.5 * (edges[:-1] + edges[1:]),
        hist_density=counts / (n * np.diff(edges)),
        outside=float(np.mean((samples < lo_z) | (samples > hi_z))),
    )
