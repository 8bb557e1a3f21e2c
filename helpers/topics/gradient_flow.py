"""Lesson 3's measurement: one network's per-layer gradient profile, as the explorer draws it.

The Gradient Flow Explorer (``helpers.widgets.gradient_flow``) and lesson 3's checks measure
a configuration the same way: build it (or re-initialise a cached network of the same
shape), run one forward and backward pass in train mode on the lesson's batch
(``helpers.data.lesson_data``) and take ``helpers.capture.gradient_profile``.
"""

from __future__ import annotations

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
