"""Lesson 5 figures: traces, axes, and data with zeros / NaN / inf drawn, not dropped."""

from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest
from trace_oracles import assert_log_triple, assert_xy

from helpers.figures.compare import gradient_growth_figure
from helpers.figures.initialization import (
    depth_scale_figure,
    init_comparison_figure,
    length_map_figure,
    phase_figure,
    singular_value_figure,
    update_phase_map,
    update_phase_point,
)


def _growth(g, chi=0.9, sw=1.2, sb=0.05):
    g = np.asarray(g, dtype=float)
    power = np.arange(len(g) - 1, -1, -1.0)
    return SimpleNamespace(sigma_w2=sw, sigma_b2=sb, grad_sq_norm=g,
                           prediction=g[-1] * chi ** power)


def test_phase_figure_map_and_point():
    fig = phase_figure("tanh")
    assert len(fig.data) == 9 and isinstance(fig.data[0], go.Heatmap)
    assert fig.layout.yaxis2.type == "log" and fig.layout.xaxis.title.text
    assert fig.data[0].zmid == 0.0
    sw, sb = np.linspace(0.5, 3, 4), np.array([0.0, 0.1])
    chi = np.array([[0.5, 1.0, 2.0, np.inf], [0.2, 0.9, 1.1, 3.0]])
    update_phase_map(fig, "relu", sw, sb, chi, [2.0, 2.0])
    np.testing.assert_allclose(fig.data[0].z[0][:3], np.log10([0.5, 1.0, 2.0]))
    assert np.isfinite(np.asarray(fig.data[0].z)).all()  # inf clipped to the top colour
    assert list(fig.data[1].x) == [2.0, 2.0] and list(fig.data[1].y) == [0.0, 0.1]
    update_phase_point(fig, _growth([4.0, 0.0, np.nan, np.inf, 1.0]), title="T")
    assert list(fig.data[2].x) == [1.2] and list(fig.data[2].y) == [0.05]
    assert list(fig.data[4].x) == [2, 3]  # zero and NaN flagged
    assert list(fig.data[5].x) == [4]  # overflow flagged
    assert "exactly 0" in fig.layout.title.text and fig.layout.title.text.startswith("T")
    np.testing.assert_allclose(fig.data[6].y, 0.9 ** np.arange(4, -1, -1))


def test_init_comparison_figure_draws_bad_values():
    good = SimpleNamespace(preact_second_moment=np.array([1.0, 0.5, 0.25]),
                           grad_sq_norm=np.array([3.0, 2.0, 1.0]))
    bad = SimpleNamespace(preact_second_moment=np.array([1.0, 0.0, np.nan]),
                          grad_sq_norm=np.array([np.inf, 2.0, 1.0]))
    fig = init_comparison_figure({"he": good, "too small": bad}, title="inits")
    assert len(fig.data) == 12
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert len(fig.data[7].x) == 2  # the zero and the NaN of "too small", forward panel
    assert len(fig.data[11].x) == 1  # its overflow, backward panel
    assert "inits" in fig.layout.title.text and "exactly 0" in fig.layout.title.text


def test_length_map_depth_scale_singular_values_and_growth_figures():
    it = np.array([[0.1, 0.3, 0.4], [3.0, 1.0, 0.5]])
    fig = length_map_figure(it, 0.45, {"measured": [0.31, 0.41]}, title="q")
    assert len(fig.data) == 4 and fig.layout.yaxis.type == "log"
    assert list(fig.data[3].y) == [0.45, 0.45] and list(fig.data[2].x) == [1, 2]
    fig = depth_scale_figure([0.5, 1.0, 1.5], {"sb=0": [2.0, np.inf, 3.0]}, title="d")
    assert np.isnan(fig.data[0].y[1]) and fig.data[0].y[0] == 2.0
    fig = singular_value_figure({"gauss": [1e-5, 1.0, 10.0], "orth": [1.0, 1.0, 0.0]},
                                title="s")
    assert len(fig.data) == 2 and fig.layout.xaxis.title.text
    np.testing.assert_allclose(fig.data[0].x, [-5, 0, 1])
    assert np.isfinite(fig.data[1].x).all()  # an exact zero is drawn at the far left
    g = _growth([2.0, 1.0, 0.0])
    fig = gradient_growth_figure({"a": g.grad_sq_norm}, theory={"a": g.prediction}, title="g",
                                 x_title="hidden layer l", y_title="||dL/dh_l||^2 (log scale)")
    assert len(fig.data) == 6 and fig.layout.yaxis.type == "log"
    assert list(fig.data[1].x) == [3]


