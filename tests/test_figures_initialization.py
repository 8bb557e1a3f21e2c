"""Lesson 5 figures: traces, axes, and data with zeros / NaN / inf drawn, not dropped."""

from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go

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
