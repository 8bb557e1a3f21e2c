"""helpers.figures.normalization: traces, axes and robustness to zeros/NaN/inf."""

from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go

from helpers.figures.compare import gradient_growth_figure
from helpers.figures.normalization import (
    LAYER_AXIS,
    NORM_COLORS,
    NORM_LABELS,
    batch_noise_figure,
    loss_curves_figure,
    norm_comparison_figure,
    norm_explorer_figure,
    norm_label,
    update_norm_explorer_figure,
)


def _profile(n=5, grad=None):
    return SimpleNamespace(
        saturation=np.linspace(0, 0.5, n), activation_std=np.linspace(0.1, 0.3, n),
        weight_grad_norm=np.logspace(-3, 0, n) if grad is None else np.asarray(grad, float))


def test_norm_comparison_figure_traces_and_axes():
    fig = norm_comparison_figure({None: _profile(), "batch": _profile()})
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 2 * 5  # per setting: saturation, std, 3 log traces
    assert fig.data[0].name == "no norm" and fig.data[5].name == "BatchNorm"
    np.testing.assert_allclose(fig.data[0].y, 100 * np.linspace(0, 0.5, 5))
    assert fig.layout.yaxis3.type == "log"
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text and fig.layout.title.text


def test_norm_comparison_figure_draws_zero_nan_inf():
    fig = norm_comparison_figure({"batch": _profile(grad=[1.0, 0.0, np.nan, np.inf, 0.1])})
    line, zero, huge = fig.data[2:5]
    assert len(zero.x) == 2 and len(huge.x) == 1
    assert "exactly 0" in fig.layout.title.text


def test_loss_curves_figure():
    h = SimpleNamespace(steps=np.arange(3), loss=np.array([0.7, 0.5, 0.2]),
                        accuracy=np.array([0.5, 0.7, 0.9]))
    fig = loss_curves_figure({None: h, "batch": h})
    assert len(fig.data) == 4
    np.testing.assert_allclose(fig.data[2].y, h.loss)
    assert fig.layout.xaxis.title.text == "optimizer step"
    assert fig.data[1].showlegend is False


def test_batch_noise_figure_log_log():
    n = SimpleNamespace(batch_sizes=np.array([4, 16]), spread=np.array([0.5, 0.25]),
                        theory=np.array([0.5, 0.25]))
    fig = batch_noise_figure(n)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert fig.data[1].line.dash == "dash"
    np.testing.assert_allclose(fig.data[0].y, [0.5, 0.25])


def test_gradient_growth_figure_with_and_without_theory():
    axes = dict(x_title=LAYER_AXIS, y_title="||dL/dW|| (log scale)", title="t")
    fig = gradient_growth_figure({None: [1.0, 2.0, 0.0], "layer": [1, 1, 1]}, theory=[1, 2, 4],
                                 labels=NORM_LABELS, colors=NORM_COLORS, **axes)
    assert len(fig.data) == 9 and fig.data[6].visible is not False
    assert len(fig.data[1].x) == 1  # the zero is drawn, not dropped
    assert fig.layout.yaxis.type == "log"
    fig = gradient_growth_figure({"batch": [1.0, 2.0]}, **axes)
    assert fig.data[-3].visible is False


def test_norm_explorer_figure_update_changes_data():
    fig = go.FigureWidget(norm_explorer_figure())
    update_norm_explorer_figure(fig, _profile(4, grad=[1e-3, 1e-2, np.inf, 0.0]), title="T")
    np.testing.assert_allclose(fig.data[0].y[:2], [1e-3, 1e-2])
    assert len(fig.data[1].x) == 1 and len(fig.data[2].x) == 1
    np.testing.assert_allclose(fig.data[3].y, 100 * np.linspace(0, 0.5, 4))
    assert fig.layout.title.text.startswith("T<br>")
    assert norm_label(None) == "no norm" and norm_label("layer") == "LayerNorm"