def test_correlation_map_figure_draws_identity_and_curves():
    from helpers.figures.initialization import correlation_map_figure

    c = np.linspace(0, 1, 5)
    fig = correlation_map_figure(c, {"a": c ** 2, "b": np.sqrt(c)}, title="c-map")
    assert len(fig.data) == 3 and list(fig.data[0].y) == list(c)
    np.testing.assert_allclose(fig.data[1].y, c ** 2)
    assert fig.layout.xaxis.title.text.startswith("correlation")
    assert fig.layout.yaxis.title.text == "correlation c_l one layer up"


def test_init_comparison_panels_and_depth_scale_data_in_full():
    """Forward values in the left panel and backward ones in the right, each series' line
    as given (x = layers 1..L); the depth-scale curves' x and y, values below 1 kept and
    non-positive or infinite ones left as gaps."""
    good = SimpleNamespace(preact_second_moment=np.array([1.0, 0.5, 0.25]),
                           grad_sq_norm=np.array([3.0, 2.0, 1.0]))
    other = SimpleNamespace(preact_second_moment=np.array([2.0, 4.0, 8.0]),
                            grad_sq_norm=np.array([0.1, 0.2, 0.4]))
    fig = init_comparison_figure({"he": good, "xavier": other}, title="inits")
    for i, prof in enumerate((good, other)):
        forward, backward = fig.data[6 * i], fig.data[6 * i + 3]
        assert (forward.xaxis, backward.xaxis) == ("x", "x2")
        np.testing.assert_array_equal(forward.x, [1, 2, 3])
        np.testing.assert_array_equal(forward.y, prof.preact_second_moment)
        np.testing.assert_array_equal(backward.y, prof.grad_sq_norm)
        assert forward.showlegend and not backward.showlegend
        assert forward.line.color == backward.line.color
    assert fig.data[0].line.color != fig.data[6].line.color
    assert fig.layout.yaxis.title.text == "Var h_l (log scale)"
    assert fig.layout.yaxis2.title.text == "||dL/dh_l||^2 (log scale)"
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == "hidden layer l"
    fig = depth_scale_figure([0.5, 1.0, 1.5, 2.0], {"a": [0.3, np.inf, 3.0, -1.0],
                                                    "b": [2.0, 0.0, 0.5, np.nan]}, title="d")
    np.testing.assert_array_equal(fig.data[0].x, [0.5, 1.0, 1.5, 2.0])
    np.testing.assert_array_equal(fig.data[0].y, [0.3, np.nan, 3.0, np.nan])
    np.testing.assert_array_equal(fig.data[1].y, [2.0, np.nan, 0.5, np.nan])
    assert [t.name for t in fig.data] == ["a", "b"] and fig.layout.yaxis.type == "log"
    assert fig.layout.title.text == "d" and fig.layout.xaxis.title.text == "sigma_w^2"


# hex colours of the palette, written out: blue, vermillion, orange (tanh), dark grey (theory)
BLUE, VERMILLION, ORANGE, THEORY_GREY = "#0072B2", "#D55E00", "#E69F00", "#444444"


