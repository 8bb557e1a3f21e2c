"""helpers.figures.chain: traces, axes and log-safe handling of zeros and overflow."""

import numpy as np
import pytest

from helpers.figures.chain import (
    chain_gradient_figure,
    jacobian_depth_figure,
    update_chain_gradient_figure,
)
from helpers.figures.style import ACTIVATION_COLORS
from helpers.topics.chain import jacobian_norms, scalar_chain


def test_chain_gradient_figure_traces_and_axes():
    r = scalar_chain(np.ones(30), 0.0, "sigmoid", 0.5)
    fig = chain_gradient_figure(r)
    assert len(fig.data) == 6
    assert fig.layout.yaxis.type == "log"
    assert "log scale" in fig.layout.yaxis.title.text and fig.layout.xaxis.title.text
    assert fig.layout.title.text and fig.layout.showlegend
    np.testing.assert_allclose(fig.data[0].y, r.grad)
    np.testing.assert_allclose(fig.data[3].y, r.bound)
    np.testing.assert_array_equal(fig.data[0].x, np.arange(31))
    assert fig.data[3].line.dash == "dash"
    assert fig.data[0].line.color == ACTIVATION_COLORS["sigmoid"]
    assert len(fig.data[1].x) == 0 and len(fig.data[2].x) == 0  # nothing flagged


def test_zeros_and_overflow_are_drawn_not_dropped():
    dead = scalar_chain(np.full(10, 2.0), 0.0, "relu", -1.0)  # grad exactly 0 below the top
    fig = chain_gradient_figure(dead)
    assert len(fig.data[1].x) == 10  # ten zeros drawn as markers at the floor
    assert np.all(np.asarray(fig.data[1].y) > 0)
    assert "exactly 0" in fig.layout.title.text
    boom = scalar_chain(np.full(1000, 16.0), -8.0, "sigmoid", 0.5)
    note = update_chain_gradient_figure(fig, boom)
    assert len(fig.data[2].x) > 0 and len(fig.data[5].x) > 0  # measured and bound overflow
    assert np.all(np.isfinite(fig.data[2].y)) and "infinity" in note
    assert len(fig.data[1].x) == 0  # the previous zeros were replaced


def test_update_changes_data_and_colour():
    fig = chain_gradient_figure(scalar_chain(np.ones(5), 0.0, "sigmoid", 0.5))
    r = scalar_chain(np.full(8, 1.5), 0.0, "tanh", 0.0)
    update_chain_gradient_figure(fig, r, title="custom")
    np.testing.assert_allclose(fig.data[0].y, r.grad)
    assert fig.data[0].line.color == ACTIVATION_COLORS["tanh"]
    assert fig.layout.title.text == "custom"


def test_jacobian_depth_figure():
    results = [jacobian_norms(12, 8, a, s, seed=0) for a, s in
               (("sigmoid", 1.0), ("sigmoid", 16.0), ("relu", 2.0))]
    fig = jacobian_depth_figure(results)
    lines = [t for t in fig.data if t.mode == "lines" and t.showlegend is not False]
    # 2 lines (spectral, RMS) per result + the reference line at 1
    assert len(lines) == 2 * len(results) + 1
    np.testing.assert_allclose(fig.data[0].y, results[0].spectral)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert "log scale" in fig.layout.yaxis.title.text
    assert fig.layout.xaxis.title.text and fig.layout.title.text
    assert [a.text for a in fig.layout.annotations] == ["Sigmoid", "ReLU"]


def test_jacobian_depth_figure_flags_overflow():
    r = jacobian_norms(3, 4, "relu", 1.0, seed=0)
    bad = type(r)(r.activation, r.sigma_w, r.sigma_b, r.width, np.array([1.0, np.inf, 0.0]),
                  r.rms, r.factor_norm, r.weight_norm, r.mean_derivative)
    fig = jacobian_depth_figure([bad])
    flagged = [t for t in fig.data if t.mode == "markers" and len(t.x)]
    assert len(flagged) == 2 and "infinity" in fig.layout.title.text
    with pytest.raises(ValueError):
        jacobian_depth_figure([])


def test_underflow_to_subnormal_keeps_a_positive_floor():
    r = scalar_chain(np.full(100, 8.0), 8.0, "sigmoid", 0.5)  # saturated: underflows to 0
    assert (r.grad == 0).any() and r.grad[r.grad > 0].min() < 1e-300
    fig = chain_gradient_figure(r)
    zeros_y = np.asarray(fig.data[1].y, dtype=float)
    assert zeros_y.size == int((r.grad == 0).sum()) and np.all(zeros_y > 0)
