"""The training dashboard driven from Python: start, stop, divergence, double Start, Clear."""

import threading
import time

import numpy as np
import pytest

from helpers.widgets.training import TrainingDashboard, make_training_dashboard


def training_threads() -> int:
    return sum(t.name == "training-dashboard" and t.is_alive() for t in threading.enumerate())


@pytest.fixture
def dash():
    d = make_training_dashboard(activation="relu", init="he", depth=6, width=16, steps=2000)
    yield d
    d.stop(wait=10)


def wait_for(condition, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_start_updates_charts_while_running_and_stop_ends_early(dash):
    assert dash.start()
    assert wait_for(lambda: dash.history is not None and len(dash.history.steps) >= 3)
    first = np.array(dash.figure.data[1].y, dtype=float)
    assert wait_for(lambda: len(dash.figure.data[1].y) > len(first))  # drawn during the run
    assert dash.running and 0 < dash.progress.value < 2000
    assert "steps/s" in dash.progress_text.value and "s left" in dash.progress_text.value
    start = time.monotonic()
    dash.stop(wait=10)
    latency = time.monotonic() - start
    assert not dash.running and latency < 5.0  # generous: the budget is a record (5 steps)
    run = dash.runs[-1]
    assert run["status"].startswith("stopped at step")
    assert run["history"].steps[-1] < 1999 and run["history"].stopped_early
    assert "<td>1</td>" in dash.table.value and training_threads() == 0


def test_double_start_runs_one_loop(dash):
    assert dash.start()
    assert not dash.start()  # the second press is refused
    assert "already in progress" in dash.status.value
    assert training_threads() == 1
    dash.stop(wait=10)
    assert len(dash.runs) == 1


def test_diverging_lr_stops_with_its_step_and_keeps_earlier_runs(dash):
    dash.steps.value = 20
    dash.start()
    assert dash.wait(60) and dash.runs[-1]["status"] == "finished"
    dash.optimizer.value, dash.lr.value, dash.steps.value = "sgd", 10.0, 500
    dash.depth.value = 20
    dash.start()
    assert dash.wait(60)
    assert len(dash.runs) == 2 and dash.runs[0]["status"] == "finished"
    status = dash.runs[-1]["status"]
    assert status.startswith("diverged at step ")
    step = int(status.split()[-1])
    assert step == dash.runs[-1]["history"].steps[-1] and step < 500
    assert "diverged" in dash.status.value and dash.error is None
    faded = [v for v in dash.figure.data[0].y if v is not None]
    np.testing.assert_allclose(faded, dash.runs[0]["history"].loss)  # the earlier run, faded


def test_a_new_dashboard_stops_the_old_loop(dash):
    dash.start()
    assert wait_for(lambda: dash.history is not None)
    other = make_training_dashboard(depth=4, width=8)
    assert not dash.running and training_threads() == 0
    assert dash.runs[-1]["status"].startswith("stopped")
    other.stop()


def test_clear_and_static_snapshot(dash):
    dash.steps.value = 10
    dash.start()
    dash.wait(60)
    bundle = dash._repr_mimebundle_()
    assert "<table" in bundle["text/html"] and "static snapshot" in bundle["text/html"]
    dash.clear()
    assert dash.runs == [] and dash.table.value == "" and len(dash.figure.data[1].y) == 0


def test_digits_and_preloaded_runs():
    from helpers.topics.training import lesson_split, run_configuration

    run = run_configuration("ReLU + He init", lesson_split("spirals"), steps=5, grid_points=9)
    d = TrainingDashboard(runs={"He": run}, data="digits", depth=3, width=8, steps=10)
    assert len(d.runs) == 1 and d.runs[0]["name"] == "He"
    np.testing.assert_array_equal(np.asarray(d.figure.data[6].z), run.grid["p"])
    d.start()
    assert d.wait(60) and d.runs[-1]["status"] == "finished" and d.runs[-1]["grid"] is None


def test_bad_settings_raise_with_choices():
    with pytest.raises(ValueError, match="valid choices"):
        make_training_dashboard(data="mnist")
    with pytest.raises(ValueError, match="valid choices"):
        make_training_dashboard(optimizer="rmsprop")


def test_a_control_change_names_the_next_run():
    d = make_training_dashboard(depth=4, width=8)
    d.depth.value = 7
    assert "Next run" in d.figure.layout.title.text and "depth 7" in d.figure.layout.title.text
    assert not d.running and d.runs == []


def test_every_control_shows_in_the_next_run_title_and_norm_labels_are_never_blank():
    import ipywidgets as widgets

    d = make_training_dashboard(depth=4, width=8)
    norm = d.controls["norm"]
    # a Dropdown value of None draws a blank label in the browser: every value is a string
    values = [value for _, value in norm.options]
    assert all(isinstance(v, str) for v in values) and norm.value == "none" and norm.label == "none"
    moves = {"data": "digits", "depth": 5, "width": 9, "activation": "tanh", "init": "xavier",
             "norm": "batch", "residual": True, "norm_position": "post", "optimizer": "sgd",
             "lr": 0.05, "steps": 50, "seed": 3}
    assert set(moves) == set(d.controls), "a control the test does not move"
    for name, value in moves.items():
        before = d.figure.layout.title.text
        control = d.controls[name]
        if isinstance(control, widgets.ToggleButtons):
            value = next(o for o in control.options if o != control.value)
        control.value = value
        assert d.figure.layout.title.text != before, name
        assert d.figure.layout.title.text.startswith("Next run: ")
    config = d._config()
    assert (config.norm, config.norm_position, config.seed, config.residual) == (
        "batch", "post", 3, True)
    norm.value = "none"
    assert d._config().norm is None