def test_init_comparison_every_triple_in_its_panel():
    """Each init gets a (line, zeros, overflows) triple per panel: forward Var h_l on the
    left axes (x, y), backward ||dL/dh_l||^2 on the right (x2, y2), in profile order."""
    a = SimpleNamespace(preact_second_moment=np.array([1.0, 0.0, np.nan, 4.0]),
                        grad_sq_norm=np.array([2.0, np.inf, 0.5, 1.0]))
    b = SimpleNamespace(preact_second_moment=np.array([1e-3, 1e-2, 1e-1, 1.0]),
                        grad_sq_norm=np.array([0.0, 0.0, 8.0, np.inf]))
    fig = init_comparison_figure({"small": a, "large": b}, title="inits")
    assert len(fig.data) == 12
    for i, prof in enumerate((a, b)):
        fwd, bwd = fig.data[6 * i:6 * i + 3], fig.data[6 * i + 3:6 * i + 6]
        assert_log_triple(fwd, prof.preact_second_moment, what="forward")
        assert_log_triple(bwd, prof.grad_sq_norm, what="backward")
        assert all((t.xaxis, t.yaxis) == ("x", "y") for t in fwd)
        assert all((t.xaxis, t.yaxis) == ("x2", "y2") for t in bwd)
        assert all(t.type == "scatter" for t in fwd + bwd)


def test_init_comparison_legend_names_groups_and_colours():
    """One legend entry per init (its forward line); all six traces of an init share its
    legend group and its colour; the flag markers stay out of the legend."""
    p = SimpleNamespace(preact_second_moment=np.ones(3), grad_sq_norm=np.ones(3))
    fig = init_comparison_figure({"He": p, "Xavier": p, "orthogonal": p}, title="t")
    assert len(fig.data) == 18
    colours = []
    for i, label in enumerate(("He", "Xavier", "orthogonal")):
        six = fig.data[6 * i:6 * i + 6]
        assert {t.legendgroup for t in six} == {label}
        assert [t.showlegend for t in six] == [True, False, False, False, False, False]
        assert six[0].name == six[3].name == label
        assert six[0].mode == six[3].mode == "lines+markers"
        assert all(t.mode == "markers" for t in (six[1], six[2], six[4], six[5]))
        assert six[0].line.color == six[3].line.color
        colours.append(six[0].line.color)
    assert len(set(colours)) == 3


def test_init_comparison_log_axes_and_title_notes():
    """Both y axes logarithmic with power exponents; a clean title is the caller's; flagged
    points are named per init and per panel (forward first) under the title."""
    clean = SimpleNamespace(preact_second_moment=np.ones(3), grad_sq_norm=np.ones(3))
    fig = init_comparison_figure({"He": clean}, title="ReLU inits")
    assert fig.layout.title.text == "ReLU inits"
    for ax in (fig.layout.yaxis, fig.layout.yaxis2):
        assert ax.type == "log" and ax.exponentformat == "power"
    assert fig.layout.xaxis.type != "log" and fig.layout.xaxis2.type != "log"
    bad = SimpleNamespace(preact_second_moment=np.array([1.0, 0.0, 1.0]),
                          grad_sq_norm=np.array([np.inf, 1.0, 1.0]))
    fig = init_comparison_figure({"He": clean, "too small": bad}, title="T")
    head, sup = fig.layout.title.text.split("<br><sup>")
    assert head == "T" and sup.endswith("</sup>")
    notes = sup[:-len("</sup>")].split("; ")
    assert len(notes) == 2 and all(n.startswith("too small: 1 layer") for n in notes)
    assert "exactly 0" in notes[0] and "infinity" in notes[1]


def test_length_map_theory_rows_measured_points_and_fixed_point():
    """Theory rows from layer 0 (q_0 in column 0), measured Var h_l from layer 1 as open
    markers, the q* line over the whole layer range, dashed; log y axis."""
    it = np.array([[0.05, 0.2, 0.3, 0.33], [4.0, 1.0, 0.5, 0.35]])
    meas = {"m from 0.05": [0.21, 0.31, 0.32], "m from 4": [1.1, 0.52, 0.36]}
    fig = length_map_figure(it, 0.3456789, meas, title="length map")
    assert len(fig.data) == 5 and all(t.type == "scatter" for t in fig.data)
    for i in range(2):
        assert_xy(fig.data[i], [0, 1, 2, 3], it[i], what=f"theory {i}")
        assert fig.data[i].mode == "lines+markers"
    assert fig.data[0].name == "theory from q_0 = 0.05"
    assert fig.data[1].name == "theory from q_0 = 4"
    for i, (label, v) in enumerate(meas.items()):
        t = fig.data[2 + i]
        assert_xy(t, [1, 2, 3], v, what=label)
        assert t.mode == "markers" and t.name == label
    qline = fig.data[4]
    assert_xy(qline, [0, 3], [0.3456789, 0.3456789], what="q*")
    assert qline.mode == "lines" and qline.line.dash == "dash"
    assert qline.name == "fixed point q* = 0.3457"
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.exponentformat == "power"
    assert fig.layout.title.text == "length map"


