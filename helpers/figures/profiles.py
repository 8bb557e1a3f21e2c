"""Per-layer charts: gradient norms on a log axis, activation statistics, histogram heatmaps.

Each chart has a builder (``*_figure``) and an updater (``update_*``) that rewrites the
trace data of an existing figure in place, so a widget can keep one ``FigureWidget`` and
change only its numbers. Both accept plain arrays or a ``GradientProfile``-like object;
nothing here imports torch.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.figures.style import (
    HEATMAP_SCALE,
    ROLE_COLORS,
    THEORY_DASH,
    base_layout,
    finite_or_gap,
    flagged_note,
    log_safe,
    nonfinite_note,
    set_title_notes,
)


def _layers(n: int) -> np.ndarray:
    return np.arange(1, n + 1)


def log_series(values, x=None, share=()) -> dict:
    """Trace data for a log-axis series: the line, its zero/NaN points and its overflows.

    ``x`` defaults to the layers ``1 .. len(values)``. ``share``: other series drawn on the
    same axis; the floor (where zeros go) and the ceiling (where overflows go) are then
    computed over all of them, so every series flags its points at the same height.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    others = [np.asarray(s, dtype=np.float64).ravel() for s in share]
    y, ok, zero, huge, floor, ceiling = log_safe(np.concatenate([v, *others]))
    y, ok, zero, huge = y[:v.size], ok[:v.size], zero[:v.size], huge[:v.size]
    x = _layers(len(v)) if x is None else np.asarray(x)
    line = np.where(ok | huge, y, np.nan)  # a gap where a value cannot be drawn on a log axis
    return {
        "x": x, "y": line, "zero_x": x[zero], "zero_y": y[zero], "huge_x": x[huge],
        "huge_y": y[huge], "note": flagged_note(zero, huge, "layers"),
    }


def log_traces(name: str, color: str, dash=None, group=None, showlegend: bool = True,
               flag_legend: bool = True, mode: str = "lines+markers") -> list[go.Scatter]:
    """Three empty traces for one log-axis series: the line, its zero/NaN markers, its overflows.

    Fill them with ``set_log_traces``. ``group`` ties them to a legend group (default: the
    name); ``flag_legend=False`` keeps the marker traces out of the legend; ``mode`` is the
    line's (``"lines"`` draws no markers on it).
    """
    kw = dict(legendgroup=group or name)
    return [
        go.Scatter(x=[], y=[], mode=mode, name=name, line=dict(color=color, dash=dash),
                   marker=dict(size=5), showlegend=showlegend, **kw),
        go.Scatter(x=[], y=[], mode="markers", name=f"{name}: exactly 0 / NaN",
                   marker=dict(symbol="x", size=9, color=ROLE_COLORS["warning"]),
                   showlegend=flag_legend, **kw),
        go.Scatter(x=[], y=[], mode="markers", name=f"{name}: overflow (inf)",
                   marker=dict(symbol="triangle-up", size=10, color=ROLE_COLORS["warning"]),
                   showlegend=flag_legend, **kw),
    ]


def set_log_traces(traces, values, x=None, share=()) -> str:
    """Write ``values`` into a (line, zeros, overflows) triple from ``log_traces``.

    ``x`` and ``share`` as in ``log_series``. Returns the sentence naming flagged points
    ("" if none).
    """
    s = log_series(values, x, share)
    line, zero, huge = traces
    line.x, line.y = s["x"], s["y"]
    zero.x, zero.y = s["zero_x"], s["zero_y"]
    huge.x, huge.y = s["huge_x"], s["huge_y"]
    return s["note"]


