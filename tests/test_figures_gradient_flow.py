"""helpers.figures.gradient_flow: the explorer dashboard; non-finite values are flagged."""

from types import SimpleNamespace

import numpy as np
from test_figures import fake_profile
from trace_oracles import assert_log_triple, assert_xy

from helpers.capture import gradient_profile
from helpers.data import lesson_data
from helpers.figures.gradient_flow import (
    EXPLORER_TITLES,
    MARKER_LAYERS,
    explorer_figure,
    update_explorer_figure,
)
from helpers.figures.normalization import (
    norm_comparison_figure,
    norm_explorer_figure,
    update_norm_explorer_figure,
)
from helpers.figures.style import ROLE_COLORS, finite_or_gap, nonfinite_note
from helpers.models import MLPConfig, build_mlp


def test_dashboard_titles_and_traces():
    fig = explorer_figure()
    assert [a.text for a in fig.layout.annotations][:4] == list(EXPLORER_TITLES)
    assert len(fig.data) == 7


def test_per_layer_markers_only_while_they_can_be_told_apart():
    fig = explorer_figure()
    for layers, mode in ((MARKER_LAYERS, "lines+markers"), (MARKER_LAYERS + 1, "lines"),
                         (3, "lines+markers")):
        update_explorer_figure(fig, fake_profile(layers), title="net")
        assert len(fig.data[0].x) == len(fig.data[3].x) == layers
        assert fig.data[0].mode == fig.data[3].mode == mode, layers
        assert fig.data[1].mode == fig.data[2].mode == "markers"  # flagged points: always


def test_infinite_activation_std_is_a_gap_and_flagged():
    fig = explorer_figure()
    update_explorer_figure(fig, fake_profile(5, std=[0.5, np.inf, np.inf, np.nan, 0.1]),
                           title="net")
    y = np.asarray(fig.data[3].y, dtype=float)
    assert np.isnan(y[1:4]).all() and y[0] == 0.5  # never drawn as 0
    assert "3 layers have an infinite or NaN activation std (overflow)" in fig.layout.title.text
    update_explorer_figure(fig, fake_profile(5), title="net")
    assert "activation std" not in fig.layout.title.text  # the flag goes when the values do


def test_measured_overflow_is_flagged():
    """relu, init normal, weight std 10, depth 100: the activations overflow to inf."""
    config = MLPConfig(depth=100, width=16, activation="relu", init="normal", weight_std=10.0,
                       dtype="float32")
    p = gradient_profile(build_mlp(config), *lesson_data(64))
    assert not np.isfinite(p.activation_std).all()
    fig = explorer_figure(p)
    assert "activation std" in fig.layout.title.text
    drawn = np.asarray(fig.data[3].y, dtype=float)
    assert not (drawn[~np.isfinite(p.activation_std)] == 0).any()


def test_normalization_charts_flag_non_finite_std():
    p = fake_profile(4, std=[1.0, np.inf, 2.0, 3.0])
    fig = norm_comparison_figure({None: p, "batch": fake_profile(4)})
    assert "1 layer has an infinite activation std" in fig.layout.title.text
    fig = norm_explorer_figure()
    update_norm_explorer_figure(fig, p, title="t")
    assert "1 layer has an infinite activation std" in fig.layout.title.text
    assert np.isnan(np.asarray(fig.data[4].y, dtype=float)[1])


def test_style_helpers():
    np.testing.assert_array_equal(finite_or_gap([1.0, np.inf, -np.inf, np.nan]),
                                  [1.0, np.nan, np.nan, np.nan])
    assert nonfinite_note([1.0, 2.0], "std") == ""
    assert nonfinite_note([np.nan], "std") == "1 layer has a NaN std (overflow): not drawn"


def test_explorer_panels_axes_and_colour_scale():
    """Each trace in its panel (gradient norms top left, activation std top right, the two
    bar series bottom left, the histogram heatmap bottom right), the axes' kinds and titles,
    and the heatmap's fixed colour scale of log10 fractions from 1e-4 to 1."""
    from helpers.figures.gradient_flow import explorer_figure

    fig = explorer_figure()
    where = [(t.xaxis or "x", t.yaxis or "y") for t in fig.data]
    assert where == [("x", "y")] * 3 + [("x2", "y2"), ("x3", "y3"), ("x3", "y3"), ("x4", "y4")]
    assert [type(t).__name__ for t in fig.data[4:]] == ["Bar", "Bar", "Heatmap"]
    heat = fig.data[6]
    assert (heat.zmin, heat.zmax, heat.showscale) == (-4, 0, True)
    assert heat.colorbar.title.text == "log10<br>fraction"
    lay = fig.layout
    assert lay.yaxis.type == "log" and lay.yaxis.title.text == "||dL/dW||"
    assert lay.yaxis2.title.text == "std" and lay.yaxis2.rangemode == "tozero"
    assert lay.yaxis3.title.text == "%" and tuple(lay.yaxis3.range) == (0, 100)
    assert lay.yaxis4.title.text == "hidden layer"
    layer = "layer (1 = first hidden, last = output)"
    assert [lay.xaxis.title.text, lay.xaxis2.title.text, lay.xaxis3.title.text,
            lay.xaxis4.title.text] == [layer, layer, layer, "activation value"]
    assert lay.barmode == "group" and lay.height == 640


