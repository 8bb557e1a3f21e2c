"""One look for every chart: a colour-blind-safe palette and log-scale helpers.

Colours come from the Okabe-Ito palette (safe for the common colour-vision deficiencies).
Each activation has one colour everywhere in the course; theory is always drawn dashed.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
    "grey": "#999999",
}

ACTIVATION_COLORS = {
    "sigmoid": OKABE_ITO["vermillion"], "tanh": OKABE_ITO["orange"], "relu": OKABE_ITO["blue"],
    "leaky_relu": OKABE_ITO["sky_blue"], "elu": OKABE_ITO["green"], "gelu": OKABE_ITO["purple"],
    "silu": OKABE_ITO["black"], "linear": OKABE_ITO["grey"],
}

# Roles that are not activations: measured vs theory, first vs last layer, etc.
ROLE_COLORS = {
    "measured": OKABE_ITO["blue"], "theory": "#444444", "bound": OKABE_ITO["vermillion"],
    "derivative": OKABE_ITO["green"], "point": OKABE_ITO["black"],
    "warning": OKABE_ITO["vermillion"],
    "std": OKABE_ITO["blue"], "saturation": OKABE_ITO["vermillion"], "dead": OKABE_ITO["purple"],
}
# A sequence for series that are not activations (configurations, runs, ...).
SERIES_COLORS = [OKABE_ITO[k] for k in ("blue", "vermillion", "green", "orange", "purple",
                                        "sky_blue", "black", "grey")]
THEORY_DASH = "dash"
HEATMAP_SCALE = "Viridis"  # perceptually uniform and colour-blind safe


def activation_color(name: str) -> str:
    """The course-wide colour of an activation (grey for names outside the registry)."""
    return ACTIVATION_COLORS.get(name, OKABE_ITO["grey"])


def base_layout(fig: go.Figure, title: str, x_title: str, y_title: str, height: int = 380):
    """Title, axis labels, legend and a plain white template, applied to ``fig``."""
    fig.update_layout(
        title=dict(text=title, x=0.02, xanchor="left"), template="plotly_white", height=height,
        margin=dict(l=60, r=20, t=60, b=50), legend=dict(orientation="h", y=-0.2),
        showlegend=True,
    )
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def log_safe(values) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    """Prepare positive data for a log axis without dropping anything.

    Returns ``(y, ok, zero, huge, floor, ceiling)``: ``y`` equals ``values`` where they are
    finite and > 0; zeros, negatives and NaN are placed at ``floor`` (a decade below the
    smallest positive value) and flagged in ``zero``; +inf is placed at ``ceiling`` and
    flagged in ``huge``. A chart draws the flagged points with their own marker and says so.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    ok = np.isfinite(v) & (v > 0)
    huge = np.isposinf(v)
    zero = ~ok & ~huge
    pos = v[ok]
    floor = float(pos.min() / 10.0) if pos.size else 1e-30
    if floor <= 0:  # the smallest value is subnormal and /10 underflowed: a log axis needs > 0
        floor = float(pos.min())
    with np.errstate(over="ignore"):  # values near the float64 limit: stay finite
        ceiling = float(min(pos.max() * 10.0, np.finfo(np.float64).max)) if pos.size else 1.0
    if ceiling <= floor:
        ceiling = floor * 100.0
    y = np.where(ok, v, np.where(huge, ceiling, floor))
    return y, ok, zero, huge, floor, ceiling


def flagged_note(zero: np.ndarray, huge: np.ndarray, what: str = "values") -> str:
    """A sentence naming how many points a log chart had to place at its floor or ceiling.

    ``what`` is a plural noun (``"layers"``); one point gets its singular form.
    """
    def count(n: int) -> str:
        return f"{n} {what[:-1] if n == 1 and what.endswith('s') else what}"

    parts = []
    if zero.any():
        n = int(zero.sum())
        parts.append(f"{count(n)} {'is' if n == 1 else 'are'} exactly 0 or not a number "
                     "(underflow or dead units): drawn as x at the bottom")
    if huge.any():
        parts.append(f"{count(int(huge.sum()))} overflowed to infinity: drawn as a triangle "
                     "at the top")
    return "; ".join(parts)


def title_with_notes(title: str, notes) -> str:
    """``title`` with the chart's flag sentences below it, on one small line ("" skipped)."""
    notes = [notes] if isinstance(notes, str) else list(notes)
    notes = [n for n in notes if n]
    return title + (f"<br><sup>{'; '.join(notes)}</sup>" if notes else "")


def set_title_notes(fig, notes, title: str | None = None) -> None:
    """Rewrite ``fig``'s title (``title``, or its current first line) with ``notes`` below."""
    head = title if title is not None else (fig.layout.title.text or "").split("<br>")[0]
    fig.layout.title.text = title_with_notes(head, notes)


