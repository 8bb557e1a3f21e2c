"""helpers.activation_modules (the registry's torch side) and the NumPy-only core."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers.activation_modules import MODULE_FACTORIES, dead_unit_mask, get_activation
from helpers.activations import ACTIVATIONS, get_spec


def test_theory_and_activations_load_without_torch():
    code = ("import sys; sys.modules['torch'] = None; import helpers.theory, helpers.activations,"
            " helpers.topics.neuron, helpers.figures.neuron, helpers.figures.curves,"
            " helpers.norm_layers, helpers.monitor_history, helpers.jacobians, helpers.growth")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_registry_entry_has_a_module():
    assert set(MODULE_FACTORIES) == set(ACTIVATIONS)
    for name in ACTIVATIONS:
        a, b = get_spec(name).module(), get_activation(name)
        assert type(a) is type(b) and a is not b


def test_dead_unit_mask_on_stacked_layers_matches_each_layer():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(3, 5, 7, generator=gen, dtype=torch.float64)  # (layers, batch, units)
    z[0, :, 2] = -1.0  # dead in layer 0
    z[2, :, 4] = 0.0  # z <= 0 everywhere: dead
    z[1, 3, 1] = float("nan")  # a NaN does not hide a positive value elsewhere
    stacked = dead_unit_mask(z, batch_dim=1)
    assert stacked.shape == (3, 7) and stacked.dtype == torch.bool
    for k in range(3):
        want = ~(z[k].numpy() > 0).any(axis=0)
        np.testing.assert_array_equal(stacked[k].numpy(), want)
        np.testing.assert_array_equal(dead_unit_mask(z[k].numpy()), want)
    assert stacked[0, 2] and stacked[2, 4]


def test_dead_unit_mask_input_kinds_and_errors():
    """NumPy (or list) input gives a NumPy mask, a tensor that needs grad gives a tensor; an
    input with no example axis or no example is refused with the shape it had."""
    z = [[-1.0, 2.0, 0.0], [-3.0, -1.0, 0.0]]
    mask = dead_unit_mask(np.array(z))
    assert isinstance(mask, np.ndarray) and mask.tolist() == [True, False, True]
    assert dead_unit_mask(z).tolist() == [True, False, True]
    t = torch.tensor(z, requires_grad=True)
    got = dead_unit_mask(t)
    assert isinstance(got, torch.Tensor) and got.tolist() == [True, False, True]
    for bad, shape in ((np.array([1.0, -1.0]), "(2,)"), (np.zeros((0, 3)), "(0, 3)")):
        with pytest.raises(ValueError) as info:
            dead_unit_mask(bad)
        assert str(info.value) == ("A must have shape (examples, units) with at least one "
                                   f"example, got {shape}")


def test_activation_name_of_hugging_face_gelu_by_class_name():
    """transformers' GELU modules are recognised by class name, without importing it."""
    from torch import nn

    from helpers.activation_modules import activation_name

    for cls_name in ("GELUActivation", "NewGELUActivation", "PytorchGELUTanh"):
        module = type(cls_name, (nn.Module,), {"forward": lambda self, x: x})()
        assert activation_name(module) == "gelu"
    assert activation_name(type("Other", (nn.Module,), {})()) is None
