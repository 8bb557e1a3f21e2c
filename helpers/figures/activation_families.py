"""Charts for the activation-functions lesson: curves picker, E[phi'(z)^2] over q,
gradient flow compared across activations, dead units per layer.

Builders (``*_figure``) take plain arrays or the result objects of
``helpers.topics.activation_families``; updaters (``update_*``) rewrite an existing figure's data in
place. Nothing here imports torch.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from helpers.activations import ACTIVATIONS, activation_fn, derivative, get_spec
from helpers.figures.curves import check_z_range, phi_dphi_figure
from helpers.figures.profiles import log_series
from helpers.figures.style import (
    ROLE_COLORS,
    THEORY_DASH,
    activation_color,
    base_layout,
    flagged_note,
    set_title_notes,
)

PICKER_NAMES = tuple(ACTIVATIONS)  # the picker owns one phi and one phi' trace per activation


def picker_curves(names, z_range, n: int = 401) -> dict:
    """``{"z": (n,), name: (phi, dphi)}`` for the selected activations on ``z_range``."""
    lo, hi = check_z_range(z_range)
    z = np.linspace(lo, hi, n)
    if 0.0 not in z and lo < 0 < hi:  # put the kink of ReLU-like curves on the grid
        z = np.sort(np.append(z, 0.0))
    out = {"z": z}
    for name in names:
        get_spec(name)
        out[name] = (activation_fn(name)(z), derivative(name)(z))
    return out


def activation_picker_figure(names=("sigmoid", "relu"), z_range=(-5.0, 5.0)) -> go.Figure:
    """phi(z) (left) and phi'(z) (right); a trace pair for every registry activation.

    Trace ``2 i`` is activation ``PICKER_NAMES[i]``'s phi, trace ``2 i + 1`` its phi'.
    Activations not in ``names`` are hidden.
    """
    fig = phi_dphi_figure(PICKER_NAMES, title="Activation functions (left) and their "
                          "derivatives (right)", height=400, phi_line=dict(width=2.5),
                          dphi_line=dict(width=2.5), dphi_legend=False)
    update_activation_picker_figure(fig, names, z_range)
    return fig


def update_activation_picker_figure(fig, names, z_range) -> None:
    """Show ``names`` on ``z_range`` in a figure made by ``activation_picker_figure``."""
    names = [names] if isinstance(names, str) else list(names)
    curves = picker_curves(names, z_range)
    z = curves["z"]
    for i, name in enumerate(PICKER_NAMES):
        phi, dphi = fig.data[2 * i], fig.data[2 * i + 1]
        shown = name in names
        phi.visible = dphi.visible = shown
        if shown:
            phi.x, phi.y = z, curves[name][0]
            dphi.x, dphi.y = z, curves[name][1]
        else:
            phi.x = phi.y = dphi.x = dphi.y = []


def squared_derivative_figure(table: dict, title: str | None = None) -> go.Figure:
    """E[phi'(z)^2] over q (log x): quadrature dashed, Monte Carlo as points with 2 SE bars.

    ``table`` is the dict returned by
    ``helpers.topics.activation_families.squared_derivative_table``.
    Trace ``2 i`` is activation ``i``'s quadrature curve, ``2 i + 1`` its Monte Carlo points.
    """
    fig = go.Figure()
    for i, name in enumerate(table["names"]):
        label, color = ACTIVATIONS[name].label, activation_color(name)
        fig.add_trace(go.Scatter(x=table["q"], y=table["quadrature"][i], mode="lines",
                                 name=f"{label} (quadrature)", legendgroup=name,
                                 line=dict(color=color, dash=THEORY_DASH)))
        fig.add_trace(go.Scatter(
            x=table["q"], y=table["monte_carlo"][i], mode="markers", legendgroup=name,
            name=f"{label} (Monte Carlo)", marker=dict(color=color, size=7),
            error_y=dict(type="data", array=2 * table["std_error"][i], visible=True)))
    base_layout(fig, title or "E[phi'(z)^2] for z ~ N(0, q): quadrature (dashed) and "
                "Monte Carlo (points, +-2 SE)", "variance q of the pre-activation (log scale)",
                "E[phi'(z)^2]", height=460)
    fig.update_xaxes(type="log", exponentformat="power")
    return fig


def gradient_flow_comparison_figure(names, weight_grad_norm, title: str | None = None
                                    ) -> go.Figure:
    """One log-scale line of per-layer ||dL/dW|| per activation (3 traces each).

    Trace ``3 i`` is activation ``i``'s line, ``3 i + 1`` its exactly-0/NaN points and
    ``3 i + 2`` its overflow points (drawn, never dropped).
    """
    names = list(names)
    fig = go.Figure()
    for name in names:
        label, color = ACTIVATIONS[name].label, activation_color(name)
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name=label, legendgroup=name,
                                 line=dict(color=color), marker=dict(size=5)))
        fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name=f"{label}: exactly 0 / NaN",
                                 legendgroup=name, showlegend=False,
                                 marker=dict(symbol="x", size=9, color=ROLE_COLORS["warning"])))
        fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name=f"{label}: overflow",
                                 legendgroup=name, showlegend=False,
                                 marker=dict(symbol="triangle-up", size=10,
                                             color=ROLE_COLORS["warning"])))
    base_layout(fig, title or "Weight-gradient norm per layer, one line per activation",
                "layer (1 = first hidden, last = output)", "||dL/dW|| (log scale)", height=460)
    fig.update_yaxes(type="log", exponentformat="power")
    update_gradient_flow_comparison_figure(fig, weight_grad_norm)
    return fig


def update_gradient_flow_comparison_figure(fig, weight_grad_norm) -> None:
    """Rewrite the lines of a ``gradient_flow_comparison_figure`` (rows = activations)."""
    rows = np.atleast_2d(np.asarray(weight_grad_norm, dtype=np.float64))
    if 3 * len(rows) != len(fig.data):
        raise ValueError(f"expected {len(fig.data) // 3} rows of gradient norms, got {len(rows)}")
    zeros = huge = 0
    for i, row in enumerate(rows):
        s = log_series(row)
        line, zero, over = fig.data[3 * i: 3 * i + 3]
        line.x, line.y = s["x"], s["y"]
        zero.x, zero.y = s["zero_x"], s["zero_y"]
        over.x, over.y = s["huge_x"], s["huge_y"]
        zeros += len(s["zero_x"])
        huge += len(s["huge_x"])
    note = flagged_note(np.ones(zeros, bool), np.ones(huge, bool), "layer values")
    set_title_notes(fig, note)


def dead_units_figure(series: dict, title: str = "Dead units per hidden layer") -> go.Figure:
    """Grouped bars: % of units never active on the data set, per layer, per series.

    ``series`` maps a legend label to ``(dead_fraction array, activation name)``; the bar
    colour is the activation's. Series of the same activation are told apart by pattern.
    """
    fig = go.Figure()
    seen: dict[str, int] = {}
    for label, (fraction, act) in series.items():
        k = seen.get(act, 0)
        seen[act] = k + 1
        frac = np.nan_to_num(np.asarray(fraction, dtype=np.float64), nan=0.0)
        fig.add_trace(go.Bar(x=np.arange(1, len(frac) + 1), y=100 * frac, name=label,
                             marker=dict(color=activation_color(act),
                                         pattern=dict(shape=["", "/", "x", "."][k % 4]))))
    base_layout(fig, title, "hidden layer", "dead units (% of the layer's units)")
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 100], tick0=0, dtick=20)  # a unit is dead or not: a share of units
    fig.update_xaxes(tick0=1, dtick=1)  # one tick per hidden layer
    return fig
