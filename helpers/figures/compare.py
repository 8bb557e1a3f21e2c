"""Several per-layer profiles on one log chart: compare configurations side by side.

``comparison_figure`` draws one line per configuration (same x = layer index), on a log
y axis that survives zeros, NaN and inf: each series gets its own "exactly 0 / NaN" and
"overflow" marker traces (see ``helpers.figures.profiles.log_series``), so nothing is
dropped. An optional horizontal reference line (e.g. a rule-of-thumb value) is drawn
dashed in the theory colour. Nothing here imports torch.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from helpers.figures.profiles import log_traces, set_log_traces
from helpers.figures.style import ROLE_COLORS, SERIES_COLORS, THEORY_DASH, base_layout

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
