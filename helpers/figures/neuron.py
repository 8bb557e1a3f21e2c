"""Charts of a single neuron: derivative curves, saturation against the weight, the explorer.

Builders (``*_figure``) take data from ``helpers.topics.neuron`` / ``helpers.activations`` and
return a ``go.Figure``; ``update_neuron_figure`` rewrites the explorer figure's trace data in
place, so a widget keeps one ``FigureWidget``. No torch and no widgets here.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.activations import (
    ACTIVATIONS,
    SATURATION_FRACTION,
    activation_fn,
    derivative,
    get_spec,
    is_saturated,
)
from helpers.figures.curves import check_z_range, phi_dphi_figure
from helpers.figures.style import ROLE_COLORS, THEORY_DASH, activation_color, base_layout


def activation_derivatives_figure(names=("sigmoid", "tanh"), z_range=(-6.0, 6.0),
                                  n: int = 1201) -> go.Figure:
    """phi(z) (left) and phi'(z) (right) with each derivative's maximum and saturation bounds.

    Trace order, per activation: phi, phi', the maximum of phi' (marker with its value),
    the saturation bounds (vertical dashed lines on the right panel, if any).
    """
    lo, hi = check_z_range(z_range)

    def extras(name, z, phi, dz):  # the maximum of phi' and the saturation bounds, right panel
        spec, color = ACTIVATIONS[name], activation_color(name)
        i = int(np.argmax(dz))
        out = [(go.Scatter(x=[z[i]], y=[dz[i]], mode="markers+text",
                           text=[f"max {dz[i]:.4g} at z = {z[i]:.3g}"],
                           textposition="middle right", legendgroup=name,
                           name=f"{spec.label}': maximum",
                           marker=dict(size=10, color=color, symbol="diamond")), 2)]
        bounds = spec.saturation_bounds
        if bounds is not None:
            xs, ys = [], []
            for b in bounds:
                if np.isfinite(b):
                    xs += [b, b, None]
                    ys += [0.0, spec.max_derivative, None]
            out.append((go.Scatter(x=xs, y=ys, mode="lines", legendgroup=name,
                                   name=f"{spec.label}: saturation starts (|phi'| < 10% of max)",
                                   line=dict(color=color, dash=THEORY_DASH, width=1)), 2))
        return out

    return phi_dphi_figure(names, np.linspace(lo, hi, n),
                           title="Activation functions and their derivatives", height=420,
                           panel_titles=("activation phi(z)", "derivative phi'(z)"),
                           dphi_line=dict(width=3), extras=extras)


def saturated_fraction_figure(curve: dict, title: str | None = None) -> go.Figure:
    """Saturated fraction against the weight ``w``: exact (dashed) and Monte Carlo (markers).

    ``curve`` is the dict of ``helpers.topics.neuron.saturated_fraction_curve``. Trace order,
    per activation: the exact curve, then the Monte Carlo estimates with 2-SE error bars.
    """
    fig = go.Figure()
    for name, exact in curve["exact"].items():
        label, color = ACTIVATIONS[name].label, activation_color(name)
        fig.add_trace(go.Scatter(x=curve["w"], y=exact, mode="lines", legendgroup=name,
                                 name=f"{label}: exact (normal CDF)",
                                 line=dict(color=color, dash=THEORY_DASH, width=3)))
        fig.add_trace(go.Scatter(
            x=curve["mc_w"], y=curve["mc"].get(name, []), mode="markers", legendgroup=name,
            name=f"{label}: Monte Carlo", marker=dict(color=color, size=8, symbol="circle-open"),
            error_y=dict(type="data", array=2 * np.asarray(curve["mc_se"].get(name, [])),
                         visible=True)))
    title = title or (f"Fraction of inputs x ~ N(0, 1) that saturate a = phi(w x + b), "
                      f"b = {curve['b']:g}")
    base_layout(fig, title, "weight w", "saturated fraction of inputs")
    fig.update_yaxes(range=[-0.02, 1.02])
    return fig


# Trace indices of neuron_figure, so that the updater and the tests agree.
PHI, PHI_SAT, PHI_POINT, DPHI, DPHI_SAT, THRESHOLD, DPHI_POINT, HIST, DENSITY, DENSITY_SAT, \
    Z_LINE = range(11)


def neuron_figure(state=None, height: int = 430) -> go.Figure:
    """The single-neuron explorer: phi with the point, phi' with the point, and z's density.

    Left: ``a = phi(z)``; middle: ``phi'(z)`` with the saturation threshold; right: the
    distribution of ``z = w x + b`` for ``x ~ N(0, 1)``, exact (dashed) and sampled (bars),
    its saturated part filled. Saturated stretches of the curves are drawn thick.
    """
    warn, point = ROLE_COLORS["saturation"], ROLE_COLORS["point"]
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08,
                        subplot_titles=("a = phi(z)", "slope phi'(z)",
                                        "z = w x + b for inputs x ~ N(0, 1)"))
    traces = [
        (go.Scatter(x=[], y=[], name="phi(z)", line=dict(color=ROLE_COLORS["measured"])), 1),
        (go.Scatter(x=[], y=[], name="saturated region", legendgroup="sat",
                    line=dict(color=warn, width=6)), 1),
        (go.Scatter(x=[], y=[], mode="markers+text", name="the neuron at input x",
                    legendgroup="pt", textposition="bottom right",
                    marker=dict(size=13, color=point)), 1),
        (go.Scatter(x=[], y=[], name="phi'(z)", line=dict(color=ROLE_COLORS["derivative"])), 2),
        (go.Scatter(x=[], y=[], name="saturated region", legendgroup="sat", showlegend=False,
                    line=dict(color=warn, width=6)), 2),
        (go.Scatter(x=[], y=[], mode="lines", name="10% of max phi' (saturation threshold)",
                    line=dict(color=ROLE_COLORS["theory"], dash="dot")), 2),
        (go.Scatter(x=[], y=[], mode="markers+text", name="the neuron at input x",
                    legendgroup="pt", showlegend=False, textposition="top right",
                    marker=dict(size=13, color=point)), 2),
        (go.Bar(x=[], y=[], name="sampled z (Monte Carlo)", marker_color=ROLE_COLORS["measured"],
                opacity=0.45), 3),
        (go.Scatter(x=[], y=[], mode="lines", name="density of z, exact N(b, w^2)",
                    line=dict(color=ROLE_COLORS["theory"], dash=THEORY_DASH)), 3),
        (go.Scatter(x=[], y=[], mode="lines", name="saturated inputs", fill="tozeroy",
                    line=dict(color=warn, width=1), connectgaps=False), 3),
        (go.Scatter(x=[], y=[], mode="lines", name="z at input x", legendgroup="pt",
                    showlegend=False, line=dict(color=point, width=2)), 3),
    ]
    for trace, col in traces:
        fig.add_trace(trace, row=1, col=col)
    base_layout(fig, "A single neuron a = phi(w x + b)", "pre-activation z", "a = phi(z)",
                height=height)
    fig.update_layout(bargap=0.0)
    fig.update_xaxes(title_text="pre-activation z")
    fig.update_yaxes(title_text="slope phi'(z)", row=1, col=2)
    fig.update_yaxes(title_text="probability density", row=1, col=3)
    if state is not None:
        update_neuron_figure(fig, state)
    return fig


def _where(mask, values) -> np.ndarray:
    return np.where(mask, values, np.nan)


def update_neuron_figure(fig, state) -> None:
    """Redraw ``neuron_figure`` for a ``helpers.topics.neuron.NeuronState``, in place."""
    name = state.activation
    spec = get_spec(name)
    z = np.asarray(state.z_grid, dtype=np.float64)
    phi, dphi = activation_fn(name)(z), derivative(name)(z)
    sat = is_saturated(name, z)
    d = fig.data
    d[PHI].x, d[PHI].y, d[PHI].name = z, phi, f"{spec.label} phi(z)"
    d[PHI_SAT].x, d[PHI_SAT].y = z, _where(sat, phi)
    d[PHI_POINT].x, d[PHI_POINT].y = [state.z], [state.a]
    d[PHI_POINT].text = [f"z = {state.z:.3g}, a = {state.a:.3g}"]
    d[DPHI].x, d[DPHI].y, d[DPHI].name = z, dphi, f"{spec.label}' phi'(z)"
    d[DPHI_SAT].x, d[DPHI_SAT].y = z, _where(sat, dphi)
    level = SATURATION_FRACTION * spec.max_derivative
    d[THRESHOLD].x, d[THRESHOLD].y = [z[0], z[-1]], [level, level]
    d[DPHI_POINT].x, d[DPHI_POINT].y = [state.z], [state.slope]
    d[DPHI_POINT].text = [f"phi'(z) = {state.slope:.3g}"]
    d[HIST].x, d[HIST].y = state.hist_centers, state.hist_density
    d[DENSITY].x, d[DENSITY].y = z, state.density
    d[DENSITY_SAT].x, d[DENSITY_SAT].y = z, state.density_saturated
    top = float(max(np.max(state.density), np.max(state.hist_density), 1e-12))
    d[Z_LINE].x, d[Z_LINE].y = [state.z, state.z], [0.0, top]
    pct_mc, pct_se = 100 * state.fraction_mc, 100 * state.fraction_se
    fig.layout.title.text = (
        f"{spec.label} neuron, w = {state.w:.3g}, b = {state.b:.3g}: saturated inputs "
        f"{100 * state.fraction:.3g}% exact, {pct_mc:.3g}% +- {pct_se:.2g}% Monte Carlo "
        f"(n = {state.n:,}, seed {state.seed})")

