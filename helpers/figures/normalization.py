"""Charts of lesson 6: normalization and per-layer statistics, training curves, batch noise.

Builders (``*_figure``) take plain data (arrays, dicts, ``GradientProfile``-like objects)
and return a ``go.Figure``; ``update_*`` functions rewrite an existing figure's traces in
place. Nothing here imports torch.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.figures.profiles import log_traces, set_log_traces
from helpers.figures.style import (
    OKABE_ITO,
    ROLE_COLORS,
    SERIES_COLORS,
    THEORY_DASH,
    base_layout,
    finite_or_gap,
    nonfinite_note,
    set_title_notes,
    title_with_notes,
)

LAYER_AXIS = "layer (1 = first hidden, last = output)"
NORM_LABELS = {None: "no norm", "batch": "BatchNorm", "layer": "LayerNorm"}
NORM_COLORS = {None: OKABE_ITO["vermillion"], "batch": OKABE_ITO["blue"],
               "layer": OKABE_ITO["green"]}


def norm_label(norm) -> str:
    """Legend name of a normalization setting (``None``, ``"batch"``, ``"layer"``)."""
    return NORM_LABELS.get(norm, str(norm))


def _color(key, i: int) -> str:
    return NORM_COLORS.get(key, SERIES_COLORS[i % len(SERIES_COLORS)])


def _label(key) -> str:
    return norm_label(key) if key in NORM_LABELS else str(key)


def norm_comparison_figure(profiles: dict, title: str = "With and without normalization",
                           height: int = 420) -> go.Figure:
    """Three panels per layer, one line per setting: saturated activations (% of (example,
    unit) pairs), activation std and
    the weight-gradient norm (log scale). ``profiles`` maps a norm (or a label) to a
    ``GradientProfile``-like object."""
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08, subplot_titles=(
        "Saturated activations (%)", "Activation std", "Weight-gradient norm (log scale)"))
    notes = []
    for i, (key, p) in enumerate(profiles.items()):
        name, color = _label(key), _color(key, i)
        x = np.arange(1, len(p.saturation) + 1)
        fig.add_trace(go.Scatter(x=x, y=100 * np.asarray(p.saturation), mode="lines+markers",
                                 name=name, legendgroup=name, line=dict(color=color),
                                 marker=dict(size=4)), row=1, col=1)
        std_note = nonfinite_note(p.activation_std, "activation std")
        if std_note:
            notes.append(f"{name}: {std_note}")
        fig.add_trace(go.Scatter(x=x, y=finite_or_gap(p.activation_std),
                                 mode="lines+markers", name=name, legendgroup=name,
                                 showlegend=False, line=dict(color=color), marker=dict(size=4)),
                      row=1, col=2)
        for t in log_traces(name, color, showlegend=False, flag_legend=False):
            fig.add_trace(t, row=1, col=3)
        note = set_log_traces(fig.data[-3:], p.weight_grad_norm)
        if note:
            notes.append(f"{name}: {note}")
    base_layout(fig, title_with_notes(title, notes),
                "", "", height=height)
    fig.update_layout(margin=dict(t=100))  # room for the title, its note and subplot titles
    for col in (1, 2, 3):
        fig.update_xaxes(title_text=LAYER_AXIS if col == 2 else "layer", row=1, col=col)
    fig.update_yaxes(title_text="% of activations", range=[0, 100], tick0=0, dtick=20,
                     row=1, col=1)
    fig.update_yaxes(title_text="std of activations", rangemode="tozero", row=1, col=2)
    fig.update_yaxes(title_text="||dL/dW|| (log scale)", type="log", exponentformat="power",
                     row=1, col=3)
    return fig


def loss_curves_figure(histories: dict, title: str = "Training loss") -> go.Figure:
    """Loss (left) and training accuracy (right) against step, one colour per run.

    ``histories`` maps a label (or a norm setting) to an object with ``steps``, ``loss``
    and ``accuracy`` arrays (a ``helpers.training.History``).
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("Loss (cross-entropy)", "Training accuracy"))
    for i, (key, h) in enumerate(histories.items()):
        name, color = _label(key), _color(key, i)
        fig.add_trace(go.Scatter(x=h.steps, y=h.loss, mode="lines", name=name, legendgroup=name,
                                 line=dict(color=color)), row=1, col=1)
        fig.add_trace(go.Scatter(x=h.steps, y=h.accuracy, mode="lines", name=name,
                                 legendgroup=name, showlegend=False, line=dict(color=color)),
                      row=1, col=2)
    base_layout(fig, title, "", "")
    fig.update_layout(margin=dict(t=90))
    fig.update_xaxes(title_text="optimizer step")
    fig.update_yaxes(title_text="loss (nats)", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="fraction correct", range=[0, 1.02], row=1, col=2)
    return fig


