"""Tests for helpers.figures.neuron: traces, data, axis titles, awkward values."""

import numpy as np
import plotly.graph_objects as go
import pytest

from helpers.activations import derivative, is_saturated
from helpers.figures import neuron as fn
from helpers.topics.neuron import neuron_state, saturated_fraction_curve


def test_activation_derivatives_figure():
    fig = fn.activation_derivatives_figure(("sigmoid", "tanh"))
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 8  # per activation: phi, phi', maximum marker, saturation bounds
    assert fig.layout.title.text and fig.layout.showlegend
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert fig.layout.yaxis2.title.text == "phi'(z)"
    sig_max, tanh_max = fig.data[2], fig.data[6]
    assert sig_max.y[0] == pytest.approx(0.25) and sig_max.x[0] == pytest.approx(0.0)
    assert tanh_max.y[0] == pytest.approx(1.0)
    assert list(sig_max.text) == ["max 0.25 at z = 0"] and list(tanh_max.text) == ["max 1 at z = 0"]
    np.testing.assert_allclose(fig.data[1].y, derivative("sigmoid")(np.asarray(fig.data[1].x)))
    assert fig.data[3].x[0] == pytest.approx(-3.636893, abs=1e-4)
    lo, hi = fig.data[3].x[0], fig.data[3].x[3]  # two vertical lines, from 0 to max phi'
    assert list(fig.data[3].x) == [lo, lo, None, hi, hi, None] and hi == pytest.approx(-lo)
    assert list(fig.data[3].y) == [0.0, 0.25, None, 0.0, 0.25, None]


def test_activation_derivatives_figure_errors():
    with pytest.raises(ValueError, match="valid choices"):
        fn.activation_derivatives_figure(["nope"])
    with pytest.raises(ValueError, match="lo < hi"):
        fn.activation_derivatives_figure(z_range=(1.0, -1.0))
    # an activation without saturation bounds has no bounds trace
    assert len(fn.activation_derivatives_figure("relu").data) == 3


def test_saturated_fraction_figure():
    curve = saturated_fraction_curve(np.linspace(0, 6, 25), 0.0, mc_w_values=[1, 2, 4], n=5000)
    fig = fn.saturated_fraction_figure(curve)
    assert len(fig.data) == 4
    np.testing.assert_allclose(fig.data[0].y, curve["exact"]["sigmoid"])
    np.testing.assert_allclose(fig.data[3].y, curve["mc"]["tanh"])
    assert fig.data[0].line.dash == "dash"
    for i, name in ((1, "sigmoid"), (3, "tanh")):  # error bars: two standard errors, in data units
        assert fig.data[i].error_y.type == "data"
        np.testing.assert_allclose(fig.data[i].error_y.array, 2 * np.asarray(curve["mc_se"][name]))
        np.testing.assert_allclose(fig.data[i].x, curve["mc_w"])
    assert "b = 0" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "weight w" and fig.layout.yaxis.title.text


def test_saturated_fraction_figure_draws_nan_and_inf():
    curve = {"w": np.array([0.0, 1.0, 2.0]), "b": 0.0,
             "exact": {"sigmoid": np.array([np.nan, np.inf, 0.0])}, "mc_w": np.array([]),
             "mc": {}, "mc_se": {}}
    fig = fn.saturated_fraction_figure(curve)
    assert len(fig.data) == 2 and len(fig.data[0].y) == 3


def test_neuron_figure_traces_follow_the_state():
    s = neuron_state(1.5, 3.0, -1.0, n=5000, seed=1)
    fig = fn.neuron_figure(s)
    assert len(fig.data) == 11
    d = fig.data
    assert d[fn.PHI_POINT].x[0] == pytest.approx(3.5) and d[fn.PHI_POINT].y[0] == s.a
    assert d[fn.DPHI_POINT].y[0] == pytest.approx(s.slope)
    np.testing.assert_allclose(d[fn.HIST].y, s.hist_density)
    np.testing.assert_allclose(d[fn.DENSITY].y, s.density)
    sat = is_saturated("sigmoid", s.z_grid)
    assert np.all(np.isnan(np.asarray(d[fn.PHI_SAT].y, dtype=float)[~sat]))
    assert np.all(np.isfinite(np.asarray(d[fn.PHI_SAT].y, dtype=float)[sat]))
    assert d[fn.THRESHOLD].y[0] == pytest.approx(0.025)
    assert f"{100 * s.fraction:.3g}%" in fig.layout.title.text
    for axis in ("xaxis", "xaxis2", "xaxis3", "yaxis", "yaxis2", "yaxis3"):
        assert fig.layout[axis].title.text


def test_neuron_figure_empty_and_zero_weight():
    fig = fn.neuron_figure()
    assert len(fig.data) == 11 and len(fig.data[0].x) == 0
    fn.update_neuron_figure(fig, neuron_state(0.0, 0.0, 8.0, activation="tanh"))
    assert np.all(np.asarray(fig.data[fn.DENSITY].y) == 0)
    assert "Tanh" in fig.layout.title.text and "100% exact" in fig.layout.title.text


def test_neuron_figure_every_trace_and_the_title_from_the_state():
    """Each trace's data written from the state and the sigmoid's formulas (not from the
    figure module), and the title's numbers: the exact and Monte Carlo percentages."""
    from scipy.special import expit

    s = neuron_state(1.5, 3.0, -1.0, n=5000, seed=1)
    fig = fn.neuron_figure(s)
    d, z = fig.data, np.asarray(s.z_grid, float)
    sig = expit(z)
    lo, hi = s.bounds
    sat = (z < lo) | (z > hi)

    from trace_oracles import assert_xy

    def xy(trace, x, y):  # sigma' as s (1 - s) loses digits in the tails: y to 1e-9
        assert_xy(trace, x, y, rtol=1e-9, x_rtol=1e-12)

    xy(d[fn.PHI], z, sig)
    xy(d[fn.PHI_SAT], z, np.where(sat, sig, np.nan))
    xy(d[fn.PHI_POINT], [3.5], [expit(3.5)])
    xy(d[fn.DPHI], z, sig * (1 - sig))
    xy(d[fn.DPHI_SAT], z, np.where(sat, sig * (1 - sig), np.nan))
    xy(d[fn.THRESHOLD], [z[0], z[-1]], [0.025, 0.025])
    xy(d[fn.DPHI_POINT], [3.5], [expit(3.5) * expit(-3.5)])
    xy(d[fn.HIST], s.hist_centers, s.hist_density)
    xy(d[fn.DENSITY], z, np.exp(-((z + 1.0) / 3.0) ** 2 / 2) / (3.0 * np.sqrt(2 * np.pi)))
    xy(d[fn.DENSITY_SAT], z, s.density_saturated)
    xy(d[fn.Z_LINE], [3.5, 3.5], [0.0, max(np.max(s.density), np.max(s.hist_density))])
    assert d[fn.PHI].name == "Sigmoid phi(z)" and d[fn.DPHI].name == "Sigmoid' phi'(z)"
    assert list(d[fn.PHI_POINT].text) == [f"z = 3.5, a = {expit(3.5):.3g}"]
    assert list(d[fn.DPHI_POINT].text) == [f"phi'(z) = {expit(3.5) * expit(-3.5):.3g}"]
    assert fig.layout.title.text == (
        f"Sigmoid neuron, w = 3, b = -1: saturated inputs {100 * s.fraction:.3g}% exact, "
        f"{100 * s.fraction_mc:.3g}% +- {100 * s.fraction_se:.2g}% Monte Carlo "
        "(n = 5,000, seed 1)")
    assert 0 < s.fraction_mc < 1 and s.fraction_se > 0
