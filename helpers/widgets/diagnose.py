"""The norm-position explorer: post-norm vs pre-norm Transformer stacks, layer by layer.

One control, the number of encoder layers. Each change builds both stacks at that depth
(``helpers.topics.diagnose.transformer_stack``, same seed), measures the gradient norm of
every layer's first feed-forward weight at initialization on the lesson's sequence batch,
and redraws both profiles; updates run on release (two passes of up to 24 layers).
"""

from __future__ import annotations

import ipywidgets as widgets

from helpers.figures.diagnose import depth_profiles_figure, update_depth_profiles_figure
from helpers.topics.diagnose import ffn_grad_norms, sequence_task, transformer_stack
from helpers.validation import check_int, check_seed
from helpers.widgets.base import LiveFigure

MIN_DEPTH, MAX_DEPTH = 2, 24
SERIES = ("post-norm", "pre-norm")


class NormPositionExplorer(LiveFigure):
    """Per-layer ||dL/dW1|| of post- and pre-norm stacks at one depth, at initialization."""

    def __init__(self, depth: int = 12, seed: int = 0):
        depth = check_int("depth", depth, MIN_DEPTH, MAX_DEPTH)
        self.seed = check_seed(seed)
        self.X, self.y = sequence_task(seed=self.seed)
        controls = {"depth": widgets.IntSlider(
            depth, min=MIN_DEPTH, max=MAX_DEPTH, step=1, description="encoder layers",
            continuous_update=False, style={"description_width": "initial"},
            layout=widgets.Layout(width="360px"))}
        self.profiles: dict = {}
        figure = depth_profiles_figure({s: [1.0] * depth for s in SERIES}, title="",
                                       x_title="encoder layer (1 = first)",
                                       y_title="||dL/dW1|| (log scale)", height=340)
        super().__init__(controls, figure)
        self.update()

    def _update(self) -> str:
        depth = self.values()["depth"]
        self.profiles = {s: ffn_grad_norms(transformer_stack(depth, s == "pre-norm", self.seed),
                                           self.X, self.y) for s in SERIES}
        update_depth_profiles_figure(self.figure, self.profiles,
                                     title=f"Feed-forward gradient per layer, {depth} layers "
                                           "(at initialization)")
        ratios = {s: p[0] / p[-1] for s, p in self.profiles.items()}
        return ("first/last layer: " + ", ".join(f"<b>{s} {r:.2f}</b>"
                                                  for s, r in ratios.items()))


def make_norm_position_explorer(**settings) -> NormPositionExplorer:
    """The norm-position explorer; ``settings`` are the initial depth and the seed."""
    return NormPositionExplorer(**settings)
