"""Activation functions and their derivatives as curves, with a marked point."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.activations import ACTIVATIONS, activation_fn, derivative, get_spec
from helpers.figures.style import ROLE_COLORS, activation_color


def activation_curves_figure(
    names=("sigmoid", "tanh"), z_range=(-6.0, 6.0), point: float | None = None,
    title: str = "Activation functions and their derivatives", n: int = 601,
) -> go.Figure:
    """phi(z) on the left and phi'(z) on the right, one colour per activation.

    ``point`` marks ``z`` on every curve (trace order: for each activation its phi curve,
    its phi' curve, then one marker trace on each panel).
    """
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        get_spec(name)
    lo, hi = z_range
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"z_range must be two finite numbers with lo < hi, got {z_range}")
    z = np.linspace(lo, hi, n)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("phi(z)", "phi'(z)"),
                        horizontal_spacing=0.1)
    for name in names:
        label = ACTIVATIONS[name].label
        color = activation_color(name)
        fig.add_trace(go.Scatter(x=z, y=activation_fn(name)(z), name=label, legendgroup=name,
                                 line=dict(color=color)), row=1, col=1)
        fig.add_trace(go.Scatter(x=z, y=derivative(name)(z), name=f"{label}'", legendgroup=name,
                                 line=dict(color=color, dash="dot")), row=1, col=2)
    for col in (1, 2):
        fig.add_trace(go.Scatter(x=[], y=[], mode="markers+text", name="chosen z" if col == 1
                                 else "slope at z", textposition="top right",
                                 marker=dict(size=11, color=ROLE_COLORS["point"]),
                                 showlegend=col == 1), row=1, col=col)
    fig.update_layout(template="plotly_white", height=380, title=dict(text=title, x=0.02),
                      legend=dict(orientation="h", y=-0.2), margin=dict(l=60, r=20, t=70, b=50))
    fig.update_xaxes(title_text="pre-activation z")
    fig.update_yaxes(title_text="phi(z)", row=1, col=1)
    fig.update_yaxes(title_text="phi'(z)", row=1, col=2)
    if point is not None:
        update_activation_point(fig, names, point)
    return fig


def update_activation_point(fig, names, z: float) -> None:
    """Move the marked point of an ``activation_curves_figure`` to ``z``."""
    names = [names] if isinstance(names, str) else list(names)
    zs = np.full(len(names), float(z))
    values = [float(activation_fn(n)(z)) for n in names]
    slopes = [float(derivative(n)(z)) for n in names]
    fig.data[-2].x, fig.data[-2].y = zs, values
    fig.data[-2].text = [f"{v:.3g}" for v in values]
    fig.data[-1].x, fig.data[-1].y = zs, slopes
    fig.data[-1].text = [f"{s:.3g}" for s in slopes]
