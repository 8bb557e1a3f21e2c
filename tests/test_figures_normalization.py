"""helpers.figures.normalization: traces, axes and robustness to zeros/NaN/inf."""

from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
from trace_oracles import assert_log_triple, assert_xy

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


# -- every trace's style, every panel's axis, from made-up numbers --------------------------
BLUE, VERMILLION, GREEN, ORANGE, GREY = "#0072B2", "#D55E00", "#009E73", "#E69F00", "#444444"


def test_norm_comparison_names_colours_legend_and_markers():
    """Known settings keep their names and colours; other keys are shown as text with the
    series colours in order; only the saturation line carries the legend entry, and the
    flag markers of the log triple stay out of it."""
    fig = norm_comparison_figure({None: _profile(3), "batch": _profile(3), "layer": _profile(3),
                                  "my run": _profile(3), 7: _profile(3)})
    names = [fig.data[5 * i].name for i in range(5)]
    assert names == ["no norm", "BatchNorm", "LayerNorm", "my run", "7"]
    colours = [fig.data[5 * i].line.color for i in range(5)]
    assert colours == [VERMILLION, BLUE, GREEN, ORANGE, "#CC79A7"]  # series colours 3 and 4
    for i in range(5):
        sat, std, line, zero, huge = fig.data[5 * i: 5 * i + 5]
        assert sat.showlegend is not False and std.showlegend is False
        assert line.showlegend is False and zero.showlegend is False and huge.showlegend is False
        assert {t.legendgroup for t in (sat, std, line, zero, huge)} == {names[i]}
        assert sat.mode == std.mode == "lines+markers"
        assert sat.marker.size == std.marker.size == 4
        assert std.name == names[i] and line.name == names[i]
        assert (zero.xaxis, huge.xaxis) == ("x3", "x3")


def test_norm_comparison_layout_ticks_scales_and_room_for_the_title():
    fig = norm_comparison_figure({"batch": _profile(3)}, title="Compared", height=500)
    assert fig.layout.title.text == "Compared"  # nothing flagged: no note
    assert fig.layout.height == 500 and fig.layout.margin.t == 100
    assert fig.layout.yaxis.tick0 == 0 and fig.layout.yaxis.dtick == 20
    assert fig.layout.yaxis2.rangemode == "tozero" and fig.layout.yaxis2.type != "log"
    assert fig.layout.yaxis3.exponentformat == "power"
    assert fig.layout.yaxis.type != "log"
    assert norm_comparison_figure({"batch": _profile(3)}).layout.title.text == (
        "With and without normalization")
    assert norm_comparison_figure({"batch": _profile(3)}).layout.height == 420


def test_norm_comparison_notes_name_each_setting_std_first_then_gradient():
    bad = SimpleNamespace(saturation=np.zeros(3), activation_std=np.array([1.0, np.nan, 2.0]),
                          weight_grad_norm=np.array([1.0, 0.0, 0.5]))
    fig = norm_comparison_figure({None: bad, "layer": _profile(3, grad=[1.0, np.inf, 2.0])})
    note = fig.layout.title.text.split("<sup>")[1].removesuffix("</sup>")
    parts = note.split("; ")
    assert parts[0].startswith("no norm: 1 layer has a NaN activation std")
    assert parts[1].startswith("no norm: 1 layer is exactly 0")
    assert parts[2].startswith("LayerNorm: 1 layer overflowed")
    assert len(parts) == 3
    assert_log_triple(fig.data[2:5], bad.weight_grad_norm)
    assert_log_triple(fig.data[7:10], [1.0, np.inf, 2.0])


def test_loss_curves_every_trace_axis_and_colour():
    a = SimpleNamespace(steps=np.array([0, 10, 20]), loss=np.array([2.3, 1.0, 0.4]),
                        accuracy=np.array([0.1, 0.6, 0.9]))
    b = SimpleNamespace(steps=np.array([0, 5]), loss=np.array([2.0, 1.9]),
                        accuracy=np.array([0.2, 0.25]))
    fig = loss_curves_figure({"batch": a, "run b": b}, title="Curves")
    assert len(fig.data) == 4
    for i, h in enumerate((a, b)):
        loss, acc = fig.data[2 * i], fig.data[2 * i + 1]
        assert_xy(loss, h.steps, h.loss)
        assert_xy(acc, h.steps, h.accuracy)
        assert (loss.xaxis, acc.xaxis) == ("x", "x2")
        assert loss.mode == acc.mode == "lines"
        assert loss.line.color == acc.line.color == [BLUE, VERMILLION][i]
        assert loss.name == acc.name == loss.legendgroup == acc.legendgroup
        assert loss.showlegend is not False and acc.showlegend is False
    assert fig.data[0].name == "BatchNorm" and fig.data[2].name == "run b"
    assert fig.layout.title.text == "Curves" and fig.layout.margin.t == 90
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == "optimizer step"
    assert fig.layout.yaxis.title.text == "loss (nats)" and fig.layout.yaxis.rangemode == "tozero"
    assert fig.layout.yaxis2.title.text == "fraction correct"
    assert tuple(fig.layout.yaxis2.range) == (0, 1.02)
    assert [t.text for t in fig.layout.annotations] == ["Loss (cross-entropy)",
                                                        "Training accuracy"]
    assert loss_curves_figure({None: a}).layout.title.text == "Training loss"


