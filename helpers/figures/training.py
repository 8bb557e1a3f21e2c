"""Charts of training runs: curves, gradient heatmaps, update:data, boundaries, dashboard.

Inputs are plain data: a *run* here is any object with ``name``, ``history`` (arrays
``steps``, ``loss``, ``accuracy``, ``test_loss``, ``test_accuracy``, ``grad_norm``,
``update_ratio``, each per record) and, for boundaries, ``grid`` (``x``, ``y``, ``p``), as
``helpers.topics.training.Run`` provides. No torch, no widgets.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from helpers.figures.style import HEATMAP_SCALE, OKABE_ITO, ROLE_COLORS, SERIES_COLORS

FONT = dict(size=16)
HEIGHT = 440  # fits a 1280x720 slide with a title line
UPDATE_REFERENCE = 1e-3  # Karpathy's rule of thumb for update:data (makemore part 3)
FADED = "rgba(120,120,120,0.35)"
CLASS_COLORS = (OKABE_ITO["blue"], OKABE_ITO["vermillion"])


TITLE_PX, LEGEND_PX = 10, 42  # from the top of the figure: the title line, then the legend
TOP_MARGIN = 100  # the title, the legend and the subplot titles sit above the plots


def _layout(fig: go.Figure, title: str, height: int = HEIGHT) -> go.Figure:
    """Title, then a one-line legend under it, both above the plots (never on an axis)."""
    fig.update_layout(
        title=dict(text=title, x=0.01, xanchor="left", yref="container",
                   y=1 - TITLE_PX / height, yanchor="top"),
        legend=dict(orientation="h", yref="container", y=1 - LEGEND_PX / height,
                    yanchor="top", x=0.0, xanchor="left", traceorder="normal"),
        template="plotly_white", height=height, font=FONT,
        margin=dict(l=70, r=20, t=TOP_MARGIN, b=60))
    return fig


def log10_grid(values) -> tuple[np.ndarray, int]:
    """log10 of positive values; zeros/NaN become NaN (drawn blank). Returns (z, blanks)."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(np.isfinite(v) & (v > 0), np.log10(np.where(v > 0, v, 1.0)), np.nan)
    return z, int(np.isnan(z).sum())


