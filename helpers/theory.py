"""The analytic side of the course (NumPy only): derivative bounds and mean-field theory.

Gaussian expectations ``E[f(z)]``, ``z ~ N(0, 1)``, are computed by Gauss-Legendre
quadrature on ``[-12, 0]`` and ``[0, 12]`` with 160 nodes each. Splitting at 0 puts the kink
of ReLU-like functions on a boundary, so every integrand is smooth on each piece and the
rule converges exponentially; the mass beyond 12 standard deviations is below 1e-32. For
every registry activation the result agrees with closed forms and with adaptive quadrature
to better than 1e-10 (tested in ``tests/test_theory.py``).

Mean-field signal propagation (Poole et al. 2016; Schoenholz et al. 2017) for a network
with weights ``W_ij ~ N(0, sigma_w2 / fan_in)`` and biases ``b_i ~ N(0, sigma_b2)``:

* length map: ``q_l = sigma_w2 * E[phi(sqrt(q_{l-1}) z)^2] + sigma_b2`` (``q`` is the
  variance of a pre-activation), with fixed point ``q*``;
* ``chi_1 = sigma_w2 * E[phi'(sqrt(q*) z)^2]``: the factor by which the squared norm of the
  back-propagated gradient grows from one layer to the one below it. ``chi_1 < 1`` is the
  ordered phase (gradients vanish like ``chi_1^depth``), ``chi_1 > 1`` the chaotic phase
  (they explode), ``chi_1 = 1`` the critical line;
* depth scale ``1 / |ln chi_1|``: the number of layers over which the squared gradient
  norm changes by a factor ``e``.
"""

from __future__ import annotations

import math

import numpy as np

from helpers.activations import activation_fn, derivative, get_spec
from helpers.validation import check_choice, check_float, check_int, check_seed

_HALF_WIDTH = 12.0
_NODES = 160


def _make_rule() -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(_NODES)
    t = (x + 1.0) * (_HALF_WIDTH / 2.0)  # nodes on [0, 12]
    wt = w * (_HALF_WIDTH / 2.0) * np.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)
    return np.concatenate([-t[::-1], t]), np.concatenate([wt[::-1], wt])


_Z, _W = _make_rule()  # nodes and weights of E[f(z)], z ~ N(0, 1); cheap (~0.1 ms)


def gaussian_expectation(f, q=1.0) -> np.ndarray:
    """``E[f(sqrt(q) z)]`` for ``z ~ N(0, 1)``; ``q`` may be an array (vectorised)."""
    q = np.asarray(q, dtype=np.float64)
    if np.any(~np.isfinite(q)) or np.any(q < 0):
        raise ValueError("variances q must be finite and >= 0")
    # A tiny floor keeps the limit q -> 0 well defined for ReLU's step derivative.
    s = np.sqrt(np.maximum(q, 1e-300))[..., None]
    return f(s * _Z) @ _W


def _check_activation_and_q(activation: str, q):
    get_spec(activation)
    q = np.asarray(q, dtype=np.float64) if not isinstance(q, (int, float)) else float(q)
    if np.any(np.asarray(q) < 0) or not np.all(np.isfinite(q)):
        raise ValueError(f"the variance q must be finite and >= 0, got {q}")
    return q


def sigmoid_derivative_bound(depth) -> float:
    """``0.25 ** depth``: the largest possible product of ``depth`` sigmoid derivatives."""
    return 0.25 ** check_int("depth", depth, 0)


def chain_bound(weights, activation: str = "sigmoid") -> np.ndarray:
    """Bounds on ``|d a_k / d a_0|`` for a chain of scalar neurons, k = 1..len(weights).

    ``|d a_k / d a_0| = prod_j |w_j phi'(z_j)| <= prod_j |w_j| * max phi'``, so for
    sigmoid the bound after k layers is ``prod_{j<=k} |w_j| / 4^k``.
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)):
        raise ValueError("weights must be a non-empty 1-D sequence of finite numbers")
    return np.cumprod(np.abs(w) * get_spec(activation).max_derivative)


def expected_squared_derivative(activation: str, q=1.0):
    """``E[phi'(z)^2]`` for ``z ~ N(0, q)`` (``q`` scalar or array)."""
    q = _check_activation_and_q(activation, q)
    d = derivative(activation)
    return gaussian_expectation(lambda x: d(x) ** 2, q)


def monte_carlo_squared_derivative(activation: str, q=1.0, n: int = 100_000, seed: int = 0):
    """Monte Carlo estimate of ``E[phi'(z)^2]``, ``z ~ N(0, q)``, and its standard error."""
    q = _check_activation_and_q(activation, q)
    n = check_int("n", n, 2)
    z = np.random.default_rng(check_seed(seed)).standard_normal(n) * math.sqrt(float(q))
    v = derivative(activation)(z) ** 2
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(n))


