"""Charts for residual connections: plain vs residual networks, block by block.

``profiles_figure`` draws one per-block quantity of several networks (``StreamProfile``s of
``helpers.topics.residual``) on a log axis, one panel per group (e.g. per activation).
``residual_explorer_figure`` is the widget's two-panel chart: ``||dL/dx_l||`` and the
forward std of ``x_l`` for the plain and the residual version of one configuration, with
``update_residual_explorer_figure`` rewriting its data in place. Zeros, NaN and inf are
drawn with their own markers (``log_series``) and named in the title, never dropped.
Nothing here imports torch.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.figures.profiles import log_traces, set_log_traces
from helpers.figures.style import (
    ROLE_COLORS,
    SERIES_COLORS,
    base_layout,
    set_title_notes,
    title_with_notes,
)
from helpers.validation import check_choice

QUANTITIES = {
    "grad_norm": ("||dL/dx_l|| (log scale)", "hidden block l (1 = first)"),
    "stream_std": ("std of x_l (log scale)", "hidden block l (1 = first)"),
    "weight_grad_norm": ("||dL/dW|| (log scale)", "layer (1 = first hidden, last = output)"),
}
# One colour per kind of network, the same in every chart of the lesson (vermillion is left
# to the flag markers).
KIND_COLORS = {
    "plain": SERIES_COLORS[0], "residual": SERIES_COLORS[2],
    "residual + pre-LN": SERIES_COLORS[3], "residual + post-LN": SERIES_COLORS[4],
}
RESIDUAL_TITLES = ("Back-propagated signal ||dL/dx_l|| (log scale)",
                   "Forward signal: std of x_l (log scale)")


def series_color(name: str, index: int) -> str:
    """``KIND_COLORS[name]`` if ``name`` is a known kind, else the ``index``-th series colour."""
    others = [c for c in SERIES_COLORS if c != ROLE_COLORS["warning"]]
    return KIND_COLORS.get(name, others[index % len(others)])


def profiles_figure(panels: dict, quantity: str = "grad_norm",
                    title: str = "Gradient at each block output", height: int = 420) -> go.Figure:
    """One log chart per panel; ``panels`` maps a panel title to ``{series name: profile}``.

    ``quantity`` is an attribute of the profiles: ``"grad_norm"``, ``"stream_std"`` or
    ``"weight_grad_norm"``. A series name keeps its colour in every panel (``KIND_COLORS``
    for "plain", "residual", "residual + pre-LN", "residual + post-LN").
    """
    check_choice("quantity", quantity, QUANTITIES)
    if not panels or not all(panels.values()):
        raise ValueError("panels must map at least one title to a non-empty {name: profile}")
    y_title, x_title = QUANTITIES[quantity]
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True,
                        subplot_titles=list(panels), horizontal_spacing=0.06)
    names: list[str] = []
    notes = []
    for col, (panel, series) in enumerate(panels.items(), start=1):
        for name, profile in series.items():
            first = name not in names
            if first:
                names.append(name)
            color = series_color(name, names.index(name))
            traces = log_traces(name, color, showlegend=first, flag_legend=False)
            note = set_log_traces(traces, getattr(profile, quantity))
            if note:
                notes.append(f"{panel}, {name}: {note}")
            for t in traces:
                fig.add_trace(t, row=1, col=col)
    base_layout(fig, title_with_notes(title, notes), "", "", height=height)
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_yaxes(title_text=y_title, row=1, col=1)
    fig.update_xaxes(title_text=x_title)
    fig.update_layout(legend=dict(orientation="h", y=-0.22))
    return fig


def residual_explorer_figure(comparison=None, height: int = 440) -> go.Figure:
    """Two panels, plain vs residual: ``||dL/dx_l||`` (left) and the std of ``x_l`` (right).

    Traces: 0-2 plain gradient, 3-5 residual gradient, 6-8 plain std, 9-11 residual std
    (each: line, zeros/NaN, overflows).
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=RESIDUAL_TITLES, horizontal_spacing=0.1)
    for col in (1, 2):
        for kind in ("plain", "residual"):
            for t in log_traces(kind, KIND_COLORS[kind], showlegend=col == 1, flag_legend=False):
                fig.add_trace(t, row=1, col=col)
    base_layout(fig, "Plain vs residual", "", "", height=height)
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_yaxes(title_text="||dL/dx_l|| (log scale)", row=1, col=1)
    fig.update_yaxes(title_text="std of x_l (log scale)", row=1, col=2)
    fig.update_xaxes(title_text="hidden block l (1 = first)")
    fig.update_layout(margin=dict(t=90))
    if comparison is not None:
        update_residual_explorer_figure(fig, comparison)
    return fig


def update_residual_explorer_figure(fig, comparison, title: str | None = None) -> str:
    """Rewrite a ``residual_explorer_figure`` from a ``ResidualComparison``; returns the notes."""
    notes = []
    for start, kind, values in ((0, "plain gradient", comparison.plain.grad_norm),
                                (3, "residual gradient", comparison.residual.grad_norm),
                                (6, "plain std", comparison.plain.stream_std),
                                (9, "residual std", comparison.residual.stream_std)):
        note = set_log_traces(fig.data[start:start + 3], values)
        if note:
            notes.append(f"{kind}: {note}")
    set_title_notes(fig, notes, title)
    return "; ".join(notes)
