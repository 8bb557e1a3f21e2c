"""Lesson 3's chart: the Gradient Flow Explorer's dashboard of one ``GradientProfile``.

Four panels: per-layer weight-gradient norm (log scale, zeros and overflows flagged),
activation std (non-finite values left out and flagged in the title), saturated and dead
units, and activation histograms. Nothing here imports torch.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.figures.profiles import _hidden_hist, _hist_z, _layers, log_traces, set_log_traces
from helpers.figures.style import (
    HEATMAP_SCALE,
    ROLE_COLORS,
    finite_or_gap,
    nonfinite_note,
    set_title_notes,
)

# Above this many layers the per-layer markers merge into the line, and drawing them costs
# the live chart about a quarter of its redraw in the browser: lines only.
MARKER_LAYERS = 30

EXPLORER_TITLES = (
    "Weight-gradient norm ||dL/dW|| (log scale)", "Activation std per layer",
    "Saturated activations, dead units (%)", "Activation histograms (log10 fraction)",
)


def explorer_figure(profile=None, height: int = 640) -> go.Figure:
    """The Gradient Flow Explorer's 2 x 2 dashboard, optionally filled with ``profile``."""
    fig = make_subplots(rows=2, cols=2, subplot_titles=EXPLORER_TITLES,
                        horizontal_spacing=0.1, vertical_spacing=0.16)
    for t in log_traces("||dL/dW||", ROLE_COLORS["measured"]):
        fig.add_trace(t, row=1, col=1)
    fig.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name="activation std",
                             line=dict(color=ROLE_COLORS["std"])), row=1, col=2)
    fig.add_trace(go.Bar(x=[], y=[], name="saturated (% of activations)",
                         marker_color=ROLE_COLORS["saturation"]), row=2, col=1)
    fig.add_trace(go.Bar(x=[], y=[], name="dead (% of units)", marker_color=ROLE_COLORS["dead"]),
                  row=2, col=1)
    fig.add_trace(go.Heatmap(z=[[0]], colorscale=HEATMAP_SCALE, zmin=-4, zmax=0,
                             name="log10 fraction", showscale=True,
                             colorbar=dict(title="log10<br>fraction", len=0.4, y=0.2)),
                  row=2, col=2)
    fig.update_layout(template="plotly_white", height=height, barmode="group",
                      title=dict(text="Gradient flow", x=0.02),
                      margin=dict(l=60, r=20, t=90, b=60), legend=dict(orientation="h", y=-0.12))
    fig.update_yaxes(type="log", exponentformat="power", title_text="||dL/dW||", row=1, col=1)
    fig.update_yaxes(title_text="std", rangemode="tozero", row=1, col=2)
    fig.update_yaxes(title_text="%", range=[0, 100], tick0=0, dtick=20, row=2, col=1)
    fig.update_yaxes(title_text="hidden layer", row=2, col=2)
    for col in (1, 2):
        fig.update_xaxes(title_text="layer (1 = first hidden, last = output)", row=1, col=col)
    fig.update_xaxes(title_text="layer (1 = first hidden, last = output)", row=2, col=1)
    fig.update_xaxes(title_text="activation value", row=2, col=2)
    # Tick labels stay inside the margins; without this plotly measures every label on
    # every redraw to hide overflowing ones, which costs the live explorer a forced layout.
    fig.update_xaxes(ticklabeloverflow="allow")
    fig.update_yaxes(ticklabeloverflow="allow")
    if profile is not None:
        update_explorer_figure(fig, profile)
    return fig


def update_explorer_figure(fig, profile, title: str | None = None) -> None:
    """Rewrite all of the explorer dashboard's data from one ``GradientProfile``."""
    note = set_log_traces(fig.data[0:3], profile.weight_grad_norm)
    x = _layers(len(profile.activation_std))
    fig.data[0].mode = fig.data[3].mode = "lines+markers" if len(x) <= MARKER_LAYERS else "lines"
    fig.data[3].x, fig.data[3].y = x, finite_or_gap(profile.activation_std)
    fig.data[4].x, fig.data[4].y = x, 100 * profile.saturation
    fig.data[5].x, fig.data[5].y = x, 100 * profile.dead_fraction
    e = profile.hist_edges
    fig.data[6].x, fig.data[6].y = 0.5 * (e[:-1] + e[1:]), _layers(_hidden_hist(profile).shape[0])
    fig.data[6].z = _hist_z(profile)
    std_note = nonfinite_note(profile.activation_std, "activation std")
    set_title_notes(fig, [note, std_note], title)
