"""Charts for lesson 9: the gradient through time, the spectral-radius sweep, training runs.

``through_time_figure`` draws ``||dL/dh_t||`` against the step t on a log axis for several
nets (``ThroughTimeProfile``-like objects), with the vanilla RNN's bound dashed beside it;
``through_time_explorer_figure`` / ``update_through_time_explorer_figure`` are the widget's
fixed four-series version (h, bound, LSTM cell state, LSTM cell path). Zeros, NaN and inf
are drawn with their own markers and named in the title, never dropped. Nothing here
imports torch.
"""

from __future__ import annotations

import warnings

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.figures.profiles import log_traces, set_log_traces
from helpers.figures.style import OKABE_ITO, ROLE_COLORS, THEORY_DASH, base_layout

# One colour per cell in every chart of the lesson (vermillion is left to the flag markers).
CELL_COLORS = {"rnn": OKABE_ITO["blue"], "lstm": OKABE_ITO["green"], "gru": OKABE_ITO["orange"]}
CELL_PATH_COLOR = OKABE_ITO["purple"]
FONT = dict(size=16)
MAX_HEIGHT = 460


def _check_height(height) -> int:
    if not isinstance(height, int) or isinstance(height, bool) or not 200 <= height <= MAX_HEIGHT:
        raise ValueError(f"height must be an int between 200 and {MAX_HEIGHT}, got {height!r}")
    return height


def _finish(fig: go.Figure, title: str, x_title: str, y_title: str, height: int) -> go.Figure:
    base_layout(fig, title, x_title, y_title, height=_check_height(height))
    # the legend right of the plot: below it, it would cover the x-axis title on a slide
    fig.update_layout(font=FONT, margin=dict(l=70, r=20, t=70, b=50),
                      legend=dict(orientation="v", x=1.02, xanchor="left", y=1, yanchor="top"))
    return fig


def _log_y(fig: go.Figure, values, **where) -> go.Figure:
    """A log y axis labelled at powers of ten, one label every k decades (at most ~8 labels).

    The spacing is computed from ``values`` here: a Plotly default of one label per decade
    over 30 decades makes the labels overlap.
    """
    v = np.concatenate([np.asarray(x, dtype=float).ravel() for x in values] or [np.zeros(0)])
    v = v[np.isfinite(v) & (v > 0)]
    decades = float(np.log10(v.max() / v.min())) if v.size else 0.0
    fig.update_yaxes(type="log", exponentformat="power", dtick=max(1, int(np.ceil(decades / 7))),
                     **where)
    return fig


def _with_note(title: str, notes) -> str:
    # log_series counts "layers"; here every point is a time step
    notes = [n.replace("layers", "steps").replace("layer", "step") for n in notes if n]
    return title.split("<br>")[0] + (f"<br><sup>{'; '.join(notes)}</sup>" if notes else "")


def cell_label(config) -> str:
    """``"RNN (tanh)"``, ``"LSTM"`` or ``"GRU"`` for a ``RecurrentConfig``-like object."""
    return f"RNN ({config.nonlinearity})" if config.cell == "rnn" else config.cell.upper()


def _require(profile, *names):
    for n in names:
        if not hasattr(profile, n):
            raise TypeError(f"expected a ThroughTimeProfile-like object with .{n}, got "
                            f"{type(profile).__name__}")


def through_time_figure(profiles: dict, bounds: dict | None = None, *,
                        title: str = "Gradient through time", height: int = 420) -> go.Figure:
    """``||dL/dh_t||`` against t (log axis); ``profiles`` maps a name to a profile.

    ``bounds`` maps a name to an array of the same length (drawn dashed, same colour).
    Series colours follow the cell (``CELL_COLORS``).
    """
    if not isinstance(profiles, dict) or not profiles:
        raise ValueError("profiles must map at least one name to a ThroughTimeProfile")
    bounds = bounds or {}
    fig, notes = go.Figure(), []
    for i, (name, p) in enumerate(profiles.items()):
        _require(p, "h_grad_norm", "config")
        color = CELL_COLORS.get(p.config.cell, OKABE_ITO["grey"])
        dash = (None, "dot", "dashdot", "longdash")[i % 4] if list(
            q.config.cell for q in profiles.values()).count(p.config.cell) > 1 else None
        traces = log_traces(name, color, dash=dash, flag_legend=False)
        notes.append(set_log_traces(traces, p.h_grad_norm))
        fig.add_traces(traces)
        if name in bounds and bounds[name] is not None:
            if len(bounds[name]) != len(p.h_grad_norm):
                raise ValueError(f"bound {name!r} has {len(bounds[name])} values, its profile "
                                 f"{len(p.h_grad_norm)}")
            b = log_traces(f"bound: {name}", ROLE_COLORS["theory"], dash=THEORY_DASH,
                           flag_legend=False)
            notes.append(set_log_traces(b, bounds[name]))
            fig.add_traces(b)
    _finish(fig, _with_note(title, notes), "time step t (loss at the last step T)",
            "||dL/dh_t|| (log scale)", height)
    _log_y(fig, [t.y for t in fig.data if t.y is not None])
    return fig