def test_batch_noise_every_trace_and_axis():
    n = SimpleNamespace(batch_sizes=np.array([2, 8, 32]), spread=np.array([0.9, 0.4, 0.2]),
                        theory=np.array([0.8, 0.41, 0.2]))
    fig = batch_noise_figure(n, title="Noise")
    measured, theory = fig.data
    assert_xy(measured, n.batch_sizes, n.spread)
    assert_xy(theory, n.batch_sizes, n.theory)
    assert measured.name == "measured" and measured.mode == "lines+markers"
    assert measured.line.color == BLUE and measured.marker.size == 8
    assert theory.name == "large-batch theory sqrt((1 + x_hat^2/2) / B)"
    assert theory.mode == "lines" and theory.line.color == GREY
    assert fig.layout.title.text == "Noise"
    assert fig.layout.xaxis.title.text == "batch size B (log scale)"
    assert fig.layout.yaxis.title.text == "std of the normalised value over batches (log scale)"
    assert batch_noise_figure(n).layout.title.text == (
        "BatchNorm output of one example vs batch size")


def test_norm_explorer_empty_figure_panels_and_axes():
    fig = norm_explorer_figure(height=480)
    assert len(fig.data) == 5 and all(len(t.x) == 0 for t in fig.data)
    line, zero, huge, bars, std = fig.data
    assert line.name == "||dL/dW||" and line.line.color == BLUE
    assert zero.showlegend is False and huge.showlegend is False
    assert (line.xaxis, line.yaxis) == ("x", "y")
    assert bars.type == "bar" and bars.name == "saturated (% of activations)"
    assert bars.opacity == 0.6 and bars.marker.color == VERMILLION
    assert (bars.xaxis, bars.yaxis) == ("x2", "y2")
    assert std.name == "activation std" and std.mode == "lines+markers"
    assert std.line.color == BLUE and std.marker.size == 4
    assert (std.xaxis, std.yaxis) == ("x2", "y3")  # the right panel's second y axis
    lay = fig.layout
    assert lay.title.text == "Normalization explorer" and lay.height == 480
    assert lay.margin.t == 100
    assert lay.xaxis.title.text == lay.xaxis2.title.text == LAYER_AXIS
    assert lay.yaxis.type == "log" and lay.yaxis.exponentformat == "power"
    assert lay.yaxis.title.text == "||dL/dW|| (log scale)"
    assert lay.yaxis2.title.text == "% of activations" and tuple(lay.yaxis2.range) == (0, 100)
    assert lay.yaxis2.tick0 == 0 and lay.yaxis2.dtick == 20
    assert lay.yaxis3.title.text == "activation std" and lay.yaxis3.rangemode == "tozero"
    assert lay.yaxis3.overlaying == "y2"
    assert [a.text for a in lay.annotations] == [
        "Weight-gradient norm ||dL/dW|| (log scale)",
        "Saturated activations (%) and activation std"]
    assert norm_explorer_figure().layout.height == 440


def test_norm_explorer_built_with_a_profile_draws_every_trace():
    p = SimpleNamespace(saturation=np.array([0.25, 0.5, 1.0]),
                        activation_std=np.array([0.3, -np.inf, 0.1]),
                        weight_grad_norm=np.array([0.0, 1e-4, 1e-2]))
    fig = norm_explorer_figure(p)
    assert_log_triple(fig.data[0:3], p.weight_grad_norm)
    assert_xy(fig.data[3], [1, 2, 3], [25.0, 50.0, 100.0])
    assert_xy(fig.data[4], [1, 2, 3], [0.3, np.nan, 0.1])
    title = fig.layout.title.text
    assert title.startswith("Normalization explorer<br><sup>1 layer is exactly 0")
    assert "; 1 layer has an infinite activation std" in title


def test_update_norm_explorer_keeps_the_title_and_clears_stale_notes():
    fig = norm_explorer_figure()
    update_norm_explorer_figure(fig, _profile(3, grad=[0.0, 1.0, 2.0]), title="Depth 3")
    assert fig.layout.title.text.startswith("Depth 3<br><sup>1 layer is exactly 0")
    update_norm_explorer_figure(fig, _profile(4))
    assert fig.layout.title.text == "Depth 3"
    assert_log_triple(fig.data[0:3], np.logspace(-3, 0, 4))
    assert_xy(fig.data[4], [1, 2, 3, 4], np.linspace(0.1, 0.3, 4))