def finite_or_gap(values) -> np.ndarray:
    """``values`` as float64 with every non-finite entry replaced by NaN (a gap in a line).

    For a linear axis: an infinite value cannot be drawn, and drawing it as 0 would show a
    number that was never measured. Pair it with ``nonfinite_note``.
    """
    v = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(v), v, np.nan)


def nonfinite_note(values, quantity: str, what: str = "layers") -> str:
    """A sentence naming how many entries of ``values`` are infinite or NaN ("" if none)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    bad = ~np.isfinite(v)
    n = int(bad.sum())
    if n == 0:
        return ""
    kinds = " or ".join(k for k, m in (("infinite", np.isinf(v)), ("NaN", np.isnan(v))) if m.any())
    noun = what[:-1] if n == 1 and what.endswith("s") else what
    article = "an" if kinds.startswith("infinite") else "a"
    return (f"{n} {noun} {'has' if n == 1 else 'have'} {article} {kinds} {quantity} "
            "(overflow): not drawn")


# Charts on a 1280x720 slide: one chart per slide, at most this tall (so that its code and a
# sentence fit beside it), no text under 16 px.
SLIDE_HEIGHT = 400
SLIDE_FONT = 16
SLIDE_DASHBOARD_HEIGHT = 520  # panels in two rows, with little code beside them


def _axes(fig: go.Figure, letter: str) -> list:
    return [fig.layout[k] for k in fig.layout if k.startswith(f"{letter}axis")]


def _plain_array(v):
    """``v``, or the array that Plotly's JSON form ``{"dtype": ..., "bdata": ...}`` encodes.

    A figure rebuilt from a notebook's saved output holds its arrays in that typed-array form.
    """
    if isinstance(v, dict) and "bdata" in v and "dtype" in v:
        import base64

        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape(v["shape"]) if "shape" in v else a
    return v


def _decades(fig: go.Figure, ax) -> float:
    """How many powers of ten the positive data on log axis ``ax`` spans."""
    letter, name = ax.plotly_name[0], ax.plotly_name[5:]  # "yaxis2" -> "y", "2"
    values = []
    for trace in fig.data:
        if (getattr(trace, f"{letter}axis", None) or letter) == f"{letter}{name}":
            v = _plain_array(getattr(trace, letter, None))
            try:
                values.append(np.asarray(v, dtype=np.float64).ravel())
            except (TypeError, ValueError):  # no data, or categories
                pass
    v = np.concatenate(values) if values else np.array([])
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.log10(v.max() / v.min())) if v.size else 0.0


def slide_layout(fig: go.Figure, height: int = SLIDE_HEIGHT, font_size: int = SLIDE_FONT
                 ) -> go.Figure:
    """Resize ``fig`` in place for a 1280x720 slide: ``height`` px at most, text >= 16 px.

    A figure with panels in more than one row may be ``SLIDE_DASHBOARD_HEIGHT`` tall.

    The static edition (``tools/build_site.py``) applies it to every chart, so the figure
    modules keep their notebook sizes. Fonts set smaller than ``font_size`` anywhere in the
    layout (tick labels, legend, subplot titles, annotations) are raised to it; the title
    is a little larger, and its ``<sup>`` note, which Plotly draws at 70 %, stays readable.
    """
    layout = fig.layout
    rows = {tuple(ax.domain) for ax in _axes(fig, "y") if ax.domain is not None}
    if len(rows) > 1:  # a dashboard of stacked panels gets the height of a slide's body
        height = max(height, SLIDE_DASHBOARD_HEIGHT)
    fig.update_layout(
        font=dict(size=font_size),
        # a <sup> note in the title is drawn at 70 % of the title's size
        title_font_size=max(font_size + (7 if "<sup>" in (layout.title.text or "") else 4),
                            layout.title.font.size or 0),
        legend_font_size=max(font_size, layout.legend.font.size or 0),
        height=min(layout.height or height, height),
        margin=dict(t=90 if "<sup>" in (layout.title.text or "") else 60),
    )
    def axis(ax):
        ax.update(tickfont_size=max(font_size, ax.tickfont.size or 0),
                  title_font_size=max(font_size, ax.title.font.size or 0))
        if ax.type == "log" and ax.dtick is None and ax.tickvals is None:
            # labels only at powers of ten: Plotly's labels between them (2, 5) are drawn
            # at 3/4 of the tick font, too small on a slide
            ax.update(dtick=1 if _decades(fig, ax) <= 6 else None, nticks=8)

    fig.for_each_xaxis(axis)
    fig.for_each_yaxis(axis)
    fig.for_each_annotation(lambda a: a.update(font_size=max(font_size, a.font.size or 0)))
    for trace in fig.data:
        if getattr(trace, "type", "") == "heatmap" and trace.colorbar is not None:
            trace.colorbar.tickfont.size = max(font_size, trace.colorbar.tickfont.size or 0)
    return fig
