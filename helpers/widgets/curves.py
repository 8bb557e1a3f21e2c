"""A small explorer: pick activations and a pre-activation z, see phi(z) and phi'(z)."""

from __future__ import annotations

import ipywidgets as widgets

from helpers.activations import ACTIVATIONS, activation_fn, derivative, get_spec
from helpers.figures.curves import activation_curves_figure, update_activation_point
from helpers.validation import check_float
from helpers.widgets.base import LiveFigure


class ActivationPointExplorer(LiveFigure):
    """A ``z`` slider marks a point on each chosen activation and its derivative."""

    def __init__(self, names=("sigmoid", "tanh"), z: float = 1.0, z_range=(-6.0, 6.0)):
        self.names = [names] if isinstance(names, str) else list(names)
        for name in self.names:
            get_spec(name)
        lo, hi = (check_float("z_range", v) for v in z_range)
        z = check_float("z", z, lo, hi)  # the slider would clamp it silently
        controls = {"z": widgets.FloatSlider(z, min=lo, max=hi, step=0.1, description="z",
                                             continuous_update=True,
                                             layout=widgets.Layout(width="420px"))}
        super().__init__(controls, activation_curves_figure(self.names, z_range=z_range))
        self.update()

    def _update(self) -> str:
        z = self.controls["z"].value
        update_activation_point(self.figure, self.names, z)
        parts = [f"{ACTIVATIONS[n].label}: phi({z:.2f}) = {float(activation_fn(n)(z)):.4f}, "
                 f"phi'({z:.2f}) = {float(derivative(n)(z)):.4f}" for n in self.names]
        return "<br>".join(parts)


def make_activation_point_explorer(names=("sigmoid", "tanh"), z: float = 1.0):
    """Activation curves with a movable point; see ``ActivationPointExplorer``."""
    return ActivationPointExplorer(names, z)
