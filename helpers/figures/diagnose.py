"""Charts and the HTML report of a ``Diagnosis`` (``helpers.diagnose``).

``diagnosis_figure`` draws the per-layer gradient and update sizes of one diagnosis on a
log axis, with the layers named in its findings marked; ``units_figure`` the saturated and
dead fractions of its activation modules; ``depth_profiles_figure`` several models'
per-layer gradient norms side by side (lesson 10's post- vs pre-norm Transformers).
``diagnosis_html`` is ``Diagnosis._repr_html_``. The diagnosis is read by its plain fields
only: nothing here imports torch.
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go

from helpers.figures.profiles import log_traces, set_log_traces
from helpers.figures.style import OKABE_ITO, ROLE_COLORS, SERIES_COLORS, base_layout

FONT_SIZE = 16  # slides are read at 1280x720


def _finish(fig: go.Figure, title: str, x_title: str, y_title: str, height: int) -> go.Figure:
    base_layout(fig, title, x_title, y_title, height=height)
    fig.update_layout(font=dict(size=FONT_SIZE), legend=dict(orientation="h", y=-0.25))
    return fig


def diagnosis_figure(d, title: str | None = None, height: int = 380) -> go.Figure:
    """grad:data (and update:data, if measured) per layer on a log axis; flagged layers marked."""
    n = len(d.layer_names)
    if n == 0:
        raise ValueError("the diagnosis has no layer to draw")
    x = np.arange(1, n + 1)
    fig = go.Figure()
    notes = []
    series = [("grad:data ||dL/dW|| / ||W||", d.grad_data_ratio, ROLE_COLORS["measured"])]
    if np.isfinite(d.update_ratio).any():
        series.append(("update:data per step", d.update_ratio, OKABE_ITO["green"]))
    for name, values, color in series:
        traces = log_traces(name, color, flag_legend=False)
        note = set_log_traces(traces, values)
        if note:
            notes.append(f"{name}: {note}")
        for t in traces:
            t.update(customdata=list(d.layer_names), hovertemplate="%{customdata}: %{y:.3g}")
            fig.add_trace(t)
    flagged = {name for f in d.findings for name in f.layers}
    marks = [i for i, name in enumerate(d.layer_names) if name in flagged]
    if marks:
        ratio = np.asarray(d.grad_data_ratio, dtype=float)[marks]
        ok = np.isfinite(ratio) & (ratio > 0)
        fig.add_trace(go.Scatter(x=x[marks][ok], y=ratio[ok], mode="markers",
                                 name="layer named in a finding",
                                 marker=dict(symbol="circle-open", size=16, line=dict(width=3),
                                             color=ROLE_COLORS["warning"])))
    verdict = "healthy" if d.healthy else ", ".join(d.names)
    title = title or f"Per-layer gradient sizes: {verdict}"
    if notes:
        title += f"<br><sup>{'; '.join(notes)}</sup>"
    _finish(fig, title, "layer (weight matrix or kernel, 1 = first)", "ratio (log scale)",
            height)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def units_figure(d, title: str = "Activation modules: saturated and dead units",
                 height: int = 400) -> go.Figure:
    """Saturated and dead fractions (%) of each activation module, as grouped bars."""
    if not d.unit_names:
        raise ValueError("the diagnosis saw no activation module (nothing to draw)")
    x = np.arange(1, len(d.unit_names) + 1)
    fig = go.Figure()
    for name, values, color in (("saturated %", d.saturation, ROLE_COLORS["saturation"]),
                                ("dead %", d.dead_fraction, ROLE_COLORS["dead"])):
        fig.add_trace(go.Bar(x=x, y=100 * np.asarray(values, dtype=float), name=name,
                             marker_color=color, customdata=list(d.unit_names),
                             hovertemplate="%{customdata}: %{y:.1f}%"))
    _finish(fig, title, "activation module (1 = first called)", "units (%)", height)
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 100])
    return fig


def depth_profiles_figure(profiles: dict, title: str, y_title: str = "||dL/dW|| (log scale)",
                          x_title: str = "layer (1 = first)", x=None,
                          height: int = 380) -> go.Figure:
    """One log-axis line per model: ``profiles`` maps a name to its values.

    ``x`` gives the positions (e.g. depths); by default 1, 2, ... per value.
    """
    if not profiles:
        raise ValueError("profiles must map at least one name to per-layer values")
    fig = go.Figure()
    notes = []
    for i, (name, values) in enumerate(profiles.items()):
        traces = log_traces(name, SERIES_COLORS[i % len(SERIES_COLORS)], flag_legend=False)
        values = np.asarray(values, dtype=float)
        note = set_log_traces(traces, values)
        if note:
            notes.append(f"{name}: {note}")
        if x is not None:
            if len(x) != len(values):
                raise ValueError(f"x has {len(x)} positions for {len(values)} values of {name!r}")
            for t in traces:  # the same points, at the given positions
                t.x = [x[int(k) - 1] for k in t.x]
        fig.add_traces(traces)
    if notes:
        title += f"<br><sup>{'; '.join(notes)}</sup>"
    _finish(fig, title, x_title, y_title, height)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def _fmt(v: float) -> str:
    return "n/a" if isinstance(v, float) and math.isnan(v) else f"{v:.3g}"


def diagnosis_html(d) -> str:
    """The report as HTML: verdict, findings, headline figures, limits, per-layer chart."""
    e = html.escape
    color = ROLE_COLORS["measured"] if d.healthy else ROLE_COLORS["warning"]
    verdict = "healthy: no finding" if d.healthy else f"{len(d.findings)} finding(s)"
    parts = [f'<div style="border-left:6px solid {color};padding:6px 10px">'
             f"<b>Diagnosis: {e(verdict)}</b> ({len(d.layer_names)} layers, "
             f"{len(d.unit_names)} activation modules, {e(d.dtype)}, "
             f"{len(d.losses) - 1} steps)"]
    for f in d.findings:
        fixes = "".join(f"<li>{e(x)}</li>" for x in f.fixes)
        parts.append(f"<p><b>{e(f.name)}</b> {e(f.when)}: {e(f.measured)} = {_fmt(f.figure)} "
                     f"(threshold {_fmt(f.threshold)}; {e(f.why)}).<br>Layers: "
                     f"{e(', '.join(f.layers[:6]) or '-')}<br>Likely causes: "
                     f"{e('; '.join(f.causes))}<br>Try, in order:<ol>{fixes}</ol></p>")
    rows = "".join(f"<tr><td>{e(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in d.figures.items())
    parts.append(f"<table><tr><th>figure</th><th>measured</th></tr>{rows}</table>")
    if d.not_measured:
        parts.append("<p>Not measured: " + "; ".join(e(n) for n in d.not_measured) + "</p>")
    parts.append("</div>")
    parts.append(diagnosis_figure(d).to_html(full_html=False, include_plotlyjs=False))
    return "\n".join(parts)


def update_depth_profiles_figure(fig, profiles: dict, title: str | None = None) -> None:
    """Rewrite a ``depth_profiles_figure``'s series in place (same names, same order)."""
    names = [t.name for t in fig.data[::3]]
    if list(profiles) != names:
        raise ValueError(f"profiles must have the figure's series {names}, got {list(profiles)}")
    notes = []
    for i, (name, values) in enumerate(profiles.items()):
        note = set_log_traces(fig.data[3 * i:3 * i + 3], np.asarray(values, dtype=float))
        if note:
            notes.append(f"{name}: {note}")
    if title is not None:
        fig.layout.title.text = title + (f"<br><sup>{'; '.join(notes)}</sup>" if notes else "")
