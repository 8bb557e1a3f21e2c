"""Tests for helpers.topics.neuron: exact saturated fraction, Monte Carlo, the neuron state."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from helpers.activations import derivative, is_saturated
from helpers.topics.neuron import (
    Z_RANGE,
    neuron_state,
    saturated_fraction,
    saturated_fraction_curve,
    saturated_fraction_mc,
    saturation_bounds,
)

CASES = [(1.0, 0.0), (4.0, 0.0), (-3.0, 1.0), (0.5, 3.0), (2.0, -5.0), (10.0, 0.5)]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("w,b", CASES)
def test_exact_fraction_matches_scipy_norm(activation, w, b):
    lo, hi = saturation_bounds(activation)
    dist = stats.norm(loc=b, scale=abs(w))
    expected = dist.cdf(lo) + dist.sf(hi)
    assert saturated_fraction(w, b, activation) == pytest.approx(expected, rel=1e-10, abs=1e-15)


@pytest.mark.parametrize("w,b", CASES)
def test_exact_fraction_matches_numerical_integration(w, b):
    # Integrate the saturated indicator against the N(0, 1) density of x directly.
    def integrand(x):
        return float(is_saturated("sigmoid", np.array(w * x + b))) * stats.norm.pdf(x)

    lo, hi = saturation_bounds("sigmoid")
    kinks = sorted([(lo - b) / w, (hi - b) / w])
    total = sum(integrate.quad(integrand, a, c, limit=200)[0]
                for a, c in zip([-40.0, *kinks], [*kinks, 40.0], strict=True))
    assert saturated_fraction(w, b) == pytest.approx(total, abs=1e-9)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("w,b", CASES)
def test_monte_carlo_agrees_within_five_standard_errors(activation, w, b):
    p, se = saturated_fraction_mc(w, b, activation, n=50_000, seed=3)
    exact = saturated_fraction(w, b, activation)
    assert abs(p - exact) <= 5 * max(se, math.sqrt(exact * (1 - exact) / 50_000)) + 1e-12


def test_monte_carlo_is_reproducible_and_seed_dependent():
    assert saturated_fraction_mc(3.0, 0.0, seed=1) == saturated_fraction_mc(3.0, 0.0, seed=1)
    assert saturated_fraction_mc(3.0, 0.0, seed=1) != saturated_fraction_mc(3.0, 0.0, seed=2)


def test_known_values_and_symmetries():
    lo, hi = saturation_bounds("sigmoid")
    assert hi == pytest.approx(3.636893, abs=1e-4) and lo == -hi
    assert saturated_fraction(1.0) == pytest.approx(2 * stats.norm.cdf(-hi), rel=1e-12)
    # only |w| matters, and the bias enters symmetrically for these symmetric bounds
    assert saturated_fraction(-2.5, 1.0) == pytest.approx(saturated_fraction(2.5, 1.0))
    assert saturated_fraction(2.5, -1.0) == pytest.approx(saturated_fraction(2.5, 1.0))
    # tanh saturates exactly where sigmoid does at half the pre-activation (tanh' = 4 sigma'(2z))
    assert saturation_bounds("tanh")[1] == pytest.approx(hi / 2, abs=1e-4)
    # increasing in |w| for b = 0, towards 1
    f = saturated_fraction(np.linspace(0.1, 50, 200))
    assert np.all(np.diff(f) > 0) and f[-1] > 0.9


def test_zero_weight_and_non_saturating_activations():
    assert saturated_fraction(0.0, 0.0) == 0.0
    assert saturated_fraction(0.0, 5.0) == 1.0
    assert saturated_fraction_mc(0.0, 5.0) == (1.0, 0.0)
    assert saturated_fraction(3.0, 1.0, "relu") == 0.0
    # ELU saturates on one side only (upper bound infinite)
    lo, _ = saturation_bounds("elu")
    assert saturated_fraction(2.0, 0.0, "elu") == pytest.approx(stats.norm.cdf(lo / 2.0))


def test_vectorised_broadcasting():
    out = saturated_fraction(np.array([1.0, 2.0, 0.0]), np.array([[0.0], [5.0]]))
    assert out.shape == (2, 3)
    assert out[1, 2] == 1.0 and out[0, 2] == 0.0


def test_errors():
    with pytest.raises(ValueError, match="valid choices"):
        saturated_fraction(1.0, 0.0, "sigmod")
    with pytest.raises(ValueError, match="finite"):
        saturated_fraction(np.inf)
    with pytest.raises(ValueError, match="n must be"):
        saturated_fraction_mc(1.0, n=1)


def test_curve_contains_exact_and_mc():
    """Wiring: the curve is saturated_fraction and saturated_fraction_mc at each weight.

    Their own oracles are scipy.stats.norm and numerical integration (tests above).
    """
    c = saturated_fraction_curve(np.linspace(0, 6, 13), 0.0, mc_w_values=[1.0, 3.0], n=10_000)
    assert set(c["exact"]) == {"sigmoid", "tanh"}
    assert c["exact"]["sigmoid"].shape == (13,) and c["mc"]["tanh"].shape == (2,)
    np.testing.assert_allclose(c["exact"]["tanh"], saturated_fraction(c["w"], 0.0, "tanh"))
    assert c["mc"]["sigmoid"][1] == saturated_fraction_mc(3.0, 0.0, n=10_000)[0]
    # and the curve's values against scipy directly, not only against saturated_fraction
    for name in ("sigmoid", "tanh"):
        lo, hi = saturation_bounds(name)
        for w, frac in zip(c["w"], c["exact"][name]):
            want = (stats.norm(0.0, w).cdf(lo) + stats.norm(0.0, w).sf(hi)) if w > 0 else 0.0
            assert frac == pytest.approx(want, rel=1e-10, abs=1e-15)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("x,w,b", [(1.0, 1.0, 0.0), (-2.0, 3.0, 0.5), (0.7, -4.0, 2.0)])
def test_neuron_gradients_match_autograd(activation, x, w, b):
    s = neuron_state(x, w, b, activation, n=1000)
    xt, wt, bt = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, w, b))
    zt = wt * xt + bt
    zt.retain_grad()
    a = torch.sigmoid(zt) if activation == "sigmoid" else torch.tanh(zt)
    a.backward()
    assert s.z == pytest.approx(zt.item()) and s.a == pytest.approx(a.item(), rel=1e-12)
    assert s.slope == pytest.approx(zt.grad.item(), rel=1e-10)
    assert s.grad_w == pytest.approx(wt.grad.item(), rel=1e-10)
    assert s.grad_b == pytest.approx(bt.grad.item(), rel=1e-10)
    assert s.grad_x == pytest.approx(xt.grad.item(), rel=1e-10)


def test_neuron_state_contents():
    s = neuron_state(1.0, 2.0, 1.0, n=20_000, seed=5)
    assert s.saturated is False and s.bounds == saturation_bounds("sigmoid")
    assert s.fraction == saturated_fraction(2.0, 1.0)
    assert (s.fraction_mc, s.fraction_se) == saturated_fraction_mc(2.0, 1.0, n=20_000, seed=5)
    # the density is N(b, w^2) and integrates to ~1 over the window; the histogram too
    dz = s.z_grid[1] - s.z_grid[0]
    assert np.sum(s.density) * dz == pytest.approx(1.0, abs=1e-3)
    width = s.hist_centers[1] - s.hist_centers[0]
    assert np.sum(s.hist_density) * width == pytest.approx(1.0 - s.outside, abs=1e-9)
    sat = np.isfinite(s.density_saturated)
    np.testing.assert_array_equal(sat, is_saturated("sigmoid", s.z_grid))
    assert "NeuronState(sigmoid" in repr(s)


def test_neuron_state_histogram_is_of_the_seeded_monte_carlo_samples():
    """The histogram and the share outside the window are those of the same n samples
    z = w x + b, x ~ N(0, 1) from default_rng(seed), that the Monte Carlo fraction uses;
    by default n = 50,000 and seed 0."""
    for kw, (n, seed) in ((dict(n=3000, seed=7), (3000, 7)), ({}, (50_000, 0))):
        s = neuron_state(0.5, 1.5, -0.5, **kw)
        z = 1.5 * np.random.default_rng(seed).standard_normal(n) - 0.5
        edges = np.linspace(*Z_RANGE, 61)
        counts, _ = np.histogram(z, bins=edges)
        np.testing.assert_allclose(s.hist_density, counts / (n * np.diff(edges)), rtol=1e-14)
        assert s.outside == np.mean((z < Z_RANGE[0]) | (z > Z_RANGE[1]))
        assert (s.n, s.seed) == (n, seed)
        assert (s.fraction_mc, s.fraction_se) == saturated_fraction_mc(1.5, -0.5, n=n, seed=seed)
    assert neuron_state(3.0, 2.0, 0.0).saturated is True
    assert derivative("sigmoid")(6.0) == pytest.approx(neuron_state(3.0, 2.0, 0.0).slope)


def test_neuron_state_zero_weight():
    s = neuron_state(1.0, 0.0, 5.0)
    assert np.all(s.density == 0) and s.fraction == 1.0 and s.fraction_mc == 1.0


# -- tests that kill surviving mutants of numbers the lessons show -------------------------


@pytest.mark.parametrize("activation, x, w, b", [("sigmoid", 1.0, 2.0, 0.5),
                                                 ("tanh", -0.5, 3.0, -1.0)])
def test_neuron_state_against_scipy_and_its_own_samples(activation, x, w, b):
    """The density is N(b, |w|)'s pdf; the histogram is a density of z = w x + b for
    x ~ N(0, 1) (so it matches that pdf to Monte Carlo accuracy); the Monte Carlo fraction
    is the chosen activation's (within 5 standard errors of the exact one)."""
    from helpers.topics.neuron import neuron_state

    s = neuron_state(x, w, b, activation, n=200_000, seed=4)
    np.testing.assert_allclose(s.density, stats.norm(b, abs(w)).pdf(s.z_grid), rtol=1e-12)
    assert len(s.hist_centers) == 60 and len(s.z_grid) == 481  # the documented defaults
    width = s.hist_centers[1] - s.hist_centers[0]
    pdf_at_centres = stats.norm(b, abs(w)).cdf(s.hist_centers + width / 2) - stats.norm(
        b, abs(w)).cdf(s.hist_centers - width / 2)
    # each bin holds ~n * p values: its density is within 5 binomial standard errors
    se = np.sqrt(pdf_at_centres * (1 - pdf_at_centres) / s.n) / width
    assert np.all(np.abs(s.hist_density - pdf_at_centres / width) <= 5 * se + 1e-12)
    exact = saturated_fraction(w, b, activation)
    assert s.fraction == pytest.approx(exact, rel=1e-12)
    assert abs(s.fraction_mc - exact) <= 5 * s.fraction_se
    assert s.fraction_se == pytest.approx(math.sqrt(exact * (1 - exact) / s.n), rel=0.05)
    assert s.z == pytest.approx(w * x + b) and s.grad_w == pytest.approx(x * s.slope)


