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

``example_similarity`` (why ReLU + He has dead units although its signal keeps its size) and
``underflow_trace`` (where float32 turns a deep net's gradient into zeros) are the lesson's
two closer looks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from helpers.activations import ACTIVATIONS
from helpers.capture import GradientProfile, gradient_profile
from helpers.data import lesson_data
from helpers.model_cache import ModelCache
from helpers.models import MLPConfig, build_mlp, linear_layers, trace_layers

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


@torch.no_grad()
def example_similarity(config: MLPConfig, X=None) -> np.ndarray:
    """Mean cosine similarity between the hidden representations of two different examples,
    per hidden layer (block outputs, one entry per layer), on ``X`` (default: the lesson's)."""
    if X is None:
        X, _ = lesson_data()
    model = build_mlp(config)
    out = []
    for h in trace_layers(model, X.to(model.output.weight.dtype)).block_out:  # (batch, width)
        u = h.double() / h.double().norm(dim=1, keepdim=True).clamp_min(1e-300)
        cos = u @ u.T  # (batch, batch)
        n = cos.shape[0]
        out.append(float((cos.sum() - cos.diagonal().sum()) / (n * (n - 1))))
    return np.array(out)


def underflow_trace(config: MLPConfig, X=None, y=None, layers: int = 4) -> dict:
    """For the first ``layers`` hidden layers of ``config``'s network: the median |entry| of
    delta_l = dL/dz_l (z_l = W_l a_{l-1} + b_l) and of dL/dW_l, and the fraction of entries
    that are exactly 0, each a NumPy array (one entry per layer)."""
    if X is None and y is None:
        X, y = lesson_data()
    elif X is None or y is None:
        raise ValueError("give both X and y (class indices), or neither for the lesson's batch")
    model = build_mlp(config)
    trace = trace_layers(model, X.to(model.output.weight.dtype))
    weights = [lin.weight for _, lin in linear_layers(model)][:layers]
    grads = torch.autograd.grad(F.cross_entropy(trace.output, y),
                                [*trace.preact[:layers], *weights])
    stats = {"delta_median": [], "delta_zero": [], "dW_median": [], "dW_zero": []}
    for name, group in (("delta", grads[:layers]), ("dW", grads[layers:])):
        for g in group:
            a = g.detach().abs().double().flatten()
            stats[f"{name}_median"].append(float(a.median()))
            stats[f"{name}_zero"].append(float((a == 0).double().mean()))
    return {k: np.array(v) for k, v in stats.items()}
