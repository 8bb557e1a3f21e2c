"""The phase-diagram explorer: controls drive the figure to the compute layer's numbers."""

import numpy as np
import pytest

from helpers.topics.initialization import measure_gradient_growth, phase_grid
from helpers.widgets.initialization import make_phase_diagram_explorer

SMALL = dict(depth=14, width=32, n_w=6, n_b=3)


def _assert_shows(w, activation, sw, sb, seed):
    r = measure_gradient_growth(activation, sw, sb, depth=14, width=32, seed=seed)
    assert w.error is None
    np.testing.assert_allclose(w.figure.data[3].y, r.grad_sq_norm, rtol=1e-12)
    np.testing.assert_allclose(w.figure.data[6].y, r.prediction, rtol=1e-12)
    assert list(w.figure.data[2].x) == [sw] and list(w.figure.data[2].y) == [sb]
    assert f"{r.chi1:.4f}" in w.status.value and r.phase in w.status.value


def test_every_control_redraws_with_the_compute_layers_numbers():
    w = make_phase_diagram_explorer("tanh", 1.5, 0.05, **SMALL)
    _assert_shows(w, "tanh", 1.5, 0.05, 0)
    grid = phase_grid("tanh", 6, 3)
    np.testing.assert_allclose(w.figure.data[0].z, np.log10(grid["chi1"]), rtol=1e-12)
    np.testing.assert_allclose(w.figure.data[1].x, grid["critical"], rtol=1e-12)
    w.sigma_w2.value = 2.5
    _assert_shows(w, "tanh", 2.5, 0.05, 0)
    w.sigma_b2.value = 0.2
    _assert_shows(w, "tanh", 2.5, 0.2, 0)
    w.seed.value = 3
    _assert_shows(w, "tanh", 2.5, 0.2, 3)
    w.activation.value = "relu"
    _assert_shows(w, "relu", 2.5, 0.2, 3)
    np.testing.assert_allclose(w.figure.data[1].x, 2.0, rtol=1e-6)  # ReLU: sigma_w2 = 2
    assert "relu" in w.grids and "tanh" in w.grids  # cached, not recomputed


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="valid choices"):
        make_phase_diagram_explorer("sigmoid", **SMALL)
    with pytest.raises(ValueError, match="between"):
        make_phase_diagram_explorer("tanh", 9.0, **SMALL)
