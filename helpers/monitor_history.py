"""``MonitorHistory``: what a ``GradientMonitor`` recorded, as (records, modules/weights) arrays.

Plain data (NumPy only), so that figures and reports can read a history without torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, repr=False)
class MonitorHistory:
    """What a ``GradientMonitor`` recorded; arrays are (records, modules) or (records,
    weights), NaN where unknown."""

    module_names: tuple[str, ...]  # qualified names, in registration order
    module_types: tuple[str, ...]  # class names, e.g. "Linear", "ReLU"
    weight_names: tuple[str, ...]  # qualified parameter names, e.g. "0.weight", "weight_hh_l0"
    weight_frozen: np.ndarray  # (weights,) bool: requires_grad is False
    steps: np.ndarray  # (records,) index of each recorded step: 0, every, 2 * every, ...
    output_mean: np.ndarray  # mean of each module's output
    output_std: np.ndarray  # std of each module's output
    output_grad_norm: np.ndarray  # ||dLoss/d output||
    weight_norm: np.ndarray  # (records, weights) ||W|| before the step's update
    weight_grad_norm: np.ndarray  # (records, weights) ||dLoss/dW|| (NaN: frozen)
    update_ratio: np.ndarray  # (records, weights) ||W_after - W_before|| / ||W_before||

    @property
    def grad_data_ratio(self) -> np.ndarray:
        """||dLoss/dW|| / ||W|| per record and weight."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.weight_grad_norm / self.weight_norm

    def __repr__(self) -> str:
        lines = [f"MonitorHistory({len(self.steps)} steps, {len(self.module_names)} modules, "
                 f"{len(self.weight_names)} weights)"]
        if len(self.steps):
            lines.append(f"  {'weight':<28}{'|dW| last':>12}{'update ratio':>14}")
            for j, name in enumerate(self.weight_names):
                updates = self.update_ratio[:, j]
                ok = np.isfinite(updates)
                mean_update = updates[ok].mean() if ok.any() else np.nan
                mark = " (frozen)" if self.weight_frozen[j] else ""
                lines.append(f"  {(name + mark)[:27]:<28}{self.weight_grad_norm[-1, j]:>12.3e}"
                             f"{mean_update:>14.3e}")
        return "\n".join(lines)
