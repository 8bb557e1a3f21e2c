"""helpers.figures.curves: the activation curves and the marked point, against NumPy."""

import numpy as np
import pytest

from helpers.figures.curves import (
    activation_curves_figure,
    check_z_range,
    phi_dphi_figure,
    update_activation_point,
)


def test_one_name_as_a_string_draws_that_activation_and_its_point():
    fig = activation_curves_figure("tanh", z_range=(-2.0, 2.0), n=5, point=1.0)
    phi, dphi, point, slope = fig.data
    z = np.linspace(-2.0, 2.0, 5)
    np.testing.assert_array_equal(phi.x, z)
    np.testing.assert_allclose(phi.y, np.tanh(z), rtol=1e-15)
    np.testing.assert_allclose(dphi.y, 1 - np.tanh(z) ** 2, rtol=1e-14, atol=1e-16)
    assert (phi.xaxis, dphi.xaxis, point.xaxis, slope.xaxis) == ("x", "x2", "x", "x2")
    assert list(point.x) == [1.0] and list(slope.x) == [1.0]
    assert point.y[0] == np.float64(np.tanh(1.0)).item()
    np.testing.assert_allclose(slope.y, [1 - np.tanh(1.0) ** 2], rtol=1e-14)
    assert list(point.text) == [f"{np.tanh(1.0):.3g}"] == ["0.762"]
    update_activation_point(fig, "tanh", 0.0)
    assert list(point.y) == [0.0] and list(slope.y) == [1.0] and list(slope.text) == ["1"]


def test_several_names_each_get_a_pair_of_curves():
    z = np.array([-1.0, 0.0, 1.0])
    fig = phi_dphi_figure(["sigmoid", "relu"], z, title="t")
    assert len(fig.data) == 4
    np.testing.assert_allclose(fig.data[0].y, 1 / (1 + np.exp(-z)), rtol=1e-15)
    np.testing.assert_array_equal(fig.data[2].y, [0.0, 0.0, 1.0])
    one = phi_dphi_figure("relu", z, title="t")
    assert len(one.data) == 2 and list(one.data[0].y) == [0.0, 0.0, 1.0]


def test_z_range_must_be_increasing():
    assert check_z_range([-1, 2]) == (-1.0, 2.0)
    for bad in ((1.0, 1.0), (2.0, -2.0), (0.0, float("inf"))):
        with pytest.raises(ValueError) as info:
            check_z_range(bad)
        assert str(info.value) == f"z_range must be two finite numbers with lo < hi, got {bad}"