def batch_noise_figure(noise, title: str = "BatchNorm output of one example vs batch size"):
    """Spread of one example's normalised value over random batch-mates, log-log, with the
    dashed large-batch prediction. ``noise`` has ``batch_sizes``, ``spread``, ``theory``."""
    fig = go.Figure([
        go.Scatter(x=noise.batch_sizes, y=noise.spread, mode="lines+markers", name="measured",
                   line=dict(color=ROLE_COLORS["measured"]), marker=dict(size=8)),
        go.Scatter(x=noise.batch_sizes, y=noise.theory, mode="lines",
                   name="large-batch theory sqrt((1 + x_hat^2/2) / B)",
                   line=dict(color=ROLE_COLORS["theory"], dash=THEORY_DASH)),
    ])
    base_layout(fig, title, "batch size B (log scale)",
                "std of the normalised value over batches (log scale)")
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig


NORM_EXPLORER_TITLES = ("Weight-gradient norm ||dL/dW|| (log scale)",
                        "Saturated activations (%) and activation std")


def norm_explorer_figure(profile=None, height: int = 440) -> go.Figure:
    """The normalization explorer's two panels: gradient norm per layer (log) and
    saturation % (bars) with activation std (line) per layer."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=NORM_EXPLORER_TITLES,
                        horizontal_spacing=0.12, specs=[[{}, {"secondary_y": True}]])
    for t in log_traces("||dL/dW||", ROLE_COLORS["measured"], flag_legend=False):
        fig.add_trace(t, row=1, col=1)
    fig.add_trace(go.Bar(x=[], y=[], name="saturated (% of activations)", opacity=0.6,
                         marker_color=ROLE_COLORS["saturation"]), row=1, col=2, secondary_y=False)
    fig.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name="activation std",
                             line=dict(color=ROLE_COLORS["std"]), marker=dict(size=4)),
                  row=1, col=2, secondary_y=True)
    base_layout(fig, "Normalization explorer", "", "", height=height)
    fig.update_layout(margin=dict(t=100))
    fig.update_xaxes(title_text=LAYER_AXIS)
    fig.update_yaxes(type="log", exponentformat="power", title_text="||dL/dW|| (log scale)",
                     row=1, col=1)
    fig.update_yaxes(title_text="% of activations", range=[0, 100], tick0=0, dtick=20, row=1,
                     col=2, secondary_y=False)
    fig.update_yaxes(title_text="activation std", rangemode="tozero", row=1, col=2,
                     secondary_y=True)
    if profile is not None:
        update_norm_explorer_figure(fig, profile)
    return fig


def update_norm_explorer_figure(fig, profile, title: str | None = None) -> None:
    """Rewrite the data of a figure made by ``norm_explorer_figure`` from one profile."""
    note = set_log_traces(fig.data[0:3], profile.weight_grad_norm)
    x = np.arange(1, len(profile.saturation) + 1)
    fig.data[3].x, fig.data[3].y = x, 100 * np.asarray(profile.saturation)
    fig.data[4].x = x
    fig.data[4].y = finite_or_gap(profile.activation_std)
    set_title_notes(fig, [note, nonfinite_note(profile.activation_std, "activation std")], title)