def test_length_map_measured_series_share_their_starts_colour():
    """The i-th measured network starts from the i-th q_0: it takes that theory row's
    colour; the rows differ from each other and from the theory-grey q* line."""
    it = np.array([[0.1, 0.2], [1.0, 0.5], [3.0, 1.0]])
    fig = length_map_figure(it, 0.4, {"a": [0.2], "b": [0.5], "c": [1.1]}, title="q")
    rows = [fig.data[i].line.color for i in range(3)]
    assert [fig.data[3 + i].marker.color for i in range(3)] == rows
    assert len(set(rows)) == 3 and fig.data[6].line.color not in rows


def test_length_map_without_measurements():
    """No measured networks: the theory rows and the q* line only."""
    fig = length_map_figure([[2.0, 1.0, 0.8]], 0.7, title="q")
    assert len(fig.data) == 2
    assert_xy(fig.data[0], [0, 1, 2], [2.0, 1.0, 0.8])
    assert_xy(fig.data[1], [0, 2], [0.7, 0.7])


def test_correlation_map_identity_dotted_and_curve_colours():
    """The identity is drawn dotted in the theory grey, first; each c-map is a line over
    the same c grid with its own colour and legend name."""
    from helpers.figures.initialization import correlation_map_figure

    c = np.array([0.0, 0.25, 0.5, 1.0])
    fig = correlation_map_figure(c, {"sw=1": [0.1, 0.3, 0.55, 1.0],
                                     "sw=4": [0.6, 0.7, 0.8, 1.0]}, title="c-map")
    ident = fig.data[0]
    assert_xy(ident, c, c, what="identity")
    assert ident.line.dash == "dot" and ident.line.color == THEORY_GREY and ident.mode == "lines"
    assert ident.name == "identity c_l = c_(l-1)"
    assert [t.name for t in fig.data[1:]] == ["sw=1", "sw=4"]
    assert_xy(fig.data[1], c, [0.1, 0.3, 0.55, 1.0])
    assert_xy(fig.data[2], c, [0.6, 0.7, 0.8, 1.0])
    assert all(t.mode == "lines" and t.line.dash is None for t in fig.data[1:])
    assert len({t.line.color for t in fig.data}) == 3
    assert fig.layout.title.text == "c-map"
    assert fig.layout.xaxis.type != "log" and fig.layout.yaxis.type != "log"


def test_depth_scale_curves_modes_colours_and_log_axis():
    """One solid line per sigma_b^2, distinct colours, on a log y axis with powers."""
    fig = depth_scale_figure([1.0, 2.0], {"a": [1.0, 2.0], "b": [3.0, 4.0], "c": [5.0, 6.0]},
                             title="d")
    assert len(fig.data) == 3 and all(t.mode == "lines" for t in fig.data)
    assert len({t.line.color for t in fig.data}) == 3
    assert_xy(fig.data[2], [1.0, 2.0], [5.0, 6.0])
    assert fig.layout.yaxis.exponentformat == "power" and fig.layout.xaxis.type != "log"


