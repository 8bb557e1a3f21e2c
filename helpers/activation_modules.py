"""The torch side of the activation registry: ``torch.nn.Module`` classes for each entry.

``helpers.activations`` is NumPy only; this module maps each of its registry names to a
PyTorch module (``get_activation``) and back (``activation_name``, so that capture tools
recognise activations in any model); ``dead_unit_mask`` is the one definition of a dead
unit, for a whole batch or for several stacked layers at once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from helpers.activations import ELU_ALPHA, LEAKY_SLOPE, get_spec


class IdentityActivation(nn.Identity):
    """The identity used as an activation, distinct from ``nn.Identity`` used as a placeholder."""


# Registry name -> a function building a fresh module (never in-place).
MODULE_FACTORIES: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE), "elu": lambda: nn.ELU(ELU_ALPHA),
    "gelu": nn.GELU, "silu": nn.SiLU, "linear": IdentityActivation,
}

# Module class -> registry name, so that capture tools can recognise activations in any model.
MODULE_TYPES: dict[type, str] = {
    nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu",
    nn.ELU: "elu", nn.GELU: "gelu", nn.SiLU: "silu", IdentityActivation: "linear",
}


def get_activation(name: str) -> nn.Module:
    """A new ``torch.nn.Module`` for the activation ``name`` (never in-place)."""
    return MODULE_FACTORIES[get_spec(name).name]()


# Activation modules of Hugging Face ``transformers`` (matched by class name, so that the
# package is never imported): all compute GELU, exactly or by its tanh approximation.
FOREIGN_TYPES = {"GELUActivation": "gelu", "NewGELUActivation": "gelu",
                 "FastGELUActivation": "gelu", "GELUTanh": "gelu", "PytorchGELUTanh": "gelu"}


def activation_name(module: nn.Module) -> str | None:
    """Registry name of an activation module (PyTorch's, the course's, or a Hugging Face
    GELU), or None if ``module`` is not one."""
    for cls in type(module).__mro__:
        if cls in MODULE_TYPES:
            return MODULE_TYPES[cls]
    return FOREIGN_TYPES.get(type(module).__name__)


def dead_unit_mask(z, batch_dim: int = 0):
    """Which units are dead on a batch: ``z <= 0`` (or NaN) on every example.

    ``z`` holds pre-activations (or ReLU outputs, which are 0 exactly where ``z <= 0``), with
    the examples along ``batch_dim``: (examples, units), or e.g. (layers, examples, units)
    with ``batch_dim=1``. Returns a bool array of ``z``'s shape without ``batch_dim``: a
    NumPy array for array input, a tensor (on ``z``'s device) for tensor input.
    """
    is_tensor = isinstance(z, torch.Tensor)
    t = z.detach() if is_tensor else torch.as_tensor(np.asarray(z, dtype=np.float64))
    if t.ndim < 2 or t.shape[batch_dim] == 0:
        raise ValueError(f"A must have shape (examples, units) with at least one example, "
                         f"got {tuple(t.shape)}")
    # A unit is alive if z > 0 on some example: the maximum over the batch decides that in
    # one reduction, unless a NaN (which the maximum propagates) hides a positive z.
    top = t.amax(dim=batch_dim)
    alive = (t > 0).any(dim=batch_dim) if torch.isnan(top).any() else top > 0
    return ~alive if is_tensor else (~alive).numpy()
