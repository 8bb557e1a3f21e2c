"""The through-time explorer: ``||dL/dh_t||`` at every step of one recurrent net, live.

Controls: sequence length T (1-200), cell, spectral radius of ``W_hh`` (each gate block
for the LSTM and GRU), the vanilla RNN's nonlinearity and the LSTM's forget-gate bias.
Every change builds the net (float64, hidden 32, the same seed), runs one forward/backward
pass on a batch of "remember the first symbol" and redraws the measured profile, the
bound ``(gamma ||W_hh||_2)^(T-t)`` (RNN), and for the LSTM the gradient along the cell
state. Controls that do not apply to the chosen cell stay operable (so that every control
can always be moved) and the status line says which ones the cell ignores.
"""

from __future__ import annotations

import math

import ipywidgets as widgets

from helpers.figures.recurrent import (
    cell_label,
    through_time_explorer_figure,
    update_through_time_explorer_figure,
)
from helpers.recurrent import CELLS, NONLINEARITIES
from helpers.topics.recurrent import measure_through_time, task_config
from helpers.validation import check_choice, check_float, check_int, check_seed
from helpers.widgets.base import LiveFigure

MAX_T = 200
RADIUS_RANGE = (0.1, 3.0)
FORGET_RANGE = (-3.0, 5.0)
CELL_LABELS = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}


def _fmt(v: float) -> str:
    return f"{v:.3g}" if math.isfinite(v) else str(v)


class ThroughTimeExplorer(LiveFigure):
    """One recurrent net at initialization, measured step by step."""

    def __init__(self, steps: int = 50, cell: str = "rnn", spectral_radius: float = 1.0,
                 nonlinearity: str = "tanh", forget_bias: float = 1.0, hidden: int = 32,
                 batch: int = 32, seed: int = 0):
        steps = check_int("steps", steps, 1, MAX_T)
        check_choice("cell", cell, CELLS)
        spectral_radius = check_float("spectral_radius", spectral_radius, *RADIUS_RANGE)
        check_choice("nonlinearity", nonlinearity, NONLINEARITIES)
        forget_bias = check_float("forget_bias", forget_bias, *FORGET_RANGE)
        self.hidden = check_int("hidden", hidden, 1, 512)
        self.batch = check_int("batch", batch, 1, 1024)
        self.seed = check_seed(seed)
        style = {"description_width": "initial"}
        wide = widgets.Layout(width="300px")
        controls = {
            "steps": widgets.IntSlider(steps, min=1, max=MAX_T, description="T (steps)",
                                       continuous_update=False, style=style, layout=wide),
            "spectral_radius": widgets.FloatSlider(
                spectral_radius, min=RADIUS_RANGE[0], max=RADIUS_RANGE[1], step=0.05,
                description="spectral radius of W_hh", continuous_update=False, style=style,
                layout=wide),
            "forget_bias": widgets.FloatSlider(
                forget_bias, min=FORGET_RANGE[0], max=FORGET_RANGE[1], step=0.25,
                description="LSTM forget bias", continuous_update=False, style=style,
                layout=wide),
            "cell": widgets.Dropdown(options=[(v, k) for k, v in CELL_LABELS.items()],
                                     value=cell, description="cell", style=style, layout=wide),
            "nonlinearity": widgets.Dropdown(options=list(NONLINEARITIES), value=nonlinearity,
                                             description="RNN nonlinearity", style=style,
                                             layout=wide),
        }
        self.result = None
        super().__init__(controls, through_time_explorer_figure())
        self.update()

    def config(self):
        """The ``RecurrentConfig`` the controls describe."""
        v = self.values()
        rnn, lstm = v["cell"] == "rnn", v["cell"] == "lstm"
        return task_config("first_symbol", cell=v["cell"], hidden=self.hidden,
                           nonlinearity=v["nonlinearity"] if rnn else "tanh",
                           init="spectral", spectral_radius=v["spectral_radius"],
                           forget_bias=v["forget_bias"] if lstm else None, seed=self.seed,
                           dtype="float64")

    def _update(self) -> str:
        c = self.config()
        T = self.controls["steps"].value
        self.result = r = measure_through_time(c, T, task="first_symbol", batch=self.batch,
                                               seed=self.seed)
        p = r.profile
        update_through_time_explorer_figure(
            self.figure, r, title=(f"{cell_label(c)}, hidden {c.hidden}, spectral radius "
                                   f"{c.spectral_radius:.2f}, T = {T} (float64, at init)"))
        unused = {"rnn": "forget bias unused", "lstm": "nonlinearity unused",
                  "gru": "nonlinearity and forget bias unused"}[c.cell]
        text = (f"||dL/dh_1|| / ||dL/dh_T|| = <b>{_fmt(p.ratio)}</b>; ||W_hh||_2 = "
                f"{_fmt(r.spectral_norm)} (radius {_fmt(r.spectral_radius)}); {unused}")
        if r.bound is not None:
            text += f"; bound on the ratio: {_fmt(float(r.bound[0] / r.bound[-1]))}"
        if p.forget_mean is not None:
            text += f"; mean forget gate {_fmt(float(p.forget_mean.mean()))}"
        return text


def make_through_time_explorer(**settings) -> ThroughTimeExplorer:
    """The through-time explorer; ``settings`` are the initial control values."""
    return ThroughTimeExplorer(**settings)
