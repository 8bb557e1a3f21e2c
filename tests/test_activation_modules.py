"""helpers.activation_modules (the registry's torch side) and the NumPy-only core."""

import subprocess
import sys

import numpy as np
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
