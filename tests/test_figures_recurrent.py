"""helpers.figures.recurrent: traces carry the data they are given; nothing is dropped."""

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
