"""The order-to-chaos explorer: pick (sigma_w^2, sigma_b^2), see chi_1 and measured gradients."""

from __future__ import annotations

import ipywidgets as widgets

from helpers.activations import ACTIVATIONS
from helpers.figures.initialization import phase_figure, update_phase_map, update_phase_point
from helpers.topics.initialization import (
    PHASE_ACTIVATIONS,
    SIGMA_B2_RANGE,
    SIGMA_W2_RANGE,
    measure_gradient_growth,
    phase_grid,
)
from helpers.validation import check_choice, check_float, check_int
from helpers.widgets.base import LiveFigure, activation_dropdown

MAX_SEED = 10**6  # the seed box's range


class PhaseDiagramExplorer(LiveFigure):
    """Activation dropdown, sigma_w^2 and sigma_b^2 sliders and a seed; a chi_1 heatmap
    with its critical line and a marker at the chosen point, and that network's measured
    ``||dL/dh_l||^2`` per layer over the theory's ``chi_1^(depth - l)`` (dashed).

    The chi_1 grid of each activation is computed once, when first shown, and cached; moving
    the point then costs one forward and backward pass of one network.
    """

    def __init__(self, activation: str = "tanh", sigma_w2: float = 1.5, sigma_b2: float = 0.05,
                 *, depth: int = 30, width: int = 256, seed: int = 0, n_w: int = 32,
                 n_b: int = 13):
        check_choice("activation", activation, PHASE_ACTIVATIONS)
        sigma_w2 = check_float("sigma_w2", sigma_w2, *SIGMA_W2_RANGE)
        sigma_b2 = check_float("sigma_b2", sigma_b2, *SIGMA_B2_RANGE)
        seed = check_int("seed", seed, 0, MAX_SEED)  # the seed box would clamp it silently
        self.depth, self.width, self.n_w, self.n_b = depth, width, n_w, n_b
        self.grids: dict[str, dict] = {}
        self.growth = None
        self._shown_activation = None
        style = {"description_width": "initial"}
        wide = widgets.Layout(width="320px")
        controls = {
            "activation": activation_dropdown(activation, PHASE_ACTIVATIONS, layout=wide),
            "sigma_w2": widgets.FloatSlider(
                sigma_w2, min=SIGMA_W2_RANGE[0], max=SIGMA_W2_RANGE[1], step=0.01,
                description="sigma_w^2", continuous_update=False, readout_format=".2f",
                style=style, layout=wide),
            "sigma_b2": widgets.FloatSlider(
                sigma_b2, min=SIGMA_B2_RANGE[0], max=SIGMA_B2_RANGE[1], step=0.005,
                description="sigma_b^2", continuous_update=False, readout_format=".3f",
                style=style, layout=wide),
            "seed": widgets.BoundedIntText(seed, min=0, max=MAX_SEED, description="seed",
                                           style=style, layout=wide),
        }
        super().__init__(controls, phase_figure(activation))
        self.update()

    def grid(self, activation: str) -> dict:
        """The cached chi_1 grid and critical line of ``activation``."""
        if activation not in self.grids:
            self.grids[activation] = phase_grid(activation, self.n_w, self.n_b)
        return self.grids[activation]

    def _update(self) -> str:
        v = self.values()
        act = v["activation"]
        if act != self._shown_activation:
            g = self.grid(act)
            update_phase_map(self.figure, act, g["sigma_w2"], g["sigma_b2"], g["chi1"],
                             g["critical"])
            self._shown_activation = act
        self.growth = r = measure_gradient_growth(act, v["sigma_w2"], v["sigma_b2"],
                                                  depth=self.depth, width=self.width,
                                                  seed=v["seed"])
        label = ACTIVATIONS[act].label
        update_phase_point(self.figure, r, title=(
            f"Order to chaos: {label}, depth {self.depth}, width {self.width}, float64"))
        return (f"<b>{label}, sigma_w^2 = {r.sigma_w2:.3g}, sigma_b^2 = {r.sigma_b2:.3g}: "
                f"{r.phase}</b>. Theory: q* = {r.q_star:.4g}, chi_1 = {r.chi1:.4f}. "
                f"Measured growth of ||dL/dh_l||^2 per layer (layers {r.skip + 1}-"
                f"{r.depth - r.skip}): {r.growth:.4f} ({100 * r.relative_error:+.1f}% from "
                f"chi_1). First / last layer: {r.grad_sq_norm[0] / r.grad_sq_norm[-1]:.3g}.")


def make_phase_diagram_explorer(activation: str = "tanh", sigma_w2: float = 1.5,
                                sigma_b2: float = 0.05, **settings) -> PhaseDiagramExplorer:
    """The order-to-chaos phase diagram with a movable point; see ``PhaseDiagramExplorer``."""
    return PhaseDiagramExplorer(activation, sigma_w2, sigma_b2, **settings)