def curves_figure(runs: dict, title: str = "Training (solid) and test (dashed)") -> go.Figure:
    """Loss (log scale) and accuracy over steps, train solid and test dashed, per run."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss (log scale)", "accuracy"),
                        horizontal_spacing=0.1)
    for i, (name, run) in enumerate(runs.items()):
        h, color = run.history, SERIES_COLORS[i % len(SERIES_COLORS)]
        for col, train, test in ((1, h.loss, h.test_loss), (2, h.accuracy, h.test_accuracy)):
            fig.add_trace(go.Scatter(x=h.steps, y=train, name=name, legendgroup=name,
                                     showlegend=col == 1, line=dict(color=color)), 1, col)
            fig.add_trace(go.Scatter(x=h.steps, y=test, name=f"{name} (test)", legendgroup=name,
                                     showlegend=False, line=dict(color=color, dash="dash")),
                          1, col)
    fig.update_yaxes(type="log", title_text="cross-entropy loss (log scale)", row=1, col=1)
    fig.update_yaxes(title_text="accuracy", range=[0, 1.02], row=1, col=2)
    fig.update_xaxes(title_text="training step")
    return _layout(fig, title)


def gradient_heatmap_figure(runs: dict, title: str = "log10 ||dL/dW|| per layer over "
                            "training") -> go.Figure:
    """One layer x step heatmap of log10 ||dL/dW|| per run, side by side, one colour scale."""
    zs = {name: log10_grid(run.history.grad_norm.T)[0] for name, run in runs.items()}
    finite = np.concatenate([z[np.isfinite(z)] for z in zs.values()] or [np.zeros(1)])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 0.0)
    fig = make_subplots(rows=1, cols=len(runs), subplot_titles=list(runs),
                        horizontal_spacing=0.08)
    for i, (name, run) in enumerate(runs.items()):
        layers = np.arange(1, run.history.grad_norm.shape[1] + 1)
        fig.add_trace(go.Heatmap(x=run.history.steps, y=layers, z=zs[name], name=name,
                                 coloraxis="coloraxis",
                                 hovertemplate="step %{x}, layer %{y}: 10^%{z:.2f}<extra></extra>"),
                      1, i + 1)
    fig.update_layout(coloraxis=dict(colorscale=HEATMAP_SCALE, cmin=lo, cmax=hi,
                                     colorbar=dict(title="log10")))
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text="layer (1 = input side)", row=1, col=1)
    return _layout(fig, title)


def _layer_colors(n: int) -> list[str]:
    from plotly.colors import sample_colorscale

    return sample_colorscale(HEATMAP_SCALE, list(np.linspace(0.0, 0.9, n)))


def update_ratio_figure(runs: dict, title: str = "update:data ratio per layer "
                        "(log scale)") -> go.Figure:
    """||W_after - W_before|| / ||W_before|| per layer over steps, one panel per run, with
    the 1e-3 reference line."""
    fig = make_subplots(rows=1, cols=len(runs), subplot_titles=list(runs), shared_yaxes=True,
                        horizontal_spacing=0.05)
    for i, run in enumerate(runs.values()):
        h = run.history
        n = h.update_ratio.shape[1]
        colors = _layer_colors(n)
        for layer in range(n):
            label = "output" if layer == n - 1 else f"layer {layer + 1}"
            fig.add_trace(go.Scatter(x=h.steps, y=h.update_ratio[:, layer], name=label,
                                     legendgroup=label, showlegend=False, mode="lines",
                                     line=dict(color=colors[layer], width=1.5)), 1, i + 1)
        fig.add_trace(go.Scatter(x=[h.steps[0], h.steps[-1]], y=[UPDATE_REFERENCE] * 2,
                                 name="1e-3 rule of thumb", showlegend=i == 0, mode="lines",
                                 line=dict(color=ROLE_COLORS["theory"], dash="dash")), 1, i + 1)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="layers: dark = input side, "
                             "yellow = output", line=dict(color=_layer_colors(2)[0])))
    fig.update_yaxes(type="log", row=1, col=1, title_text="update:data (log scale)")
    fig.update_yaxes(type="log")
    fig.update_xaxes(title_text="training step")
    return _layout(fig, title)


def first_last_ratio(history) -> np.ndarray:
    """(records,) ||dL/dW_1|| / ||dL/dW_last hidden|| at each record."""
    g = np.asarray(history.grad_norm, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return g[:, 0] / g[:, -2]


def ratio_figure(runs: dict, title: str = "First / last hidden layer ||dL/dW|| over "
                 "training") -> go.Figure:
    """The first/last weight-gradient ratio (log scale) over steps, one line per run."""
    fig = go.Figure()
    for i, (name, run) in enumerate(runs.items()):
        fig.add_trace(go.Scatter(x=run.history.steps, y=first_last_ratio(run.history), name=name,
                                 line=dict(color=SERIES_COLORS[i % len(SERIES_COLORS)])))
    fig.add_hline(y=1.0, line=dict(color=ROLE_COLORS["theory"], dash="dot"))
    fig.update_yaxes(type="log", title_text="first / last (log scale)")
    fig.update_xaxes(title_text="training step")
    return _layout(fig, title)


def decision_boundary_figure(runs: dict, X, y, title: str = "Decision boundary after "
                             "training, test points") -> go.Figure:
    """P(class 1) over the plane for each run (2-D data), with the points ``X``, ``y``."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    fig = make_subplots(rows=1, cols=len(runs), subplot_titles=list(runs),
                        horizontal_spacing=0.06)
    for i, (name, run) in enumerate(runs.items()):
        g = run.grid
        fig.add_trace(go.Heatmap(x=g["x"], y=g["y"], z=g["p"], zmin=0, zmax=1,
                                 colorscale=[[0, "#cfe3f2"], [0.5, "#ffffff"], [1, "#f6d2bd"]],
                                 coloraxis=None, showscale=i == len(runs) - 1,
                                 colorbar=dict(title="P(class 1)"), name=name), 1, i + 1)
        for c in (0, 1):
            pts = X[y == c]
            fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers",
                                     name=f"class {c}", showlegend=i == 0,
                                     marker=dict(size=5, color=CLASS_COLORS[c])), 1, i + 1)
    fig.update_xaxes(title_text="x1", range=[-2.6, 2.6])
    fig.update_yaxes(title_text="x2", range=[-2.6, 2.6], row=1, col=1)
    return _layout(fig, title)


