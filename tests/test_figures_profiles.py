"""helpers.figures.profiles: every trace's data against numbers worked out by hand.

The per-layer charts are shared by lessons 3 to 10; what they draw is checked here on
small hand-made inputs (plain arrays, or a stand-in with a ``GradientProfile``'s fields),
so that the expected x, y and z are written out rather than recomputed.
"""

from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest

from helpers.figures.profiles import (
    activation_stats_figure,
    gradient_norm_figure,
    histogram_heatmap_figure,
    log_series,
    log_traces,
    set_log_traces,
    update_gradient_norm_figure,
)


def as_list(a):
    return [None if v is None else float(v) for v in a]


def test_log_series_uses_the_given_x_and_the_shared_floor_and_ceiling():
    s = log_series([1e-3, 0.0, np.inf], x=[10, 20, 30], share=[[1e-6, 5.0]])
    assert as_list(s["x"]) == [10, 20, 30]
    # floor: a decade below the smallest positive value of all series (1e-6), ceiling:
    # a decade above the largest (5.0)
    assert as_list(s["zero_x"]) == [20] and as_list(s["zero_y"]) == [1e-7]
    assert as_list(s["huge_x"]) == [30] and as_list(s["huge_y"]) == [50.0]
    assert s["y"][0] == 1e-3 and np.isnan(s["y"][1]) and s["y"][2] == 50.0
    alone = log_series([1e-3, 0.0, np.inf])
    assert as_list(alone["x"]) == [1, 2, 3]
    assert as_list(alone["zero_y"]) == [1e-4] and as_list(alone["huge_y"]) == [1e-2]
    # a list of ints is read as float64 values
    assert log_series([1, 2], share=[[4]])["y"].dtype == np.float64


def test_set_log_traces_writes_all_three_traces_and_returns_the_note():
    traces = log_traces("g", "black")
    note = set_log_traces(traces, [2.0, 0.0, 3.0], x=[5, 6, 7], share=[[0.02]])
    line, zero, huge = traces
    assert as_list(line.x) == [5, 6, 7] and as_list(zero.x) == [6]
    assert as_list(zero.y) == [0.002] and len(huge.x) == 0
    assert "1 layer" in note


class Profile(SimpleNamespace):
    """The fields of a GradientProfile that the charts read."""


def profile(**kw):
    base = dict(weight_grad_norm=np.array([1e-4, 1e-2, 1.0]),
                activation_std=np.array([0.5, np.inf, 0.25]),
                saturation=np.array([0.1, 0.5, 0.0]),
                dead_fraction=np.array([0.0, 0.25, 1.0]),
                hist_edges=np.array([-1.0, 0.0, 1.0, 3.0]),
                activation_hist=np.array([[0.5, 0.5, 0.0], [1e-6, 0.25, 0.75],
                                          [0.2, 0.2, 0.6]]))
    return Profile(**{**base, **kw})


def test_gradient_norm_figure_reads_a_profile_and_draws_theory_on_request():
    fig = gradient_norm_figure(profile(), theory=[1e-5, 1e-3, 1e-1])
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.exponentformat == "power"
    assert as_list(fig.data[0].y) == [1e-4, 1e-2, 1.0] and as_list(fig.data[0].x) == [1, 2, 3]
    assert as_list(fig.data[3].y) == [1e-5, 1e-3, 1e-1] and fig.data[3].visible is True
    assert fig.data[3].line.dash is not None and fig.data[0].line.dash is None
    # the theory's flag traces get the theory's flags: a zero in theory lands on trace 4
    update_gradient_norm_figure(fig, [1.0, 2.0, 3.0], theory=[0.0, 1e-2, np.inf])
    assert as_list(fig.data[4].x) == [1] and as_list(fig.data[5].x) == [3]
    assert as_list(fig.data[0].y) == [1.0, 2.0, 3.0]
    update_gradient_norm_figure(fig, profile())  # no theory: its three traces are emptied
    assert fig.data[3].visible is False
    assert all(len(t.x) == 0 and len(t.y) == 0 for t in fig.data[3:6])
    assert len(fig.data) == 6


def test_activation_stats_figure_draws_std_and_percentages_per_layer():
    fig = activation_stats_figure(profile())
    std, sat, dead = fig.data
    assert isinstance(std, go.Scatter) and isinstance(sat, go.Bar) and isinstance(dead, go.Bar)
    for t in (std, sat, dead):
        assert as_list(t.x) == [1, 2, 3]
    assert std.y[0] == 0.5 and np.isnan(std.y[1]) and std.y[2] == 0.25  # inf: a gap
    assert as_list(sat.y) == [10.0, 50.0, 0.0] and as_list(dead.y) == [0.0, 25.0, 100.0]
    assert std.yaxis == "y" and sat.yaxis == dead.yaxis == "y2"
    assert tuple(fig.layout.yaxis2.range) == (0, 100)


def test_histogram_heatmap_leaves_out_the_output_layer_and_shows_log10_fractions():
    fig = histogram_heatmap_figure(profile())
    heat = fig.data[0]
    assert as_list(heat.x) == [-0.5, 0.5, 2.0]  # bin centres
    assert as_list(heat.y) == [1, 2]  # the two hidden layers; the output row is left out
    np.testing.assert_array_equal(np.asarray(heat.z), np.log10([[0.5, 0.5, 1e-4],
                                                                [1e-4, 0.25, 0.75]]))
    assert (heat.zmin, heat.zmax) == (-4, 0)


@pytest.mark.parametrize("rows", [1, 2])
def test_histogram_heatmap_of_few_layers(rows):
    """One row is all there is (it is kept); two rows are one hidden layer and the output."""
    hist = np.array([[0.25, 0.75, 0.0], [1.0, 0.0, 0.0]])[:rows]
    heat = histogram_heatmap_figure(profile(activation_hist=hist)).data[0]
    assert as_list(heat.y) == [1]
    np.testing.assert_array_equal(np.asarray(heat.z), np.log10([[0.25, 0.75, 1e-4]]))