def _check_sigmas(sigma_w2, sigma_b2):
    sw, sb = np.asarray(sigma_w2, dtype=np.float64), np.asarray(sigma_b2, dtype=np.float64)
    if np.any(~np.isfinite(sw)) or np.any(sw <= 0):
        raise ValueError(f"sigma_w2 must be finite and > 0, got {sigma_w2}")
    if np.any(~np.isfinite(sb)) or np.any(sb < 0):
        raise ValueError(f"sigma_b2 must be finite and >= 0, got {sigma_b2}")
    return sw, sb


def length_map(activation: str, q, sigma_w2, sigma_b2=0.0):
    """One step of the length map: ``sigma_w2 * E[phi(sqrt(q) z)^2] + sigma_b2``."""
    q = _check_activation_and_q(activation, q)
    sw, sb = _check_sigmas(sigma_w2, sigma_b2)
    f = activation_fn(activation)
    return sw * gaussian_expectation(lambda x: f(x) ** 2, q) + sb


Q_MAX = 1e12  # beyond this the pre-activation variance is treated as diverging


def q_star(activation: str, sigma_w2, sigma_b2=0.0, q0=1.0, tol: float = 1e-13):
    """Stable fixed point ``q*`` of the length map, from ``q0`` (vectorised over sigmas).

    Thirty plain iterations of the map approach the attracting fixed point; Newton's
    method on ``L(q) - q`` then polishes it (it also converges, linearly, where the fixed
    point is a double root, e.g. tanh at ``sigma_w2 = 1, sigma_b2 = 0`` with ``q* = 0``).
    Returns ``inf`` where ``q`` grows without bound (e.g. ReLU with ``sigma_w2 > 2``, or
    ``sigma_w2 = 2`` with ``sigma_b2 > 0``). Where every ``q`` is a fixed point (ReLU at
    ``sigma_w2 = 2, sigma_b2 = 0``) it returns ``q0``.
    """
    sw, sb = _check_sigmas(sigma_w2, sigma_b2)
    q0 = check_float("q0", q0, 0.0)
    sw, sb = np.broadcast_arrays(sw, sb)
    shape = sw.shape
    f, d = activation_fn(activation), derivative(activation)

    def lmap(q, sw, sb):  # L(q), dL/dq = sigma_w2 E[phi(x) phi'(x) z] / sqrt(q), x = sqrt(q) z
        q = np.minimum(q, Q_MAX)
        s = np.sqrt(np.maximum(q, 1e-300))[..., None]
        x = s * _Z
        fx = f(x)
        return sw * ((fx * fx) @ _W) + sb, sw * ((fx * d(x) * _Z) @ _W) / s[..., 0]

    sw, sb = sw.ravel(), sb.ravel()
    q = np.full(sw.shape, float(q0))
    for _ in range(30):
        q = np.where(q > Q_MAX, np.inf, lmap(q, sw, sb)[0])
    active = np.isfinite(q)
    # A bounded phi keeps L(q) <= sigma_w2 + sigma_b2: q can diverge only for unbounded ones.
    bounded = activation in ("sigmoid", "tanh")
    for _ in range(200):
        if not active.any():
            break
        i = np.flatnonzero(active)
        qi = q[i]
        value, slope = lmap(qi, sw[i], sb[i])
        g, dg = value - qi, slope - 1.0
        newton = qi - g / np.where(dg < 0, dg, -1.0)
        new = np.where(dg < 0, newton, value)  # no descent direction: iterate the map
        new = np.where(new < 0, qi / 2, new)
        # Already a fixed point to rounding (e.g. ReLU at sigma_w2 = 2, sigma_b2 = 0, where
        # every q is one): stay, rather than chase the rounding noise of g / dg.
        new = np.where(np.abs(g) <= 1e-14 * qi, qi, new)
        # Above the identity and growing at least as fast as it, after the iterations above
        # have reached the convex, ReLU-like regime: no finite fixed point lies ahead.
        diverging = (~bounded & (g > 1e-14 * qi) & (dg >= 0)) | (new > Q_MAX)
        q[i] = np.where(diverging, np.inf, new)
        active[i] = ~diverging & (np.abs(new - qi) > tol * np.maximum(1.0, new))
    for k in np.flatnonzero(active):  # still moving, L' near 1 (GELU, sigma_w2 = 2, q0 = 50)
        q[k] = _attracting_root(lambda v, k=k: lmap(np.array([v]), sw[[k]], sb[[k]])[0][0] - v,
                                q[k])
    q = q.reshape(shape)
    return q if q.ndim else float(q)


