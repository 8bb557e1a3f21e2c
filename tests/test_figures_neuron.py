"""Tests for helpers.figures.neuron: traces, data, axis titles, awkward values."""

from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest
from trace_oracles import assert_xy

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


def _expit(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, float)))


def test_activation_derivatives_figure_curves_on_their_panels_and_legend():
    """Per activation: phi on the left panel, phi', its maximum and its saturation bounds on
    the right, all in the activation's legend group and colour; two activations differ."""
    fig = fn.activation_derivatives_figure(("sigmoid", "tanh"), z_range=(-2.0, 4.0), n=7)
    z = np.arange(-2.0, 5.0)  # 7 points from -2 to 4: a step of 1
    s, t = _expit(z), np.tanh(z)
    assert_xy(fig.data[0], z, s)
    assert_xy(fig.data[1], z, s * (1 - s), rtol=1e-10)
    assert_xy(fig.data[4], z, t)
    assert_xy(fig.data[5], z, 1 - t ** 2, rtol=1e-10)
    assert [(d.xaxis, d.yaxis) for d in fig.data] == [("x", "y")] + [("x2", "y2")] * 3 + \
        [("x", "y")] + [("x2", "y2")] * 3
    assert [d.mode for d in fig.data] == ["lines", "lines", "markers+text", "lines"] * 2
    assert [d.legendgroup for d in fig.data] == ["sigmoid"] * 4 + ["tanh"] * 4
    assert [d.name for d in fig.data[:3]] == ["Sigmoid", "Sigmoid'", "Sigmoid': maximum"]
    assert [d.name for d in fig.data[4:7]] == ["Tanh", "Tanh'", "Tanh': maximum"]
    assert fig.data[3].name.startswith("Sigmoid: saturation starts")
    assert fig.data[7].name.startswith("Tanh: saturation starts")
    for k in (0, 4):  # one colour per activation on every trace of it
        color = fig.data[k].line.color
        assert fig.data[k + 1].line.color == fig.data[k + 3].line.color == color
        assert fig.data[k + 2].marker.color == color
    assert fig.data[0].line.color != fig.data[4].line.color
    assert fig.data[3].line.dash == fig.data[7].line.dash == "dash"


def test_activation_derivatives_figure_marks_the_largest_slope_on_the_grid():
    """The marker sits at the grid point where phi' is largest (the left end here, since
    sigmoid' falls on z > 0), labelled with that value and z."""
    fig = fn.activation_derivatives_figure(("sigmoid",), z_range=(0.5, 3.0), n=6)
    top = _expit(0.5) * _expit(-0.5)  # sigmoid'(0.5) = 0.2350...
    marker = fig.data[2]
    assert list(marker.x) == [0.5] and marker.y[0] == pytest.approx(top, rel=1e-12)
    assert list(marker.text) == [f"max {top:.4g} at z = 0.5"]
    fig = fn.activation_derivatives_figure(("tanh",), z_range=(-3.0, -1.0), n=3)
    top = 1 - np.tanh(1.0) ** 2  # tanh' is largest at the right end, z = -1
    assert list(fig.data[2].x) == [-1.0] and fig.data[2].y[0] == pytest.approx(top, rel=1e-12)
    assert list(fig.data[2].text) == [f"max {top:.4g} at z = -1"]


def test_activation_derivatives_figure_saturation_bounds_from_zero_to_the_maximum():
    """Vertical lines where phi' falls to 10% of its maximum, from 0 up to that maximum:
    tanh at +-arccosh(sqrt 10); ELU only at ln 0.1 (it never saturates for z > 0)."""
    fig = fn.activation_derivatives_figure(("tanh", "elu"))
    b = np.arccosh(np.sqrt(10.0))  # sech^2(b) = 0.1
    tanh_bounds, elu_bounds = fig.data[3], fig.data[7]
    assert [v is None for v in tanh_bounds.x] == [False, False, True] * 2
    np.testing.assert_allclose(np.asarray(tanh_bounds.x, float),
                               [-b, -b, np.nan, b, b, np.nan], atol=1e-4)
    assert list(tanh_bounds.y) == [0.0, 1.0, None, 0.0, 1.0, None]
    assert len(elu_bounds.x) == 3 and elu_bounds.x[2] is None
    np.testing.assert_allclose(elu_bounds.x[:2], [np.log(0.1)] * 2, atol=1e-4)
    assert list(elu_bounds.y) == [0.0, 1.0, None]
    assert elu_bounds.name.startswith("ELU: saturation starts")


