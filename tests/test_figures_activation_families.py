"""Tests for helpers.figures.activation_families: traces and their data."""

import numpy as np
import pytest
from trace_oracles import assert_log_triple, assert_xy

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
from helpers.figures.style import ACTIVATION_COLORS, ROLE_COLORS


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


def test_picker_traces_on_their_panels_with_one_legend_entry_per_activation():
    """phi on the left panel, phi' on the right, named by the activation's label; phi' joins
    phi's legend group without a legend entry of its own."""
    fig = activation_picker_figure(["relu"], (-1.0, 1.0))
    for i, name in enumerate(PICKER_NAMES):
        phi, dphi = fig.data[2 * i], fig.data[2 * i + 1]
        label = ACTIVATIONS[name].label
        assert (phi.xaxis, phi.yaxis, dphi.xaxis, dphi.yaxis) == ("x", "y", "x2", "y2")
        assert phi.name == label and dphi.name == f"{label}'"
        assert phi.legendgroup == dphi.legendgroup == name
        assert phi.showlegend is not False and dphi.showlegend is False
        assert phi.mode == dphi.mode == "lines"


def test_picker_draws_the_curves_on_a_grid_that_holds_the_kink():
    """On (-1, 2) the 401-point grid misses 0, so 0 is added; ReLU, its slope (0 at the
    kink) and the sigmoid are drawn on that grid."""
    fig = activation_picker_figure(["relu", "sigmoid"], (-1.0, 2.0))
    z = np.sort(np.append(np.linspace(-1.0, 2.0, 401), 0.0))
    relu = 2 * PICKER_NAMES.index("relu")
    sig = 2 * PICKER_NAMES.index("sigmoid")
    assert_xy(fig.data[relu], z, np.maximum(z, 0.0))
    assert_xy(fig.data[relu + 1], z, (z > 0).astype(float))
    s = 1.0 / (1.0 + np.exp(-z))
    assert_xy(fig.data[sig], z, s)
    assert_xy(fig.data[sig + 1], z, s * (1 - s), rtol=1e-10)
    assert fig.data[relu].visible is True and fig.data[sig + 1].visible is True


def test_picker_update_empties_the_curves_it_hides():
    fig = activation_picker_figure(["sigmoid", "relu"], (-2.0, 2.0))
    update_activation_picker_figure(fig, ["tanh"], (-1.0, 1.0))
    for name in ("sigmoid", "relu"):
        for t in fig.data[2 * PICKER_NAMES.index(name): 2 * PICKER_NAMES.index(name) + 2]:
            assert t.visible is False and len(t.x) == 0 and len(t.y) == 0
    i = 2 * PICKER_NAMES.index("tanh")
    z = np.linspace(-1.0, 1.0, 401)  # holds 0 already
    assert_xy(fig.data[i], z, np.tanh(z))
    assert_xy(fig.data[i + 1], z, 1 - np.tanh(z) ** 2, rtol=1e-10)
    assert fig.data[i].visible is True and fig.data[i + 1].visible is True


def _table():
    return {"names": ("relu", "gelu"), "q": np.array([0.1, 1.0, 10.0]),
            "quadrature": np.array([[0.5, 0.5, 0.5], [0.3, 0.45, 0.5]]),
            "monte_carlo": np.array([[0.49, 0.5, 0.51], [0.31, 0.46, np.nan]]),
            "std_error": np.array([[0.01, 0.02, 0.03], [0.0, 0.01, 0.01]])}


def test_squared_derivative_figure_every_trace_from_the_table():
    """Per activation: the quadrature as a dashed line over q, then the Monte Carlo points
    with 2-SE bars (a NaN estimate stays a gap), in the activation's colour and group."""
    table = _table()
    fig = squared_derivative_figure(table)
    q = [0.1, 1.0, 10.0]
    assert_xy(fig.data[0], q, [0.5, 0.5, 0.5])
    assert_xy(fig.data[1], q, [0.49, 0.5, 0.51])
    assert_xy(fig.data[2], q, [0.3, 0.45, 0.5])
    assert_xy(fig.data[3], q, [0.31, 0.46, np.nan])
    np.testing.assert_allclose(fig.data[1].error_y.array, [0.02, 0.04, 0.06])
    np.testing.assert_allclose(fig.data[3].error_y.array, [0.0, 0.02, 0.02])
    assert fig.data[1].error_y.type == "data" and fig.data[1].error_y.visible
    assert [t.mode for t in fig.data] == ["lines", "markers"] * 2
    assert [t.name for t in fig.data] == ["ReLU (quadrature)", "ReLU (Monte Carlo)",
                                         "GELU (quadrature)", "GELU (Monte Carlo)"]
    assert [t.legendgroup for t in fig.data] == ["relu", "relu", "gelu", "gelu"]
    assert fig.data[0].line.dash == fig.data[2].line.dash == "dash"
    assert fig.data[0].line.color == fig.data[1].marker.color == ACTIVATION_COLORS["relu"]
    assert fig.data[2].line.color == fig.data[3].marker.color == ACTIVATION_COLORS["gelu"]
    assert fig.layout.xaxis.exponentformat == "power"
    assert squared_derivative_figure(table, title="Mine").layout.title.text == "Mine"