def cell_path_figure(profiles: dict, *, title: str = "LSTM: gradient along the cell state",
                     height: int = 420) -> go.Figure:
    """For LSTM profiles: ``||dL/dc_t||`` (solid) and the cell path alone (dotted), log axis."""
    if not isinstance(profiles, dict) or not profiles:
        raise ValueError("profiles must map at least one name to an LSTM ThroughTimeProfile")
    fig, notes = go.Figure(), []
    colors = [OKABE_ITO[k] for k in ("green", "purple", "sky_blue", "black")]
    for i, (name, p) in enumerate(profiles.items()):
        _require(p, "c_grad_norm", "cell_path_norm")
        if p.c_grad_norm is None:
            raise ValueError(f"{name!r} is not an LSTM profile (no cell state)")
        total = log_traces(f"{name}: ||dL/dc_t||", colors[i % 4], flag_legend=False)
        path = log_traces(f"{name}: cell path only", colors[i % 4], dash="dot",
                          flag_legend=False)
        notes += [set_log_traces(total, p.c_grad_norm), set_log_traces(path, p.cell_path_norm)]
        fig.add_traces(total + path)
    _finish(fig, _with_note(title, notes), "time step t", "gradient norm (log scale)", height)
    _log_y(fig, [t.y for t in fig.data if t.y is not None])
    return fig


def radius_sweep_figure(sweep: dict, *, title: str = "Spectral radius vs gradient reaching step 1",
                        height: int = 420) -> go.Figure:
    """``||dL/dh_1|| / ||dL/dh_T||`` against the radius: one marker per seed, a line of means."""
    for key in ("radius", "ratio", "seeds"):
        if key not in sweep:
            raise ValueError(f"sweep must have keys radius, ratio, seeds (missing {key!r})")
    r = np.asarray(sweep["radius"], dtype=float)
    ratio = np.atleast_2d(np.asarray(sweep["ratio"], dtype=float))
    if ratio.shape[1] != r.size:
        raise ValueError(f"ratio has {ratio.shape[1]} columns for {r.size} radii")
    fig = go.Figure()
    for i, s in enumerate(np.asarray(sweep["seeds"]).ravel()):
        fig.add_trace(go.Scatter(x=r, y=ratio[i], mode="markers", name=f"seed {s}",
                                 marker=dict(color=CELL_COLORS["rnn"], size=8, opacity=0.5),
                                 showlegend=i == 0, legendgroup="seeds"))
    positive = np.where(ratio > 0, ratio, np.nan)
    # a radius where every seed's ratio is 0 (underflow) has no mean: NaN, a gap, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "Mean of empty slice"
        mean = np.exp(np.nanmean(np.log(positive), axis=0))
    fig.add_trace(go.Scatter(x=r, y=mean, mode="lines", name="geometric mean over seeds",
                             line=dict(color=CELL_COLORS["rnn"])))
    fig.add_trace(go.Scatter(x=[r.min(), r.max()], y=[1, 1], mode="lines", name="ratio 1",
                             line=dict(color=ROLE_COLORS["theory"], dash=THEORY_DASH)))
    _finish(fig, title, "spectral radius of W_hh", "||dL/dh_1|| / ||dL/dh_T|| (log scale)",
            height)
    _log_y(fig, [t.y for t in fig.data if t.y is not None])
    return fig