def test_singular_value_histograms_share_bins_over_all_series():
    """Every histogram is binned on the same grid, from the smallest to the largest log10
    singular value of all series, in ``bins`` equal bins; the vline at 0 (singular value
    1) is dashed; bars overlay."""
    fig = singular_value_figure({"gauss": [1e-4, 0.1, 1.0], "orth": [1.0, 100.0]},
                                title="svals", bins=8)
    assert [t.type for t in fig.data] == ["histogram", "histogram"]
    assert [t.name for t in fig.data] == ["gauss", "orth"]
    np.testing.assert_allclose(fig.data[0].x, [-4, -1, 0])
    np.testing.assert_allclose(fig.data[1].x, [0, 2])
    for t in fig.data:
        # log10 range -4 .. 2, so 8 bins of 0.75
        assert (t.xbins.start, t.xbins.end) == (-4.0, 2.0)
        assert t.xbins.size == pytest.approx(0.75)
    assert fig.data[0].marker.color != fig.data[1].marker.color
    (vline,) = fig.layout.shapes
    assert (vline.x0, vline.x1, vline.xref) == (0.0, 0.0, "x") and vline.line.dash == "dash"
    assert (vline.y0, vline.y1, vline.yref) == (0, 1, "y domain")
    assert fig.layout.barmode == "overlay" and fig.layout.title.text == "svals"


def test_singular_value_histogram_of_equal_values_gets_a_unit_range():
    """All singular values equal to 1 (an orthogonal network): the bins span log10 -0.5 .. 0.5;
    non-finite values stay in the data but do not stretch the bins."""
    fig = singular_value_figure({"orth": [1.0, 1.0, np.inf, np.nan]}, title="s", bins=4)
    xb = fig.data[0].xbins
    assert (xb.start, xb.end) == (-0.5, 0.5) and xb.size == pytest.approx(0.25)
    x = np.asarray(fig.data[0].x, float)
    assert x[0] == x[1] == 0.0 and np.isposinf(x[2]) and np.isnan(x[3])


def test_phase_figure_empty_dashboard_panels_and_scales():
    """Heatmap, critical line and point on the left axes, the measured and theory triples
    on the right log axis; the colour scale spans log10 chi_1 from 0.03 to 10, centred at
    chi_1 = 1, with ticks labelled in chi_1; everything but the heatmap starts empty."""
    fig = phase_figure("tanh")
    assert [t.type for t in fig.data] == ["heatmap"] + ["scatter"] * 8
    assert [(t.xaxis, t.yaxis) for t in fig.data] == [("x", "y")] * 3 + [("x2", "y2")] * 6
    heat = fig.data[0]
    assert heat.zmid == 0.0
    assert heat.zmin == pytest.approx(np.log10(0.03)) and heat.zmax == pytest.approx(1.0)
    np.testing.assert_allclose(heat.colorbar.tickvals,
                               np.log10([0.03, 0.1, 0.3, 1.0, 3.0, 10.0]))
    assert list(heat.colorbar.ticktext) == ["0.03", "0.1", "0.3", "1", "3", "10"]
    for t in fig.data[1:]:
        assert len(t.x) == 0 and len(t.y) == 0
    assert fig.data[1].mode == "lines" and fig.data[1].line.dash == "dash"
    assert fig.data[2].mode == "markers"
    assert fig.layout.yaxis2.type == "log" and fig.layout.yaxis2.exponentformat == "power"
    assert fig.layout.yaxis.type != "log" and fig.layout.xaxis.type != "log"
    assert fig.layout.title.text == "Order to chaos"


def test_phase_figure_measured_in_activation_colour_theory_dashed():
    """The measured profile takes the activation's colour (tanh: orange), solid; the theory
    chi_1^(L - l) is dashed grey; one legend entry each, flags out of the legend."""
    fig = phase_figure("tanh")
    meas, theory = fig.data[3], fig.data[6]
    assert meas.line.color == ORANGE and meas.line.dash is None
    assert theory.line.color == THEORY_GREY and theory.line.dash == "dash"
    assert meas.name == "measured ||dL/dh_l||^2" and theory.name == "theory chi_1^(L - l)"
    assert [t.showlegend for t in fig.data[3:9]] == [True, False, False, True, False, False]
    assert {t.legendgroup for t in fig.data[3:6]} == {meas.name}
    assert {t.legendgroup for t in fig.data[6:9]} == {theory.name}
    assert fig.data[1].name == "critical line chi_1 = 1" and fig.data[2].name == "chosen network"