def test_curve_monte_carlo_uses_each_activation_and_the_seed():
    c = saturated_fraction_curve(np.array([1.0, 3.0]), 0.0, mc_w_values=[1.0, 3.0], n=20_000,
                                 seed=7)
    for name in ("sigmoid", "tanh"):
        for k, w in enumerate([1.0, 3.0]):
            p, se = saturated_fraction_mc(w, 0.0, name, n=20_000, seed=7)
            assert (c["mc"][name][k], c["mc_se"][name][k]) == (p, se)
            assert abs(p - saturated_fraction(w, 0.0, name)) <= 5 * se
    assert not np.allclose(c["mc"]["sigmoid"], c["mc"]["tanh"])  # tanh saturates more
    d = saturated_fraction_curve(np.array([1.0]))
    assert d["b"] == 0.0 and d["mc_w"].size == 0
    assert saturated_fraction_mc(2.0) == saturated_fraction_mc(2.0, 0.0, "sigmoid", 100_000, 0)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_autograd_stores_the_sigmoid_output_and_computes_a_times_one_minus_a(dtype):
    """Lesson 1: torch.sigmoid's backward node saves only the output a (``_saved_result``),
    and the gradient it returns is a (1 - a), bit for bit."""
    z = torch.linspace(-40, 40, 20_001, dtype=dtype, requires_grad=True)
    a = torch.sigmoid(z)
    node = a.grad_fn
    assert type(node).__name__ == "SigmoidBackward0"
    assert [n for n in dir(node) if n.startswith("_saved_")] == ["_saved_result"]
    saved = node._saved_result.detach().clone()
    assert torch.equal(saved, a.detach())
    (grad,) = torch.autograd.grad(a.sum(), z)
    assert torch.equal(grad, saved * (1 - saved))