def training_curves_figure(runs: dict, *, title: str = "Training on a memory task",
                           height: int = 440) -> go.Figure:
    """Test metric against training step; ``runs`` maps ``(cell, T, seed)`` to a ``TrainRun``.

    Colour = cell, dash = sequence length, one line per seed. MSE uses a log axis.
    """
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must map (cell, T, seed) to at least one TrainRun")
    lengths = sorted({k[1] for k in runs})
    dashes = dict(zip(lengths, (None, "dash", "dot", "dashdot"), strict=False))
    fig, seen = go.Figure(), set()
    for (cell, T, seed), run in runs.items():
        label = f"{cell.upper()}, T = {T}"
        fig.add_trace(go.Scatter(
            x=run.eval_at, y=run.test_metric, mode="lines", name=label, legendgroup=label,
            showlegend=label not in seen, hovertext=f"seed {seed}",
            line=dict(color=CELL_COLORS.get(cell, OKABE_ITO["grey"]), dash=dashes[T])))
        seen.add(label)
    first = next(iter(runs.values()))
    _finish(fig, title, "training step", f"{first.metric_name}"
            + (" (log scale)" if first.task == "adding" else ""), height)
    if first.task == "adding":  # labels at powers of ten only: no small minor-tick labels
        _log_y(fig, [t.y for t in fig.data if t.y is not None])
    return fig


def clipping_figure(runs: dict, *, title: str = "Exploding gradients with and without clipping",
                    height: int = 420) -> go.Figure:
    """Two panels: training loss and gradient norm (before clipping) per step, log axes."""
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must map a name to at least one TrainRun")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("training loss (log scale)",
                                                       "gradient norm before clipping (log)"),
                        horizontal_spacing=0.1)
    colors = [OKABE_ITO[k] for k in ("blue", "green", "orange", "purple")]
    for i, (name, run) in enumerate(runs.items()):
        x = np.arange(1, len(run.loss) + 1)
        for col, values in ((1, run.loss), (2, run.grad_norm)):
            fig.add_trace(go.Scatter(x=x, y=np.where(np.isfinite(values), values, np.nan),
                                     mode="lines", name=name, legendgroup=name,
                                     showlegend=col == 1, line=dict(color=colors[i % 4])),
                          row=1, col=col)
    _finish(fig, title, "training step", "", height)
    fig.update_xaxes(title_text="training step")
    for col, key in ((1, "loss"), (2, "grad_norm")):
        _log_y(fig, [getattr(run, key) for run in runs.values()], row=1, col=col)
    fig.update_yaxes(title_text="loss (log scale)", row=1, col=1)
    return fig


def through_time_explorer_figure(height: int = 440) -> go.Figure:
    """The widget's chart: four log-axis series (filled by the updater below)."""
    fig = go.Figure(log_traces("||dL/dh_t|| measured", CELL_COLORS["rnn"])
                    + log_traces("bound (gamma ||W_hh||)^(T-t)", ROLE_COLORS["theory"],
                                 dash=THEORY_DASH, flag_legend=False)
                    + log_traces("LSTM ||dL/dc_t||", CELL_COLORS["lstm"], dash="longdash",
                                 flag_legend=False, mode="lines")  # h is LSTM-green too
                    + log_traces("LSTM cell path only", CELL_PATH_COLOR, dash="dot",
                                 flag_legend=False))
    _finish(fig, "Gradient through time", "time step t (loss at the last step T)",
            "gradient norm (log scale)", height)
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def update_through_time_explorer_figure(fig, result, title: str = "") -> None:
    """Rewrite the four series from a ``ThroughTime`` (profile + bound); absent ones hide."""
    _require(result, "profile", "bound")
    p = result.profile
    fig.data[0].line.color = CELL_COLORS.get(p.config.cell, OKABE_ITO["grey"])
    notes = [set_log_traces(fig.data[0:3], p.h_grad_norm)]
    for start, values in ((3, result.bound), (6, p.c_grad_norm), (9, p.cell_path_norm)):
        visible = values is not None
        for t in fig.data[start:start + 3]:
            t.visible = visible
        if visible:
            note = set_log_traces(fig.data[start:start + 3], values)
            notes.append(note if start == 3 or not note else f"cell state: {note}")
        else:
            for t in fig.data[start:start + 3]:
                t.x, t.y = [], []
    fig.layout.title.text = _with_note(title or "Gradient through time", notes)
