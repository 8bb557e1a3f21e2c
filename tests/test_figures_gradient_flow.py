"""helpers.figures.gradient_flow: the explorer dashboard; non-finite values are flagged."""

import numpy as np
from test_figures import fake_profile

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
from helpers.figures.style import finite_or_gap, nonfinite_note
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
