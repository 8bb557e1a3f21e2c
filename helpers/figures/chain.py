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
from helpers.figures.profiles import log_traces, set_log_traces
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


def chain_gradient_figure(result=None, title: str | None = None, height: int = 400) -> go.Figure:
    """``|d a_L / d a_k|`` at every layer k (measured) with the bound drawn dashed beside it.

    Traces: 0-2 measured (line, zeros, overflows), 3-5 bound (line, zeros, overflows).
    """
    fig = go.Figure([
        *log_traces("measured |d a_L / d a_k|", ROLE_COLORS["measured"], group="measured"),
        *log_traces("bound: prod |w_j| max phi'", ROLE_COLORS["theory"], dash=THEORY_DASH,
                    group="bound", mode="lines"),
    ])
    base_layout(fig, title or "Gradient of the output with respect to each layer",
                CHAIN_X_TITLE, CHAIN_Y_TITLE, height=height)
    fig.update_yaxes(type="log", exponentformat="power")
    if result is not None:
        update_chain_gradient_figure(fig, result, title)
    return fig


def update_chain_gradient_figure(fig, result, title: str | None = None) -> str:
    """Rewrite a ``chain_gradient_figure`` from a ``ChainResult``; returns the flag note."""
    x = np.arange(result.grad.size)
    grad, bound = np.abs(result.grad), np.abs(result.bound)  # one floor for both series
    note = set_log_traces(fig.data[0:3], grad, x, share=[bound])
    set_log_traces(fig.data[3:6], bound, x, share=[grad])
    fig.data[0].line.color = activation_color(result.activation)
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
    series = [np.abs(np.asarray(v, dtype=np.float64)) for r in results for v in (r.spectral, r.rms)]
    for i, r in enumerate(results):
        col = acts.index(r.activation) + 1
        color = SERIES_COLORS[scales.index(r.sigma_w) % len(SERIES_COLORS)]
        for j, (kind, dash) in enumerate((("||J||_2", None), ("RMS gain", "dot"))):
            name = f"{get_spec(r.activation).label}, sigma_w = {r.sigma_w:.3g}: {kind}"
            traces = log_traces(name, color, dash=dash, flag_legend=False, mode="lines")
            k = 2 * i + j  # every series shares one floor and ceiling
            set_log_traces(traces, series[k], share=series[:k] + series[k + 1:])
            for t in traces:
                fig.add_trace(t, row=1, col=col)
    _, _, zero, huge, _, _ = log_safe(np.concatenate(series))
    depth = max(r.depth for r in results)
    for col, _ in enumerate(acts, start=1):
        fig.add_trace(go.Scatter(x=[1, depth], y=[1.0, 1.0], mode="lines",
                                 name="1 (the gradient keeps its size)", legendgroup="one",
                                 showlegend=col == 1,
                                 line=dict(color=ROLE_COLORS["theory"], dash=THEORY_DASH,
                                           width=1)), row=1, col=col)
    note = flagged_note(zero, huge, "values")
    base_layout(fig, title_with_notes(title, note),
                "", "", height=height)
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_yaxes(title_text="||d h_L / d h_0|| (log scale)", row=1, col=1)
    fig.update_xaxes(title_text="depth L (number of layers)")
    fig.update_layout(legend=dict(orientation="h", y=-0.25, font=dict(size=10)))
    return fig