def _hand_curve():
    return {"w": np.array([0.0, 1.0, 2.0]), "b": -1.5,
            "exact": {"sigmoid": np.array([0.0, 0.1, 0.3]), "tanh": np.array([0.0, 0.2, 0.5])},
            "mc_w": np.array([1.0, 2.0]),
            "mc": {"sigmoid": np.array([0.11, 0.29]), "tanh": np.array([0.21, 0.52])},
            "mc_se": {"sigmoid": np.array([0.01, 0.02]), "tanh": np.array([0.005, 0.01])}}


def test_saturated_fraction_figure_every_trace_from_the_curve():
    """Per activation: the exact curve (dashed line over w) then the Monte Carlo points over
    mc_w with 2-SE bars, in the activation's colour and legend group; y from -0.02 to 1.02."""
    fig = fn.saturated_fraction_figure(_hand_curve())
    assert len(fig.data) == 4
    assert_xy(fig.data[0], [0, 1, 2], [0.0, 0.1, 0.3])
    assert_xy(fig.data[1], [1, 2], [0.11, 0.29])
    assert_xy(fig.data[2], [0, 1, 2], [0.0, 0.2, 0.5])
    assert_xy(fig.data[3], [1, 2], [0.21, 0.52])
    np.testing.assert_allclose(fig.data[1].error_y.array, [0.02, 0.04])
    np.testing.assert_allclose(fig.data[3].error_y.array, [0.01, 0.02])
    assert fig.data[1].error_y.visible and fig.data[3].error_y.type == "data"
    assert [d.mode for d in fig.data] == ["lines", "markers"] * 2
    assert [d.name for d in fig.data] == ["Sigmoid: exact (normal CDF)", "Sigmoid: Monte Carlo",
                                         "Tanh: exact (normal CDF)", "Tanh: Monte Carlo"]
    assert [d.legendgroup for d in fig.data] == ["sigmoid", "sigmoid", "tanh", "tanh"]
    assert fig.data[0].line.dash == fig.data[2].line.dash == "dash"
    assert fig.data[0].line.color == fig.data[1].marker.color
    assert fig.data[2].line.color == fig.data[3].marker.color
    assert fig.data[0].line.color != fig.data[2].line.color
    assert tuple(fig.layout.yaxis.range) == (-0.02, 1.02)
    assert fig.layout.title.text == ("Fraction of inputs x ~ N(0, 1) that saturate "
                                     "a = phi(w x + b), b = -1.5")
    assert fn.saturated_fraction_figure(_hand_curve(), title="My title").layout.title.text == \
        "My title"


def test_saturated_fraction_figure_keeps_gaps_and_leaves_missing_monte_carlo_empty():
    curve = {"w": np.array([0.0, 1.0, 2.0]), "b": 0.0,
             "exact": {"sigmoid": np.array([np.nan, np.inf, 0.0])}, "mc_w": np.array([]),
             "mc": {}, "mc_se": {}}
    fig = fn.saturated_fraction_figure(curve)
    y = np.asarray(fig.data[0].y, float)
    assert np.isnan(y[0]) and np.isposinf(y[1]) and y[2] == 0.0
    mc = fig.data[1]
    assert len(mc.x) == 0 and len(mc.y) == 0 and len(mc.error_y.array) == 0


def test_neuron_figure_panels_types_and_legend():
    """phi and its point on the left, phi' with threshold and point in the middle, the
    density of z on the right; saturated parts share a colour, the point traces another."""
    fig = fn.neuron_figure()
    d = fig.data
    assert len(d) == 11
    assert [(t.xaxis, t.yaxis) for t in d] == [("x", "y")] * 3 + [("x2", "y2")] * 4 + \
        [("x3", "y3")] * 4
    assert [t.type for t in d] == ["scatter"] * 7 + ["bar"] + ["scatter"] * 3
    assert d[fn.PHI_POINT].mode == d[fn.DPHI_POINT].mode == "markers+text"
    assert d[fn.THRESHOLD].mode == d[fn.DENSITY].mode == d[fn.Z_LINE].mode == "lines"
    assert d[fn.DENSITY_SAT].fill == "tozeroy"
    # the exact density is theory (dashed), the histogram is measured
    assert d[fn.DENSITY].line.dash == "dash"
    # one legend entry for both saturated stretches and one for the point on every panel
    assert d[fn.PHI_SAT].legendgroup == d[fn.DPHI_SAT].legendgroup == "sat"
    assert d[fn.PHI_SAT].showlegend is not False and d[fn.DPHI_SAT].showlegend is False
    assert {d[i].legendgroup for i in (fn.PHI_POINT, fn.DPHI_POINT, fn.Z_LINE)} == {"pt"}
    assert d[fn.PHI_POINT].showlegend is not False
    assert d[fn.DPHI_POINT].showlegend is False and d[fn.Z_LINE].showlegend is False
    warn = d[fn.PHI_SAT].line.color
    assert d[fn.DPHI_SAT].line.color == d[fn.DENSITY_SAT].line.color == warn
    point = d[fn.PHI_POINT].marker.color
    assert d[fn.DPHI_POINT].marker.color == d[fn.Z_LINE].line.color == point != warn
    assert d[fn.PHI].line.color != d[fn.DPHI].line.color
    assert [len(t.x) for t in d] == [0] * 11
    assert fig.layout.title.text == "A single neuron a = phi(w x + b)"


