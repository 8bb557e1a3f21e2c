"""Tests for helpers.figures.activation_families: traces and their data."""

import numpy as np
import pytest
from trace_oracles import assert_log_triple

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


def test_picker_grid_holds_the_kink_and_a_single_name():
    """The z grid: n evenly spaced points, plus 0 when the range straddles it and the
    grid misses it (ReLU's kink is drawn), nothing added otherwise; one name as a string."""
    z = picker_curves(["relu"], (-5.0, 5.0), n=400)["z"]  # 400 points miss 0
    np.testing.assert_array_equal(z, np.sort(np.append(np.linspace(-5, 5, 400), 0.0)))
    z = picker_curves(["relu"], (-5.0, 5.0), n=401)["z"]  # 0 is on the grid already
    np.testing.assert_array_equal(z, np.linspace(-5, 5, 401))
    for lo, hi in ((0.0, 2.0), (-2.0, 0.0), (1.0, 2.0)):  # 0 at an end, or outside
        np.testing.assert_array_equal(picker_curves(["relu"], (lo, hi), n=10)["z"],
                                      np.linspace(lo, hi, 10))
    assert picker_curves(["relu"], (-1.0, 1.0))["z"].size == 401  # the default n
    fig = activation_picker_figure(["sigmoid"], (-3, 3))
    update_activation_picker_figure(fig, "tanh", (-2.0, 2.0))
    shown = [PICKER_NAMES[i // 2] for i, t in enumerate(fig.data) if t.visible and i % 2 == 0]
    assert shown == ["tanh"]


def test_gradient_flow_comparison_three_rows_every_trace_and_the_note():
    """Each row's line, zeros and overflows written from the log rules (each row its own
    floor and ceiling), flagged values counted over all rows in the note, and the message
    for a wrong number of rows."""
    norms = np.array([[0.0, 1e-2, 1e-1, 1.0], [1e-3, 1e-2, 1e-1, 1.0],
                      [1e-4, np.nan, np.inf, 0.0]])
    fig = gradient_flow_comparison_figure(["sigmoid", "tanh", "relu"], norms)
    x = np.arange(1, 5)
    for i, row in enumerate(norms):
        assert_log_triple(fig.data[3 * i: 3 * i + 3], row, x, what=f"row {i}")
    title = fig.layout.title.text
    assert "3 layer values are exactly 0 or not a number" in title
    assert "1 layer value overflowed to infinity" in title
    with pytest.raises(ValueError) as info:
        update_gradient_flow_comparison_figure(fig, np.ones((2, 4)))
    assert str(info.value) == "expected 3 rows of gradient norms, got 2"


def test_dead_units_patterns_tell_series_of_one_activation_apart():
    fig = dead_units_figure({"a": (np.zeros(2), "relu"), "b": (np.zeros(2), "relu"),
                             "c": (np.zeros(2), "leaky_relu"), "d": (np.zeros(2), "relu"),
                             "e": (np.zeros(2), "relu"), "f": (np.zeros(2), "relu")})
    assert [t.marker.pattern.shape for t in fig.data] == ["", "/", "", "x", ".", ""]
    assert [t.name for t in fig.data] == list("abcdef")
    np.testing.assert_array_equal(fig.data[0].x, [1, 2])