def describe_config(config) -> str:
    """One line naming every setting of an ``MLPConfig`` (a dashboard's run, its title)."""
    parts = [f"{config.activation}", f"depth {config.depth}", f"width {config.width}",
             f"init {config.init}"]
    if config.norm:  # the position acts only in residual blocks; shown so every control shows
        parts.append(f"{config.norm}norm ({config.norm_position})")
    if config.residual:
        parts.append("residual")
    parts.append(f"seed {config.seed}")
    return ", ".join(parts)


def runs_table_html(runs: list[dict], target: float) -> str:
    """An HTML table of finished runs (dicts with ``name``, ``optimizer``, ``lr``,
    ``history``, ``status``, ``steps_to_target``); empty without runs."""
    head = ("<tr><th>#</th><th>network</th><th>optimizer, lr</th><th>status</th>"
            "<th>final train loss</th><th>test accuracy</th>"
            f"<th>steps to {target:.0%} test</th><th>seconds</th></tr>")
    body = []
    for i, r in enumerate(runs, 1):
        h = r["history"]
        acc = h.test_accuracy[-1] if len(h.test_accuracy) else float("nan")
        reach = "never" if r["steps_to_target"] is None else r["steps_to_target"]
        body.append(f"<tr><td>{i}</td><td>{html.escape(r['name'])}</td>"
                    f"<td>{r['optimizer']}, {r['lr']:.3g}</td><td>{r['status']}</td>"
                    f"<td>{h.final_loss:.4g}</td><td>{acc:.3f}</td><td>{reach}</td>"
                    f"<td>{h.seconds:.1f}</td></tr>")
    return f'<table style="font-size:15px">{head}{"".join(body)}</table>' if body else ""


# --- the dashboard: one figure, fixed trace indices, rewritten in place --------------

TRACES = ("finished loss", "train loss", "test loss", "finished accuracy", "train accuracy",
          "test accuracy", "boundary", "class 0", "class 1", "grad heatmap", "update:data",
          "1e-3 rule")


