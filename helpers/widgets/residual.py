"""The residual explorer: one configuration measured with and without skip connections.

Controls: depth, activation, norm, norm position (residual version only) and init. Every
change measures both networks at initialization (float64, the lesson's spirals batch,
same seed) with ``compare_plain_residual`` and redraws ``||dL/dx_l||`` and the std of
``x_l`` for both. Each update runs two forward/backward passes of up to 100 blocks, so
every control updates on release only.
"""

from __future__ import annotations

import math

import ipywidgets as widgets

from helpers.activations import get_spec
from helpers.data import lesson_data
from helpers.figures.residual import residual_explorer_figure, update_residual_explorer_figure
from helpers.models import NORM_POSITIONS, MLPConfig
from helpers.topics.residual import compare_plain_residual
from helpers.validation import check_choice, check_int
from helpers.widgets.base import LiveFigure, activation_dropdown, norm_dropdown, norm_value

NORM_LABELS = {None: "none", "batch": "BatchNorm", "layer": "LayerNorm"}
RESIDUAL_INITS = ("default", "xavier", "he", "orthogonal")
MIN_DEPTH, MAX_DEPTH = 10, 100


def _fmt(v: float) -> str:
    return f"{v:.3g}" if math.isfinite(v) else str(v)


class ResidualExplorer(LiveFigure):
    """Plain vs residual version of one MLP configuration, measured block by block."""

    def __init__(self, depth: int = 100, activation: str = "sigmoid", norm: str | None = None,
                 norm_position: str = "inside", init: str = "default", width: int = 64,
                 seed: int = 0):
        get_spec(activation)
        depth = check_int("depth", depth, MIN_DEPTH, MAX_DEPTH)
        check_choice("norm", norm, list(NORM_LABELS))
        check_choice("norm_position", norm_position, NORM_POSITIONS)
        check_choice("init", init, RESIDUAL_INITS)
        self.base = MLPConfig(depth=depth, width=width, activation=activation, dtype="float64",
                              seed=seed)
        self.X, self.y = lesson_data(seed=seed)
        style = {"description_width": "initial"}
        wide = widgets.Layout(width="280px")
        controls = {
            "depth": widgets.IntSlider(depth, min=MIN_DEPTH, max=MAX_DEPTH, step=5,
                                       description="depth (blocks)", continuous_update=False,
                                       style=style, layout=wide),
            "activation": activation_dropdown(activation, layout=wide),
            "norm": norm_dropdown(norm, NORM_LABELS, description="normalization", layout=wide),
            "norm_position": widgets.Dropdown(
                options=[("inside: x + phi(N(Wx + b))", "inside"),
                         ("pre: x + W phi(N(x)) + b", "pre"),
                         ("post: N(x + phi(Wx + b))", "post")],
                value=norm_position, description="norm position (residual)", style=style,
                layout=widgets.Layout(width="340px")),
            "init": widgets.Dropdown(options=list(RESIDUAL_INITS), value=init,
                                     description="init", style=style, layout=wide),
        }
        self.result = None
        super().__init__(controls, residual_explorer_figure())
        self.update()

    def config(self) -> MLPConfig:
        """The configuration the controls describe (its ``residual`` field is set per series)."""
        v = self.values()
        return self.base.replace(depth=v["depth"], activation=v["activation"],
                                 norm=norm_value(v["norm"]), norm_position=v["norm_position"],
                                 init=v["init"])

    def _update(self) -> str:
        c = self.config()
        self.result = r = compare_plain_residual(c, self.X, self.y)
        norm = {None: "no norm", "batch": "BatchNorm", "layer": "LayerNorm"}[c.norm]
        where = f", {c.norm_position}" if c.norm else ""
        update_residual_explorer_figure(
            self.figure, r, title=(f"{get_spec(c.activation).label}, {c.init} init, {norm}{where}, "
                                   f"depth {c.depth}, width {c.width} (float64, at init)"))
        return (f"first/last ||dL/dx||: <b>plain {_fmt(r.plain.ratio)}</b>, "
                f"<b>residual {_fmt(r.residual.ratio)}</b>; loss at init: plain "
                f"{_fmt(r.plain.loss)}, residual {_fmt(r.residual.loss)}; std of the last "
                f"block's output: plain {_fmt(float(r.plain.stream_std[-1]))}, residual "
                f"{_fmt(float(r.residual.stream_std[-1]))}")


def make_residual_explorer(**settings) -> ResidualExplorer:
    """The residual explorer; ``settings`` are the initial control values."""
    return ResidualExplorer(**settings)
