"""The normalization explorer: depth, activation, init, norm and batch size against gradient
flow."""

from __future__ import annotations

import ipywidgets as widgets

from helpers.activations import ACTIVATIONS
from helpers.figures.normalization import (
    norm_explorer_figure,
    norm_label,
    update_norm_explorer_figure,
)
from helpers.growth import growth_per_layer
from helpers.topics.normalization import norm_explorer_profile
from helpers.validation import check_choice, check_int, check_seed
from helpers.widgets.base import LiveFigure, activation_dropdown, norm_dropdown, norm_value
from helpers.widgets.gradient_flow import ratio_sentence
from helpers.widgets.residual import RESIDUAL_INITS as EXPLORER_INITS

# The identity is left out: on 2-D inputs a linear net keeps every layer in a 2-D subspace,
# a degenerate case for BatchNorm that says little about real networks.
EXPLORER_ACTIVATIONS = ("sigmoid", "tanh", "relu")
BATCH_SIZES = (4, 8, 16, 32, 64, 128, 256, 512)


class NormalizationExplorer(LiveFigure):
    """Sliders for depth and batch size, drop-downs for activation, init and norm; charts of the
    per-layer weight-gradient norm (log) and of saturation % and activation std, measured
    at initialization in float64 on spiral data (train mode, one seed for every setting)."""

    def __init__(self, *, depth: int = 50, activation: str = "relu", init: str = "default",
                 norm: str | None = "batch", batch: int = 256, width: int = 64, seed: int = 0):
        check_choice("activation", activation, EXPLORER_ACTIVATIONS)
        check_choice("init", init, EXPLORER_INITS)
        check_choice("batch", batch, BATCH_SIZES)
        check_choice("norm", norm, (None, "batch", "layer"))
        depth = check_int("depth", depth, 2, 100)
        self.width, self.seed = check_int("width", width, 1), check_seed(seed)
        self.profile = None
        style = {"description_width": "initial"}
        wide = widgets.Layout(width="320px")
        controls = {
            "depth": widgets.IntSlider(depth, min=2, max=100, description="depth",
                                       continuous_update=False, style=style, layout=wide),
            "activation": activation_dropdown(activation, EXPLORER_ACTIVATIONS, layout=wide),
            "init": widgets.Dropdown(options=list(EXPLORER_INITS), value=init, description="init",
                                     style=style, layout=wide),
            "norm": norm_dropdown(norm, layout=wide),
            "batch": widgets.SelectionSlider(options=list(BATCH_SIZES), value=batch,
                                             description="batch size", continuous_update=False,
                                             style=style, layout=wide),
        }
        super().__init__(controls, norm_explorer_figure(), columns=2)
        self.update()

    def _update(self) -> str:
        v = self.values()
        self.profile = p = norm_explorer_profile(v["depth"], v["activation"], norm_value(v["norm"]),
                                                 v["batch"], width=self.width, init=v["init"],
                                                 seed=self.seed)
        title = (f"{ACTIVATIONS[v['activation']].label}, {v['init']} init, depth {v['depth']}, "
                 f"width {self.width}, {norm_label(v['norm'])}, batch {v['batch']}, float64, "
                 "at initialization")
        update_norm_explorer_figure(self.figure, p, title=title)
        growth = growth_per_layer(p.weight_grad_norm, estimator="log_fit", skip=1)
        return (f"{ratio_sentence(p.weight_grad_norm)}; fitted growth per layer toward the "
                f"input: <b>{growth:.3f}</b>; mean saturation "
                f"{100 * p.saturation[:-1].mean():.1f}%")


def make_normalization_explorer(**settings) -> NormalizationExplorer:
    """The lesson-6 explorer; ``settings`` are the initial control values."""
    return NormalizationExplorer(**settings)
