"""Activation functions and their derivatives as curves: ``phi_dphi_figure``, the one builder
of the course's phi / phi' charts, and lesson 0's chart with a marked point."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.activations import ACTIVATIONS, activation_fn, derivative, get_spec
from helpers.figures.style import ROLE_COLORS, activation_color, base_layout


def check_z_range(z_range) -> tuple[float, float]:
    """``(lo, hi)`` as floats: two finite numbers with ``lo < hi``, else a ``ValueError``."""
    try:
        lo, hi = (float(v) for v in z_range)
    except (TypeError, ValueError):
        raise ValueError(f"z_range must be two numbers (lo, hi), got {z_range!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"z_range must be two finite numbers with lo < hi, got {z_range}")
    return lo, hi


def phi_dphi_figure(names, z=None, *, title: str, height: int = 400,
                    panel_titles=("phi(z)", "phi'(z)"), phi_line=None, dphi_line=None,
                    dphi_legend: bool = True, extras=None) -> go.Figure:
    """phi(z) on the left, phi'(z) on the right, one colour per activation.

    The one builder of the course's phi / phi' charts (lessons 0, 1 and 4).

    Args:
        names: registry activations, one trace pair each.
        z: (n,) grid to draw on; ``None`` leaves the traces empty (an updater fills them).
        phi_line, dphi_line: extra ``line`` settings of the two curves (the colour is the
            activation's); ``dphi_legend=False`` keeps phi' out of the legend.
        extras: ``extras(name, z, phi, dphi)`` returns ``[(trace, col), ...]`` added right
            after that activation's pair (``phi``, ``dphi`` are ``None`` when ``z`` is).
    Returns:
        Per activation: its phi trace, its phi' trace, then its extras.
    """
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        get_spec(name)
    fig = make_subplots(rows=1, cols=2, subplot_titles=panel_titles, horizontal_spacing=0.1)
    for name in names:
        label, color = ACTIVATIONS[name].label, activation_color(name)
        phi = dphi = None
        if z is not None:
            phi, dphi = activation_fn(name)(z), derivative(name)(z)
        x = [] if z is None else z
        fig.add_trace(go.Scatter(x=x, y=[] if phi is None else phi, name=label, mode="lines",
                                 legendgroup=name, line=dict(color=color, **(phi_line or {}))),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=[] if dphi is None else dphi, name=f"{label}'",
                                 mode="lines", legendgroup=name, showlegend=dphi_legend,
                                 line=dict(color=color, **(dphi_line or {}))), row=1, col=2)
        for trace, col in (extras(name, z, phi, dphi) if extras else ()):
            fig.add_trace(trace, row=1, col=col)
    base_layout(fig, title, "pre-activation z", "phi(z)", height=height)
    fig.update_xaxes(title_text="pre-activation z")
    fig.update_yaxes(title_text="phi'(z)", row=1, col=2)
    return fig


def activation_curves_figure(
    names=("sigmoid", "tanh"), z_range=(-6.0, 6.0), point: float | None = None,
    title: str = "Activation functions and their derivatives", n: int = 601,
) -> go.Figure:
    """phi(z) on the left and phi'(z) on the right (dotted), one colour per activation.

    ``point`` marks ``z`` on every curve (trace order: for each activation its phi curve,
    its phi' curve, then one marker trace on each panel).
    """
    names = [names] if isinstance(names, str) else list(names)
    lo, hi = check_z_range(z_range)
    fig = phi_dphi_figure(names, np.linspace(lo, hi, n), title=title, height=380,
                          dphi_line=dict(dash="dot"))
    for col in (1, 2):
        fig.add_trace(go.Scatter(x=[], y=[], mode="markers+text", name="chosen z" if col == 1
                                 else "slope at z", textposition="top right",
                                 marker=dict(size=11, color=ROLE_COLORS["point"]),
                                 showlegend=col == 1), row=1, col=col)
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
