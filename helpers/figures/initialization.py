"""Lesson 5 charts: initialization, the length map, the order-to-chaos phase diagram.

Builders (``*_figure``) take plain arrays (or the dataclasses of
``helpers.topics.initialization``, read by attribute) and return a ``go.Figure``;
``update_*`` functions rewrite trace data in place for the phase-diagram widget.
Nothing here imports torch.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.figures.profiles import log_traces, set_log_traces
from helpers.figures.style import (
    ROLE_COLORS,
    SERIES_COLORS,
    THEORY_DASH,
    activation_color,
    base_layout,
    set_title_notes,
    title_with_notes,
)

PHASE_SCALE = "RdBu_r"  # diverging, colour-blind safe (ColorBrewer): blue ordered, red chaotic
CHI_TICKS = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


# ----------------------------------------------------------------------------- inits
def init_comparison_figure(profiles: dict, title: str) -> go.Figure:
    """Per-layer ``Var h_l`` (left) and ``||dL/dh_l||^2`` (right) for several inits.

    ``profiles`` maps a legend label to a ``SignalProfile`` (or anything with
    ``preact_second_moment`` and ``grad_sq_norm``). Both axes are logarithmic; zeros and
    overflows are drawn as flagged markers.
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        "forward: pre-activation variance Var h_l", "backward: ||dL/dh_l||^2 per example"))
    notes = []
    for i, (label, prof) in enumerate(profiles.items()):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        for col, values in ((1, prof.preact_second_moment), (2, prof.grad_sq_norm)):
            traces = log_traces(label, color, group=label, showlegend=col == 1, flag_legend=False)
            for t in traces:
                fig.add_trace(t, row=1, col=col)
            note = set_log_traces(fig.data[-3:], values)
            if note:
                notes.append(f"{label}: {note}")
    base_layout(fig, title_with_notes(title, notes),
                "", "", height=420)
    for col, y in ((1, "Var h_l (log scale)"), (2, "||dL/dh_l||^2 (log scale)")):
        fig.update_xaxes(title_text="hidden layer l", row=1, col=col)
        fig.update_yaxes(title_text=y, type="log", exponentformat="power", row=1, col=col)
    return fig


# ----------------------------------------------------------------------- length map
def length_map_figure(iterates, q_star: float, measured=None, *, title: str) -> go.Figure:
    """Iterates ``q_l`` of the length map from several starts, converging to ``q*`` (dashed).

    ``iterates`` is (starts, steps + 1) with ``q_0`` in column 0; ``measured`` optionally
    maps a label to the measured ``Var h_l`` for ``l = 1..`` of a real network.
    """
    it = np.asarray(iterates, dtype=np.float64)
    layers = np.arange(it.shape[1])
    fig = go.Figure()
    for i, row in enumerate(it):
        fig.add_trace(go.Scatter(x=layers, y=row, mode="lines+markers", marker=dict(size=5),
                                 name=f"theory from q_0 = {row[0]:.3g}",
                                 line=dict(color=SERIES_COLORS[i % len(SERIES_COLORS)])))
    for i, (label, values) in enumerate((measured or {}).items()):
        v = np.asarray(values, dtype=np.float64)
        fig.add_trace(go.Scatter(x=np.arange(1, len(v) + 1), y=v, mode="markers", name=label,
                                 marker=dict(symbol="circle-open", size=9,
                                             color=SERIES_COLORS[i % len(SERIES_COLORS)])))
    fig.add_trace(go.Scatter(x=[layers[0], layers[-1]], y=[q_star, q_star], mode="lines",
                             name=f"fixed point q* = {q_star:.4g}",
                             line=dict(color=ROLE_COLORS["theory"], dash=THEORY_DASH)))
    base_layout(fig, title, "layer l", "q_l = Var h_l (log scale)")
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def correlation_map_figure(c, curves: dict, *, title: str) -> go.Figure:
    """The c-map ``c_l = C(c_{l-1})``, one curve per label, over the identity (dotted).

    Where a curve crosses the identity, ``c`` is a fixed point; its slope at ``c = 1`` is
    ``chi_1``.
    """
    x = np.asarray(c, dtype=np.float64)
    fig = go.Figure(go.Scatter(x=x, y=x, mode="lines", name="identity c_l = c_(l-1)",
                               line=dict(color=ROLE_COLORS["theory"], dash="dot")))
    for i, (label, values) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=x, y=np.asarray(values, dtype=np.float64), mode="lines",
                                 name=label,
                                 line=dict(color=SERIES_COLORS[i % len(SERIES_COLORS)])))
    base_layout(fig, title, "correlation c_(l-1) of two inputs' pre-activations",
                "correlation c_l one layer up", height=420)
    return fig