def _state(activation, z_grid, z, a, slope, density, hist_density, **kw):
    z_grid = np.asarray(z_grid, float)
    base = dict(activation=activation, z_grid=z_grid, z=z, a=a, slope=slope,
                density=np.asarray(density, float),
                density_saturated=np.full(z_grid.size, np.nan),
                hist_centers=np.array([-1.0, 1.0]), hist_density=np.asarray(hist_density, float),
                w=1.0, b=0.0, fraction=0.5, fraction_mc=0.5, fraction_se=0.01, n=1000, seed=3)
    return SimpleNamespace(**{**base, **kw})


def test_update_neuron_figure_from_a_hand_built_tanh_state():
    """Curves on the state's z grid, the saturated stretches |z| > arccosh(sqrt 10), the
    threshold at 10% of tanh's maximum slope 1, the point at the state's (z, a) and
    (z, slope), and names and title for tanh; a zero density gives a tiny z line."""
    z = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    s = _state("tanh", z, 0.7, 0.6, 0.64, np.zeros(5), [0.0, 0.0], w=0.0, b=0.7,
               fraction=0.0, fraction_mc=0.0, fraction_se=0.0, density_saturated=z * 0)
    fig = fn.neuron_figure(_state("sigmoid", z, 1.0, 0.7, 0.2, np.ones(5), [1.0, 2.0]))
    fn.update_neuron_figure(fig, s)
    d, t = fig.data, np.tanh(z)
    sat = np.array([True, False, False, False, True])  # only |z| = 3 > 1.8184
    assert_xy(d[fn.PHI], z, t)
    assert_xy(d[fn.PHI_SAT], z, np.where(sat, t, np.nan))
    assert_xy(d[fn.DPHI], z, 1 - t ** 2, rtol=1e-10)
    assert_xy(d[fn.DPHI_SAT], z, np.where(sat, 1 - t ** 2, np.nan), rtol=1e-10)
    assert_xy(d[fn.THRESHOLD], [-3.0, 3.0], [0.1, 0.1])
    assert_xy(d[fn.PHI_POINT], [0.7], [0.6])  # the state's numbers, as given
    assert_xy(d[fn.DPHI_POINT], [0.7], [0.64])
    assert_xy(d[fn.HIST], [-1.0, 1.0], [0.0, 0.0])
    assert_xy(d[fn.DENSITY], z, np.zeros(5))
    assert_xy(d[fn.DENSITY_SAT], z, np.zeros(5))
    assert_xy(d[fn.Z_LINE], [0.7, 0.7], [0.0, 1e-12])
    assert d[fn.PHI].name == "Tanh phi(z)" and d[fn.DPHI].name == "Tanh' phi'(z)"
    assert list(d[fn.PHI_POINT].text) == ["z = 0.7, a = 0.6"]
    assert list(d[fn.DPHI_POINT].text) == ["phi'(z) = 0.64"]
    assert fig.layout.title.text == ("Tanh neuron, w = 0, b = 0.7: saturated inputs 0% exact, "
                                     "0% +- 0% Monte Carlo (n = 1,000, seed 3)")


@pytest.mark.parametrize("density_top, hist_top", [(0.2, 0.35), (0.4, 0.35)])
def test_update_neuron_figure_z_line_reaches_the_higher_of_density_and_histogram(
        density_top, hist_top):
    z = np.array([-1.0, 0.0, 1.0])
    s = _state("sigmoid", z, -0.5, 0.4, 0.2, [0.1, density_top, 0.1], [hist_top, 0.05])
    fig = fn.neuron_figure(s)
    assert_xy(fig.data[fn.Z_LINE], [-0.5, -0.5], [0.0, max(density_top, hist_top)])