def test_default_activation_is_the_sigmoid_whose_slope_falls_below_a_tenth():
    """With no argument the bounds are the sigmoid's: |z| where sigma'(z) = 0.1 * 1/4."""
    lo, hi = saturation_bounds()
    assert (lo, hi) == saturation_bounds("sigmoid")
    s = 1 / (1 + math.exp(-hi))
    assert s * (1 - s) == pytest.approx(0.025, rel=1e-4) and lo == -hi


@pytest.mark.parametrize("activation,w,b", [("elu", 1.5, 0.5), ("elu", 2.0, -1.0),
                                            ("gelu", 1.5, 0.8), ("silu", 0.7, -0.3)])
def test_monte_carlo_agrees_for_one_sided_saturation(activation, w, b):
    """Activations that saturate on one side only: the sign of b matters."""
    exact = saturated_fraction(w, b, activation)
    assert exact != pytest.approx(saturated_fraction(w, -b, activation), abs=0.05)
    p, se = saturated_fraction_mc(w, b, activation, n=20_000, seed=3)
    assert abs(p - exact) < 5 * se


def test_zero_weight_uses_the_saturation_rule_at_b_itself():
    """With w = 0 every input gives z = b: the fraction is is_saturated(b), also exactly on a
    bound (where the slope is 10% of its maximum, not below it), and no warning is raised."""
    import warnings

    lo, hi = saturation_bounds("sigmoid")
    for b in (lo, hi, lo - 1e-9, hi + 1e-9, 0.0):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = saturated_fraction(0.0, b)
        assert got == float(is_saturated("sigmoid", np.array(b)))
    assert isinstance(saturated_fraction(1.0, 0.0), float)
    assert isinstance(saturated_fraction(0.0, 0.0), float)