def depth_scale_figure(sigma_w2, curves: dict, *, title: str) -> go.Figure:
    """Depth scale ``1 / |ln chi_1|`` against ``sigma_w2``, one curve per label (log y).

    Infinite values (exactly on the critical line) are left as gaps: the curve's spike
    towards the top of the chart marks the critical point.
    """
    x = np.asarray(sigma_w2, dtype=np.float64)
    fig = go.Figure()
    for i, (label, values) in enumerate(curves.items()):
        v = np.asarray(values, dtype=np.float64)
        fig.add_trace(go.Scatter(x=x, y=np.where(np.isfinite(v) & (v > 0), v, np.nan),
                                 mode="lines", name=label,
                                 line=dict(color=SERIES_COLORS[i % len(SERIES_COLORS)])))
    base_layout(fig, title, "sigma_w^2", "depth scale 1 / |ln chi_1| in layers (log scale)")
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def singular_value_figure(values: dict, *, title: str, bins: int = 40) -> go.Figure:
    """Overlaid histograms of log10 singular values, one per label."""
    fig = go.Figure()
    arrays = {k: np.log10(np.maximum(np.asarray(v, dtype=np.float64), 1e-300))
              for k, v in values.items()}
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays.values()] or [np.zeros(1)])
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < 1e-6:
        lo, hi = lo - 0.5, hi + 0.5
    for i, (label, a) in enumerate(arrays.items()):
        fig.add_trace(go.Histogram(x=a, name=label, opacity=0.6,
                                   xbins=dict(start=lo, end=hi, size=(hi - lo) / bins),
                                   marker_color=SERIES_COLORS[i % len(SERIES_COLORS)]))
    fig.add_vline(x=0.0, line=dict(color=ROLE_COLORS["theory"], dash=THEORY_DASH))
    base_layout(fig, title, "log10 singular value of the input-output Jacobian",
                "number of singular values")
    fig.update_layout(barmode="overlay")
    return fig


# -------------------------------------------------------------------- phase diagram
def _chi_colour(chi):
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log10(np.asarray(chi, dtype=np.float64))
    return np.clip(z, np.log10(CHI_TICKS[0]), np.log10(CHI_TICKS[-1]))


def phase_figure(activation: str = "tanh", height: int = 460) -> go.Figure:
    """Empty phase-diagram dashboard: chi_1 heatmap (left), gradient profile (right).

    Traces: 0 heatmap of log10 chi_1 (diverging, centred at chi_1 = 1), 1 critical line
    (dashed), 2 the chosen point; 3-5 measured ``||dL/dh_l||^2`` (line, zero, overflow),
    6-8 the theory ``chi_1^(depth - l)`` (dashed). Fill with ``update_phase_map`` and
    ``update_phase_point``.
    """
    fig = make_subplots(rows=1, cols=2, column_widths=[0.5, 0.5], horizontal_spacing=0.14,
                        subplot_titles=("chi_1 over (sigma_w^2, sigma_b^2)",
                                        "squared gradient norm per layer"))
    ticks = [float(np.log10(t)) for t in CHI_TICKS]
    fig.add_trace(go.Heatmap(
        z=[[0.0]], x=[1.0], y=[0.0], colorscale=PHASE_SCALE, zmid=0.0, zmin=ticks[0],
        zmax=ticks[-1], name="chi_1", zsmooth="best",
        colorbar=dict(title="chi_1", tickvals=ticks, ticktext=[f"{t:g}" for t in CHI_TICKS],
                      x=0.43, len=0.9),
        hovertemplate="sigma_w^2=%{x:.3g}<br>sigma_b^2=%{y:.3g}<br>log10 chi_1=%{z:.3f}"
                      "<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name="critical line chi_1 = 1",
                             line=dict(color=ROLE_COLORS["point"], dash=THEORY_DASH, width=2)),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name="chosen network",
                             marker=dict(symbol="x", size=13, color=ROLE_COLORS["point"],
                                         line=dict(width=2, color="white"))), row=1, col=1)
    for t in log_traces("measured ||dL/dh_l||^2", activation_color(activation), flag_legend=False):
        fig.add_trace(t, row=1, col=2)
    for t in log_traces("theory chi_1^(L - l)", ROLE_COLORS["theory"], dash=THEORY_DASH,
                          flag_legend=False):
        fig.add_trace(t, row=1, col=2)
    base_layout(fig, "Order to chaos", "", "", height=height)
    fig.update_xaxes(title_text="sigma_w^2 (weight variance x fan-in)", row=1, col=1)
    fig.update_yaxes(title_text="sigma_b^2 (bias variance)", row=1, col=1)
    fig.update_xaxes(title_text="hidden layer l", row=1, col=2)
    fig.update_yaxes(title_text="||dL/dh_l||^2 (log scale)", type="log",
                     exponentformat="power", row=1, col=2)
    return fig


def update_phase_map(fig, activation: str, sigma_w2_values, sigma_b2_values, chi1_values,
                     critical_sigma_w2) -> None:
    """Redraw the heatmap (rows follow ``sigma_b2_values``) and the critical line."""
    heat, line = fig.data[0], fig.data[1]
    # local arrays, not heat.x / heat.y read back: inside a FigureWidget's batch_update a
    # read returns the value from before the batch
    sw = np.asarray(sigma_w2_values, dtype=np.float64)
    sb = np.asarray(sigma_b2_values, dtype=np.float64)
    heat.x, heat.y = sw, sb
    heat.z = _chi_colour(chi1_values)
    crit = np.asarray(critical_sigma_w2, dtype=np.float64)
    line.x, line.y = crit, sb
    fig.data[3].line.color = activation_color(activation)
    fig.layout.xaxis.range = [float(sw[0]), float(sw[-1])]
    fig.layout.yaxis.range = [float(sb[0]), float(sb[-1])]


def update_phase_point(fig, growth, title: str | None = None) -> None:
    """Move the marker to ``growth``'s point and draw its measured and predicted profiles.

    ``growth`` is a ``helpers.topics.initialization.GradientGrowth`` (read by attribute).
    """
    fig.data[2].x, fig.data[2].y = [growth.sigma_w2], [growth.sigma_b2]
    note = set_log_traces(fig.data[3:6], growth.grad_sq_norm)
    set_log_traces(fig.data[6:9], growth.prediction)
    set_title_notes(fig, note, title)
