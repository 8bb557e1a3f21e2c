"""Measure gradients and activations layer by layer, for our MLPs or any ``torch.nn.Module``.

``gradient_profile`` runs one forward and backward pass and returns per-parameter
statistics as NumPy arrays: one entry per weight matrix or kernel (every parameter with
2 or more dimensions) in forward order, named by its module. ``GradientMonitor`` (defined
in ``helpers.monitor``, importable from here) records statistics over many training steps.

The work is split over core modules: ``helpers.model_io`` (inputs and losses),
``helpers.recorder`` (``capture_pass``: what is recorded and the rules for frozen,
tied, parametrized and in-place layers), ``helpers.layer_stats`` (the statistics) and
``helpers.norms`` (norms that cannot under- or overflow).

What an entry's *activation* is: the output of the activation module (``nn.Tanh``,
``nn.ReLU``, ... any type in ``helpers.activations.MODULE_TYPES``) that the model calls
right after the entry's module; for a module with no activation after it (the output
layer) it is the module's own output (the logits), labelled "linear".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from helpers.layer_stats import pass_statistics
from helpers.model_io import LOSSES, check_data, compute_loss
from helpers.monitor import GradientMonitor, MonitorHistory
from helpers.recorder import CapturedPass, capture_pass
from helpers.validation import check_int

__all__ = ["GradientProfile", "gradient_profile", "CapturedPass", "capture_pass", "GradientMonitor",
           "MonitorHistory", "check_data", "compute_loss", "LOSSES"]


@dataclass(frozen=True, repr=False)
class GradientProfile:
    """Statistics of one forward/backward pass; arrays have one entry per weight parameter.

    Frozen entries have NaN gradient statistics; entries whose activation was not measured
    (``activations[i] == "n/a"``) have NaN activation statistics.
    """

    layer_names: tuple[str, ...]  # qualified name of each weight's module, in forward order
    param_names: tuple[str, ...]  # the weight's name in its module ("weight", "weight_hh_l0")
    activations: tuple[str, ...]  # activation after the module ("linear" if none, "n/a")
    frozen: np.ndarray  # bool: requires_grad is False, no gradient taken
    parametrizations: tuple[str, ...]  # "WeightNorm", "SpectralNorm", ... or "" if none
    weight_grad_norm: np.ndarray  # ||dLoss/dW|| (L2 over all entries, never under/overflows)
    weight_norm: np.ndarray  # ||W||
    grad_zero_fraction: np.ndarray  # fraction of dLoss/dW entries exactly 0 (underflow, dead)
    activation_mean: np.ndarray  # mean of the layer's activation over batch and units
    activation_std: np.ndarray  # std of the same values
    activation_grad_norm: np.ndarray  # ||dLoss/d activation|| over the batch
    saturation: np.ndarray  # fraction of units in the saturating region (see activations)
    dead_fraction: np.ndarray  # ReLU-like: fraction of units inactive on every example
    hist_edges: np.ndarray  # (bins + 1,) common bin edges of the activation histograms
    activation_hist: np.ndarray  # (layers, bins) fraction of sampled activations per bin
    loss: float  # loss value of this pass
    dtype: str  # floating-point type the pass ran in

    @property
    def grad_data_ratio(self) -> np.ndarray:
        """||dLoss/dW|| / ||W|| per layer: how big a gradient step is relative to the weights."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.weight_grad_norm / self.weight_norm

    @property
    def first_to_last_ratio(self) -> float:
        """First hidden layer's weight-gradient norm over the last hidden layer's."""
        n = len(self.layer_names)
        last = n - 2 if n >= 2 else 0
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(self.weight_grad_norm[0] / self.weight_grad_norm[last])

    def entry_name(self, i: int) -> str:
        """``layer_names[i]``, with the parameter's name if it is not "weight" and a mark
        for a frozen ("frozen") or parametrized ("WeightNorm") one."""
        name = self.layer_names[i] or "(model)"
        if self.param_names[i] != "weight":
            name += f".{self.param_names[i]}"
        marks = [m for m in ("frozen" if self.frozen[i] else "", self.parametrizations[i]) if m]
        return name + (f" [{', '.join(marks)}]" if marks else "")

    def __len__(self) -> int:
        return len(self.layer_names)

    def __repr__(self) -> str:
        w = min(40, max([16] + [len(self.entry_name(i)) + 2 for i in range(len(self))]))
        rows = [
            f"GradientProfile({len(self)} layers, loss={self.loss:.4g}, dtype={self.dtype}, "
            f"first/last hidden grad ratio={self.first_to_last_ratio:.3g})",
            f"  {'layer':<{w}}{'act':<11}{'|dW|':>11}{'|W|':>10}{'act std':>10}"
            f"{'sat %':>8}{'dead %':>8}",
        ]
        idx = list(range(len(self)))
        if len(idx) > 12:
            idx = idx[:5] + [-1] + idx[-5:]
        for i in idx:
            if i == -1:
                rows.append("  ...")
                continue
            rows.append(
                f"  {self.entry_name(i)[:w - 1]:<{w}}{self.activations[i]:<11}"
                f"{self.weight_grad_norm[i]:>11.3e}{self.weight_norm[i]:>10.3g}"
                f"{self.activation_std[i]:>10.3g}{100 * self.saturation[i]:>8.1f}"
                f"{100 * self.dead_fraction[i]:>8.1f}"
            )
        return "\n".join(rows)


def gradient_profile(
    model: nn.Module,
    X,
    y=None,
    loss="cross_entropy",
    *,
    bins: int = 40,
    sample: int = 4096,
) -> GradientProfile:
    """One forward/backward pass of ``model`` on ``(X, y)``, measured parameter by parameter.

    Args:
        model: any module with weight parameters (run in its current train/eval mode).
        X: inputs as the model takes them: a tensor or NumPy array (``model(X)``), a tuple
            (``model(*X)``) or a dict of keyword arguments (``model(**X)``). Floating-point
            inputs are cast to the model's dtype; integer ones stay integers (token ids)
            when the model has an ``nn.Embedding``.
        y: targets, class indices for ``"cross_entropy"``, values for ``"mse"``; None if
            ``loss`` is a callable of the output alone.
        loss: ``"cross_entropy"``, ``"mse"`` or a callable ``loss(output, y)`` (or
            ``loss(output)`` when ``y`` is None) returning a scalar; give a callable when
            the model returns a tuple, a dict or a Hugging Face output.
        bins: number of histogram bins.
        sample: at most this many evenly spaced values per layer go into the histograms.
    Returns:
        A ``GradientProfile``; arrays are float64 with one entry per weight in forward order.
    """
    bins = check_int("bins", bins, 1, 1000)
    sample = check_int("sample", sample, 1)
    cap = capture_pass(model, X, y, loss)
    return GradientProfile(
        layer_names=cap.layer_names, param_names=cap.param_names, activations=cap.activations,
        frozen=np.array(cap.frozen, dtype=bool), parametrizations=cap.parametrizations,
        **pass_statistics(cap, bins, sample),
        loss=float(cap.loss), dtype=str(cap.dtype).replace("torch.", ""),
    )