def _attracting_root(gap, q: float) -> float:
    """A root of ``gap = L - id`` where it goes from + to - (an attracting fixed point): in
    ``[0, q]`` if ``gap(q) < 0`` (``gap(0) = sigma_b2 >= 0``), else in ``[q, 2^k q]``."""
    from scipy.optimize import brentq  # rarely needed: not imported with the module
    lo, hi = (0.0, q) if gap(q) < 0 else (q, 2 * max(q, 1.0))
    while gap(hi) >= 0:
        if hi > Q_MAX:
            return math.inf
        hi *= 2
    return brentq(gap, lo, hi, xtol=1e-300, maxiter=2000)


def chi1(activation: str, sigma_w2, sigma_b2=0.0):
    """``chi_1 = sigma_w2 * E[phi'(sqrt(q*) z)^2]`` (vectorised over sigmas).

    Where ``q*`` is infinite the expectation is taken at ``q = 1e12`` (its limit for
    ReLU-like activations, whose derivative does not depend on scale).
    """
    sw, sb = _check_sigmas(sigma_w2, sigma_b2)
    q = np.minimum(q_star(activation, sw, sb), Q_MAX)
    d = derivative(activation)
    out = sw * gaussian_expectation(lambda x: d(x) ** 2, q)
    return out if np.ndim(out) else float(out)


def depth_scale(activation: str, sigma_w2, sigma_b2=0.0):
    """``1 / |ln chi_1|``: layers over which the squared gradient norm changes by ``e``.

    Infinite on the critical line.
    """
    c = np.asarray(chi1(activation, sigma_w2, sigma_b2))
    with np.errstate(divide="ignore"):
        out = 1.0 / np.abs(np.log(c))
    return out if np.ndim(out) else float(out)


def critical_line(activation: str, sigma_b2, lo: float = 0.05, hi: float = 20.0):
    """``sigma_w2`` with ``chi_1 = 1`` for each ``sigma_b2`` (NaN where none in [lo, hi]).

    Bisection (``chi_1`` increases with ``sigma_w2``), all ``sigma_b2`` at once, to 1e-9.
    Near a point where ``chi_1 - 1`` touches zero quadratically (tanh at ``sigma_b2 = 0``)
    the answer is accurate to about 1e-6.
    """
    sb = np.atleast_1d(np.asarray(sigma_b2, dtype=np.float64))
    _check_sigmas(1.0, sb)
    a, b = np.full(sb.shape, float(lo)), np.full(sb.shape, float(hi))
    ga, gb = chi1(activation, a, sb) - 1.0, chi1(activation, b, sb) - 1.0
    ok = (ga <= 0) & (gb >= 0)
    while np.max(b - a) > 1e-9:
        mid = 0.5 * (a + b)
        below = np.asarray(chi1(activation, mid, sb)) < 1.0
        a, b = np.where(below, mid, a), np.where(below, b, mid)
    out = np.where(ok, 0.5 * (a + b), np.nan)
    return out if np.ndim(sigma_b2) else float(out[0])


def chi1_grid(activation: str, sigma_w2_values, sigma_b2_values) -> np.ndarray:
    """``chi_1`` on a grid: rows follow ``sigma_b2_values``, columns ``sigma_w2_values``."""
    sw, sb = np.meshgrid(np.asarray(sigma_w2_values, float), np.asarray(sigma_b2_values, float))
    return chi1(activation, sw, sb)


