"""helpers.layer_stats: histogram bins and saturation counts on hand-made inputs."""

from __future__ import annotations

import numpy as np
import torch

from helpers.layer_stats import _histograms, saturation_and_dead


def test_histogram_bins_put_nan_and_infinities_in_the_end_bins():
    samples = torch.tensor([[float("nan"), float("inf"), float("-inf"), 0.5, 2.5],
                            [-5.0, -1.0, 0.0, 1.0, 9.0]], dtype=torch.float64)
    got = _histograms(samples.clone(), lo=-1.0, hi=3.0, bins=4)
    # row 0: NaN and -inf in the first bin, +inf and 2.5 in the last, 0.5 in the second
    np.testing.assert_allclose(got[0], [2 / 5, 1 / 5, 0, 2 / 5])
    # row 1: -5 and -1 in bin 0, 0 in bin 1, 1 in bin 2, 9 (outlier) in bin 3
    np.testing.assert_allclose(got[1], [2 / 5, 1 / 5, 1 / 5, 1 / 5])
    assert got.sum(1).tolist() == [1.0, 1.0]


def test_saturation_counts_each_activation_against_its_own_bounds():
    z = torch.tensor([[[-5.0, -2.0, 0.0, 2.0], [5.0, 0.5, -0.5, 3.0]]], dtype=torch.float64)
    sat, dead = saturation_and_dead(z, "tanh")  # |z| > 1.8184: -5, -2, 2, 5, 3
    assert sat.tolist() == [5 / 8] and dead.tolist() == [0.0]
    sat, _ = saturation_and_dead(z, "elu")  # z < -2.3026 only: -5
    assert sat.tolist() == [1 / 8]
    sat, _ = saturation_and_dead(z, "silu")  # z < -0.8824: -5, -2
    assert sat.tolist() == [2 / 8]
    sat, dead = saturation_and_dead(z, "relu")  # no saturation; unit 2 (0, -0.5) is never > 0
    assert sat.tolist() == [0.0] and dead.tolist() == [1 / 4]


def _outside_by_numpy(z, lo, hi):
    """Per layer, the fraction of entries with z < lo or z > hi (NaN is inside)."""
    a = z.double().flatten(1).numpy()
    with np.errstate(invalid="ignore"):
        return ((a < lo) | (a > hi)).mean(axis=1)


def test_saturation_matches_numpy_on_every_kind_of_bound(monkeypatch):
    """Symmetric bounds (tanh), a half-line (ELU) and, through a registry entry made up here,
    finite bounds that are not symmetric: each against NumPy, with entries exactly on a
    bound (not saturated) and NaN (not saturated)."""
    from dataclasses import replace

    from helpers.activations import ACTIVATIONS

    monkeypatch.setitem(ACTIVATIONS, "clip", replace(ACTIVATIONS["tanh"], name="clip",
                                                     saturation_bounds=(-1.0, 2.0)))
    gen = torch.Generator().manual_seed(0)
    z = 3 * torch.randn(3, 16, 8, generator=gen, dtype=torch.float64)
    z[0, 0, :4] = torch.tensor([-1.0, 2.0, float("nan"), 2.5])
    for name in ("tanh", "elu", "clip"):
        lo, hi = ACTIVATIONS[name].saturation_bounds
        z[1, 0, :2] = torch.tensor([lo, hi if np.isfinite(hi) else 0.0])
        sat, _ = saturation_and_dead(z, name)
        np.testing.assert_array_equal(sat, _outside_by_numpy(z, lo, hi))
    sat, _ = saturation_and_dead(z, "clip")
    assert sat[0] == _outside_by_numpy(z, -1.0, 2.0)[0] and not np.allclose(
        sat, _outside_by_numpy(z, -1.0, np.inf))  # the upper bound counts


def test_counts_are_exact_in_half_precision():
    """float16 holds integers exactly only up to 2048 (bfloat16: 256): a half-precision
    layer of 5000 units is counted in a wider type."""
    from helpers.layer_stats import _count_rows

    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        assert _count_rows(torch.ones(2, 5000, dtype=dtype)).tolist() == [5000.0, 5000.0]
    z = torch.full((1, 1, 5000), 3.0, dtype=torch.float16)
    z[0, 0, :1001] = 0.0
    sat, _ = saturation_and_dead(z, "tanh")
    assert sat.tolist() == [3999 / 5000]


def test_histogram_range_leaves_out_layers_whose_moments_are_not_finite():
    """A layer with a finite mean and an infinite or NaN std does not stretch the common
    range (it would make it infinite)."""
    from helpers.layer_stats import _histogram_range

    want = _histogram_range(["relu"], [0.5], [1.0])
    assert want == (-0.05 * 4.5, 4.5)
    for bad in (np.inf, np.nan):
        assert _histogram_range(["relu", "relu"], [0.5, 0.7], [1.0, bad]) == want
