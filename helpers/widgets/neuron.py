"""The single-neuron explorer: move x, w and b of ``a = phi(w x + b)``, see where z lands."""

from __future__ import annotations

import html

import ipywidgets as widgets

from helpers.activations import get_spec
from helpers.figures.neuron import neuron_figure, update_neuron_figure
from helpers.topics.neuron import neuron_state
from helpers.validation import check_choice, check_float, check_int, check_seed
from helpers.widgets.base import LiveFigure, activation_dropdown

NEURON_ACTIVATIONS = ("sigmoid", "tanh")  # the activations with a two-sided saturation


class NeuronExplorer(LiveFigure):
    """Sliders for the input ``x``, the weight ``w`` and the bias ``b``, and an activation.

    The point ``z = w x + b`` is marked on ``phi`` and on ``phi'``; the right panel shows
    the distribution of ``z`` over Gaussian inputs ``x ~ N(0, 1)`` and the status line gives
    the saturated fraction computed exactly (normal CDF) and by Monte Carlo (fixed seed).
    An update costs a few milliseconds, so the sliders update continuously.
    """

    def __init__(self, *, x: float = 1.0, w: float = 1.0, b: float = 0.0,
                 activation: str = "sigmoid", n: int = 50_000, seed: int = 0):
        get_spec(activation)
        check_choice("activation", activation, NEURON_ACTIVATIONS)
        # The sliders would clamp values outside their ranges silently: refuse them here.
        x, w, b = check_float("x", x, -3.0, 3.0), check_float("w", w, -6.0, 6.0), \
            check_float("b", b, -6.0, 6.0)
        self.n, self.seed = check_int("n", n, 2), check_seed(seed)
        slider = dict(continuous_update=True, readout_format=".2f",
                      layout=widgets.Layout(width="300px"))
        controls = {
            "x": widgets.FloatSlider(x, min=-3.0, max=3.0, step=0.05, description="input x",
                                     **slider),
            "w": widgets.FloatSlider(w, min=-6.0, max=6.0, step=0.05, description="weight w",
                                     **slider),
            "b": widgets.FloatSlider(b, min=-6.0, max=6.0, step=0.05, description="bias b",
                                     **slider),
            "activation": activation_dropdown(activation, NEURON_ACTIVATIONS),
        }
        super().__init__(controls, neuron_figure(), columns=4)
        self.state = None
        self.update()

    def _update(self) -> str:
        v = self.values()
        s = neuron_state(v["x"], v["w"], v["b"], v["activation"], n=self.n, seed=self.seed)
        update_neuron_figure(self.figure, s)
        self.state = s
        where = ('<b style="color:#D55E00">saturated</b>' if s.saturated
                 else "not saturated")
        outside = (f" ({100 * s.outside:.1f}% of sampled z fall outside the drawn window)"
                   if s.outside > 0.0005 else "")
        return (f"z = w x + b = {s.z:.3f} ({where}), a = {s.a:.4f}, phi'(z) = {s.slope:.4g}; "
                f"gradients da/dw = x phi'(z) = {s.grad_w:.4g}, da/db = {s.grad_b:.4g}.<br>"
                f"Inputs x ~ N(0, 1) in saturation: <b>{100 * s.fraction:.3g}%</b> exact, "
                f"{100 * s.fraction_mc:.3g}% +- {100 * s.fraction_se:.2g}% Monte Carlo "
                f"(n = {s.n:,}, seed {s.seed}){html.escape(outside)}")


def make_neuron_explorer(**settings) -> NeuronExplorer:
    """The single-neuron explorer; keyword settings: x, w, b, activation, n, seed."""
    return NeuronExplorer(**settings)
