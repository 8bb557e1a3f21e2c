"""Figures (helpers.figures.style, profiles, curves, compare): traces, axes and awkward data."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from helpers.activations import activation_fn, derivative
from helpers.figures import compare, curves, gradient_flow, profiles, style

AWKWARD = np.array([1e-3, 0.0, np.nan, np.inf, 1e-40, -2.0, 5.0])  # one of everything


def fake_profile(n=5, bins=6, *, std=None, sat=None, dead=None, grads=None):
    """A GradientProfile-like object with the fields the figures read."""
    rng = np.random.default_rng(0)
    hist = rng.random((n, bins))
    hist[0, 0] = 0.0  # an empty bin: log10 must not produce -inf
    return SimpleNamespace(
        weight_grad_norm=np.logspace(-8, -1, n) if grads is None else np.asarray(grads, float),
        activation_std=np.linspace(0.5, 0.1, n) if std is None else np.asarray(std, float),
        saturation=np.linspace(0.0, 0.4, n) if sat is None else np.asarray(sat, float),
        dead_fraction=np.linspace(0.0, 0.2, n) if dead is None else np.asarray(dead, float),
        hist_edges=np.linspace(-1, 1, bins + 1),
        activation_hist=hist / hist.sum(1, keepdims=True),
    )


def assert_labelled(fig: go.Figure):
    assert fig.layout.title.text, "every figure has a title"
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        assert axis.title.text, "every axis has a label"


# -- style ----------------------------------------------------------------------------------
def test_log_safe_places_and_flags_every_awkward_value():
    y, ok, zero, huge, floor, ceiling = style.log_safe(AWKWARD)
    assert y.shape == AWKWARD.shape and np.all(np.isfinite(y)) and np.all(y > 0)
    np.testing.assert_array_equal(ok, [True, False, False, False, True, False, True])
    np.testing.assert_array_equal(zero, [False, True, True, False, False, True, False])
    np.testing.assert_array_equal(huge, [False, False, False, True, False, False, False])
    assert floor == pytest.approx(1e-41) and ceiling == pytest.approx(50.0)
    np.testing.assert_array_equal(y[zero], floor)
    np.testing.assert_array_equal(y[huge], ceiling)
    np.testing.assert_array_equal(y[ok], AWKWARD[ok])


def test_log_safe_without_any_positive_value():
    y, ok, zero, huge, floor, ceiling = style.log_safe([0.0, np.nan, np.inf])
    assert not ok.any() and zero.sum() == 2 and huge.sum() == 1
    assert 0 < floor < ceiling and np.all(np.isfinite(y))


def test_flagged_note_counts():
    zero = np.array([True, True, False])
    huge = np.array([False, False, True])
    note = style.flagged_note(zero, huge, "layers")
    assert "2 layers are exactly 0" in note and "1 layer overflowed" in note
    single = style.flagged_note(np.array([True, False]), np.array([False, False]), "layers")
    assert single.startswith("1 layer is exactly 0")
    assert style.flagged_note(np.zeros(3, bool), np.zeros(3, bool)) == ""


def test_base_layout_and_palette():
    fig = style.base_layout(go.Figure(), "T", "x (unit)", "y (log scale)")
    assert fig.layout.title.text == "T" and fig.layout.showlegend
    assert fig.layout.xaxis.title.text == "x (unit)"
    assert fig.layout.yaxis.title.text == "y (log scale)"
    assert style.activation_color("relu") == style.ACTIVATION_COLORS["relu"]
    assert style.activation_color("no such thing") == style.OKABE_ITO["grey"]
    assert len(set(style.ACTIVATION_COLORS.values())) == len(style.ACTIVATION_COLORS)


# -- profiles -------------------------------------------------------------------------------
def test_log_series_keeps_flagged_points():
    s = profiles.log_series(AWKWARD)
    np.testing.assert_array_equal(s["x"], np.arange(1, 8))
    np.testing.assert_array_equal(s["zero_x"], [2, 3, 6])
    np.testing.assert_array_equal(s["huge_x"], [4])
    assert np.isnan(s["y"][[1, 2, 5]]).all()  # a gap in the line, a marker instead
    assert s["y"][3] == pytest.approx(50.0)
    assert "3 layers" in s["note"] and "1 layer overflowed" in s["note"]


def test_gradient_norm_figure_traces_axes_and_theory():
    values = np.logspace(-6, -1, 6)
    fig = profiles.gradient_norm_figure(values, theory=values * 2)
    assert len(fig.data) == 6
    assert fig.layout.yaxis.type == "log"
    assert_labelled(fig)
    assert "log scale" in fig.layout.yaxis.title.text
    np.testing.assert_allclose(fig.data[0].y, values)
    np.testing.assert_allclose(fig.data[3].y, values * 2)
    assert fig.data[3].line.dash == style.THEORY_DASH
    assert fig.data[3].line.color == style.ROLE_COLORS["theory"]
    assert fig.data[3].visible is True
    assert len(fig.data[1].x) == 0 and len(fig.data[2].x) == 0
    assert "<br>" not in fig.layout.title.text  # nothing flagged, no note


def test_gradient_norm_figure_awkward_data_is_drawn_and_flagged():
    fig = profiles.gradient_norm_figure(AWKWARD)
    zero, huge = fig.data[1], fig.data[2]
    np.testing.assert_array_equal(zero.x, [2, 3, 6])
    assert np.all(np.asarray(zero.y) == pytest.approx(1e-41))
    np.testing.assert_array_equal(huge.x, [4])
    assert "exactly 0" in fig.layout.title.text and "infinity" in fig.layout.title.text
    assert fig.data[3].visible is False  # no theory given
    fig.to_dict()  # serialisable for the browser


def test_update_gradient_norm_figure_rewrites_data_and_note():
    fig = profiles.gradient_norm_figure(AWKWARD)
    profiles.update_gradient_norm_figure(fig, fake_profile(4))
    np.testing.assert_allclose(fig.data[0].y, fake_profile(4).weight_grad_norm)
    assert len(fig.data[1].x) == 0 and "<br>" not in fig.layout.title.text
    assert fig.layout.title.text == "Weight-gradient norm per layer"


def test_activation_stats_figure():
    p = fake_profile(5, std=[0.5, np.nan, np.inf, 0.2, 0.1])
    fig = profiles.activation_stats_figure(p)
    assert len(fig.data) == 3
    assert_labelled(fig)
    np.testing.assert_allclose(fig.data[0].y, [0.5, np.nan, np.nan, 0.2, 0.1])  # gaps, not 0
    assert "2 layers have an infinite or NaN activation std" in fig.layout.title.text
    np.testing.assert_allclose(fig.data[1].y, 100 * p.saturation)
    np.testing.assert_allclose(fig.data[2].y, 100 * p.dead_fraction)
    assert fig.layout.yaxis2.title.text == "%" and fig.layout.yaxis2.dtick == 20
    assert [t.name for t in fig.data[1:3]] == ["saturated (% of activations)", "dead (% of units)"]
    assert tuple(fig.layout.yaxis2.range) == (0, 100)


def test_histogram_heatmap_figure_hidden_layers_only():
    p = fake_profile(5, bins=6)
    fig = profiles.histogram_heatmap_figure(p)
    assert_labelled(fig)
    heat = fig.data[0]
    z = np.asarray(heat.z)
    assert z.shape == (4, 6)  # the output layer's row is left out
    np.testing.assert_allclose(z, np.log10(np.maximum(p.activation_hist[:-1], 1e-4)))
    assert np.isfinite(z).all() and z.min() >= -4
    np.testing.assert_allclose(heat.x, 0.5 * (p.hist_edges[:-1] + p.hist_edges[1:]))


def test_explorer_figure_layout_and_update():
    fig = gradient_flow.explorer_figure()
    assert len(fig.data) == 7
    assert fig.layout.yaxis.type == "log"
    titles = [a.text for a in fig.layout.annotations]
    assert list(gradient_flow.EXPLORER_TITLES) == titles[:4]
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2", "xaxis3", "yaxis3", "xaxis4", "yaxis4"):
        assert fig.layout[axis].title.text, axis
    p = fake_profile(5, grads=[0.0, 1e-3, np.inf, 1e-2, 1e-1])
    gradient_flow.update_explorer_figure(fig, p, title="my net")
    np.testing.assert_array_equal(fig.data[1].x, [1])  # the zero
    np.testing.assert_array_equal(fig.data[2].x, [3])  # the overflow
    np.testing.assert_allclose(fig.data[4].y, 100 * p.saturation)
    assert fig.layout.title.text.startswith("my net<br>")
    gradient_flow.update_explorer_figure(fig, fake_profile(5))
    assert fig.layout.title.text == "my net"  # keeps the head, drops the stale note


# -- curves ---------------------------------------------------------------------------------
def test_activation_curves_figure_and_point():
    names = ("sigmoid", "tanh", "relu")
    fig = curves.activation_curves_figure(names, point=0.5)
    assert len(fig.data) == 2 * len(names) + 2
    assert fig.layout.title.text and fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    z = np.asarray(fig.data[0].x)
    np.testing.assert_allclose(fig.data[0].y, activation_fn("sigmoid")(z))
    np.testing.assert_allclose(fig.data[1].y, derivative("sigmoid")(z))
    assert fig.data[0].line.color == style.ACTIVATION_COLORS["sigmoid"]
    curves.update_activation_point(fig, names, -2.0)
    np.testing.assert_allclose(fig.data[-2].y, [activation_fn(n)(-2.0) for n in names])
    np.testing.assert_allclose(fig.data[-1].y, [derivative(n)(-2.0) for n in names])
    assert fig.data[-1].y[2] == 0.0  # ReLU's derivative is exactly 0 on the negative side


def test_activation_curves_figure_rejects_bad_input():
    with pytest.raises(ValueError, match="valid choices"):
        curves.activation_curves_figure(["sigmoid", "nope"])
    with pytest.raises(ValueError, match="z_range"):
        curves.activation_curves_figure("tanh", z_range=(1.0, -1.0))
    with pytest.raises(ValueError, match="z_range"):
        curves.activation_curves_figure("tanh", z_range=(0.0, math.inf))


def test_phi_dphi_figure_is_the_builder_of_every_phi_chart():
    z = np.linspace(-2.0, 2.0, 9)
    seen = []

    def extras(name, zz, phi, dphi):
        seen.append((name, phi[0], dphi[0]))
        return [(go.Scatter(x=[0.0], y=[1.0], name=f"{name} extra"), 2)]

    fig = curves.phi_dphi_figure(["tanh", "relu"], z, title="t", dphi_line=dict(dash="dot"),
                                 dphi_legend=False, extras=extras)
    assert [t.name for t in fig.data] == ["Tanh", "Tanh'", "tanh extra", "ReLU", "ReLU'",
                                          "relu extra"]
    np.testing.assert_allclose(fig.data[4].y, derivative("relu")(z))
    assert fig.data[1].line.dash == "dot" and fig.data[1].showlegend is False
    assert fig.data[1].xaxis == "x2" and fig.data[0].xaxis == "x"
    assert seen[0] == ("tanh", pytest.approx(np.tanh(-2.0)), pytest.approx(1 - np.tanh(2.0) ** 2))
    empty = curves.phi_dphi_figure("sigmoid", title="e")
    assert len(empty.data) == 2 and len(empty.data[0].x) == 0
    assert empty.layout.yaxis2.title.text == "phi'(z)" and empty.layout.xaxis.title.text
    with pytest.raises(ValueError, match="valid choices"):
        curves.phi_dphi_figure(["nope"], z, title="x")
    with pytest.raises(ValueError, match="two numbers"):
        curves.check_z_range("ab")


# -- compare --------------------------------------------------------------------------------
def test_comparison_figure_series_colors_and_reference():
    series = {"a": np.logspace(-5, -1, 4), "b": fake_profile(4)}
    fig = compare.comparison_figure(series, colors={"b": "#123456"}, reference=1e-3,
                                    reference_name="rule of thumb")
    assert len(fig.data) == 2 * compare.TRACES_PER_SERIES + 1
    assert fig.layout.yaxis.type == "log"
    assert_labelled(fig)
    assert fig.data[0].name == "a" and fig.data[3].name == "b"
    assert fig.data[0].line.color == style.SERIES_COLORS[0]
    assert fig.data[3].line.color == "#123456"
    np.testing.assert_allclose(fig.data[3].y, fake_profile(4).weight_grad_norm)
    ref = fig.data[-1]
    assert ref.name == "rule of thumb" and ref.line.dash == style.THEORY_DASH
    np.testing.assert_allclose(ref.y, [1e-3, 1e-3])
    np.testing.assert_allclose(ref.x, [1, 4])


def test_comparison_figure_flags_awkward_values_per_series():
    fig = compare.comparison_figure({"good": [1e-3, 1e-2, 1e-1, 1.0, 2.0, 3.0, 4.0],
                                     "bad": AWKWARD})
    assert len(fig.data[1].x) == 0
    np.testing.assert_array_equal(fig.data[4].x, [2, 3, 6])
    np.testing.assert_array_equal(fig.data[5].x, [4])
    assert "bad: 3 layers are exactly 0" in fig.layout.title.text
    assert fig.data[4].showlegend and fig.data[5].showlegend
    assert fig.data[1].showlegend is False and fig.data[2].showlegend is False  # nothing to flag
    compare.update_comparison_figure(fig, {"good": [1.0] * 3, "bad": [1.0, 2.0, 3.0]})
    assert "<br>" not in fig.layout.title.text and len(fig.data[4].x) == 0
    assert fig.data[4].showlegend is False


def test_comparison_figure_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty dict"):
        compare.comparison_figure({})
    with pytest.raises(ValueError, match="1-D"):
        compare.comparison_figure({"a": np.ones((2, 2))})
    with pytest.raises(ValueError, match="reference"):
        compare.comparison_figure({"a": [1.0]}, reference=0.0)
    fig = compare.comparison_figure({"a": [1.0]})
    with pytest.raises(ValueError, match="1 series"):
        compare.update_comparison_figure(fig, {"a": [1.0], "b": [2.0]})


def test_gradient_growth_figure_names_colours_and_orders_each_theory_form():
    axes = dict(title="t", x_title="layer", y_title="g (log scale)")
    series = {None: [4.0, 2.0, 1.0], "b": [1.0, 1.0, 1.0]}
    theory = {None: [8.0, 4.0, 2.0], "b": [1.0, 0.5, 0.25]}
    fig = compare.gradient_growth_figure(series, theory=theory, theory_name="chi",
                                         labels={None: "plain"}, colors={"b": "#123456"}, **axes)
    names = [t.name for t in fig.data[::3]]
    assert names == ["plain", "plain: chi", "b", "b: chi"]  # each series, then its theory
    assert fig.data[0].line.color == fig.data[3].line.color == style.SERIES_COLORS[0]
    assert fig.data[6].line.color == fig.data[9].line.color == "#123456"
    assert fig.data[3].line.dash and not fig.data[0].line.dash
    np.testing.assert_allclose(fig.data[9].y, [1.0, 0.5, 0.25])
    fig = compare.gradient_growth_figure(series, theory=[3.0, 2.0, 1.0], theory_name="one", **axes)
    assert [t.name for t in fig.data[::3]] == ["None", "b", "one"]
    assert fig.data[6].line.color == style.ROLE_COLORS["theory"]
    assert fig.data[6].visible is not False
    assert fig.layout.yaxis.type == "log" and fig.layout.xaxis.title.text == "layer"


def test_slide_layout_sizes_a_chart_for_a_1280x720_slide():
    from plotly.subplots import make_subplots

    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[1e-3, 1e-1, 1e2]))
    fig.update_layout(height=640, legend_font_size=10, title_text="t<br><sup>note</sup>")
    fig.update_yaxes(type="log", tickfont_size=9)
    style.slide_layout(fig)
    assert fig.layout.height == style.SLIDE_HEIGHT == 400
    assert fig.layout.font.size == fig.layout.legend.font.size == 16
    assert fig.layout.yaxis.tickfont.size == 16
    assert fig.layout.title.font.size * 0.7 >= 16  # the <sup> note is drawn at 70 %
    assert fig.layout.yaxis.dtick == 1  # 5 decades: a label at each power of ten only
    assert style.slide_layout(go.Figure(layout={"height": 300})).layout.height == 300

    wide = go.Figure(go.Scatter(y=[1e-19, 1.0]))
    wide.update_yaxes(type="log")
    assert style.slide_layout(wide).layout.yaxis.dtick is None  # Plotly spaces 19 decades

    dash = make_subplots(rows=2, cols=2, subplot_titles=("a", "b", "c", "d"))
    dash.update_layout(height=640)
    style.slide_layout(dash)
    assert dash.layout.height == style.SLIDE_DASHBOARD_HEIGHT
    assert all(a.font.size >= 16 for a in dash.layout.annotations)


def test_slide_layout_reads_arrays_of_a_figure_rebuilt_from_saved_output():
    import json

    saved = go.Figure(go.Scatter(x=np.arange(5), y=np.logspace(-30, 0, 5)))
    saved.update_yaxes(type="log")
    rebuilt = go.Figure(json.loads(saved.to_json()))
    assert isinstance(rebuilt.data[0].y, dict)  # Plotly's typed-array form {"dtype", "bdata"}
    assert style._decades(rebuilt, rebuilt.layout.yaxis) == pytest.approx(30.0)
    assert style.slide_layout(rebuilt).layout.yaxis.dtick is None  # 30 decades: Plotly spaces
    small = go.Figure(json.loads(go.Figure(go.Scatter(y=[1e-3, 1e2])).to_json()))
    small.update_yaxes(type="log")
    assert style.slide_layout(small).layout.yaxis.dtick == 1


# -- style: placement on a log axis, notes, slide sizing ------------------------------------
def test_log_safe_without_positive_values_uses_fixed_floor_and_ceiling():
    y, ok, zero, huge, floor, ceiling = style.log_safe([0.0, np.nan, np.inf])
    assert (floor, ceiling) == (1e-30, 1.0)
    np.testing.assert_array_equal(y, [1e-30, 1e-30, 1.0])


def test_log_safe_negative_infinity_goes_to_the_floor_not_the_ceiling():
    y, ok, zero, huge, floor, ceiling = style.log_safe([-np.inf, 1.0, 100.0])
    np.testing.assert_array_equal(zero, [True, False, False])
    assert not huge.any()
    assert floor == pytest.approx(0.1) and ceiling == pytest.approx(1000.0)
    np.testing.assert_allclose(y, [0.1, 1.0, 100.0])


def test_log_safe_subnormal_minimum_keeps_the_floor_positive():
    # 5e-324 / 10 underflows to 0, which a log axis cannot show: the floor is 5e-324 itself
    y, ok, zero, huge, floor, ceiling = style.log_safe([5e-324, 0.0, 1.0])
    assert floor == 5e-324 and ceiling == pytest.approx(10.0)
    np.testing.assert_array_equal(y, [5e-324, 5e-324, 1.0])


def test_log_safe_ceiling_stays_finite_near_the_float64_limit():
    big = np.finfo(np.float64).max
    y, ok, zero, huge, floor, ceiling = style.log_safe([1e308, np.inf])
    assert ceiling == big and floor == pytest.approx(1e307)
    np.testing.assert_array_equal(y, [1e308, big])


def test_log_safe_flattens_a_table_of_values():
    y, ok, zero, huge, floor, ceiling = style.log_safe(np.array([[0.0, 2.0], [-1.0, 20.0]]))
    np.testing.assert_allclose(y, [0.2, 2.0, 0.2, 20.0])
    np.testing.assert_array_equal(zero, [True, False, True, False])
    assert ceiling == pytest.approx(200.0)


def test_flagged_note_counts_nouns_and_order():
    one = style.flagged_note(np.array([True, False]), np.array([False, True]))
    assert one.startswith("1 value is exactly 0")  # default noun, singular
    assert "; 1 value overflowed to infinity" in one  # zeros first, then overflows
    many = style.flagged_note(np.array([True, True, True, False, False]),
                              np.array([False, False, False, True, True]), "blocks")
    assert many.startswith("3 blocks are exactly 0") and "; 2 blocks overflowed" in many
    only_huge = style.flagged_note(np.zeros(2, bool), np.ones(2, bool), "layers")
    assert only_huge.startswith("2 layers overflowed") and "exactly 0" not in only_huge
    assert ";" not in only_huge
    assert style.flagged_note(np.array([True]), np.zeros(1, bool), "data").startswith(
        "1 data is exactly 0")  # a noun without a plural s stays as it is


def test_title_with_notes_joins_the_non_empty_notes_on_one_line():
    assert style.title_with_notes("T", ["a", "", "b"]) == "T<br><sup>a; b</sup>"
    assert style.title_with_notes("T", "a") == "T<br><sup>a</sup>"
    assert style.title_with_notes("T", (n for n in ["a"])) == "T<br><sup>a</sup>"
    assert style.title_with_notes("T", "") == "T"
    assert style.title_with_notes("T", ["", ""]) == "T"


def test_set_title_notes_keeps_the_head_or_replaces_it():
    fig = go.Figure(layout={"title_text": "Old<br><sup>stale</sup>"})
    style.set_title_notes(fig, ["n1", "n2"])
    assert fig.layout.title.text == "Old<br><sup>n1; n2</sup>"
    style.set_title_notes(fig, "", title="New")
    assert fig.layout.title.text == "New"
    untitled = go.Figure()
    style.set_title_notes(untitled, "n")
    assert untitled.layout.title.text == "<br><sup>n</sup>"


def test_finite_or_gap_keeps_shape_and_negative_values():
    out = style.finite_or_gap([[1, -np.inf], [np.nan, -3]])
    assert out.dtype == np.float64 and out.shape == (2, 2)
    np.testing.assert_array_equal(out, [[1.0, np.nan], [np.nan, -3.0]])


def test_nonfinite_note_counts_kinds_and_nouns():
    assert style.nonfinite_note([np.inf, -np.inf, 1.0], "std").startswith(
        "2 layers have an infinite std")
    assert style.nonfinite_note([[np.inf], [np.nan]], "std", "blocks").startswith(
        "2 blocks have an infinite or NaN std")
    assert style.nonfinite_note([1.0, np.inf], "grad", "blocks").startswith(
        "1 block has an infinite grad")
    assert style.nonfinite_note([np.nan, np.nan], "std").startswith("2 layers have a NaN std")
    assert style.nonfinite_note([], "std") == ""


def _log_panels(left, right):
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Scatter(x=[1, 2], y=left), row=1, col=1)
    fig.add_trace(go.Scatter(x=[1, 2], y=right), row=1, col=2)
    fig.update_yaxes(type="log")
    return style.slide_layout(fig)


def test_slide_layout_labels_each_power_of_ten_up_to_six_decades():
    fig = _log_panels([1.0, 1e6], [1.0, 1.5e6])  # exactly 6 decades | 6.2 decades
    assert fig.layout.yaxis.dtick == 1
    assert fig.layout.yaxis2.dtick is None  # wider: Plotly's own spacing
    assert fig.layout.yaxis.nticks == fig.layout.yaxis2.nticks == 8


def test_slide_layout_counts_decades_per_axis_from_that_axis_data_only():
    fig = _log_panels([1e-3, 1e-1], [1e-12, 1.0])  # 2 decades | 12 decades
    assert fig.layout.yaxis.dtick == 1 and fig.layout.yaxis2.dtick is None
    fig = _log_panels([1e-12, 1.0], [1e-3, 1e-1])
    assert fig.layout.yaxis.dtick is None and fig.layout.yaxis2.dtick == 1


def test_slide_layout_decades_ignore_zeros_negatives_and_non_finite_values():
    # the drawable values span 1e-3 .. 10: 4 decades
    fig = go.Figure(go.Scatter(y=[0.0, -1e9, 1e-3, np.inf, np.nan, 10.0]))
    fig.update_yaxes(type="log")
    assert style.slide_layout(fig).layout.yaxis.dtick == 1


def test_slide_layout_spaces_a_log_x_axis_from_the_x_data():
    wide = go.Figure(go.Scatter(x=[1.0, 1e9], y=[1.0, 2.0]))
    wide.update_xaxes(type="log")
    style.slide_layout(wide)
    assert wide.layout.xaxis.dtick is None and wide.layout.xaxis.nticks == 8
    assert wide.layout.yaxis.dtick is None and wide.layout.yaxis.nticks is None  # linear
    narrow = go.Figure(go.Scatter(x=[1.0, 100.0], y=[1.0, 1e12]))
    narrow.update_xaxes(type="log")
    assert style.slide_layout(narrow).layout.xaxis.dtick == 1
    labels = go.Figure(go.Scatter(x=["a", "b"], y=[1.0, 1e3]))  # categories: no decades
    labels.update_xaxes(type="log")
    assert style.slide_layout(labels).layout.xaxis.dtick == 1


def test_slide_layout_keeps_ticks_the_chart_set_itself():
    fig = go.Figure(go.Scatter(y=[1.0, 1e3]))
    fig.update_yaxes(type="log", dtick=2)
    style.slide_layout(fig)
    assert fig.layout.yaxis.dtick == 2 and fig.layout.yaxis.nticks is None
    fig = go.Figure(go.Scatter(y=[1.0, 1e3]))
    fig.update_yaxes(type="log", tickvals=[1, 1000])
    style.slide_layout(fig)
    assert fig.layout.yaxis.dtick is None and fig.layout.yaxis.nticks is None


def test_slide_layout_height_rule():
    assert style.slide_layout(go.Figure()).layout.height == 400  # no height: the slide's
    assert style.slide_layout(go.Figure(layout={"height": 640}), height=350).layout.height == 350
    stacked = make_subplots(rows=2, cols=1)
    assert style.slide_layout(stacked).layout.height == 520  # two rows of panels
    stacked = make_subplots(rows=2, cols=1)
    stacked.update_layout(height=300)
    assert style.slide_layout(stacked).layout.height == 300  # never made taller
    stacked = make_subplots(rows=2, cols=1)
    stacked.update_layout(height=640)
    assert style.slide_layout(stacked, height=600).layout.height == 600
    side_by_side = make_subplots(rows=1, cols=2)
    side_by_side.update_layout(height=640)
    assert style.slide_layout(side_by_side).layout.height == 400  # one row: not a dashboard


def test_slide_layout_raises_small_text_and_keeps_large_text():
    fig = go.Figure(go.Heatmap(z=[[1]], colorbar=dict(tickfont_size=10)))
    fig.add_trace(go.Heatmap(z=[[1]], colorbar=dict(tickfont_size=30)))
    fig.update_layout(title_text="t", legend_font_size=20)
    fig.update_xaxes(tickfont_size=24, title_font_size=10)
    fig.add_annotation(text="a", font_size=20)
    fig.add_annotation(text="b")
    style.slide_layout(fig)
    assert fig.layout.title.font.size == 20  # no note: 4 px above the text
    assert fig.layout.legend.font.size == 20
    assert fig.layout.xaxis.tickfont.size == 24 and fig.layout.xaxis.title.font.size == 16
    assert fig.layout.yaxis.tickfont.size == 16
    assert [a.font.size for a in fig.layout.annotations] == [20, 16]
    assert [t.colorbar.tickfont.size for t in fig.data] == [16, 30]
    noted = go.Figure(layout={"title_text": "t<br><sup>n</sup>"})
    assert style.slide_layout(noted, font_size=18).layout.title.font.size == 25  # 18 + 7
    big = go.Figure(layout={"title_text": "t", "title_font_size": 30})
    assert style.slide_layout(big).layout.title.font.size == 30


def test_base_layout_height_and_every_panel_axis_title():
    fig = style.base_layout(make_subplots(rows=1, cols=2), "T", "x", "y")
    assert fig.layout.height == 380
    assert fig.layout.xaxis2.title.text == "x" and fig.layout.yaxis2.title.text == "y"
    assert style.base_layout(go.Figure(), "T", "x", "y", height=500).layout.height == 500
