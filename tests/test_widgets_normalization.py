"""helpers.widgets.normalization: every control changes the figure to the computed numbers."""

import numpy as np
import pytest

from helpers.topics.normalization import norm_explorer_profile
from helpers.widgets.base import norm_value
from helpers.widgets.normalization import make_normalization_explorer


@pytest.fixture
def explorer():
    return make_normalization_explorer(depth=6, activation="relu", norm="batch", batch=32)


def _expected(w):
    v = w.values()
    return norm_explorer_profile(v["depth"], v["activation"], norm_value(v["norm"]), v["batch"],
                                 init=v["init"])


@pytest.mark.parametrize("name,value", [("depth", 9), ("activation", "sigmoid"), ("init", "he"),
                                        ("init", "orthogonal"),
                                        ("norm", None), ("norm", "layer"), ("batch", 128)])
def test_each_control_updates_the_figure(explorer, name, value):
    before = np.array(explorer.figure.data[0].y, dtype=float)
    getattr(explorer, name).value = value
    assert explorer.error is None
    expected = _expected(explorer)
    np.testing.assert_allclose(np.array(explorer.figure.data[0].y, dtype=float),
                               expected.weight_grad_norm, rtol=1e-9)
    np.testing.assert_allclose(explorer.figure.data[3].y, 100 * expected.saturation)
    _assert_every_trace(explorer, expected)
    after = np.array(explorer.figure.data[0].y, dtype=float)
    assert before.shape != after.shape or not np.allclose(before, after)
    assert "first / last" in explorer.status.value


def test_init_control_changes_the_data_and_the_title(explorer):
    """ReLU without a norm: the init decides the gradient profile, and the title names it."""
    explorer.norm.value = "none"
    explorer.init.value = "default"
    default = np.array(explorer.figure.data[0].y, dtype=float)
    assert "default init" in explorer.figure.layout.title.text
    explorer.init.value = "he"
    he = np.array(explorer.figure.data[0].y, dtype=float)
    assert "he init" in explorer.figure.layout.title.text
    np.testing.assert_allclose(he, _expected(explorer).weight_grad_norm, rtol=1e-9)
    assert not np.allclose(default, he)
    with pytest.raises(ValueError, match="valid choices"):
        make_normalization_explorer(init="mean_field")


def test_controls_do_not_update_continuously(explorer):
    assert explorer.depth.continuous_update is False
    assert explorer.batch.continuous_update is False


def test_invalid_settings_raise():
    with pytest.raises(ValueError, match="valid choices"):
        make_normalization_explorer(activation="gelu")
    with pytest.raises(ValueError, match="batch"):
        make_normalization_explorer(batch=3)
    with pytest.raises(ValueError, match="between 2 and 100"):
        make_normalization_explorer(depth=500)


def _assert_every_trace(w, p):
    from trace_oracles import assert_log_triple, assert_xy

    assert len(w.figure.data) == 5
    layers = np.arange(1, len(p.layer_names) + 1)
    assert_log_triple(w.figure.data[0:3], p.weight_grad_norm, what="gradient norm")
    assert_xy(w.figure.data[3], layers, 100 * p.saturation, what="saturation")
    assert_xy(w.figure.data[4], layers, p.activation_std, what="activation std")
    assert np.isfinite(p.activation_std).all()


def test_initial_figure_shows_every_number(explorer):
    _assert_every_trace(explorer, _expected(explorer))
