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


def _assert_every_trace(w, activation, sw, sb, seed):
    from trace_oracles import assert_log_triple, assert_xy

    from helpers.theory import chi1

    r = measure_gradient_growth(activation, sw, sb, depth=14, width=32, seed=seed)
    assert w.error is None and len(w.figure.data) == 9
    heat = w.figure.data[0]
    sw_grid, sb_grid = np.linspace(0.1, 4.0, 6), np.linspace(0.0, 0.3, 3)
    np.testing.assert_allclose(heat.x, sw_grid)
    np.testing.assert_allclose(heat.y, sb_grid)
    # colour = log10 chi_1, computed here point by point (not by the vectorised grid)
    want = [[np.log10(chi1(activation, a, b)) for a in sw_grid] for b in sb_grid]
    np.testing.assert_allclose(np.asarray(heat.z, float), want, rtol=1e-9, atol=1e-12)
    crit = w.figure.data[1]
    np.testing.assert_allclose(crit.y, sb_grid)
    for a, b in zip(crit.x, crit.y):  # on the critical line chi_1 = 1
        assert chi1(activation, a, b) == pytest.approx(1.0, abs=1e-6)
    assert tuple(w.figure.layout.xaxis.range) == (sw_grid[0], sw_grid[-1])
    assert tuple(w.figure.layout.yaxis.range) == (sb_grid[0], sb_grid[-1])
    assert_xy(w.figure.data[2], [sw], [sb], what="point")
    assert_log_triple(w.figure.data[3:6], r.grad_sq_norm, what="measured")
    assert_log_triple(w.figure.data[6:9], r.prediction, what="theory")
    depth = len(r.grad_sq_norm)
    np.testing.assert_allclose(r.prediction, r.chi1 ** (depth - np.arange(1, depth + 1))
                               * r.prediction[-1], rtol=1e-9)


def test_every_trace_after_every_control():
    from helpers.topics.initialization import SIGMA_B2_RANGE, SIGMA_W2_RANGE

    assert (SIGMA_W2_RANGE, SIGMA_B2_RANGE) == ((0.1, 4.0), (0.0, 0.3))
    w = make_phase_diagram_explorer("tanh", 1.5, 0.05, **SMALL)
    _assert_every_trace(w, "tanh", 1.5, 0.05, 0)
    for name, value, state in (("sigma_w2", 2.5, ("tanh", 2.5, 0.05, 0)),
                               ("sigma_b2", 0.2, ("tanh", 2.5, 0.2, 0)),
                               ("seed", 3, ("tanh", 2.5, 0.2, 3)),
                               ("activation", "relu", ("relu", 2.5, 0.2, 3))):
        getattr(w, name).value = value
        _assert_every_trace(w, *state)
