"""Statistics of a captured pass (``helpers.recorder.CapturedPass``), as NumPy arrays.

``pass_statistics`` is the second half of ``gradient_profile``: per entry, the norms of
the weight and of its gradient (``helpers.norms``), the fraction of gradient entries
that are exactly 0, and the activation's mean, std, gradient norm, saturation, dead
units and a histogram. Same-shaped entries are stacked and reduced together: a few
operations per group instead of several per layer (per-operation overhead, not
arithmetic, is what costs at these sizes). Entries without a gradient (frozen) or
without a measured activation get NaN there.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from helpers.activation_modules import dead_unit_mask
from helpers.activations import ACTIVATIONS
from helpers.norms import row_norms
from helpers.recorder import CapturedPass

__all__ = ["pass_statistics", "saturation_and_dead"]

def saturation_and_dead(z: torch.Tensor, act: str) -> tuple[np.ndarray, np.ndarray]:
    """Per layer of a stacked (layers, batch, units...) pre-activation: saturation, dead."""
    k = z.shape[0]
    spec = ACTIVATIONS[act]
    sat, dead = np.zeros(k), np.zeros(k)
    if spec.saturation_bounds is not None:
        lo, hi = spec.saturation_bounds
        # In-place comparisons on one float copy (1.0 where z lies outside [lo, hi], 0.0
        # elsewhere and for NaN), summed exactly: a bool mask and its count took 2-3x longer.
        if lo == -hi:
            outside = z.abs().gt_(hi)
        elif hi == math.inf:
            outside = z.neg().gt_(-lo)  # z < lo
        else:
            outside = ((z < lo) | (z > hi)).to(z.dtype)
        sat = _count_rows(outside.flatten(1)) / z[0].numel()
    if spec.relu_like:
        dead_units = dead_unit_mask(z, batch_dim=1).flatten(1)  # (layers, units)
        dead = torch.count_nonzero(dead_units, dim=1).numpy() / dead_units.shape[1]
    return sat, dead


def _groups(keys: list) -> dict:
    """Indices of equal keys (a list, or a dict index -> key), so that same-shaped layers
    are stacked and reduced at once."""
    groups: dict = {}
    for i, key in (keys.items() if isinstance(keys, dict) else enumerate(keys)):
        groups.setdefault(key, []).append(i)
    return groups


def _histogram_range(act_names, mean, std) -> tuple[float, float]:
    """Common bin range: the activation's range if bounded, else mean +- 4 std over layers."""
    names = set(act_names) - {"linear"}
    if names == {"sigmoid"}:
        return 0.0, 1.0
    if names and names <= {"sigmoid", "tanh"}:
        return -1.0, 1.0
    hidden = [i for i, n in enumerate(act_names) if n != "linear"] or list(range(len(act_names)))
    m, s = np.asarray(mean, dtype=float)[hidden], np.asarray(std, dtype=float)[hidden]
    ok = np.isfinite(m) & np.isfinite(s)
    if not ok.any():
        return -1.0, 1.0
    m, s = m[ok], s[ok]  # only the finite layers (inf - inf would warn)
    lo, hi = float((m - 4 * s).min()), float((m + 4 * s).max())
    if all(ACTIVATIONS[n].relu_like for n in names) and names:
        lo = max(lo, -0.05 * hi)  # nothing much lives below 0 for ReLU-like units
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _histograms(samples: torch.Tensor, lo: float, hi: float, bins: int) -> np.ndarray:
    """(layers, bins) fractions of ``samples`` (layers, n) per bin; outliers in end bins.

    ``samples`` is overwritten (callers pass a float64 copy): in place, the bin index
    takes a few passes over the samples and no MB-sized temporaries.
    """
    k, n = samples.shape
    x = torch.nan_to_num_(samples, nan=lo, posinf=hi, neginf=lo)
    # clamped to [0, bins - 1] before the cast, truncation is the floor
    idx = x.sub_(lo).mul_(bins / (hi - lo)).clamp_(0, bins - 1).long()
    idx += torch.arange(0, k * bins, bins)[:, None]
    return torch.bincount(idx.view(-1), minlength=k * bins).view(k, bins).numpy() / n