def test_gradient_flow_comparison_legend_colours_and_the_callers_title():
    """One legend entry per activation in its colour, its flag markers hidden from the legend
    in the warning colour; the caller's title keeps its first line when an update changes
    the note below it."""
    norms = np.array([[1e-3, 0.0, 1.0], [1e-2, 1e-1, np.inf]])
    fig = gradient_flow_comparison_figure(["sigmoid", "relu"], norms, title="Deep nets")
    d = fig.data
    assert [t.name for t in d] == ["Sigmoid", "Sigmoid: exactly 0 / NaN", "Sigmoid: overflow",
                                   "ReLU", "ReLU: exactly 0 / NaN", "ReLU: overflow"]
    assert [t.legendgroup for t in d] == ["sigmoid"] * 3 + ["relu"] * 3
    assert [t.mode for t in d] == ["lines+markers", "markers", "markers"] * 2
    assert [t.showlegend is not False for t in d] == [True, False, False] * 2
    assert d[0].line.color == ACTIVATION_COLORS["sigmoid"]
    assert d[3].line.color == ACTIVATION_COLORS["relu"]
    assert {t.marker.color for t in (d[1], d[2], d[4], d[5])} == {ROLE_COLORS["warning"]}
    assert fig.layout.title.text == (
        "Deep nets<br><sup>1 layer value is exactly 0 or not a number (underflow or dead "
        "units): drawn as x at the bottom; 1 layer value overflowed to infinity: drawn as a "
        "triangle at the top</sup>")
    assert fig.layout.yaxis.exponentformat == "power"
    update_gradient_flow_comparison_figure(fig, [[1.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    assert fig.layout.title.text.startswith("Deep nets<br><sup>2 layer values are exactly 0")
    assert "infinity" not in fig.layout.title.text
    assert_log_triple(d[0:3], [1.0, 0.0, 0.0])
    assert_log_triple(d[3:6], [1.0, 2.0, 3.0])


def test_gradient_flow_comparison_one_activation_takes_a_flat_row():
    fig = gradient_flow_comparison_figure(["tanh"], [0.5, 0.25, 0.125])
    assert len(fig.data) == 3
    assert_log_triple(fig.data, [0.5, 0.25, 0.125])
    assert fig.layout.title.text == "Weight-gradient norm per layer, one line per activation"


def test_gradient_flow_comparison_rejects_rows_that_do_not_match_the_names():
    with pytest.raises(ValueError, match="expected 2 rows of gradient norms, got 3"):
        gradient_flow_comparison_figure(["sigmoid", "relu"], np.ones((3, 4)))


def test_dead_units_bars_per_layer_and_colour_per_activation():
    """Bars at hidden layers 1..n for each series, one colour per activation (two ReLU
    series share it, LeakyReLU differs), y a share of units from 0 with one tick per layer."""
    fig = dead_units_figure({"ReLU": ([0.0, 0.5], "relu"),
                             "ReLU later": ([0.25, 1.0], "relu"),
                             "Leaky": ([0.1, 0.2, 0.3], "leaky_relu")}, title="Dead or alive")
    assert [t.type for t in fig.data] == ["bar"] * 3
    assert_xy(fig.data[0], [1, 2], [0.0, 50.0])
    assert_xy(fig.data[1], [1, 2], [25.0, 100.0])
    assert_xy(fig.data[2], [1, 2, 3], [10.0, 20.0, 30.0])
    assert fig.data[0].marker.color == fig.data[1].marker.color == ACTIVATION_COLORS["relu"]
    assert fig.data[2].marker.color != fig.data[0].marker.color
    assert fig.layout.title.text == "Dead or alive"
    assert fig.layout.xaxis.tick0 == 1 and fig.layout.yaxis.tick0 == 0
