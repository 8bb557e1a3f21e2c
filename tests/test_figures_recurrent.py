"""helpers.figures.recurrent: traces carry the data they are given; nothing is dropped."""

import warnings

import numpy as np
import plotly.graph_objects as go
import pytest

from helpers.figures.recurrent import (
    CELL_COLORS,
    cell_path_figure,
    clipping_figure,
    radius_sweep_figure,
    through_time_explorer_figure,
    through_time_figure,
    training_curves_figure,
    update_through_time_explorer_figure,
)
from helpers.topics.recurrent import measure_through_time, task_config, train_memory


@pytest.fixture(scope="module")
def measured():
    return {cell: measure_through_time(task_config("first_symbol", cell=cell, dtype="float64",
                                                   forget_bias=1.0 if cell == "lstm" else None),
                                       12, task="first_symbol", batch=4)
            for cell in ("rnn", "lstm", "gru")}


def ys(trace):
    return np.asarray(trace.y, dtype=float)


def test_through_time_figure_draws_profiles_and_bound(measured):
    fig = through_time_figure({c: m.profile for c, m in measured.items()},
                              {"rnn": measured["rnn"].bound}, title="T")
    assert isinstance(fig, go.Figure) and fig.layout.yaxis.type == "log"
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["rnn", "bound: rnn", "lstm", "gru"]
    np.testing.assert_allclose(ys(lines[0]), measured["rnn"].profile.h_grad_norm)
    np.testing.assert_allclose(ys(lines[1]), measured["rnn"].bound)
    assert lines[0].line.color == CELL_COLORS["rnn"] and lines[1].line.dash == "dash"
    assert fig.layout.height <= 460 and fig.layout.font.size >= 16
    assert "log scale" in fig.layout.yaxis.title.text and fig.layout.xaxis.title.text


def test_zeros_and_overflow_are_flagged_not_dropped(measured):
    p = measured["rnn"].profile
    h = p.h_grad_norm.copy()
    h[:3] = 0.0
    h[5] = np.inf
    fake = type(p)(p.config, p.steps, h, None, None, None, p.loss)
    fig = through_time_figure({"rnn": fake})
    assert list(fig.data[1].x) == [1, 2, 3] and list(fig.data[2].x) == [6]
    assert "3 steps are exactly 0" in fig.layout.title.text
    assert "overflowed" in fig.layout.title.text


def test_cell_path_figure(measured):
    p = measured["lstm"].profile
    fig = cell_path_figure({"fb 1": p})
    named = {t.name: t for t in fig.data}
    np.testing.assert_allclose(ys(named["fb 1: ||dL/dc_t||"]), p.c_grad_norm)
    np.testing.assert_allclose(ys(named["fb 1: cell path only"]), p.cell_path_norm)
    with pytest.raises(ValueError, match="not an LSTM"):
        cell_path_figure({"rnn": measured["rnn"].profile})


def test_radius_sweep_figure():
    sweep = {"radius": np.array([0.5, 1.0]), "ratio": np.array([[1e-5, 2.0], [1e-3, 8.0]]),
             "seeds": np.array([0, 1])}
    fig = radius_sweep_figure(sweep)
    np.testing.assert_allclose(ys(fig.data[2]), [1e-4, 4.0])  # geometric means
    np.testing.assert_allclose(ys(fig.data[1]), [1e-3, 8.0])
    with pytest.raises(ValueError, match="columns"):
        radius_sweep_figure({**sweep, "radius": np.array([1.0])})
    with pytest.raises(ValueError, match="missing"):
        radius_sweep_figure({"radius": [1.0]})


def test_training_and_clipping_figures():
    run = train_memory(task_config("adding", hidden=4), "adding", 4, train_steps=6, batch=4,
                       eval_every=2, n_test=8)
    fig = training_curves_figure({("rnn", 4, 0): run, ("rnn", 4, 1): run})
    assert len(fig.data) == 2 and sum(bool(t.showlegend) for t in fig.data) == 1
    np.testing.assert_allclose(ys(fig.data[0]), run.test_metric)
    assert fig.layout.yaxis.type == "log"
    clip = clipping_figure({"a": run})
    np.testing.assert_allclose(ys(clip.data[0]), run.loss)
    np.testing.assert_allclose(ys(clip.data[1]), run.grad_norm)
    for bad in (training_curves_figure, clipping_figure, through_time_figure):
        with pytest.raises(ValueError):
            bad({})


