"""Lesson 3's measurement: one network's per-layer gradient profile, as the explorer draws it.

The Gradient Flow Explorer (``helpers.widgets.gradient_flow``) and lesson 3's checks measure
a configuration the same way: build it (or re-initialise a cached network of the same
shape), run one forward and backward pass in train mode on the lesson's batch
(``helpers.data.lesson_data``) and take ``helpers.capture.gradient_profile``.

``flow_summary`` reduces a profile to the three numbers the explorer's status line shows.
The first/last *weight*-gradient ratio alone can be fooled: ``dL/dW_l`` is the backward
gradient times the layer's input, so when activations shrink as fast as gradients it reads
"balanced" while every gradient is tiny. The activation-gradient ratio and the absolute
scale (the largest ``||dL/dW||`` of any layer) expose that case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from helpers.activations import ACTIVATIONS
from helpers.capture import GradientProfile, gradient_profile
from helpers.data import lesson_data
from helpers.model_cache import ModelCache
from helpers.models import MLPConfig, build_mlp

EXPLORER_INITS = ("default", "xavier", "he", "orthogonal", "normal")  # the explorer's choices


def measure_config(config: MLPConfig, X=None, y=None, *,
                   cache: ModelCache | None = None) -> GradientProfile:
    """``gradient_profile`` of the network ``config`` builds, on ``(X, y)`` (default: the
    lesson's batch), in train mode; ``cache`` reuses a network of the same shape."""
    if not isinstance(config, MLPConfig):
        raise TypeError(f"config must be an MLPConfig, got {type(config).__name__}")
    if X is None and y is None:
        X, y = lesson_data()
    model = build_mlp(config) if cache is None else cache(config)
    return gradient_profile(model.train(), X, y)


def config_title(config: MLPConfig) -> str:
    """A one-line description of ``config`` for a chart title."""
    return (f"{ACTIVATIONS[config.activation].label}, depth {config.depth}, width "
            f"{config.width}, init {config.init}, norm {config.norm or 'none'}"
            f"{', residual' if config.residual else ''}, {config.dtype}")


@dataclass(frozen=True)
class FlowSummary:
    """A profile's gradient flow in three numbers (first and last *hidden* layers)."""

    weight_ratio: float  # ||dL/dW_1|| / ||dL/dW_depth||
    activation_ratio: float  # ||dL/da_1|| / ||dL/da_depth||, a_l the output of hidden layer l
    largest_weight_grad: float  # max over all Linear layers (output included) of ||dL/dW||

    @property
    def activation_orders(self) -> float:
        """log10 of the activation-gradient ratio (NaN if it is 0, infinite or undefined)."""
        r = self.activation_ratio
        return math.log10(r) if math.isfinite(r) and r > 0 else math.nan


def flow_summary(profile: GradientProfile) -> FlowSummary:
    """The weight- and activation-gradient ratios (first over last hidden layer) and the
    largest weight-gradient norm of ``profile`` (one of our MLPs: entry -1 is the output)."""
    g = np.asarray(profile.weight_grad_norm, dtype=np.float64)
    a = np.asarray(profile.activation_grad_norm, dtype=np.float64)
    last = len(g) - 2 if len(g) >= 2 else 0
    with np.errstate(divide="ignore", invalid="ignore"):
        w_ratio, a_ratio = float(g[0] / g[last]), float(a[0] / a[last])
    return FlowSummary(w_ratio, a_ratio, float(np.max(g)))  # NaN or inf if any entry is
