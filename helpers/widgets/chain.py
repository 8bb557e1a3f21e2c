"""The chain explorer: move depth, weight, bias, input and activation of a scalar chain and
see ``|d a_L / d a_k|`` at every layer, with its analytic bound drawn beside it."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np

from helpers.activations import get_spec
from helpers.figures.chain import chain_gradient_figure, update_chain_gradient_figure
from helpers.topics.chain import scalar_chain
from helpers.validation import check_float, check_int
from helpers.widgets.base import LiveFigure, activation_dropdown


def _fmt(v: float) -> str:
    return f"{v:.3g}" if math.isfinite(v) else str(v)


class ChainExplorer(LiveFigure):
    """A chain of ``depth`` scalar neurons sharing one weight and one bias.

    ``a_k = phi(w a_{k-1} + b)`` from ``a_0 = x0``. Every update runs ``scalar_chain`` (a
    forward and a hand-written backward pass in float64, well under a millisecond) and
    rewrites the chart; the status line gives ``d a_L / d a_0``, its bound and the local
    factor of the last layer.
    """

    def __init__(self, depth: int = 30, weight: float = 1.0, bias: float = 0.0,
                 activation: str = "sigmoid", x0: float = 0.5):
        get_spec(activation)
        depth = check_int("depth", depth, 1, 100)
        weight, bias = check_float("weight", weight, -8, 8), check_float("bias", bias, -8, 8)
        x0 = check_float("x0", x0, -2, 2)
        style = {"description_width": "initial"}
        wide = widgets.Layout(width="300px")
        controls = {
            "depth": widgets.IntSlider(depth, min=1, max=100, description="depth L",
                                       style=style, layout=wide),
            "weight": widgets.FloatSlider(weight, min=-8.0, max=8.0, step=0.05,
                                          description="weight w (every layer)", style=style,
                                          layout=wide),
            "bias": widgets.FloatSlider(bias, min=-8.0, max=8.0, step=0.05,
                                        description="bias b (every layer)", style=style,
                                        layout=wide),
            "activation": activation_dropdown(activation, layout=wide),
            "x0": widgets.FloatSlider(x0, min=-2.0, max=2.0, step=0.05, description="input a_0",
                                      style=style, layout=wide),
        }
        self.result = None
        super().__init__(controls, chain_gradient_figure())
        self.update()

    def _update(self) -> str:
        v = self.values()
        L = v["depth"]
        self.result = r = scalar_chain(np.full(L, v["weight"]), v["bias"], v["activation"],
                                       v["x0"])
        update_chain_gradient_figure(
            self.figure, r, title=(f"{get_spec(r.activation).label} chain, depth {L}, "
                                   f"w = {v['weight']:g}, b = {v['bias']:g}, a_0 = {v['x0']:g}"))
        g0, b0 = float(r.grad[0]), float(r.bound[0])
        last = float(r.local[-1])
        trend = ("is cut to exactly 0 (a dead unit)" if last == 0 else "vanishes" if abs(last) < 1
                 else "explodes" if abs(last) > 1 else "keeps its size")
        return (f"<b>d a_L / d a_0 = {_fmt(g0)}</b> (bound {_fmt(b0)}); local factor of the "
                f"last layer w phi'(z_L) = {_fmt(last)}: at that rate the gradient {trend} "
                "with depth")


def make_chain_explorer(**settings) -> ChainExplorer:
    """The chain explorer; ``settings`` are the initial control values."""
    return ChainExplorer(**settings)
