"""Tests for helpers.widgets.neuron: moving each control redraws the right numbers."""

import numpy as np
import pytest

from helpers.activations import activation_fn, derivative
from helpers.figures import neuron as fn
from helpers.topics.neuron import neuron_state, saturated_fraction
from helpers.widgets.neuron import NeuronExplorer, make_neuron_explorer


def assert_matches(w, x, wt, b, activation="sigmoid"):
    from helpers.activations import get_spec

    expected = neuron_state(x, wt, b, activation, n=w.n, seed=w.seed)
    d = w.figure.data
    assert w.error is None
    assert d[fn.PHI_POINT].x[0] == pytest.approx(wt * x + b)
    assert d[fn.PHI_POINT].y[0] == pytest.approx(float(activation_fn(activation)(wt * x + b)))
    assert d[fn.DPHI_POINT].y[0] == pytest.approx(float(derivative(activation)(wt * x + b)))
    np.testing.assert_allclose(d[fn.DENSITY].y, expected.density)
    np.testing.assert_allclose(d[fn.HIST].y, expected.hist_density)
    np.testing.assert_allclose(d[fn.PHI].y, activation_fn(activation)(expected.z_grid))
    assert f"{100 * saturated_fraction(wt, b, activation):.3g}%" in w.status.value
    assert f"{100 * expected.fraction_mc:.3g}%" in w.status.value
    # every other trace, from the state and the activation (not from the figure module)
    z, spec = expected.z_grid, get_spec(activation)
    phi, dphi = activation_fn(activation)(z), derivative(activation)(z)
    level = 0.1 * spec.max_derivative
    sat = dphi < level  # the saturating region: phi' below 10% of its maximum
    for i, xs, ys in ((fn.PHI, z, phi), (fn.PHI_SAT, z, np.where(sat, phi, np.nan)),
                    (fn.DPHI, z, dphi), (fn.DPHI_SAT, z, np.where(sat, dphi, np.nan)),
                    (fn.DENSITY, z, expected.density),
                    (fn.DENSITY_SAT, z, np.where(sat, expected.density, np.nan)),
                    (fn.HIST, expected.hist_centers, expected.hist_density),
                    (fn.THRESHOLD, [z[0], z[-1]], [level, level]),
                    (fn.DPHI_POINT, [wt * x + b], [float(derivative(activation)(wt * x + b))]),
                    (fn.Z_LINE, [wt * x + b] * 2,
                     [0.0, max(expected.density.max(), expected.hist_density.max(), 1e-12)])):
        np.testing.assert_allclose(np.asarray(d[i].x, float), xs, rtol=1e-12, err_msg=str(i))
        np.testing.assert_allclose(np.asarray(d[i].y, float), ys, rtol=1e-12, err_msg=str(i))
    assert d[fn.PHI_POINT].x[0] == pytest.approx(expected.z)


def test_each_control_changes_the_figure():
    w = make_neuron_explorer(n=4000)
    assert isinstance(w, NeuronExplorer) and w.updates == 1
    assert_matches(w, 1.0, 1.0, 0.0)
    w.x.value = -2.0
    assert_matches(w, -2.0, 1.0, 0.0)
    before = np.array(w.figure.data[fn.DENSITY].y)
    w.w.value = 3.5
    assert_matches(w, -2.0, 3.5, 0.0)
    assert not np.allclose(before, w.figure.data[fn.DENSITY].y)
    w.b.value = 1.25
    assert_matches(w, -2.0, 3.5, 1.25)
    w.activation.value = "tanh"
    assert_matches(w, -2.0, 3.5, 1.25, "tanh")
    assert w.figure.data[fn.THRESHOLD].y[0] == pytest.approx(0.1)
    assert "saturated" in w.status.value and w.state.activation == "tanh"


def test_zero_weight_is_handled():
    w = make_neuron_explorer(n=2000, b=5.0)
    w.w.value = 0.0
    assert w.error is None and "<b>100%</b> exact" in w.status.value


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="sigmoid, tanh"):
        make_neuron_explorer(activation="relu")
    with pytest.raises(ValueError, match="valid choices"):
        make_neuron_explorer(activation="nope")


def test_errors_inside_an_update_are_shown(monkeypatch):
    w = make_neuron_explorer(n=2000)

    def boom(*args, **kwargs):
        raise RuntimeError("kaputt")

    monkeypatch.setattr("helpers.widgets.neuron.neuron_state", boom)
    w.w.value = 2.0
    assert isinstance(w.error, RuntimeError) and "kaputt" in w.status.value


def test_static_snapshot():
    w = make_neuron_explorer(n=2000)
    bundle = w._repr_mimebundle_()
    assert "static snapshot" in bundle["text/html"] and "NeuronExplorer" in bundle["text/plain"]
