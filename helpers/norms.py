"""L2 norms that never under- or overflow: scaled as LAPACK's ``nrm2`` when they must be.

A plain ``torch.linalg.vector_norm`` squares the entries, so in float64 a tensor whose
entries are all about 1e-213 has the norm 0 (the squares underflow) and one with entries
about 1e200 has the norm inf. ``scaled_norm`` divides by the largest |entry| first and
multiplies back afterwards, so its result is right whenever the true norm is a float64.

``norms`` measures many tensors at once: one ``torch._foreach_norm`` and one transfer to
NumPy for all of them, and the scaled computation only for the few whose fast result
lies outside the range in which it is exact. Every norm that ``helpers`` reports comes
from these two functions.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["scaled_norm", "norms", "row_norms", "moments"]

# The fast path accumulates in float64: squares of float32, float16 or bfloat16 entries
# always lie inside float64's range, so only float64 tensors can lose anything, and only
# when their norm lies outside (lo, hi) (float64 squares leave its range below ~1e-154
# and above ~1e154); those are recomputed with scaling.
_SAFE64 = (1e-140, 1e140)
_SAFE32 = (1e-15, 1e15)  # the same for float32 accumulation (squares leave it at ~1e+-19)


def scaled_norm(t: torch.Tensor) -> float:
    """L2 norm of all entries of ``t`` as a Python float, computed in float64 with scaling.

    NaN if any entry is NaN, inf if any is infinite, 0.0 for a tensor of zeros.
    """
    d = t.detach().to(torch.float64).flatten()
    if d.numel() == 0:
        return 0.0
    m = float(d.abs().max())  # NaN propagates
    if m == 0.0 or not math.isfinite(m):
        return m
    return m * float(torch.linalg.vector_norm(d / m))


def norms(tensors, fast: bool = False) -> np.ndarray:
    """L2 norm of each tensor of ``tensors`` (a list), as a float64 NumPy array.

    One ``torch._foreach_norm`` and one transfer. It accumulates in float64 unless
    ``fast`` is True; then float32 (and half-precision) tensors are accumulated in float32,
    about twice as fast, with a relative error of about 1e-6. Any result that may have
    under- or overflowed on the way is recomputed by ``scaled_norm``.
    """
    tensors = [t.detach() for t in tensors]
    if not tensors:
        return np.zeros(0)
    wide = np.array([t.dtype == torch.float64 for t in tensors])
    narrow = fast and not wide.any()  # float32 accumulation
    fast_norms = torch._foreach_norm(tensors, 2, dtype=torch.float32 if narrow
                                     else torch.float64)
    out = torch.stack(fast_norms).double().numpy().copy()
    lo, hi = _SAFE32 if narrow else _SAFE64
    # only float64 tensors can leave float64's range; any can leave float32's
    suspect = ~((out > lo) & (out < hi)) & (True if narrow else wide)
    for i in np.flatnonzero(suspect):
        if tensors[i].numel() > 0:
            out[i] = scaled_norm(tensors[i])
    return out


def row_norms(rows: torch.Tensor) -> np.ndarray:
    """L2 norm of each ``rows[i]`` (over all its entries), as a float64 NumPy array."""
    rows = rows.detach().flatten(1)
    out = torch.linalg.vector_norm(rows, dim=1, dtype=torch.float64).numpy().copy()
    if rows.dtype == torch.float64 and rows.shape[1] > 0:
        lo, hi = _SAFE64
        for i in np.flatnonzero(~((out > lo) & (out < hi))):
            out[i] = scaled_norm(rows[i])
    return out


def moments(tensors) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population std of each tensor of ``tensors`` (a list), as float64 arrays.

    Batched, one pass each for the sums and the norms (float32 tensors summed in float32,
    as ``norms(..., fast=True)``), then var = E[x^2] - mean^2; where that cancels
    (|mean| >> std) or leaves the float range, the moments are redone in two passes in
    float64 with a scaled norm.
    """
    if not tensors:
        return np.zeros(0), np.zeros(0)
    tensors = [t.detach() for t in tensors]
    with torch.no_grad():
        sums = torch.stack([t.sum(dtype=torch.float64 if t.dtype == torch.float64
                                  else torch.float32) for t in tensors]).double().numpy()
        sizes = np.array([max(t.numel(), 1) for t in tensors], dtype=np.float64)
        mean = sums / sizes
        root = norms(tensors, fast=True)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            var = root**2 / sizes - mean**2
            redo = (~np.isfinite(var) | ((mean != 0) & ~(var > 1e-3 * mean**2))
                    | ((root > 0) & ~(var > 0)))
        std = np.sqrt(np.maximum(var, 0.0))
        for i in np.flatnonzero(redo):
            d = tensors[i].double()
            m = d.mean()
            mean[i] = float(m)
            std[i] = scaled_norm(d - m) / math.sqrt(sizes[i])
    return mean, std
