"""Charts for the chain rule through depth: the scalar chain's gradient per layer with its
bound, and the norm of a network's Jacobian product against depth.

Both use log axes that survive zeros, NaN and inf: such points are placed at the chart's
floor (drawn as x) or ceiling (drawn as a triangle) and named in the subtitle, never
dropped. Nothing here imports torch; the inputs are ``helpers.topics.chain`` results.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.activations import get_spec
from helpers.figures.style import (
    ROLE_COLORS,
    SERIES_COLORS,
    THEORY_DASH,
    activation_color,
    base_layout,
    flagged_note,
    log_safe,
    set_title_notes,
    title_with_notes,
)

CHAIN_Y_TITLE = "|d a_L / d a_k| (log scale)"
CHAIN_X_TITLE = "layer k (0 = input, L = output)"


def _shared_log(series: list) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """``log_safe`` over several series at once, so that they share one floor and ceiling."""
    arrays = [np.abs(np.asarray(s, dtype=np.float64)).ravel() for s in series]
    y, ok, zero, huge, _, _ = log_safe(np.concatenate(arrays) if arrays else [])
    out_y, out_zero, out_huge, start = [], [], [], 0
    for arr in arrays:
        sl = slice(start, start + arr.size)
        out_y.append(y[sl])
        out_zero.append(zero[sl])
        out_huge.append(huge[sl])
        start += arr.size
    return out_y, out_zero, out_huge


def _flag_traces(name: str, legendgroup: str, showlegend: bool = True) -> list[go.Scatter]:
    return [
        go.Scatter(x=[], y=[], mode="markers", name=f"{name}: exactly 0 / NaN",
                   legendgroup=legendgroup, showlegend=showlegend,
                   marker=dict(symbol="x", size=9, color=ROLE_COLORS["warning"])),
        go.Scatter(x=[], y=[], mode="markers", name=f"{name}: overflow (inf)",
                   legendgroup=legendgroup, showlegend=showlegend,
                   marker=dict(symbol="triangle-up", size=10, color=ROLE_COLORS["warning"])),
    ]


def _set_series(traces, x, y, zero, huge) -> None:
    line, zeros, infs = traces
    line.x, line.y = x, np.where(zero, np.nan, y)  # a gap where a log axis cannot draw
    zeros.x, zeros.y = x[zero], y[zero]
    infs.x, infs.y = x[huge], y[huge]


def chain_gradient_figure(result=None, title: str | None = None, height: int = 400) -> go.Figure:
    """``|d a_L / d a_k|`` at every layer k (measured) with the bound drawn dashed beside it.

    Traces: 0-2 measured (line, zeros, overflows), 3-5 bound (line, zeros, overflows).
    """
    measured = go.Scatter(x=[], y=[], mode="lines+markers", name="measured |d a_L / d a_k|",
                          legendgroup="measured", marker=dict(size=5),
                          line=dict(color=ROLE_COLORS["measured"]))
    bound = go.Scatter(x=[], y=[], mode="lines", name="bound: prod |w_j| max phi'",
                       legendgroup="bound",
                       line=dict(color=ROLE_COLORS["theory"], dash=THEORY_DASH))
    fig = go.Figure([measured, *_flag_traces("measured", "measured"), bound,
                     *_flag_traces("bound", "bound")])
    base_layout(fig, title or "Gradient of the output with respect to each layer",
                CHAIN_X_TITLE, CHAIN_Y_TITLE, height=height)
    fig.update_yaxes(type="log", exponentformat="power")
    if result is not None:
        update_chain_gradient_figure(fig, result, title)
    return fig


def update_chain_gradient_figure(fig, result, title: str | None = None) -> str:
    """Rewrite a ``chain_gradient_figure`` from a ``ChainResult``; returns the flag note."""
    x = np.arange(result.grad.size)
    (gy, by), (gz, bz), (gh, bh) = _shared_log([result.grad, result.bound])
    _set_series(fig.data[0:3], x, gy, gz, gh)
    _set_series(fig.data[3:6], x, by, bz, bh)
    fig.data[0].line.color = activation_color(result.activation)
    note = flagged_note(gz, gh, "layers")
    head = title if title is not None else (
        f"{get_spec(result.activation).label} chain of depth {result.depth}: "
        "gradient at each layer vs the bound")
    set_title_notes(fig, note, head)
    return note


def jacobian_depth_figure(results, title: str = "Norm of the Jacobian product vs depth",
                          height: int = 420) -> go.Figure:
    """``||J_L||`` against the number of layers L, one panel per activation.

    ``results`` is a list of ``JacobianNorms``; each gets a solid line (spectral norm, the
    largest gain) and a dotted line (RMS gain of a random gradient vector) in one colour
    per weight scale. A dashed line at 1 marks "the gradient keeps its size".
    """
    results = list(results)
    acts = list(dict.fromkeys(r.activation for r in results))
    if not acts:
        raise ValueError("results must contain at least one JacobianNorms")
    fig = make_subplots(rows=1, cols=len(acts), shared_yaxes=True,
                        subplot_titles=[get_spec(a).label for a in acts])
    scales = list(dict.fromkeys(r.sigma_w for r in results))
    (ys, zs, hs) = _shared_log([s for r in results for s in (r.spectral, r.rms)])
    flags = np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    for i, r in enumerate(results):
        col = acts.index(r.activation) + 1
        color = SERIES_COLORS[scales.index(r.sigma_w) % len(SERIES_COLORS)]
        x = np.arange(1, r.depth + 1)
        for j, (kind, dash) in enumerate((("||J||_2", None), ("RMS gain", "dot"))):
            y, zero, huge = ys[2 * i + j], zs[2 * i + j], hs[2 * i + j]
            name = f"{get_spec(r.activation).label}, sigma_w = {r.sigma_w:.3g}: {kind}"
            fig.add_trace(go.Scatter(x=x, y=np.where(zero, np.nan, y), mode="lines", name=name,
                                     legendgroup=name, line=dict(color=color, dash=dash)),
                          row=1, col=col)
            for t, mask in zip(_flag_traces(name, name, showlegend=False), (zero, huge),
                               strict=True):
                t.x, t.y = x[mask], y[mask]
                fig.add_trace(t, row=1, col=col)
            flags = (np.append(flags[0], zero), np.append(flags[1], huge))
    depth = max(r.depth for r in results)
    for col, _ in enumerate(acts, start=1):
        fig.add_trace(go.Scatter(x=[1, depth], y=[1.0, 1.0], mode="lines",
                                 name="1 (the gradient keeps its size)", legendgroup="one",
                                 showlegend=col == 1,
                                 line=dict(color=ROLE_COLORS["theory"], dash=THEORY_DASH,
                                           width=1)), row=1, col=col)
    note = flagged_note(*flags, "values")
    base_layout(fig, title_with_notes(title, note),
                "", "", height=height)
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_yaxes(title_text="||d h_L / d h_0|| (log scale)", row=1, col=1)
    fig.update_xaxes(title_text="depth L (number of layers)")
    fig.update_layout(legend=dict(orientation="h", y=-0.25, font=dict(size=10)))
    return fig