def test_error_messages_name_the_argument():
    for call, message in [(lambda: saturated_fraction(np.nan, 0.0), "^w must be finite"),
                          (lambda: saturated_fraction(1.0, np.inf), "^b must be finite"),
                          (lambda: saturated_fraction_mc(np.inf), "^w must be finite"),
                          (lambda: saturated_fraction_mc(1.0, np.nan), "^b must be finite"),
                          (lambda: saturated_fraction_curve([1.0, np.nan]),
                           "^w_values must be finite"),
                          (lambda: neuron_state(np.nan, 1.0, 0.0), "^x must be finite"),
                          (lambda: neuron_state(1.0, np.inf, 0.0), "^w must be finite"),
                          (lambda: neuron_state(1.0, 1.0, np.nan), "^b must be finite"),
                          (lambda: neuron_state(1.0, 1.0, 0.0, z_range=(2.0, 2.0)), "z_range"),
                          (lambda: neuron_state(1.0, 1.0, 0.0, z_range=(3.0, 2.0)), "z_range")]:
        with pytest.raises(ValueError, match=message):
            call()
    assert saturated_fraction_mc(1.0, n=2)[0] in (0.0, 0.5, 1.0)  # the smallest sample


def test_curve_takes_one_activation_name_and_uses_the_monte_carlo_defaults():
    out = saturated_fraction_curve([0.5, 2], activations="tanh", mc_w_values=[1, 3])
    assert list(out["exact"]) == ["tanh"] and list(out["mc"]) == ["tanh"]
    assert out["mc_w"].dtype == np.float64
    for i, w in enumerate((1.0, 3.0)):
        assert (out["mc"]["tanh"][i], out["mc_se"]["tanh"][i]) == \
            saturated_fraction_mc(w, 0.0, "tanh")


@pytest.mark.parametrize("w,b", [(10.0, 0.0), (0.0, 12.0), (0.0, -12.0), (0.0, 13.0),
                                 (3.0, 11.0)])
def test_histogram_and_outside_share_the_samples(w, b):
    """Every sampled z is either drawn by the histogram (whose bins include the window's
    edges) or counted outside; outside matches the Gaussian tail mass beyond the window."""
    s = neuron_state(0.5, w, b, n=20_000, seed=4)
    width = s.hist_centers[1] - s.hist_centers[0]
    assert s.hist_density.sum() * width + s.outside == pytest.approx(1.0, abs=1e-9)
    if w:
        lo, hi = s.z_grid[0], s.z_grid[-1]
        tail = stats.norm.cdf(lo, b, abs(w)) + stats.norm.sf(hi, b, abs(w))
        assert abs(s.outside - tail) < 5 * math.sqrt(tail * (1 - tail) / 20_000) + 1e-12
    else:
        assert s.outside == float(abs(b) > 12.0)
    assert s.seed == 4 and s.n == 20_000
