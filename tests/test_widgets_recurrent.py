"""helpers.widgets.recurrent: each control changes the chart to what the compute layer gives."""

import numpy as np
import pytest

from helpers.topics.recurrent import measure_through_time
from helpers.widgets.recurrent import make_through_time_explorer


def assert_shows(w):
    assert w.error is None, w.error
    r = measure_through_time(w.config(), w.steps.value, task="first_symbol", batch=w.batch,
                             seed=w.seed)
    np.testing.assert_allclose(np.asarray(w.figure.data[0].y, dtype=float),
                               r.profile.h_grad_norm, rtol=1e-12)
    assert len(w.figure.data[0].x) == w.steps.value
    return r


def test_each_control_updates_the_chart():
    w = make_through_time_explorer(steps=20, cell="rnn", spectral_radius=1.0, batch=8)
    assert_shows(w)
    first = list(w.controls)[0]
    assert first == "steps"  # the first control (a slider) changes the chart
    for name, value in (("steps", 21), ("spectral_radius", 1.6), ("nonlinearity", "relu"),
                        ("cell", "lstm"), ("forget_bias", 3.0), ("cell", "gru"),
                        ("steps", 1), ("steps", 200)):
        before = np.asarray(w.figure.data[0].y, dtype=float).copy()
        getattr(w, name).value = value
        r = assert_shows(w)
        after = np.asarray(w.figure.data[0].y, dtype=float)
        assert before.shape != after.shape or not np.allclose(before, after), name
    assert f"{r.profile.ratio:.3g}" in w.status.value
    assert "nonlinearity and forget bias unused" in w.status.value  # the GRU has neither
    assert not any(c.disabled for c in w.controls.values())  # every control stays operable


def test_rnn_shows_bound_and_lstm_its_cell_path():
    w = make_through_time_explorer(steps=30, cell="rnn", batch=4)
    r = assert_shows(w)
    np.testing.assert_allclose(np.asarray(w.figure.data[3].y, dtype=float), r.bound)
    assert "bound" in w.status.value and "forget bias unused" in w.status.value
    w.cell.value = "lstm"
    r = assert_shows(w)
    assert w.figure.data[3].visible is False and w.figure.data[9].visible is True
    np.testing.assert_allclose(np.asarray(w.figure.data[9].y, dtype=float),
                               r.profile.cell_path_norm)
    assert "forget gate" in w.status.value and "nonlinearity unused" in w.status.value


def test_controls_cover_the_ranges():
    w = make_through_time_explorer(steps=5, batch=4)
    assert (w.steps.min, w.steps.max) == (1, 200)
    assert w.spectral_radius.min <= 0.5 and w.spectral_radius.max >= 2.5
    assert set(w.cell.options) == {("vanilla RNN", "rnn"), ("LSTM", "lstm"), ("GRU", "gru")}


def test_an_error_is_shown_not_lost(monkeypatch):
    w = make_through_time_explorer(steps=5, batch=4)
    import helpers.widgets.recurrent as mod

    def broken(*a, **k):
        raise RuntimeError("measurement failed")
    monkeypatch.setattr(mod, "measure_through_time", broken)
    w.steps.value = 6
    assert isinstance(w.error, RuntimeError) and "measurement failed" in w.status.value


def test_invalid_settings():
    with pytest.raises(ValueError, match="between"):
        make_through_time_explorer(steps=0)
    with pytest.raises(ValueError, match="valid choices"):
        make_through_time_explorer(cell="transformer")
    with pytest.raises(ValueError, match="spectral_radius"):
        make_through_time_explorer(spectral_radius=5.0)
    with pytest.raises(ValueError, match="valid choices"):
        make_through_time_explorer(nonlinearity="sigmoid")
    with pytest.raises(TypeError, match="forget_bias"):
        make_through_time_explorer(forget_bias="high")
