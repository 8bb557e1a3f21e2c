"""helpers.widgets.chain: every control changes the chart to what the compute layer gives."""

import numpy as np
import pytest

from helpers.topics.chain import scalar_chain
from helpers.widgets.chain import make_chain_explorer


def expected(w):
    v = w.values()
    return scalar_chain(np.full(v["depth"], v["weight"]), v["bias"], v["activation"], v["x0"])


def assert_shows(w):
    assert w.error is None
    r = expected(w)
    np.testing.assert_allclose(np.asarray(w.figure.data[0].x), np.arange(r.depth + 1))
    y = np.asarray(w.figure.data[0].y, dtype=float)
    ok = np.isfinite(r.grad) & (r.grad != 0)
    np.testing.assert_allclose(y[ok], np.abs(r.grad[ok]), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(w.figure.data[3].y, dtype=float), r.bound, rtol=1e-12)
    return r


def test_each_control_updates_the_chart():
    w = make_chain_explorer()
    first = assert_shows(w)
    for name, value in (("depth", 50), ("weight", 2.5), ("bias", -1.0), ("x0", 1.5),
                        ("activation", "tanh")):
        before = np.asarray(w.figure.data[0].y, dtype=float).copy()
        getattr(w, name).value = value
        r = assert_shows(w)
        assert not np.array_equal(before, np.asarray(w.figure.data[0].y, dtype=float)), name
    assert r.depth == 50 and first.depth == 30
    assert "d a_L / d a_0" in w.status.value


def test_all_activations_and_explosion_message():
    w = make_chain_explorer()
    for name in w.activation.options:
        w.activation.value = name[1]
        assert_shows(w)
    w.activation.value = "sigmoid"
    w.weight.value, w.bias.value, w.x0.value = 8.0, -4.0, 0.5
    assert "explodes" in w.status.value
    w.activation.value, w.x0.value = "relu", -1.0
    assert "exactly 0" in w.status.value
    assert len(w.figure.data[1].x) == w.depth.value  # the zeros are drawn


def test_invalid_settings():
    with pytest.raises(ValueError, match="valid choices"):
        make_chain_explorer(activation="swish")
    with pytest.raises(ValueError, match="between"):
        make_chain_explorer(depth=0)
    with pytest.raises(ValueError, match="between"):
        make_chain_explorer(weight=20.0)


def _assert_every_trace(w):
    """All 6 traces: measured and bound, each a line with its zero and overflow markers,
    on one log axis whose floor (ceiling) is a decade below (above) both series."""
    r = expected(w)
    assert w.error is None and len(w.figure.data) == 6
    both = np.abs(np.concatenate([r.grad, r.bound]))
    ok_both = np.isfinite(both) & (both > 0)
    floor, ceiling = both[ok_both].min() / 10, both[ok_both].max() * 10
    x = np.arange(r.depth + 1)
    for start, values in ((0, np.abs(r.grad)), (3, np.abs(r.bound))):
        line, zeros, infs = w.figure.data[start:start + 3]
        ok = np.isfinite(values) & (values > 0)
        huge = np.isposinf(values)
        zero = ~ok & ~huge
        np.testing.assert_array_equal(np.asarray(line.x), x)
        want = np.where(ok, values, np.where(huge, ceiling, np.nan))
        np.testing.assert_allclose(np.asarray(line.y, float), want, rtol=1e-12)
        np.testing.assert_array_equal(np.asarray(zeros.x), x[zero])
        np.testing.assert_allclose(np.asarray(zeros.y, float), np.full(zero.sum(), floor))
        np.testing.assert_array_equal(np.asarray(infs.x), x[huge])
        np.testing.assert_allclose(np.asarray(infs.y, float), np.full(huge.sum(), ceiling))


def test_every_trace_after_every_control():
    w = make_chain_explorer()
    _assert_every_trace(w)
    for name, value in (("depth", 50), ("weight", 2.5), ("bias", -1.0), ("x0", 1.5),
                        ("activation", "tanh"), ("activation", "relu"), ("x0", -1.0),
                        ("weight", 8.0)):
        getattr(w, name).value = value
        _assert_every_trace(w)
