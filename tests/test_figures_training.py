"""helpers.figures.training: traces carry the runs' numbers; the dashboard updates in place."""

from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest

from helpers.figures.training import (
    UPDATE_REFERENCE,
    curves_figure,
    dashboard_figure,
    decision_boundary_figure,
    first_last_ratio,
    gradient_heatmap_figure,
    log10_grid,
    ratio_figure,
    update_dashboard_figure,
    update_ratio_figure,
)


def fake_run(name, seed=0, records=6, layers=4, zero_first=False):
    rng = np.random.default_rng(seed)
    grad = 10.0 ** rng.uniform(-6, 0, (records, layers))
    if zero_first:
        grad[:, 0] = 0.0
    h = SimpleNamespace(
        steps=np.arange(0, 10 * records, 10), loss=np.linspace(1, 0.1, records),
        accuracy=np.linspace(0.5, 1, records), test_loss=np.linspace(1.1, 0.2, records),
        test_accuracy=np.linspace(0.45, 0.95, records), grad_norm=grad,
        update_ratio=10.0 ** rng.uniform(-4, -2, (records, layers)))
    grid = {"x": np.linspace(-1, 1, 5), "y": np.linspace(-1, 1, 5),
            "p": rng.uniform(0, 1, (5, 5))}
    return SimpleNamespace(name=name, history=h, grid=grid)


@pytest.fixture
def runs():
    return {"a": fake_run("a", 0), "b": fake_run("b", 1, zero_first=True)}


def test_curves_train_and_test_per_run(runs):
    fig = curves_figure(runs)
    assert isinstance(fig, go.Figure) and len(fig.data) == 8  # 2 runs x 2 panels x train/test
    np.testing.assert_array_equal(fig.data[1].y, runs["a"].history.test_loss)
    assert fig.data[1].line.dash == "dash" and fig.data[0].line.dash is None
    assert fig.layout.yaxis.type == "log" and fig.layout.height <= 460
    assert fig.layout.font.size >= 16


def test_heatmap_is_log10_layers_by_steps_with_zeros_blank(runs):
    fig = gradient_heatmap_figure(runs)
    z = np.asarray(fig.data[0].z, dtype=float)
    np.testing.assert_allclose(z, np.log10(runs["a"].history.grad_norm.T))
    zb = np.array(fig.data[1].z, dtype=float)
    assert np.all(np.isnan(zb[0])) and np.all(np.isfinite(zb[1:]))
    assert fig.layout.coloraxis.cmin <= np.nanmin(zb) and fig.layout.coloraxis.cmax >= z.max()
    _, blanks = log10_grid([1.0, 0.0, np.nan])
    assert blanks == 2


def test_update_ratio_has_every_layer_and_the_reference(runs):
    fig = update_ratio_figure(runs)
    refs = [t for t in fig.data if t.name == "1e-3 rule of thumb"]
    assert len(refs) == 2 and all(np.allclose(t.y, UPDATE_REFERENCE) for t in refs)
    layers = [t for t in fig.data if t.name and t.name.startswith("layer ")]
    assert len(layers) == 2 * 3  # layers 1-3 per run, plus "output"
    np.testing.assert_array_equal(fig.data[0].y, runs["a"].history.update_ratio[:, 0])


def test_ratio_over_training(runs):
    fig = ratio_figure(runs)
    g = runs["a"].history.grad_norm
    np.testing.assert_allclose(fig.data[0].y, g[:, 0] / g[:, -2])
    assert np.all(first_last_ratio(runs["b"].history) == 0)


def test_decision_boundary(runs):
    X = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]])
    y = np.array([0, 1, 1])
    fig = decision_boundary_figure(runs, X, y)
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), runs["a"].grid["p"])
    assert len(fig.data[2].x) == 2 and len(fig.data[1].x) == 1  # class 1, class 0


def test_dashboard_update_in_place(runs):
    fig = go.FigureWidget(dashboard_figure())
    n = len(fig.data)
    a, b = runs["a"], runs["b"]
    update_dashboard_figure(fig, a.history, finished=[b.history], grid=a.grid,
                            points=(np.zeros((2, 2)), np.array([0, 1])), title="live")
    assert len(fig.data) == n and fig.layout.title.text == "live"
    np.testing.assert_array_equal(fig.data[1].y, a.history.loss)
    np.testing.assert_array_equal(fig.data[5].y, a.history.test_accuracy)
    faded = np.array([np.nan if v is None else v for v in fig.data[0].y], dtype=float)
    np.testing.assert_array_equal(faded[:-1], b.history.loss)  # one run, then a gap
    np.testing.assert_allclose(np.asarray(fig.data[9].z, float), np.log10(a.history.grad_norm.T))
    np.testing.assert_array_equal(fig.data[10].y, a.history.update_ratio[-1])
    update_dashboard_figure(fig, None)
    assert len(fig.data[1].y) == 0 and len(fig.data[0].y) == 0
