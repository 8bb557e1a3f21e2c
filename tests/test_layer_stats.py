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
