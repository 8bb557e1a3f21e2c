"""Activation functions: one registry, NumPy functions and analytic derivatives (NumPy only).

Every activation the course uses is an entry of ``ACTIVATIONS``. Each entry knows its value
and its analytic derivative as vectorised NumPy functions, and where it saturates;
``spec.module()`` builds its ``torch.nn.Module`` through ``helpers.activation_modules``, the
torch side, which is imported only then. Importing this module never loads torch, so the
theory and the NumPy measurements work without it.

Saturation, defined once for every activation: a unit with pre-activation ``z`` is
*saturated* when ``z`` lies in a region where ``|phi'(z)|`` stays below 10% of the
activation's largest derivative. For sigmoid that is ``|z| > 3.637`` (``sigma'(z) < 0.025``),
for tanh ``|z| > 1.818``, for ELU ``z < -2.303`` (``e^z < 0.1``), for GELU ``z < -1.728`` and
for SiLU ``z < -0.882`` (their negative tails). ReLU, LeakyReLU and the identity have no
saturating region: ReLU's zero side is measured separately as *dead* units (see
``helpers.capture``), because its derivative there is exactly 0, not merely small.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, ndtr

LEAKY_SLOPE = 0.01  # PyTorch's default negative slope for LeakyReLU
ELU_ALPHA = 1.0  # PyTorch's default alpha for ELU
SATURATION_FRACTION = 0.1  # saturated where |phi'(z)| < 10% of max |phi'|


def _normal_pdf(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _relu(z):
    return np.maximum(z, 0.0)


def _relu_d(z):
    # Exactly 1 on the active side and exactly 0 elsewhere (0 at z = 0, as autograd does).
    return (z > 0).astype(z.dtype)


def _leaky(z):
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def _leaky_d(z):
    return np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype)


def _elu(z):
    return np.where(z > 0, z, ELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def _elu_d(z):
    return np.where(z > 0, 1.0, ELU_ALPHA * np.exp(np.minimum(z, 0.0))).astype(z.dtype)


def _tanh_d(z):
    # sech^2 keeps its tiny tail values; 1 - tanh^2 rounds them to exactly 0.
    with np.errstate(over="ignore"):
        return 1.0 / np.cosh(z) ** 2


@dataclass(frozen=True)
class ActivationSpec:
    """One activation: how to build it, evaluate it and differentiate it."""

    name: str  # registry key, e.g. "sigmoid"
    label: str  # human-readable name for legends, e.g. "Sigmoid"
    fn: Callable[[np.ndarray], np.ndarray]  # phi(z), vectorised NumPy
    derivative: Callable[[np.ndarray], np.ndarray]  # phi'(z), analytic, vectorised NumPy
    max_derivative: float  # max over z of |phi'(z)|
    saturation_bounds: tuple[float, float] | None  # saturated if z < lo or z > hi; None: never
    relu_like: bool  # zero (or tiny constant) slope on the whole negative side
    gain: float  # torch.nn.init.calculate_gain for this activation (1 where torch has none)

    def module(self):
        """A fresh ``torch.nn.Module`` for this activation (never in-place; imports torch)."""
        from helpers.activation_modules import get_activation

        return get_activation(self.name)

    def __repr__(self) -> str:
        return f"ActivationSpec({self.name!r}, max phi'={self.max_derivative:.4g})"


ACTIVATIONS: dict[str, ActivationSpec] = {
    spec.name: spec
    for spec in [
        ActivationSpec(
            "sigmoid", "Sigmoid", expit, lambda z: expit(z) * expit(-z),
            0.25, (-3.6369, 3.6369), False, 1.0,
        ),
        ActivationSpec(
            "tanh", "Tanh", np.tanh, _tanh_d, 1.0, (-1.8184, 1.8184), False, 5.0 / 3.0,
        ),
        ActivationSpec("relu", "ReLU", _relu, _relu_d, 1.0, None, True, math.sqrt(2.0)),
        ActivationSpec(
            "leaky_relu", "LeakyReLU", _leaky, _leaky_d,
            1.0, None, True, math.sqrt(2.0 / (1.0 + LEAKY_SLOPE**2)),
        ),
        ActivationSpec(
            "elu", "ELU", _elu, _elu_d, 1.0, (-2.3026, math.inf),
            False, 1.0,
        ),
        ActivationSpec(
            "gelu", "GELU", lambda z: z * ndtr(z),
            lambda z: ndtr(z) + z * _normal_pdf(z), 1.1289, (-1.7281, math.inf), False, 1.0,
        ),
        ActivationSpec(
            "silu", "SiLU", lambda z: z * expit(z),
            lambda z: expit(z) + z * expit(z) * expit(-z), 1.0998, (-0.8824, math.inf),
            False, 1.0,
        ),
        ActivationSpec(
            "linear", "Linear (identity)", lambda z: np.asarray(z) * 1.0,
            lambda z: np.ones_like(z), 1.0, None, False, 1.0,
        ),
    ]
}

def get_spec(name: str) -> ActivationSpec:
    """Return the registry entry for ``name``; unknown names raise ``ValueError``."""
    if not isinstance(name, str):
        raise TypeError(f"activation must be a string, one of {sorted(ACTIVATIONS)}; got {name!r}")
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; valid choices: {', '.join(ACTIVATIONS)}"
        ) from None


def _as_float_array(z) -> np.ndarray:
    arr = np.asarray(z)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"expected real numbers, got an array of dtype {arr.dtype}")
    return arr.astype(np.float64) if arr.dtype.kind != "f" else arr


def activation_fn(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """``phi`` as a NumPy-vectorised function (scalars and arrays in, same shape out)."""
    f = get_spec(name).fn
    return lambda z: f(_as_float_array(z))


def derivative(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """``phi'`` as a NumPy-vectorised analytic derivative, equal to autograd's everywhere."""
    d = get_spec(name).derivative
    return lambda z: d(_as_float_array(z))


def is_saturated(name: str, z: np.ndarray) -> np.ndarray:
    """Boolean mask: which pre-activations ``z`` lie in ``name``'s saturating region."""
    bounds = get_spec(name).saturation_bounds
    z = _as_float_array(z)
    if bounds is None:
        return np.zeros(z.shape, dtype=bool)
    return (z < bounds[0]) | (z > bounds[1])


_TORCH_SIDE = ("IdentityActivation", "MODULE_TYPES", "activation_name", "get_activation")


def __getattr__(name: str):
    # The torch side's names are also reachable from here, loaded (with torch) on first use.
    if name in _TORCH_SIDE:
        from helpers import activation_modules

        return getattr(activation_modules, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
