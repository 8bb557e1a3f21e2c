"""Tests for helpers.figures.activation_families: traces and their data."""

import numpy as np
import pytest

from helpers.activations import ACTIVATIONS, activation_fn, derivative
from helpers.figures.activation_families import (
    PICKER_NAMES,
    activation_picker_figure,
    dead_units_figure,
    gradient_flow_comparison_figure,
    picker_curves,
    squared_derivative_figure,
    update_activation_picker_figure,
    update_gradient_flow_comparison_figure,
)
from helpers.figures.style import ACTIVATION_COLORS


def test_picker_figure_shows_only_selected_with_registry_data():
    fig = activation_picker_figure(["relu", "sigmoid"], (-3, 3))
    assert len(fig.data) == 2 * len(ACTIVATIONS)
    for i, name in enumerate(PICKER_NAMES):
        phi, dphi = fig.data[2 * i], fig.data[2 * i + 1]
        assert phi.line.color == dphi.line.color == ACTIVATION_COLORS[name]
        if name in ("relu", "sigmoid"):
            assert phi.visible and dphi.visible
            z = np.asarray(phi.x)
            assert z.min() == -3 and z.max() == 3 and 0.0 in z
            np.testing.assert_allclose(phi.y, activation_fn(name)(z))
            np.testing.assert_allclose(dphi.y, derivative(name)(z))
        else:
            assert phi.visible is False and len(phi.x) == 0
    assert fig.layout.title.text
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert fig.layout.yaxis2.title.text == "phi'(z)"


def test_picker_update_changes_selection_and_range():
    fig = activation_picker_figure(["relu"], (-3, 3))
    update_activation_picker_figure(fig, ["tanh"], (1.0, 2.0))
    i = PICKER_NAMES.index("tanh")
    assert fig.data[2 * i].visible
    assert min(fig.data[2 * i].x) == 1.0 and max(fig.data[2 * i].x) == 2.0
    assert not fig.data[2 * PICKER_NAMES.index("relu")].visible
    with pytest.raises(ValueError, match="lo < hi"):
        update_activation_picker_figure(fig, ["tanh"], (2.0, 1.0))
    with pytest.raises(ValueError, match="valid choices"):
        picker_curves(["nope"], (-1, 1))


def test_squared_derivative_figure_log_x_and_data():
    table = {"names": ("relu", "gelu"), "q": np.array([0.1, 1.0, 10.0]),
             "quadrature": np.array([[0.5, 0.5, 0.5], [0.3, 0.45, 0.5]]),
             "monte_carlo": np.array([[0.49, 0.5, 0.51], [0.31, 0.46, np.nan]]),
             "std_error": np.array([[0.01, 0.01, 0.01], [0.0, 0.01, 0.01]])}
    fig = squared_derivative_figure(table)
    assert len(fig.data) == 4
    assert fig.layout.xaxis.type == "log"
    assert fig.data[0].line.dash == "dash"
    np.testing.assert_allclose(fig.data[3].error_y.array, 2 * table["std_error"][1])
    assert "(log scale)" in fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_gradient_flow_comparison_draws_zero_nan_inf():
    norms = np.array([[1e-3, 1e-2, 1e-1, 1.0], [0.0, np.nan, 1.0, np.inf]])
    fig = gradient_flow_comparison_figure(["sigmoid", "relu"], norms)
    assert len(fig.data) == 6
    assert fig.layout.yaxis.type == "log"
    np.testing.assert_allclose(fig.data[0].y, norms[0])
    assert list(fig.data[4].x) == [1, 2]  # zero and NaN drawn as flagged points
    assert list(fig.data[5].x) == [4]  # inf drawn at the top
    assert "exactly 0" in fig.layout.title.text
    update_gradient_flow_comparison_figure(fig, np.ones((2, 4)))
    assert len(fig.data[4].x) == 0 and "<br>" not in fig.layout.title.text
    with pytest.raises(ValueError):
        update_gradient_flow_comparison_figure(fig, np.ones((3, 4)))


def test_dead_units_figure_bars():
    fig = dead_units_figure({"ReLU": (np.array([0.0, 0.5, 1.0]), "relu"),
                             "ReLU later": (np.array([0.0, 0.25, np.nan]), "relu"),
                             "Leaky": (np.array([0.1, 0.2, 0.3]), "leaky_relu")})
    assert len(fig.data) == 3
    np.testing.assert_allclose(fig.data[0].y, [0, 50, 100])
    np.testing.assert_allclose(fig.data[1].y, [0, 25, 0])
    assert fig.data[0].marker.pattern.shape != fig.data[1].marker.pattern.shape
    assert fig.data[2].marker.color == ACTIVATION_COLORS["leaky_relu"]
    assert fig.layout.barmode == "group"
    assert fig.layout.yaxis.title.text == "dead units (% of the layer's units)"
    assert tuple(fig.layout.yaxis.range) == (0, 100) and fig.layout.yaxis.dtick == 20
    assert fig.layout.xaxis.title.text == "hidden layer" and fig.layout.xaxis.dtick == 1
