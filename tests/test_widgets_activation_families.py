"""Tests for helpers.widgets.activation_families: set controls, check the figure's numbers."""

import numpy as np
import pytest

from helpers.activations import derivative
from helpers.figures.activation_families import PICKER_NAMES
from helpers.widgets.activation_families import make_activation_picker


def trace(w, name, which):
    return w.figure.data[2 * PICKER_NAMES.index(name) + which]


def test_picker_controls_drive_the_figure():
    w = make_activation_picker(["sigmoid"], (-4, 4))
    assert w.error is None and "Sigmoid" in w.status.value
    w.activations.value = ("relu", "elu")
    assert w.error is None
    assert not trace(w, "sigmoid", 0).visible
    z = np.asarray(trace(w, "elu", 1).x)
    np.testing.assert_allclose(trace(w, "elu", 1).y, derivative("elu")(z))
    w.z_range.value = (-10.0, -2.0)
    z = np.asarray(trace(w, "relu", 1).x)
    assert z.min() == -10.0 and z.max() == -2.0
    assert np.all(np.asarray(trace(w, "relu", 1).y) == 0.0)
    assert "100% of the range" in w.status.value  # ReLU' is 0 on the whole negative range
    w.activations.value = ()
    assert w.error is None and "Select" in w.status.value
    assert not any(t.visible for t in w.figure.data)


def test_picker_validates_arguments():
    with pytest.raises(ValueError, match="valid choices"):
        make_activation_picker(["nope"])
    with pytest.raises(ValueError, match="lo < hi"):
        make_activation_picker(["relu"], (3, -3))


def test_every_trace_after_every_control():
    """Each registry activation has two traces (phi, phi'); the chosen ones are visible and
    hold phi and phi' on a grid spanning the z range, the others are hidden."""
    from helpers.activations import activation_fn

    w = make_activation_picker(["sigmoid"], (-4, 4))
    assert len(w.figure.data) == 2 * len(PICKER_NAMES)

    def check(chosen, lo, hi):
        assert w.error is None
        for name in PICKER_NAMES:
            for which, fn in ((0, activation_fn(name)), (1, derivative(name))):
                t = trace(w, name, which)
                if name not in chosen:
                    assert t.visible is False or t.visible == "legendonly", (name, which)
                    continue
                assert t.visible in (True, None), (name, which)
                z = np.asarray(t.x, float)
                assert z.min() == lo and z.max() == hi and np.all(np.diff(z) > 0)
                np.testing.assert_allclose(np.asarray(t.y, float), fn(z), rtol=1e-12,
                                           atol=1e-300, err_msg=f"{name} {which}")

    check(["sigmoid"], -4, 4)
    w.activations.value = ("tanh", "relu", "elu")
    check(["tanh", "relu", "elu"], -4, 4)
    w.z_range.value = (-7.5, 2.0)
    check(["tanh", "relu", "elu"], -7.5, 2.0)