def test_explorer_figure_updates_in_place(measured):
    fig = go.FigureWidget(through_time_explorer_figure())
    update_through_time_explorer_figure(fig, measured["rnn"], title="RNN")
    np.testing.assert_allclose(ys(fig.data[3]), measured["rnn"].bound)
    assert fig.data[6].visible is False
    update_through_time_explorer_figure(fig, measured["lstm"], title="LSTM")
    np.testing.assert_allclose(ys(fig.data[0]), measured["lstm"].profile.h_grad_norm)
    np.testing.assert_allclose(ys(fig.data[9]), measured["lstm"].profile.cell_path_norm)
    assert fig.data[3].visible is False and fig.data[0].line.color == CELL_COLORS["lstm"]
    assert fig.layout.title.text.startswith("LSTM")
    with pytest.raises(TypeError):
        update_through_time_explorer_figure(fig, measured["lstm"].profile)
    with pytest.raises(ValueError, match="height"):
        through_time_explorer_figure(height=900)


def test_radius_sweep_traces_and_label_spacing():
    """Every trace's x and y, and one log-axis label every ceil(decades / 7) decades."""
    sweep = {"radius": np.array([0.5, 1.0, 1.5]), "ratio": np.array([[1e-12, 1.0, 0.0]]),
             "seeds": np.array([7])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = radius_sweep_figure(sweep)
    seeds, mean, one = fig.data
    assert seeds.name == "seed 7" and seeds.mode == "markers"
    np.testing.assert_array_equal(seeds.x, [0.5, 1.0, 1.5])
    np.testing.assert_array_equal(mean.x, [0.5, 1.0, 1.5])
    np.testing.assert_allclose(mean.y[:2], [1e-12, 1.0])
    assert np.isnan(mean.y[2])  # no seed's ratio above 0: no mean
    assert list(one.x) == [0.5, 1.5] and list(one.y) == [1, 1]
    # the ratios span 12 decades (the zero is left out): a label every 2 decades
    assert fig.layout.yaxis.dtick == 2 and fig.layout.yaxis.exponentformat == "power"
    narrow = radius_sweep_figure({**sweep, "ratio": np.array([[1e-3, 1.0, 2.0]])})
    assert narrow.layout.yaxis.dtick == 1
    assert fig.layout.legend.x == 1.02 and fig.layout.legend.xanchor == "left"


def _run(loss, grad_norm, task="adding"):
    from types import SimpleNamespace

    return SimpleNamespace(loss=np.asarray(loss), grad_norm=np.asarray(grad_norm),
                           eval_at=np.array([0, 5]), test_metric=np.array([0.5, 0.25]),
                           metric_name="test MSE", task=task)


def test_training_and_clipping_figures_draw_every_step():
    runs = {("lstm", 8, 0): _run([1.0], [1.0]), ("rnn", 16, 0): _run([1.0], [1.0])}
    fig = training_curves_figure(runs)
    for t in fig.data:
        assert list(t.x) == [0, 5] and list(t.y) == [0.5, 0.25]
    assert [t.line.dash for t in fig.data] == [None, "dash"]  # dash by sequence length
    assert fig.layout.yaxis.type == "log"
    clip = clipping_figure({"clipped": _run([2.0, np.inf, 0.5], [10.0, 1e30, np.nan])})
    loss, grad = clip.data
    assert list(loss.x) == [1, 2, 3] and (loss.xaxis, grad.xaxis) == ("x", "x2")
    assert loss.y[0] == 2.0 and np.isnan(loss.y[1]) and loss.y[2] == 0.5
    assert grad.y[1] == 1e30 and np.isnan(grad.y[2])
    # each panel's labels are spaced by its own values: 30 decades of gradient norms
    assert clip.layout.yaxis.dtick == 1 and clip.layout.yaxis2.dtick == 5
