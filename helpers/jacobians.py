"""Random square networks and their input-output Jacobians (NumPy only, float64).

One convention for lessons 2 and 5. A network of ``depth`` layers of equal ``width`` maps
``a_0`` to ``a_L`` by

    z_k = W_k a_{k-1} + b_k,   a_k = phi(z_k),   k = 1..L,

with ``W_k ~ N(0, sigma_w2 / width)`` (or ``sqrt(sigma_w2)`` times a Haar-random orthogonal
matrix) and ``b_k ~ N(0, sigma_b2)``: ``sigma_w2`` and ``sigma_b2`` are *variances*, as in
the mean-field theory of ``helpers.theory``. The Jacobian after ``k`` layers is

    J_k = d a_k / d a_0 = D_k W_k J_{k-1},   D_k = diag(phi'(z_k)),   J_0 = I,

accumulated layer by layer by ``jacobian_layers``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import numpy as np

from helpers.activations import activation_fn, derivative
from helpers.validation import check_choice, check_float, check_int, check_seed

JACOBIAN_INITS = ("gaussian", "orthogonal")
MAX_DEPTH = 1000
MAX_WIDTH = 4096


def _orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random n x n orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diagonal(r))[None, :]


def random_network(depth: int, width: int, sigma_w2: float, sigma_b2: float = 0.0, *,
                   init: str = "gaussian", seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights ``(depth, width, width)``, biases ``(depth, width)`` and a draw ``x`` (width,).

    ``x ~ N(0, 1)`` is drawn last (callers scale or map it into an input). With
    ``init="gaussian"`` one seed gives the same draws for every ``sigma_w2`` (scaled
    copies), so compared weight scales differ in nothing else.
    """
    depth = check_int("depth", depth, 1, MAX_DEPTH)
    width = check_int("width", width, 1, MAX_WIDTH)
    sigma_w2 = check_float("sigma_w2", sigma_w2, 0.0)
    sigma_b2 = check_float("sigma_b2", sigma_b2, 0.0)
    check_choice("init", init, JACOBIAN_INITS)
    rng = np.random.default_rng(check_seed(seed))
    if init == "gaussian":
        W = rng.standard_normal((depth, width, width)) * (np.sqrt(sigma_w2) / np.sqrt(width))
    else:
        W = np.sqrt(sigma_w2) * np.stack([_orthogonal(width, rng) for _ in range(depth)])
    b = rng.standard_normal((depth, width)) * np.sqrt(sigma_b2)
    x = rng.standard_normal(width)
    return W, b, x


def jacobian_layers(activation: str, W: np.ndarray, b: np.ndarray,
                    a0: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(d, J_k)`` for k = 1..L: ``d = phi'(z_k)`` (width,), ``J_k`` (width, width).

    Overflow is not an error here: a value that overflows becomes inf (the caller flags it).
    """
    phi, dphi = activation_fn(activation), derivative(activation)
    a = np.asarray(a0, dtype=np.float64)
    J = np.eye(a.shape[0])
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for Wk, bk in zip(W, b, strict=True):
            z = Wk @ a + bk  # (width,)
            d = dphi(z)  # (width,) the diagonal of D_k
            a = phi(z)
            J = d[:, None] * (Wk @ J)  # (width, width): D_k W_k J_{k-1}
            yield d, J


def input_output_jacobian(activation: str, W: np.ndarray, b: np.ndarray,
                          a0: np.ndarray) -> np.ndarray:
    """``J_L = d a_L / d a_0`` (width, width), the last of ``jacobian_layers``."""
    (_, last), = deque(jacobian_layers(activation, W, b, a0), maxlen=1)  # keeps only J_L
    return last