@torch.no_grad()
def pass_statistics(cap: CapturedPass, bins: int, sample: int) -> dict:
    """Per-entry statistics of a captured pass: a dict of float64 arrays (see module doc).

    Keys: ``weight_norm``, ``weight_grad_norm``, ``grad_zero_fraction``,
    ``activation_mean``, ``activation_std``, ``activation_grad_norm``, ``saturation``,
    ``dead_fraction`` (each (entries,)), ``activation_hist`` (entries, bins) and
    ``hist_edges`` (bins + 1,).
    """
    n = len(cap.layer_names)
    stats = {k: np.full(n, np.nan) for k in ("w", "wg", "zero", "mean", "std", "ag", "sat",
                                              "dead")}
    hist = np.full((n, bins), np.nan)
    for idx in _groups([tuple(w.shape) for w in cap.weights]).values():
        stats["w"][idx] = row_norms(_stack([cap.weights[i] for i in idx]))
    trained = [i for i in range(n) if cap.weight_grads[i] is not None]  # frozen: NaN
    for idx in _groups({i: tuple(cap.weight_grads[i].shape) for i in trained}).values():
        G = _stack([cap.weight_grads[i] for i in idx]).flatten(1)
        stats["wg"][idx] = row_norms(G)
        stats["zero"][idx] = 1.0 - _count_nonzero_rows(G) / G.shape[1]
    # one row per measured tensor: the parameters of one module share their activation
    first: dict[int, int] = {}
    for i, a in enumerate(cap.outputs):
        if a is not None:
            first.setdefault(id(a), i)
    reps = sorted(first.values())
    samples = []
    keys = {i: (tuple(cap.outputs[i].shape), cap.activations[i]) for i in reps}
    for (_, act), idx in _groups(keys).items():
        stats["ag"][idx] = row_norms(_stack([cap.output_grads[i] for i in idx]))
        spec = ACTIVATIONS[act]
        stats["sat"][idx] = stats["dead"][idx] = 0.0
        if spec.saturation_bounds is not None or spec.relu_like:
            Z = _stack([cap.pre_activations[i] for i in idx])  # (k, batch, units...)
            stats["sat"][idx], stats["dead"][idx] = saturation_and_dead(Z, act)
            del Z
        # a copy (stack makes one even of a single tensor): centred in place below
        A = torch.stack([cap.outputs[i] for i in idx]).flatten(1)  # (k, batch*units)
        if not A.is_floating_point():
            A = A.double()
        step = max(1, A.shape[1] // sample)  # evenly spaced sample for the histograms
        samples.append((idx, A[:, ::step][:, :sample].to(torch.float64, copy=True)))
        mean = A.mean(1)
        stats["mean"][idx] = mean.double().numpy()
        centered = row_norms(A.sub_(mean[:, None]))  # two-pass std, scaled norm
        stats["std"][idx] = centered / A.shape[1] ** 0.5
    shared = [(i, first[id(a)]) for i, a in enumerate(cap.outputs)
              if a is not None and first[id(a)] != i]
    measured = [cap.activations[i] for i in reps]
    lo, hi = _histogram_range(measured, stats["mean"][reps], stats["std"][reps])
    for idx, smp in samples:
        hist[idx] = _histograms(smp, lo, hi, bins)
    for i, j in shared:
        for k in ("mean", "std", "ag", "sat", "dead"):
            stats[k][i] = stats[k][j]
        hist[i] = hist[j]
    return dict(
        weight_norm=stats["w"], weight_grad_norm=stats["wg"], grad_zero_fraction=stats["zero"],
        activation_mean=stats["mean"], activation_std=stats["std"],
        activation_grad_norm=stats["ag"], saturation=stats["sat"], dead_fraction=stats["dead"],
        hist_edges=np.linspace(lo, hi, bins + 1), activation_hist=hist,
    )


def _stack(tensors: list) -> torch.Tensor:
    """``torch.stack`` for reading: a single tensor becomes a view instead of a copy."""
    return tensors[0].unsqueeze(0) if len(tensors) == 1 else torch.stack(tensors)


def _count_nonzero_rows(rows: torch.Tensor) -> np.ndarray:
    """Number of nonzero entries in each row (NaN counts as nonzero), as float64."""
    # 1.0 where x != 0 (and where x is NaN), summed: 3x faster than count_nonzero here
    return _count_rows(rows.abs().ne_(0))


def _count_rows(ones: torch.Tensor) -> np.ndarray:
    """Row sums of a 2-D tensor of 0.0s and 1.0s, exact, as float64."""
    # Sums of 0/1 are exact in float32 below 2**24 per row; summing with dtype=float64
    # would first copy the whole tensor to float64.
    exact = ones.dtype == torch.float64 or (ones.dtype == torch.float32
                                            and ones.shape[1] < 2**24)
    return ones.sum(1, dtype=None if exact else torch.float64).double().numpy()
