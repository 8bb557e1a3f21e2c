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


def test_norm_comparison_every_trace_in_its_panel():
    """Per setting: saturation in % (left), activation std with inf as a gap (middle) and
    the gradient norm's log triple (right), x = layers 1..L; a non-finite std is named in
    the title; the axes' titles."""
    a = _profile(4)
    b = SimpleNamespace(saturation=np.array([0.0, 0.1, 0.2, 0.3]),
                        activation_std=np.array([0.5, np.inf, 0.7, 0.8]),
                        weight_grad_norm=np.array([1e-3, 1e-2, 1e-1, 1.0]))
    fig = norm_comparison_figure({None: a, "batch": b}, title="T")
    for i, p in enumerate((a, b)):
        sat, std, line = fig.data[5 * i], fig.data[5 * i + 1], fig.data[5 * i + 2]
        assert (sat.xaxis, std.xaxis, line.xaxis) == ("x", "x2", "x3")
        for t in (sat, std, line):
            np.testing.assert_array_equal(t.x, [1, 2, 3, 4])
        np.testing.assert_allclose(sat.y, 100 * p.saturation, rtol=1e-12)
        want = np.where(np.isfinite(p.activation_std), p.activation_std, np.nan)
        np.testing.assert_array_equal(np.asarray(std.y, float), want)
        np.testing.assert_allclose(np.asarray(line.y, float), p.weight_grad_norm, rtol=1e-12)
        assert sat.line.color == std.line.color == line.line.color
    assert fig.layout.title.text.startswith("T<br><sup>BatchNorm: ")
    assert "activation std" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "layer" == fig.layout.xaxis3.title.text
    assert fig.layout.xaxis2.title.text == LAYER_AXIS
    assert fig.layout.yaxis.title.text == "% of activations"
    assert tuple(fig.layout.yaxis.range) == (0, 100)
    assert fig.layout.yaxis2.title.text == "std of activations"
    assert fig.layout.yaxis3.title.text == "||dL/dW|| (log scale)"
    assert [a.text for a in fig.layout.annotations] == [
        "Saturated activations (%)", "Activation std", "Weight-gradient norm (log scale)"]
