"""helpers.growth: the one home of the per-layer growth estimators."""

import math
import warnings

import numpy as np
import pytest

from helpers.growth import GROWTH_ESTIMATORS, geometric_mean, growth_per_layer


def _old_ratios(g, skip):  # the estimator lesson 5 used before it moved here
    g = np.asarray(g, dtype=np.float64)
    r = g[:-1] / g[1:]
    return float(np.exp(np.mean(np.log(r[skip:len(r) - skip]))))


def _old_log_fit(g):  # the estimator lesson 6 used before it moved here
    g = np.asarray(g, dtype=np.float64)[1:-1]
    if len(g) < 2 or not np.all(np.isfinite(g) & (g > 0)):
        return math.nan
    return float(np.exp(-np.polyfit(np.arange(len(g)), np.log(g), 1)[0]))


@pytest.mark.parametrize("seed", range(5))
def test_both_estimators_give_exactly_the_old_values_on_noisy_profiles(seed):
    rng = np.random.default_rng(seed)
    g = np.exp(np.cumsum(rng.normal(-0.3, 0.5, size=31)))[::-1]  # grows toward the input
    for skip in (0, 1, 5):
        assert growth_per_layer(g, estimator="ratios", skip=skip) == _old_ratios(g, skip)
    assert growth_per_layer(g, estimator="log_fit", skip=1) == _old_log_fit(g)


def test_ratios_telescope_to_the_window_ends_and_log_fit_uses_every_layer():
    g = np.array([64.0, 32.0, 16.0, 4.0, 2.0, 1.0])
    assert growth_per_layer(g, estimator="ratios", skip=1) == pytest.approx((32 / 2) ** (1 / 3))
    slope = np.polyfit(np.arange(4), np.log(g[1:5]), 1)[0]
    assert growth_per_layer(g, estimator="log_fit", skip=1) == pytest.approx(math.exp(-slope))
    exact = 3.0 ** np.arange(8, 0, -1)
    for est in GROWTH_ESTIMATORS:
        assert growth_per_layer(exact, estimator=est) == pytest.approx(3.0)


def test_invalid_values_and_arguments():
    # a dead layer: ratios leaves its two ratios out, log_fit gives nan
    g = [8.0, 4.0, 0.0, 1.0, 0.5]
    assert growth_per_layer(g, estimator="ratios") == pytest.approx(2.0)
    assert math.isnan(growth_per_layer(g, estimator="log_fit"))
    assert math.isnan(growth_per_layer([1.0, 2.0, 3.0], estimator="log_fit", skip=1))
    with pytest.raises(ValueError, match="ratios.*log_fit"):
        growth_per_layer(g, estimator="mean")
    with pytest.raises(TypeError):
        growth_per_layer(g)  # the estimator is always named
    with pytest.raises(ValueError, match="skip"):
        growth_per_layer(g, estimator="ratios", skip=2)
    with pytest.raises(ValueError, match="at least 2 layers"):
        growth_per_layer([1.0], estimator="ratios")


def test_geometric_mean_keeps_finite_positive_factors_only():
    assert geometric_mean([2.0, 8.0]) == pytest.approx(4.0)
    assert geometric_mean([2.0, 8.0, 0.0, np.inf, np.nan, -1.0]) == pytest.approx(4.0)
    assert math.isnan(geometric_mean([0.0, np.nan]))


def test_smallest_inputs_and_the_skip_bounds():
    """Two layers are enough for both estimators; skip may leave exactly one ratio (ratios)
    or two layers (log_fit), never fewer, and is never negative."""
    for est in GROWTH_ESTIMATORS:
        assert growth_per_layer([4.0, 2.0], estimator=est) == pytest.approx(2.0)
        with pytest.raises(ValueError, match=r"^skip must be"):
            growth_per_layer([8.0, 4.0, 2.0], estimator=est, skip=-1)
    g = 2.0 ** np.arange(6, 0, -1)  # 6 layers, 5 ratios: skip 2 keeps one ratio
    assert growth_per_layer(g, estimator="ratios", skip=2) == pytest.approx(2.0)
    with pytest.raises(ValueError, match=r"^skip must be between 0 and 2, got 3$"):
        growth_per_layer(np.append(g, 1.0), estimator="ratios", skip=3)  # 7 layers
    assert growth_per_layer(g, estimator="log_fit", skip=2) == pytest.approx(2.0)
    assert math.isnan(growth_per_layer(g, estimator="log_fit", skip=3))
    with pytest.raises(ValueError, match=r"^unknown estimator 'mean'"):
        growth_per_layer(g, estimator="mean")


def test_dead_and_infinite_layers_are_handled_quietly():
    """Zeros, infinities and empty windows give the documented results without a warning or
    a floating-point error, whatever NumPy's error settings are."""
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(growth_per_layer([1.0, 0.0, 0.0], estimator="ratios"))
        assert math.isnan(growth_per_layer([8.0, 4.0, 0.0, 1.0], estimator="log_fit"))
        assert math.isnan(growth_per_layer([8.0, np.inf, 2.0], estimator="log_fit"))
        assert math.isnan(growth_per_layer([8.0, -4.0, 2.0], estimator="log_fit"))
        assert math.isnan(geometric_mean([]))
        assert math.isnan(geometric_mean([0.0, -1.0]))


def test_float32_and_integer_profiles_are_summarised_in_float64():
    """A float32 profile (a float32 model's gradient norms) gives the factor of the same
    numbers in float64, not one computed in float32 (which differs in the 7th digit)."""
    rng = np.random.default_rng(5)
    g32 = (10.0 ** rng.uniform(-6, 2, size=12)).astype(np.float32)
    g64 = g32.astype(np.float64)
    for kw in (dict(estimator="ratios"), dict(estimator="ratios", skip=2),
               dict(estimator="log_fit")):
        assert growth_per_layer(g32, **kw) == growth_per_layer(g64, **kw)
    assert geometric_mean(g32) == geometric_mean(g64)
    # float32 arithmetic would not give these bits
    in32 = float(np.exp(np.mean(np.log(g32))))
    assert in32 != geometric_mean(g64)
    assert growth_per_layer([8, 4, 2, 1], estimator="ratios") == 2.0  # ints are numbers too
