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
from threadpoolctl import threadpool_limits

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


def log_singular_values(factors, tol: float = 1e-6, max_passes: int = 8) -> np.ndarray:
    """Natural logs of the singular values of ``factors[-1] @ ... @ factors[0]``, descending.

    The product is never formed: its tiny singular values would drown in round-off
    (float64 resolves only those above about 1e-16 times the largest). Instead an
    orthonormal basis is pushed through the factors one at a time, re-orthonormalised by QR
    after each (the Lyapunov-exponent method), forward through ``J`` and back through
    ``J^T``; each pass is one step of subspace iteration on ``J^T J``, and the sum of the
    ``log |diag R|`` of the backward pass converges to the log singular values. Passes stop
    when no value moves by more than ``tol`` or after ``max_passes`` (for a 30-layer tanh
    network at criticality, five passes agree with a 120-digit computation to 1e-5
    decades: ``tests/test_topics_initialization.py``).
    """
    factors = [np.asarray(f, dtype=np.float64) for f in factors]
    with threadpool_limits(1, user_api="blas"):  # many small QRs: threads only contend
        return _log_singular_values(factors, tol, check_int("max_passes", max_passes, 1, 10_000))


def _log_singular_values(factors, tol, max_passes):
    n = factors[0].shape[1]
    V, previous = np.eye(n), None
    for _ in range(max_passes):
        Q = V
        for M in factors:  # J V = Q R, one factor at a time
            Q, R = np.linalg.qr(M @ Q)
            Q = Q * np.sign(np.diagonal(R))
        logs = np.zeros(n)
        for M in reversed(factors):  # J^T Q = V L; log|diag| sums to log singular values
            Q, R = np.linalg.qr(M.T @ Q)
            logs += np.log(np.abs(np.diagonal(R)))
            Q = Q * np.sign(np.diagonal(R))
        V, logs = Q, np.sort(logs)[::-1]
        if previous is not None and np.max(np.abs(logs - previous)) <= tol:
            break
        previous = logs
    return logs
