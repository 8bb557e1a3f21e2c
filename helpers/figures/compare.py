"""Several per-layer profiles on one log chart: compare configurations side by side.

``comparison_figure`` draws one line per configuration (same x = layer index), on a log
y axis that survives zeros, NaN and inf: each series gets its own "exactly 0 / NaN" and
"overflow" marker traces (see ``helpers.figures.profiles.log_series``), so nothing is
dropped. An optional horizontal reference line (e.g. a rule-of-thumb value) is drawn
dashed in the theory colour. ``gradient_growth_figure`` draws measured per-layer series
against theory curves (one shared curve, or one per series). Nothing here imports torch.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from helpers.figures.profiles import log_traces, set_log_traces
from helpers.figures.style import (
    ROLE_COLORS,
    SERIES_COLORS,
    THEORY_DASH,
    base_layout,
    title_with_notes,
)

TRACES_PER_SERIES = 3  # line, zero/NaN markers, overflow markers


def _as_series(series) -> dict[str, np.ndarray]:
    if not isinstance(series, dict) or not series:
        raise ValueError("series must be a non-empty dict {label: per-layer values}")
    out = {}
    for label, values in series.items():
        if hasattr(values, "weight_grad_norm"):  # a GradientProfile
            values = values.weight_grad_norm
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"series {label!r} must be a non-empty 1-D array, got shape {v.shape}")
        out[str(label)] = v
    return out


def comparison_figure(
    series, *, colors=None, title: str = "Weight-gradient norm per layer",
    y_title: str = "||dL/dW|| (log scale)",
    x_title: str = "layer (1 = first hidden, last = output)",
    reference: float | None = None, reference_name: str = "reference", height: int = 420,
) -> go.Figure:
    """One log-scale line per configuration, with flagged zero/NaN/inf points.

    Args:
        series: ``{label: values}``, values an array (one entry per layer) or a
            ``GradientProfile`` (its ``weight_grad_norm`` is drawn).
        colors: ``{label: colour}``; labels not in it take ``SERIES_COLORS`` in order.
        reference: if given, a dashed horizontal line at this value (e.g. a heuristic).
    Returns:
        A figure with ``3 * len(series)`` traces (line, zero/NaN markers, overflow
        markers per series, in order), plus one reference trace at the end if requested.
    """
    data = _as_series(series)
    if reference is not None and not (np.isfinite(reference) and reference > 0):
        raise ValueError(f"reference must be a finite number > 0 (log axis), got {reference}")
    colors = dict(colors or {})
    traces = []
    for i, label in enumerate(data):
        color = colors.get(label, SERIES_COLORS[i % len(SERIES_COLORS)])
        traces += log_traces(label, color)
    fig = go.Figure(traces)
    if reference is not None:
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=reference_name,
                                 line=dict(color=ROLE_COLORS["theory"], dash=THEORY_DASH)))
    base_layout(fig, title, x_title, y_title, height=height)
    fig.update_yaxes(type="log", exponentformat="power")
    update_comparison_figure(fig, data, reference=reference)
    return fig


def update_comparison_figure(fig, series, reference: float | None = None) -> None:
    """Rewrite the data of a figure made by ``comparison_figure`` (same labels, same order)."""
    data = _as_series(series)
    n_series = len(fig.data) // TRACES_PER_SERIES
    if len(data) != n_series:
        raise ValueError(f"the figure has {n_series} series, got {len(data)}")
    notes = []
    longest = 1
    for i, (label, values) in enumerate(data.items()):
        part = fig.data[TRACES_PER_SERIES * i:TRACES_PER_SERIES * (i + 1)]
        note = set_log_traces(part, values)
        for marker in part[1:]:  # list the zero / overflow markers only when there are some
            marker.showlegend = len(marker.x) > 0
        if note:
            notes.append(f"{label}: {note}")
        longest = max(longest, len(values))
    if reference is not None and len(fig.data) > TRACES_PER_SERIES * n_series:
        ref = fig.data[-1]
        ref.x, ref.y = [1, longest], [float(reference), float(reference)]
    head = fig.layout.title.text.split("<br>")[0]
    fig.layout.title.text = head + "".join(f"<br><sup>{n}</sup>" for n in notes)


def gradient_growth_figure(
    series: dict, theory=None, *, title: str, x_title: str, y_title: str,
    theory_name: str = "theory", labels=None, colors=None, height: int = 420,
) -> go.Figure:
    """Measured per-layer values (solid, log scale) against theory (dashed).

    Args:
        series: ``{key: values}``, one array (one entry per layer) per measured series.
        theory: ``None``, one array (a single curve in the theory colour, named
            ``theory_name``), or ``{key: values}`` with keys of ``series`` (each dashed in
            its series' colour, named ``"<label>: <theory_name>"``).
        labels, colors: ``{key: legend name}``, ``{key: colour}``; keys not in them use
            ``str(key)`` and ``SERIES_COLORS`` in order.
    Returns:
        Three traces (line, zero/NaN markers, overflow markers) per curve. With a theory
        dict each series is followed by its theory; otherwise the series come first and
        one theory triple last (hidden when ``theory`` is ``None``).
    """
    labels, colors = dict(labels or {}), dict(colors or {})
    per_series = isinstance(theory, dict)
    fig, notes = go.Figure(), []
    for i, (key, values) in enumerate(series.items()):
        label = labels.get(key, str(key))
        color = colors.get(key, SERIES_COLORS[i % len(SERIES_COLORS)])
        for t in log_traces(label, color, group=label, flag_legend=False):
            fig.add_trace(t)
        note = set_log_traces(fig.data[-3:], values)
        if note:
            notes.append(f"{label}: {note}")
        if per_series:
            for t in log_traces(f"{label}: {theory_name}", color, dash=THEORY_DASH, group=label,
                                flag_legend=False):
                fig.add_trace(t)
            set_log_traces(fig.data[-3:], theory[key])
    if not per_series:
        for t in log_traces(theory_name, ROLE_COLORS["theory"], dash=THEORY_DASH,
                            flag_legend=False):
            fig.add_trace(t)
        if theory is None:
            fig.data[-3].visible = False
        else:
            set_log_traces(fig.data[-3:], theory)
    base_layout(fig, title_with_notes(title, notes), x_title, y_title, height=height)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig

