"""The activation picker: choose activations and a z range, see phi and phi' live."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from helpers.activations import ACTIVATIONS, SATURATION_FRACTION, get_spec
from helpers.figures.activation_families import (
    activation_picker_figure,
    picker_curves,
    update_activation_picker_figure,
)
from helpers.widgets.base import LiveFigure

Z_LIMIT = 20.0  # the z range slider spans [-Z_LIMIT, Z_LIMIT]


class ActivationPicker(LiveFigure):
    """A multi-select of registry activations and a z-range slider over two live panels.

    The status line gives, for each chosen activation, the largest and smallest phi'
    on the range and the share of the range where phi' is below 10% of its maximum
    (saturated, or dead for ReLU's zero side).
    """

    def __init__(self, names=("sigmoid", "tanh", "relu"), z_range=(-5.0, 5.0)):
        names = [names] if isinstance(names, str) else list(names)
        for name in names:
            get_spec(name)
        lo, hi = z_range
        if not -Z_LIMIT <= lo < hi <= Z_LIMIT:
            raise ValueError(f"z_range must satisfy {-Z_LIMIT} <= lo < hi <= {Z_LIMIT}, "
                             f"got {z_range}")
        controls = {
            "activations": widgets.SelectMultiple(
                options=[(s.label, n) for n, s in ACTIVATIONS.items()], value=tuple(names),
                rows=len(ACTIVATIONS), description="activations",
                style={"description_width": "initial"}),
            "z_range": widgets.FloatRangeSlider(
                value=(float(lo), float(hi)), min=-Z_LIMIT, max=Z_LIMIT, step=0.5,
                description="z range", continuous_update=True, readout_format=".1f",
                layout=widgets.Layout(width="420px")),
        }
        super().__init__(controls, activation_picker_figure(names, z_range), columns=2)
        self.update()

    def _update(self) -> str:
        names = list(self.controls["activations"].value)
        z_range = self.controls["z_range"].value
        update_activation_picker_figure(self.figure, names, z_range)
        if not names:
            return "Select one or more activations (Ctrl/Cmd-click for several)."
        curves = picker_curves(names, z_range)
        parts = []
        for name in names:
            d = curves[name][1]
            limit = SATURATION_FRACTION * ACTIVATIONS[name].max_derivative
            small = float(np.mean(np.abs(d) < limit))
            parts.append(f"<b>{ACTIVATIONS[name].label}</b>: phi' from {d.min():.3g} to "
                         f"{d.max():.3g}; below 10% of its maximum on {100 * small:.0f}% "
                         "of the range")
        return "<br>".join(parts)


def make_activation_picker(names=("sigmoid", "tanh", "relu"), z_range=(-5.0, 5.0)):
    """The activation picker; see ``ActivationPicker``."""
    return ActivationPicker(names, z_range)