def hand_profile():
    """Four layers (three hidden + the output), three histogram bins, written out by hand."""
    return SimpleNamespace(
        weight_grad_norm=np.array([1e-6, 0.0, np.inf, 1e-2]),
        activation_std=np.array([0.5, np.inf, np.nan, 0.25]),
        saturation=np.array([0.0, 0.25, 0.5, 1.0]),
        dead_fraction=np.array([0.1, 0.0, 0.0, 0.75]),
        hist_edges=np.array([-1.0, 0.0, 0.5, 1.0]),  # uneven bins: centres -0.5, 0.25, 0.75
        activation_hist=np.array([[1.0, 0.0, 0.0],
                                  [0.1, 1e-3, 1e-6],
                                  [0.01, 0.1, 1.0],
                                  [0.5, 0.5, 0.0]]),  # the output layer's row: not drawn
    )


def test_empty_explorer_traces_types_names_and_modes():
    fig = explorer_figure()
    assert [type(t).__name__ for t in fig.data] == ["Scatter"] * 4 + ["Bar", "Bar", "Heatmap"]
    assert fig.data[0].name == "||dL/dW||" and fig.data[3].name == "activation std"
    assert [t.name for t in fig.data[4:6]] == ["saturated (% of activations)",
                                                "dead (% of units)"]
    assert [t.mode for t in fig.data[:4]] == ["lines+markers", "markers", "markers",
                                              "lines+markers"]
    assert {t.legendgroup for t in fig.data[:3]} == {"||dL/dW||"}  # one legend entry toggles all
    assert all(len(t.x) == 0 for t in fig.data[:6])
    assert [list(r) for r in fig.data[6].z] == [[0]]
    assert fig.layout.title.text == "Gradient flow"
    assert explorer_figure(height=500).layout.height == 500


def test_explorer_colours_map_to_roles():
    fig = explorer_figure()
    assert fig.data[0].line.color == ROLE_COLORS["measured"]
    assert fig.data[1].marker.color == fig.data[2].marker.color == ROLE_COLORS["warning"]
    assert fig.data[3].line.color == ROLE_COLORS["std"]
    assert fig.data[4].marker.color == ROLE_COLORS["saturation"]
    assert fig.data[5].marker.color == ROLE_COLORS["dead"]
    assert fig.data[4].marker.color != fig.data[5].marker.color


def test_explorer_axes_scales_and_percent_ticks():
    lay = explorer_figure().layout
    assert lay.yaxis.exponentformat == "power"
    assert [lay[a].type for a in ("yaxis2", "yaxis3", "yaxis4", "xaxis")] == [None] * 4
    assert (lay.yaxis3.tick0, lay.yaxis3.dtick) == (0, 20)  # 0, 20, ..., 100 %


def test_update_draws_the_weight_gradient_norms_with_flags():
    fig = explorer_figure()
    update_explorer_figure(fig, hand_profile(), title="net")
    # 1e-6 and 1e-2 on the line; the 0 a decade below 1e-6, the inf a decade above 1e-2
    assert_log_triple(fig.data[0:3], [1e-6, 0.0, np.inf, 1e-2])
    np.testing.assert_allclose(np.asarray(fig.data[1].y, float), [1e-7])
    np.testing.assert_allclose(np.asarray(fig.data[2].y, float), [1e-1])


def test_update_draws_std_as_gaps_and_shares_as_percent():
    fig = explorer_figure()
    update_explorer_figure(fig, hand_profile(), title="net")
    assert_xy(fig.data[3], [1, 2, 3, 4], [0.5, np.nan, np.nan, 0.25])
    assert_xy(fig.data[4], [1, 2, 3, 4], [0.0, 25.0, 50.0, 100.0])
    assert_xy(fig.data[5], [1, 2, 3, 4], [10.0, 0.0, 0.0, 75.0])


def test_update_draws_hidden_layer_histograms_as_clipped_log10():
    fig = explorer_figure()
    update_explorer_figure(fig, hand_profile(), title="net")
    heat = fig.data[6]
    np.testing.assert_allclose(np.asarray(heat.x, float), [-0.5, 0.25, 0.75])
    np.testing.assert_array_equal(np.asarray(heat.y, float), [1, 2, 3])
    # fractions below 1e-4 (and empty bins) sit at the bottom of the colour scale, -4
    np.testing.assert_allclose(np.asarray(heat.z, float), [[0, -4, -4], [-1, -3, -4],
                                                           [-2, -1, 0]], atol=1e-12)


def test_update_keeps_the_only_histogram_row_of_a_one_layer_net():
    p = SimpleNamespace(weight_grad_norm=np.array([1.0]), activation_std=np.array([1.0]),
                        saturation=np.array([0.0]), dead_fraction=np.array([0.0]),
                        hist_edges=np.array([0.0, 1.0, 2.0]),
                        activation_hist=np.array([[0.1, 1.0]]))
    fig = explorer_figure(p)
    np.testing.assert_array_equal(np.asarray(fig.data[6].y, float), [1])
    np.testing.assert_allclose(np.asarray(fig.data[6].z, float), [[-1, 0]], atol=1e-12)


def test_update_title_names_gradient_flags_then_std_flags():
    fig = explorer_figure()
    update_explorer_figure(fig, hand_profile(), title="net")
    text = fig.layout.title.text
    assert text.startswith("net<br><sup>1 layer is exactly 0") and text.endswith("</sup>")
    grad, huge, std = (text.index(s) for s in ("1 layer is exactly 0", "; 1 layer overflowed",
                                               "; 2 layers have an infinite or NaN activation std"))
    assert grad < huge < std
    update_explorer_figure(fig, fake_profile(4))
    assert fig.layout.title.text == "net"


def test_explorer_built_with_a_profile_draws_it_under_the_default_title():
    fig = explorer_figure(hand_profile())
    assert_log_triple(fig.data[0:3], [1e-6, 0.0, np.inf, 1e-2])
    assert_xy(fig.data[5], [1, 2, 3, 4], [10.0, 0.0, 0.0, 75.0])
    assert fig.layout.title.text.startswith("Gradient flow<br><sup>1 layer is exactly 0")