def length_map_iterates(activation: str, sigma_w2: float, sigma_b2: float, q0s,
                        steps: int = 20) -> np.ndarray:
    """``q_l`` for ``l = 0..steps`` from each starting ``q_0`` in ``q0s``: (len(q0s), steps + 1)."""
    steps = check_int("steps", steps, 0, 100_000)
    q = np.asarray(q0s, dtype=np.float64).ravel()
    out = [q]
    for _ in range(steps):
        q = np.asarray(length_map(activation, q, sigma_w2, sigma_b2), dtype=np.float64)
        out.append(q)
    return np.stack(out, axis=1)


def relu_batchnorm_growth() -> float:
    """Yang et al. (2019): per-layer growth of the gradient *norm* in a wide ReLU net with
    BatchNorm and large batches, ``sqrt(pi / (pi - 1))`` (the squared norm grows by
    ``pi / (pi - 1)``)."""
    return math.sqrt(math.pi / (math.pi - 1.0))


def norm_growth_estimate(activation: str, norm: str) -> float:
    """One-line estimate of the per-layer growth of the gradient *norm* toward the input in a
    deep plain net with a norm before every activation: ``sqrt(E[phi'(z)^2] / D)``, z ~ N(0, 1),
    with ``D = E[phi(z)^2]`` for LayerNorm and ``D = Var phi(z)`` for BatchNorm (the squared
    norm grows by the ratio itself). For ReLU + BatchNorm it is ``sqrt(pi / (pi - 1))``."""
    check_choice("norm", norm, ("batch", "layer"))
    phi, dphi = activation_fn(activation), derivative(activation)
    second = float(gaussian_expectation(lambda z: phi(z) ** 2))
    spread = second - float(gaussian_expectation(phi)) ** 2 if norm == "batch" else second
    return math.sqrt(float(gaussian_expectation(lambda z: dphi(z) ** 2)) / spread)


def variance_preserving_gain(activation, q: float = 1.0) -> float:
    """The gain ``g`` (``Var W = g^2 / fan_in``) that keeps ``E[h^2] = q`` from layer to layer.

    ``g^2 = q / E[phi(sqrt(q) z)^2]``, ``z ~ N(0, 1)``, by quadrature; ``activation`` is a
    registry name or a vectorised callable. It does not depend on ``q`` for positively
    homogeneous activations (ReLU, LeakyReLU, linear), and does for tanh and sigmoid.
    """
    phi = activation_fn(activation) if isinstance(activation, str) else activation
    q = check_float("q", q, 0.0, lo_open=True)
    return math.sqrt(q / float(gaussian_expectation(lambda x: phi(x) ** 2, q)))


def correlation_map(activation: str, c, sigma_w2: float, sigma_b2: float = 0.0):
    """The c-map: correlation of two inputs' pre-activations one layer up, at the fixed point.

    ``c' = (sigma_w2 E[phi(u1) phi(u2)] + sigma_b2) / q*`` with ``u1 = sqrt(q*) z1``,
    ``u2 = sqrt(q*) (c z1 + sqrt(1 - c^2) z2)``, ``z1, z2 ~ N(0, 1)`` independent (Poole et
    al. 2016). ``c = 1`` is always a fixed point; the slope there is ``chi_1``. Needs a
    finite ``q* > 0``; ``c`` may be an array.
    """
    qs = float(q_star(activation, sigma_w2, sigma_b2))
    if not (math.isfinite(qs) and qs > 0):
        raise ValueError(f"the c-map needs a finite q* > 0; got q* = {qs} for {activation} at "
                         f"sigma_w2 = {sigma_w2}, sigma_b2 = {sigma_b2}")
    phi = activation_fn(activation)
    c = np.asarray(c, dtype=np.float64)
    if np.any(np.abs(c) > 1):
        raise ValueError("correlations c must lie in [-1, 1]")
    s = math.sqrt(qs)
    z1, z2 = _Z[:, None], _Z[None, :]  # a 320 x 320 product rule, weights _W[i] * _W[j]
    w = _W[:, None] * _W[None, :]
    u1 = phi(s * z1)
    out = [(sigma_w2 * float(np.sum(w * u1 * phi(s * (ci * z1 + math.sqrt(1 - ci * ci) * z2))))
            + sigma_b2) / qs for ci in c.ravel()]
    out = np.array(out).reshape(c.shape)
    return out if out.ndim else float(out)
