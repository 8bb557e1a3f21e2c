"""helpers.widgets.residual: each control changes the charts to what the compute layer gives."""

import numpy as np
import pytest

from helpers.data import lesson_data
from helpers.topics.residual import compare_plain_residual
from helpers.widgets.residual import make_residual_explorer


def assert_shows(w):
    assert w.error is None, w.error
    r = compare_plain_residual(w.config(), *lesson_data())
    for start, values in ((0, r.plain.grad_norm), (3, r.residual.grad_norm),
                          (6, r.plain.stream_std), (9, r.residual.stream_std)):
        y = np.asarray(w.figure.data[start].y, dtype=float)
        ok = np.isfinite(values) & (values > 0)
        np.testing.assert_allclose(y[ok], values[ok], rtol=1e-12)
        assert len(w.figure.data[start].x) == w.depth.value
        from trace_oracles import assert_log_triple

        assert_log_triple(w.figure.data[start:start + 3], values, what=f"traces {start}-")
    assert len(w.figure.data) == 12
    return r


def test_each_control_updates_the_charts():
    w = make_residual_explorer(depth=20, activation="relu", init="he")
    assert_shows(w)
    assert "plain" in w.status.value and "residual" in w.status.value
    for name, value in (("depth", 30), ("activation", "sigmoid"), ("norm", "layer"),
                        ("norm_position", "pre"), ("init", "xavier"), ("norm", "batch"),
                        ("norm_position", "post")):
        before = np.asarray(w.figure.data[3].y, dtype=float).copy()
        getattr(w, name).value = value
        r = assert_shows(w)
        after = np.asarray(w.figure.data[3].y, dtype=float)
        assert before.shape != after.shape or not np.allclose(before, after), name
    assert f"{r.residual.ratio:.3g}" in w.status.value
    assert w.config().norm_position == "post" and w.config().depth == 30


def test_norm_position_changes_only_the_residual_series():
    w = make_residual_explorer(depth=10, activation="tanh", norm="layer")
    plain = np.asarray(w.figure.data[0].y, dtype=float).copy()
    w.norm_position.value = "pre"
    np.testing.assert_allclose(np.asarray(w.figure.data[0].y, dtype=float), plain)


def test_explosion_is_drawn_not_dropped():
    w = make_residual_explorer(depth=100, activation="relu", init="he")
    r = assert_shows(w)
    assert r.residual.stream_std[-1] > 1e15
    assert max(np.asarray(w.figure.data[9].y, dtype=float)) > 1e15


def test_depth_control_updates_on_release_only():
    w = make_residual_explorer(depth=10)
    assert w.depth.continuous_update is False
    assert (w.depth.min, w.depth.max) == (10, 100)


def test_invalid_settings():
    with pytest.raises(ValueError, match="between"):
        make_residual_explorer(depth=5)
    with pytest.raises(ValueError, match="valid choices"):
        make_residual_explorer(activation="swish")
    with pytest.raises(ValueError, match="valid choices"):
        make_residual_explorer(norm="group")
    with pytest.raises(ValueError, match="valid choices"):
        make_residual_explorer(norm_position="middle")
    with pytest.raises(ValueError, match="valid choices"):
        make_residual_explorer(init="mean_field")
