"""The torch side of the activation registry: ``torch.nn.Module`` classes for each entry.

``helpers.activations`` is NumPy only; this module maps each of its registry names to a
PyTorch module (``get_activation``) and back (``activation_name``, so that capture tools
recognise activations in any model).
"""

from __future__ import annotations

from collections.abc import Callable

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


def activation_name(module: nn.Module) -> str | None:
    """Registry name of an activation module, or None if ``module`` is not one."""
    for cls in type(module).__mro__:
        if cls in MODULE_TYPES:
            return MODULE_TYPES[cls]
    return None