def test_update_phase_map_clips_log_chi_and_sets_ranges():
    """The heatmap shows log10 chi_1, rows along sigma_b^2, clipped to [log10 0.03, 1]
    (0 and very small values at the bottom colour, inf and > 10 at the top, NaN a gap);
    the critical line runs through the given sigma_w^2 per row (NaN: no crossing); the axis
    ranges follow the grid; the measured line takes the new activation's colour."""
    fig = phase_figure("tanh")
    sw, sb = np.array([0.5, 1.0, 2.0]), np.array([0.0, 0.1])
    chi = np.array([[0.0, 0.01, 0.1], [1.0, np.inf, np.nan]])
    update_phase_map(fig, "relu", sw, sb, chi, [1.0, np.nan])
    heat = fig.data[0]
    np.testing.assert_allclose(heat.x, sw)
    np.testing.assert_allclose(heat.y, sb)
    lo = np.log10(0.03)
    np.testing.assert_allclose(np.asarray(heat.z, float), [[lo, lo, -1.0], [0.0, 1.0, np.nan]])
    assert_xy(fig.data[1], [1.0, np.nan], sb, what="critical line")
    assert tuple(fig.layout.xaxis.range) == (0.5, 2.0)
    assert tuple(fig.layout.yaxis.range) == (0.0, 0.1)
    assert fig.data[3].line.color == BLUE  # ReLU's colour


def test_update_phase_map_in_a_batch_update_uses_the_new_grid():
    """Inside a FigureWidget's batch update the ranges and critical line follow the new grid,
    not the one drawn before."""
    fig = go.FigureWidget(phase_figure("tanh"))
    update_phase_map(fig, "tanh", [0.1, 1.0], [0.0, 0.05], np.ones((2, 2)), [1.0, 1.0])
    with fig.batch_update():
        update_phase_map(fig, "relu", [0.5, 1.5, 4.0], [0.1, 0.3], np.ones((2, 3)), [2.0, 2.0])
    assert tuple(fig.layout.xaxis.range) == (0.5, 4.0)
    assert tuple(fig.layout.yaxis.range) == (0.1, 0.3)
    assert_xy(fig.data[1], [2.0, 2.0], [0.1, 0.3])


def test_update_phase_point_draws_both_triples_and_names_only_measured_flags():
    """The point moves to (sigma_w^2, sigma_b^2); the measured and predicted profiles fill
    their triples; only the measured profile's flags are named under the title."""
    fig = phase_figure("tanh")
    g = SimpleNamespace(sigma_w2=2.5, sigma_b2=0.2, grad_sq_norm=np.array([8.0, 0.0, 2.0, 1.0]),
                        prediction=np.array([np.inf, 4.0, 2.0, 1.0]))
    update_phase_point(fig, g, title="tanh point")
    assert_xy(fig.data[2], [2.5], [0.2], what="point")
    assert_log_triple(fig.data[3:6], g.grad_sq_norm, what="measured")
    assert_log_triple(fig.data[6:9], g.prediction, what="theory")
    head, sup = fig.layout.title.text.split("<br><sup>")
    assert head == "tanh point" and "exactly 0" in sup and "infinity" not in sup


def test_update_phase_point_keeps_title_and_clears_old_notes():
    """Without a title the first line stays; a clean profile removes an earlier note."""
    fig = phase_figure("tanh")
    update_phase_point(fig, _growth([1.0, np.inf, 1.0]))
    assert fig.layout.title.text.startswith("Order to chaos<br><sup>")
    update_phase_point(fig, _growth([3.0, 2.0, 1.0], sw=0.7, sb=0.0))
    assert fig.layout.title.text == "Order to chaos"
    assert_xy(fig.data[2], [0.7], [0.0])
    assert len(fig.data[4].x) == 0 and len(fig.data[5].x) == 0
