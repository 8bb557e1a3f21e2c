"""How fast a per-layer quantity grows per layer toward the input (NumPy only).

Lessons 4, 5 and 6 summarise a gradient profile ``g_1 .. g_L`` (ordered from the input to
the output) by one factor per layer. There are two estimators, and every caller names the
one it uses:

* ``"ratios"``: the geometric mean of the consecutive ratios ``g_l / g_{l+1}`` over the
  layers kept (``skip`` left out at each end). The ratios telescope, so this is
  ``(g_a / g_b) ** (1 / (b - a))`` over the kept window ``a .. b``: only its two end layers
  count. Ratios that are not finite and positive (a dead layer) are left out.
* ``"log_fit"``: ``exp(-slope)`` of a least-squares line through ``log g_l`` over the kept
  layers: every kept layer counts, so one noisy layer moves it less. ``nan`` if fewer than
  two layers are kept or any kept value is not finite and positive.

``geometric_mean`` is the ``"ratios"`` estimator applied to factors that are already
per-layer ratios (e.g. predicted factors ``sigma_w^2 E[phi'(z)^2]``).
"""

from __future__ import annotations

import math

import numpy as np

from helpers.validation import check_choice, check_int

GROWTH_ESTIMATORS = ("ratios", "log_fit")


def geometric_mean(factors) -> float:
    """Geometric mean of the finite, positive entries of ``factors`` (``nan`` if none)."""
    v = np.asarray(factors, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.exp(np.mean(np.log(v)))) if v.size else math.nan


def growth_per_layer(values, *, estimator: str, skip: int = 0) -> float:
    """Factor by which ``values`` (layers,) grows per layer toward the input (index 0).

    Args:
        values: a per-layer quantity, e.g. gradient norms, ordered input to output.
        estimator: ``"ratios"`` or ``"log_fit"`` (see the module docstring).
        skip: layers left out at each end (for ``"ratios"``: ratios left out at each end).

    Returns:
        The factor (> 1: larger toward the input), or ``nan`` as the estimator says.
    """
    check_choice("estimator", estimator, GROWTH_ESTIMATORS)
    g = np.asarray(values, dtype=np.float64).ravel()
    if estimator == "ratios":
        if len(g) < 2:
            raise ValueError(f"the 'ratios' estimator needs at least 2 layers, got {len(g)}")
        skip = check_int("skip", skip, 0, (len(g) - 2) // 2)  # keeps at least one ratio
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = g[:-1] / g[1:]  # (layers - 1,)
        return geometric_mean(ratios[skip:len(ratios) - skip])
    skip = check_int("skip", skip, 0)
    kept = g[skip:len(g) - skip]
    if len(kept) < 2 or not np.all(np.isfinite(kept) & (kept > 0)):
        return math.nan
    slope = np.polyfit(np.arange(len(kept)), np.log(kept), 1)[0]
    return float(np.exp(-slope))