def gradient_norm_figure(
    values, theory=None, *, name: str = "measured ||dL/dW||", theory_name: str = "theory",
    color: str = ROLE_COLORS["measured"], title: str = "Weight-gradient norm per layer",
    y_title: str = "||dL/dW|| (log scale)",
) -> go.Figure:
    """Per-layer gradient norms on a log axis, with an optional dashed theory curve.

    ``values`` is an array (one entry per layer) or a ``GradientProfile`` (its
    ``weight_grad_norm``). Zeros, NaN and inf are drawn with their own markers and named in
    the subtitle, never dropped.
    """
    if hasattr(values, "weight_grad_norm"):
        values = values.weight_grad_norm
    fig = go.Figure(log_traces(name, color) + log_traces(theory_name, ROLE_COLORS["theory"],
                                                         dash=THEORY_DASH))
    base_layout(fig, title, "layer (1 = first hidden, last = output)", y_title)
    fig.update_yaxes(type="log", exponentformat="power")
    update_gradient_norm_figure(fig, values, theory)
    return fig


def update_gradient_norm_figure(fig, values, theory=None) -> None:
    """Rewrite the data of a figure made by ``gradient_norm_figure``."""
    if hasattr(values, "weight_grad_norm"):
        values = values.weight_grad_norm
    note = set_log_traces(fig.data[0:3], values)
    if theory is None:
        for t in fig.data[3:6]:
            t.x, t.y = [], []
        fig.data[3].visible = False
    else:
        fig.data[3].visible = True
        set_log_traces(fig.data[3:6], theory)
    set_title_notes(fig, note)


def activation_stats_figure(profile, title: str = "Activations per layer") -> go.Figure:
    """Activation std (left axis) and, on the right axis, the saturated share of activations
    (over every (example, unit) pair) and the share of units dead on every example."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name="activation std",
                             line=dict(color=ROLE_COLORS["std"])), secondary_y=False)
    fig.add_trace(go.Bar(x=[], y=[], name="saturated (% of activations)", opacity=0.5,
                         marker_color=ROLE_COLORS["saturation"]), secondary_y=True)
    fig.add_trace(go.Bar(x=[], y=[], name="dead (% of units)", opacity=0.5,
                         marker_color=ROLE_COLORS["dead"]), secondary_y=True)
    base_layout(fig, title, "layer (1 = first hidden, last = output)", "activation std")
    fig.update_yaxes(title_text="%", range=[0, 100], tick0=0, dtick=20, secondary_y=True)
    update_activation_stats_figure(fig, profile)
    return fig


def update_activation_stats_figure(fig, profile) -> None:
    """Rewrite the data of a figure made by ``activation_stats_figure``."""
    x = _layers(len(profile.activation_std))
    std, sat, dead = fig.data[0:3]
    std.x, std.y = x, finite_or_gap(profile.activation_std)
    sat.x, sat.y = x, 100 * profile.saturation
    dead.x, dead.y = x, 100 * profile.dead_fraction
    set_title_notes(fig, nonfinite_note(profile.activation_std, "activation std"))


def _hidden_hist(profile) -> np.ndarray:
    """Histogram rows of the hidden layers (the output layer's logits are left out)."""
    h = profile.activation_hist
    return h[:-1] if h.shape[0] > 1 else h


def _hist_z(profile) -> np.ndarray:
    # Fractions span decades; log10 keeps both the bulk and the tails visible.
    return np.log10(np.maximum(_hidden_hist(profile), 1e-4))


def histogram_heatmap_figure(profile, title: str = "Activation histograms per layer") -> go.Figure:
    """Hidden layer x bin heatmap of activation histograms (colour = log10 fraction)."""
    fig = go.Figure(go.Heatmap(z=[[0]], colorscale=HEATMAP_SCALE, zmin=-4, zmax=0,
                               name="fraction of activations",
                               colorbar=dict(title="log10<br>fraction", len=0.8)))
    base_layout(fig, title, "activation value", "hidden layer")
    fig.update_layout(showlegend=False)
    update_histogram_heatmap_figure(fig, profile)
    return fig


def update_histogram_heatmap_figure(fig, profile) -> None:
    """Rewrite the data of a figure made by ``histogram_heatmap_figure``."""
    e = profile.hist_edges
    heat = fig.data[0]
    heat.x = 0.5 * (e[:-1] + e[1:])
    heat.y = _layers(_hidden_hist(profile).shape[0])
    heat.z = _hist_z(profile)