def dashboard_figure() -> go.Figure:
    """Empty dashboard: loss | accuracy | boundary, heatmap (2 wide) | update:data per layer."""
    fig = make_subplots(
        rows=2, cols=3, specs=[[{}, {}, {}], [{"colspan": 2}, None, {}]],
        subplot_titles=("loss (log scale)", "accuracy", "decision boundary",
                        "log10 ||dL/dW||: layer x step", "update:data per layer"),
        vertical_spacing=0.2, horizontal_spacing=0.08)
    line = dict(width=2)
    fig.add_trace(go.Scatter(x=[], y=[], name="finished runs", line=dict(color=FADED)), 1, 1)
    fig.add_trace(go.Scatter(x=[], y=[], name="train", line=dict(color=SERIES_COLORS[0], **line)),
                  1, 1)
    fig.add_trace(go.Scatter(x=[], y=[], name="test", line=dict(color=SERIES_COLORS[1],
                                                                dash="dash", **line)), 1, 1)
    fig.add_trace(go.Scatter(x=[], y=[], showlegend=False, line=dict(color=FADED)), 1, 2)
    fig.add_trace(go.Scatter(x=[], y=[], showlegend=False,
                             line=dict(color=SERIES_COLORS[0], **line)), 1, 2)
    fig.add_trace(go.Scatter(x=[], y=[], showlegend=False,
                             line=dict(color=SERIES_COLORS[1], dash="dash", **line)), 1, 2)
    fig.add_trace(go.Heatmap(x=[], y=[], z=[], zmin=0, zmax=1, showscale=False,
                             colorscale=[[0, "#cfe3f2"], [0.5, "#ffffff"], [1, "#f6d2bd"]]), 1, 3)
    for c in (0, 1):
        fig.add_trace(go.Scatter(x=[], y=[], mode="markers", showlegend=False,
                                 marker=dict(size=4, color=CLASS_COLORS[c])), 1, 3)
    fig.add_trace(go.Heatmap(x=[], y=[], z=[], colorscale=HEATMAP_SCALE,
                             colorbar=dict(title="log10", len=0.4, y=0.2)), 2, 1)
    fig.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", showlegend=False,
                             line=dict(color=SERIES_COLORS[0])), 2, 3)
    fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name="1e-3 rule",
                             line=dict(color=ROLE_COLORS["theory"], dash="dash")), 2, 3)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_yaxes(type="log", row=2, col=3)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_xaxes(title_text="step", row=1, col=2)
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_xaxes(title_text="layer", row=2, col=3)
    fig.update_yaxes(title_text="layer", row=2, col=1)
    _layout(fig, "Press Start to train", height=HEIGHT + 40)
    fig.update_layout(margin=dict(l=60, r=20, t=TOP_MARGIN, b=40))
    return fig


def _joined(series) -> tuple[list, list]:
    """Concatenate (x, y) pairs with None between them: many faded lines in one trace."""
    xs, ys = [], []
    for x, y in series:
        xs += [*np.asarray(x).tolist(), None]
        ys += [*np.asarray(y, dtype=np.float64).tolist(), None]
    return xs, ys


def update_dashboard_figure(fig, history, finished=(), grid=None, points=None,
                            title: str = "") -> None:
    """Rewrite the dashboard's traces: ``history`` is the live (or last) run, ``finished``
    earlier runs' histories (faded), ``grid`` its boundary, ``points`` (X, y) to scatter."""
    d = fig.data
    for i, key in ((0, "loss"), (3, "accuracy")):
        d[i].x, d[i].y = _joined((h.steps, getattr(h, key)) for h in finished)
    if history is None:
        for i in (1, 2, 4, 5, 10, 11):
            d[i].x, d[i].y = [], []
        d[9].z, d[6].z = [], []
    else:
        h = history
        d[1].x, d[1].y = h.steps, h.loss
        d[2].x, d[2].y = h.steps[:len(h.test_loss)], h.test_loss
        d[4].x, d[4].y = h.steps, h.accuracy
        d[5].x, d[5].y = h.steps[:len(h.test_accuracy)], h.test_accuracy
        z, _ = log10_grid(h.grad_norm.T)  # (layers, records)
        layers = np.arange(1, z.shape[0] + 1)
        d[9].x, d[9].y, d[9].z = h.steps, layers, z
        last = h.update_ratio[-1] if len(h.update_ratio) else np.zeros(0)
        d[10].x, d[10].y = layers[:len(last)], last
        d[11].x, d[11].y = [1, max(len(layers), 2)], [UPDATE_REFERENCE] * 2
    if grid is not None:
        d[6].x, d[6].y, d[6].z = grid["x"], grid["y"], grid["p"]
    if points is not None:
        X, y = np.asarray(points[0], dtype=np.float64), np.asarray(points[1])
        for c in (0, 1):
            d[7 + c].x, d[7 + c].y = X[y == c, 0], X[y == c, 1]
    elif grid is None:
        for i in (7, 8):
            d[i].x, d[i].y = [], []
    fig.layout.title.text = title