def test_update_neuron_figure_activation_that_never_saturates():
    """ReLU has no saturation bounds: no saturated stretch is drawn; its threshold is 0.1."""
    z = np.array([-2.0, -0.5, 0.5, 2.0])
    fig = fn.neuron_figure(_state("relu", z, 0.5, 0.5, 1.0, np.ones(4), [1.0, 1.0]))
    d = fig.data
    assert_xy(d[fn.PHI], z, [0.0, 0.0, 0.5, 2.0])
    assert_xy(d[fn.DPHI], z, [0.0, 0.0, 1.0, 1.0])
    assert np.all(np.isnan(np.asarray(d[fn.PHI_SAT].y, float)))
    assert np.all(np.isnan(np.asarray(d[fn.DPHI_SAT].y, float)))
    assert_xy(d[fn.THRESHOLD], [-2.0, 2.0], [0.1, 0.1])
    assert d[fn.PHI].name == "ReLU phi(z)"


def test_neuron_figure_legend_names_colours_lines_and_axis_titles():
    """What a reader of the explorer sees besides the numbers: every legend name, colour,
    line style and width, the three panel titles and every axis title, word for word."""
    fig = fn.neuron_figure(height=450)
    d = fig.data
    blue, green, vermillion, black, grey = "#0072B2", "#009E73", "#D55E00", "#000000", "#444444"
    assert [t.name for t in d] == [
        "phi(z)", "saturated region", "the neuron at input x",
        "phi'(z)", "saturated region", "10% of max phi' (saturation threshold)",
        "the neuron at input x",
        "sampled z (Monte Carlo)", "density of z, exact N(b, w^2)", "saturated inputs",
        "z at input x"]
    assert d[fn.PHI].line.color == blue and d[fn.DPHI].line.color == green
    assert d[fn.PHI_SAT].line.width == d[fn.DPHI_SAT].line.width == 6
    assert d[fn.PHI_SAT].line.color == vermillion
    assert d[fn.PHI_POINT].marker.size == d[fn.DPHI_POINT].marker.size == 13
    assert d[fn.PHI_POINT].marker.color == black
    assert d[fn.PHI_POINT].textposition == "bottom right"
    assert d[fn.DPHI_POINT].textposition == "top right"
    assert d[fn.THRESHOLD].line.color == grey and d[fn.THRESHOLD].line.dash == "dot"
    assert d[fn.HIST].marker.color == blue and d[fn.HIST].opacity == 0.45
    assert d[fn.DENSITY].line.color == grey
    assert d[fn.DENSITY_SAT].line.width == 1 and d[fn.DENSITY_SAT].connectgaps is False
    assert d[fn.Z_LINE].line.width == 2
    assert [a.text for a in fig.layout.annotations] == [
        "a = phi(z)", "slope phi'(z)", "z = w x + b for inputs x ~ N(0, 1)"]
    lay = fig.layout
    assert lay.height == 450 and fn.neuron_figure().layout.height == 430
    assert lay.bargap == 0.0
    assert lay.xaxis.title.text == lay.xaxis2.title.text == lay.xaxis3.title.text == (
        "pre-activation z")
    assert lay.yaxis.title.text == "a = phi(z)"
    assert lay.yaxis2.title.text == "slope phi'(z)"
    assert lay.yaxis3.title.text == "probability density"
    assert "yaxis4" not in lay and "xaxis4" not in lay  # one row of three panels
    assert lay.xaxis.domain[1] + 0.08 == pytest.approx(lay.xaxis2.domain[0])


def test_activation_derivatives_and_saturation_charts_default_text_and_marks():
    fig = fn.activation_derivatives_figure(["tanh"])
    assert fig.layout.title.text == "Activation functions and their derivatives"
    assert fig.layout.height == 420
    assert [a.text for a in fig.layout.annotations][:2] == ["activation phi(z)",
                                                            "derivative phi'(z)"]
    phi, dphi, peak, bound = fig.data
    assert (phi.name, dphi.name, peak.name) == ("Tanh", "Tanh'", "Tanh': maximum")
    assert dphi.line.width == 3 and phi.line.width is None  # the derivative is the point
    assert peak.marker.symbol == "diamond" and peak.marker.size == 10
    assert peak.textposition == "middle right"
    assert bound.line.dash == "dash" and bound.line.width == 1
    sat = fn.saturated_fraction_figure(_hand_curve())
    assert sat.data[0].line.width == sat.data[2].line.width == 3
    assert all(t.marker.symbol == "circle-open" and t.marker.size == 8 for t in sat.data[1::2])
    assert sat.layout.xaxis.title.text == "weight w"
    assert sat.layout.yaxis.title.text == "saturated fraction of inputs"
