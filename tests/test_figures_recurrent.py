"""helpers.figures.recurrent: traces carry the data they are given; nothing is dropped."""

import warnings
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest
from trace_oracles import assert_log_triple, assert_xy

from helpers.figures.recurrent import (
    CELL_COLORS,
    CELL_PATH_COLOR,
    MAX_HEIGHT,
    cell_label,
    cell_path_figure,
    clipping_figure,
    radius_sweep_figure,
    through_time_explorer_figure,
    through_time_figure,
    training_curves_figure,
    update_through_time_explorer_figure,
)
from helpers.figures.style import OKABE_ITO, ROLE_COLORS, THEORY_DASH
from helpers.topics.recurrent import measure_through_time, task_config, train_memory


@pytest.fixture(scope="module")
def measured():
    return {cell: measure_through_time(task_config("first_symbol", cell=cell, dtype="float64",
                                                   forget_bias=1.0 if cell == "lstm" else None),
                                       12, task="first_symbol", batch=4)
            for cell in ("rnn", "lstm", "gru")}


def ys(trace):
    return np.asarray(trace.y, dtype=float)


def test_through_time_figure_draws_profiles_and_bound(measured):
    fig = through_time_figure({c: m.profile for c, m in measured.items()},
                              {"rnn": measured["rnn"].bound}, title="T")
    assert isinstance(fig, go.Figure) and fig.layout.yaxis.type == "log"
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["rnn", "bound: rnn", "lstm", "gru"]
    np.testing.assert_allclose(ys(lines[0]), measured["rnn"].profile.h_grad_norm)
    np.testing.assert_allclose(ys(lines[1]), measured["rnn"].bound)
    assert lines[0].line.color == CELL_COLORS["rnn"] and lines[1].line.dash == "dash"
    assert fig.layout.height <= 460 and fig.layout.font.size >= 16
    assert "log scale" in fig.layout.yaxis.title.text and fig.layout.xaxis.title.text


def test_zeros_and_overflow_are_flagged_not_dropped(measured):
    p = measured["rnn"].profile
    h = p.h_grad_norm.copy()
    h[:3] = 0.0
    h[5] = np.inf
    fake = type(p)(p.config, p.steps, h, None, None, None, p.loss)
    fig = through_time_figure({"rnn": fake})
    assert list(fig.data[1].x) == [1, 2, 3] and list(fig.data[2].x) == [6]
    assert "3 steps are exactly 0" in fig.layout.title.text
    assert "overflowed" in fig.layout.title.text


def test_cell_path_figure(measured):
    p = measured["lstm"].profile
    fig = cell_path_figure({"fb 1": p})
    named = {t.name: t for t in fig.data}
    np.testing.assert_allclose(ys(named["fb 1: ||dL/dc_t||"]), p.c_grad_norm)
    np.testing.assert_allclose(ys(named["fb 1: cell path only"]), p.cell_path_norm)
    with pytest.raises(ValueError, match="not an LSTM"):
        cell_path_figure({"rnn": measured["rnn"].profile})


def test_radius_sweep_figure():
    sweep = {"radius": np.array([0.5, 1.0]), "ratio": np.array([[1e-5, 2.0], [1e-3, 8.0]]),
             "seeds": np.array([0, 1])}
    fig = radius_sweep_figure(sweep)
    np.testing.assert_allclose(ys(fig.data[2]), [1e-4, 4.0])  # geometric means
    np.testing.assert_allclose(ys(fig.data[1]), [1e-3, 8.0])
    with pytest.raises(ValueError, match="columns"):
        radius_sweep_figure({**sweep, "radius": np.array([1.0])})
    with pytest.raises(ValueError, match="missing"):
        radius_sweep_figure({"radius": [1.0]})


def test_training_and_clipping_figures():
    run = train_memory(task_config("adding", hidden=4), "adding", 4, train_steps=6, batch=4,
                       eval_every=2, n_test=8)
    fig = training_curves_figure({("rnn", 4, 0): run, ("rnn", 4, 1): run})
    assert len(fig.data) == 2 and sum(bool(t.showlegend) for t in fig.data) == 1
    np.testing.assert_allclose(ys(fig.data[0]), run.test_metric)
    assert fig.layout.yaxis.type == "log"
    clip = clipping_figure({"a": run})
    np.testing.assert_allclose(ys(clip.data[0]), run.loss)
    np.testing.assert_allclose(ys(clip.data[1]), run.grad_norm)
    for bad in (training_curves_figure, clipping_figure, through_time_figure):
        with pytest.raises(ValueError):
            bad({})


def test_explorer_figure_updates_in_place(measured):
    fig = go.FigureWidget(through_time_explorer_figure())
    update_through_time_explorer_figure(fig, measured["rnn"], title="RNN")
    np.testing.assert_allclose(ys(fig.data[3]), measured["rnn"].bound)
    assert fig.data[6].visible is False
    update_through_time_explorer_figure(fig, measured["lstm"], title="LSTM")
    np.testing.assert_allclose(ys(fig.data[0]), measured["lstm"].profile.h_grad_norm)
    np.testing.assert_allclose(ys(fig.data[9]), measured["lstm"].profile.cell_path_norm)
    assert fig.data[3].visible is False and fig.data[0].line.color == CELL_COLORS["lstm"]
    assert fig.layout.title.text.startswith("LSTM")
    with pytest.raises(TypeError):
        update_through_time_explorer_figure(fig, measured["lstm"].profile)
    with pytest.raises(ValueError, match="height"):
        through_time_explorer_figure(height=900)


def test_radius_sweep_traces_and_label_spacing():
    """Every trace's x and y, and one log-axis label every ceil(decades / 7) decades."""
    sweep = {"radius": np.array([0.5, 1.0, 1.5]), "ratio": np.array([[1e-12, 1.0, 0.0]]),
             "seeds": np.array([7])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = radius_sweep_figure(sweep)
    seeds, mean, one = fig.data
    assert seeds.name == "seed 7" and seeds.mode == "markers"
    np.testing.assert_array_equal(seeds.x, [0.5, 1.0, 1.5])
    np.testing.assert_array_equal(mean.x, [0.5, 1.0, 1.5])
    np.testing.assert_allclose(mean.y[:2], [1e-12, 1.0])
    assert np.isnan(mean.y[2])  # no seed's ratio above 0: no mean
    assert list(one.x) == [0.5, 1.5] and list(one.y) == [1, 1]
    # the ratios span 12 decades (the zero is left out): a label every 2 decades
    assert fig.layout.yaxis.dtick == 2 and fig.layout.yaxis.exponentformat == "power"
    narrow = radius_sweep_figure({**sweep, "ratio": np.array([[1e-3, 1.0, 2.0]])})
    assert narrow.layout.yaxis.dtick == 1
    assert fig.layout.legend.x == 1.02 and fig.layout.legend.xanchor == "left"


def _run(loss, grad_norm, task="adding"):
    return SimpleNamespace(loss=np.asarray(loss), grad_norm=np.asarray(grad_norm),
                           eval_at=np.array([0, 5]), test_metric=np.array([0.5, 0.25]),
                           metric_name="test MSE", task=task)


def test_training_and_clipping_figures_draw_every_step():
    runs = {("lstm", 8, 0): _run([1.0], [1.0]), ("rnn", 16, 0): _run([1.0], [1.0])}
    fig = training_curves_figure(runs)
    for t in fig.data:
        assert list(t.x) == [0, 5] and list(t.y) == [0.5, 0.25]
    assert [t.line.dash for t in fig.data] == [None, "dash"]  # dash by sequence length
    assert fig.layout.yaxis.type == "log"
    clip = clipping_figure({"clipped": _run([2.0, np.inf, 0.5], [10.0, 1e30, np.nan])})
    loss, grad = clip.data
    assert list(loss.x) == [1, 2, 3] and (loss.xaxis, grad.xaxis) == ("x", "x2")
    assert loss.y[0] == 2.0 and np.isnan(loss.y[1]) and loss.y[2] == 0.5
    assert grad.y[1] == 1e30 and np.isnan(grad.y[2])
    # each panel's labels are spaced by its own values: 30 decades of gradient norms
    assert clip.layout.yaxis.dtick == 1 and clip.layout.yaxis2.dtick == 5


# --- every trace of every chart, from small made-up profiles ---------------------------
# Expected numbers come from the drawing rules in tests/trace_oracles.py (positive values
# on the line, zeros/NaN a decade below the smallest, inf a decade above the largest).

def profile(cell, h, c=None, path=None, nonlinearity="tanh"):
    config = SimpleNamespace(cell=cell, nonlinearity=nonlinearity)
    return SimpleNamespace(config=config, h_grad_norm=np.asarray(h, float),
                           c_grad_norm=None if c is None else np.asarray(c, float),
                           cell_path_norm=None if path is None else np.asarray(path, float))


ZERO_NOTE = ("1 step is exactly 0 or not a number (underflow or dead units): drawn as x at "
             "the bottom")


def assert_triple_style(traces, name, color, dash, flags_in_legend=False,
                        mode="lines+markers"):
    line, zeros, overflows = traces
    assert line.name == name and line.line.color == color and line.line.dash == dash
    assert line.mode == mode and line.showlegend is True
    assert zeros.name == f"{name}: exactly 0 / NaN" and overflows.name == f"{name}: overflow (inf)"
    assert zeros.showlegend is overflows.showlegend is flags_in_legend
    assert {t.legendgroup for t in traces} == {name}


def test_through_time_every_series_its_colour_dash_and_bound():
    h1 = [1e-6, 0.0, 1e-3, 1.0]
    h2 = [2e-2, 3e-2, np.inf, 1.0]
    h3 = [0.5, 0.6, 0.7, 1.0]
    bound = [1e-8, 1e-5, 1e-2, 1.0]
    profiles = {"rnn a": profile("rnn", h1), "rnn b": profile("rnn", h2),
                "lstm": profile("lstm", h3), "odd": profile("mystery", h3)}
    fig = through_time_figure(profiles, {"rnn a": bound, "lstm": None})
    assert len(fig.data) == 5 * 3
    d = fig.data
    # a cell drawn twice gets a dash per series; a cell drawn once stays solid
    assert_triple_style(d[0:3], "rnn a", CELL_COLORS["rnn"], None)
    assert_triple_style(d[3:6], "bound: rnn a", ROLE_COLORS["theory"], THEORY_DASH)
    assert_triple_style(d[6:9], "rnn b", CELL_COLORS["rnn"], "dot")
    assert_triple_style(d[9:12], "lstm", CELL_COLORS["lstm"], None)
    assert_triple_style(d[12:15], "odd", OKABE_ITO["grey"], None)
    for traces, values in ((d[0:3], h1), (d[3:6], bound), (d[6:9], h2), (d[9:12], h3)):
        assert_log_triple(traces, values)
    title = fig.layout.title.text
    assert title.startswith("Gradient through time<br><sup>") and "layer" not in title
    assert "1 step is exactly 0" in title and "overflowed" in title
    assert fig.layout.xaxis.title.text == "time step t (loss at the last step T)"
    assert fig.layout.yaxis.title.text == "||dL/dh_t|| (log scale)"
    # 8 decades over every series (bound included, flags excluded): a label every 2
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.dtick == 2
    with pytest.raises(ValueError, match="bound 'lstm' has 3 values, its profile 4"):
        through_time_figure(profiles, {"lstm": [1.0, 1.0, 1.0]})
    with pytest.raises(TypeError, match=r"\.h_grad_norm"):
        through_time_figure({"x": SimpleNamespace(config=None)})
    with pytest.raises(ValueError, match="at least one"):
        through_time_figure([profiles["lstm"]])


def test_through_time_layout_fits_a_slide_with_the_legend_beside_the_plot():
    fig = through_time_figure({"rnn": profile("rnn", [1.0, 2.0])}, title="T", height=460)
    lay = fig.layout
    assert lay.title.text == "T" and lay.height == 460 and lay.font.size == 16
    assert (lay.legend.orientation, lay.legend.x, lay.legend.xanchor) == ("v", 1.02, "left")
    assert (lay.legend.y, lay.legend.yanchor) == (1, "top")
    assert (lay.margin.l, lay.margin.r, lay.margin.t, lay.margin.b) == (70, 20, 70, 50)
    assert lay.yaxis.exponentformat == "power" and lay.yaxis.dtick == 1
    for height in (200, MAX_HEIGHT):
        assert through_time_figure({"rnn": profile("rnn", [1.0])}, height=height
                                   ).layout.height == height
    for bad in (199, MAX_HEIGHT + 1, 300.0, True, "400"):
        with pytest.raises(ValueError, match=f"between 200 and {MAX_HEIGHT}"):
            through_time_figure({"rnn": profile("rnn", [1.0])}, height=bad)


def test_a_title_with_a_note_keeps_only_its_first_line():
    p = profile("rnn", [0.0, 1.0])
    fig = through_time_figure({"rnn": p}, title="Old<br><sup>an old note</sup>")
    assert fig.layout.title.text == f"Old<br><sup>{ZERO_NOTE}</sup>"
    assert through_time_figure({"rnn": profile("rnn", [1.0])}, title="Plain<br>x"
                               ).layout.title.text == "Plain"


def test_cell_path_every_profile_its_total_and_path():
    c1, p1 = [1e-4, 1e-2, 1.0], [1e-9, 1e-6, 1.0]
    c2, p2 = [0.5, 0.0, 1.0], [0.25, 0.5, 1.0]
    profiles = {f"fb {i}": profile("lstm", [1.0] * 3, c, p)
                for i, (c, p) in enumerate(((c1, p1), (c2, p2)))}
    fig = cell_path_figure(profiles)
    d = fig.data
    assert len(d) == 2 * 2 * 3
    green, purple = OKABE_ITO["green"], OKABE_ITO["purple"]
    assert_triple_style(d[0:3], "fb 0: ||dL/dc_t||", green, None)
    assert_triple_style(d[3:6], "fb 0: cell path only", green, "dot")
    assert_triple_style(d[6:9], "fb 1: ||dL/dc_t||", purple, None)
    assert_triple_style(d[9:12], "fb 1: cell path only", purple, "dot")
    for traces, values in ((d[0:3], c1), (d[3:6], p1), (d[6:9], c2), (d[9:12], p2)):
        assert_log_triple(traces, values)
    assert "1 step is exactly 0" in fig.layout.title.text
    assert fig.layout.title.text.startswith("LSTM: gradient along the cell state")
    assert fig.layout.xaxis.title.text == "time step t"
    assert fig.layout.yaxis.title.text == "gradient norm (log scale)"
    assert fig.layout.yaxis.dtick == 2  # 9 decades: ceil(9 / 7)
    with pytest.raises(TypeError, match=r"\.c_grad_norm"):
        cell_path_figure({"x": SimpleNamespace(h_grad_norm=[1.0])})
    with pytest.raises(ValueError, match="'rnn' is not an LSTM"):
        cell_path_figure({"rnn": profile("rnn", [1.0])})
    with pytest.raises(ValueError, match="at least one"):
        cell_path_figure({})


def test_radius_sweep_every_seed_the_mean_and_the_line_at_one():
    sweep = {"radius": [1.5, 0.5, 1.0], "ratio": [[1e4, 1e-6, 1.0], [1e2, 1e-2, 4.0],
                                                  [1e3, 0.0, 16.0]],
             "seeds": [[3, 4, 5]]}
    fig = radius_sweep_figure(sweep)
    assert len(fig.data) == 5
    for i, seed in enumerate((3, 4, 5)):
        t = fig.data[i]
        assert_xy(t, [1.5, 0.5, 1.0], sweep["ratio"][i], what=f"seed {seed}")
        assert t.name == f"seed {seed}" and t.mode == "markers" and t.legendgroup == "seeds"
        assert t.showlegend is (i == 0) and t.marker.color == CELL_COLORS["rnn"]
    mean, one = fig.data[3], fig.data[4]
    # geometric means over the seeds whose ratio is above 0
    assert_xy(mean, [1.5, 0.5, 1.0], [1e3, 1e-4, 4.0], what="mean")
    assert mean.name == "geometric mean over seeds" and mean.mode == "lines"
    assert list(one.x) == [0.5, 1.5] and list(one.y) == [1, 1]  # the radii's span
    assert one.line.dash == THEORY_DASH and one.name == "ratio 1"
    assert fig.layout.xaxis.title.text == "spectral radius of W_hh"
    assert fig.layout.yaxis.title.text == "||dL/dh_1|| / ||dL/dh_T|| (log scale)"
    assert fig.layout.title.text == "Spectral radius vs gradient reaching step 1"
    assert fig.layout.yaxis.dtick == 2  # 10 decades (the zero left out)
    one_seed = radius_sweep_figure({"radius": [1.0, 2.0], "ratio": [0.5, 2.0], "seeds": 9})
    assert_xy(one_seed.data[0], [1.0, 2.0], [0.5, 2.0]) and one_seed.data[0].name == "seed 9"


def test_training_curves_colour_by_cell_dash_by_length_one_legend_entry_each():
    def run(metric, name="test MSE", task="adding"):
        return SimpleNamespace(eval_at=np.array([0, 10, 20]), test_metric=np.array(metric),
                               metric_name=name, task=task)

    runs = {("rnn", 32, 0): run([1.0, 0.5, 0.25]), ("rnn", 32, 1): run([1.0, 0.6, 0.3]),
            ("lstm", 8, 0): run([0.9, 0.1, 0.01]), ("gru", 16, 0): run([0.8, 0.2, 0.02]),
            ("other", 8, 0): run([0.7, 0.3, 0.03])}
    fig = training_curves_figure(runs)
    assert len(fig.data) == 5
    dashes = {8: None, 16: "dash", 32: "dot"}  # by sorted sequence length
    for t, ((cell, T, seed), r) in zip(fig.data, runs.items(), strict=True):
        assert_xy(t, [0, 10, 20], r.test_metric, what=f"{cell} {T} {seed}")
        label = f"{cell.upper()}, T = {T}"
        assert t.name == label and t.legendgroup == label and t.hovertext == f"seed {seed}"
        assert t.line.dash == dashes[T] and t.mode == "lines"
        assert t.line.color == CELL_COLORS.get(cell, OKABE_ITO["grey"])
    assert [t.showlegend for t in fig.data] == [True, False, True, True, True]
    lay = fig.layout
    assert lay.yaxis.type == "log" and lay.yaxis.title.text == "test MSE (log scale)"
    assert lay.yaxis.dtick == 1 and lay.xaxis.title.text == "training step"
    assert lay.title.text == "Training on a memory task" and lay.height == 440
    accuracy = training_curves_figure({("rnn", 8, 0): run([0.5, 0.75, 1.0], "test accuracy",
                                                          "first_symbol")})
    assert accuracy.layout.yaxis.type != "log"
    assert accuracy.layout.yaxis.title.text == "test accuracy"


def test_clipping_every_run_on_both_panels():
    def run(loss, grad):
        return SimpleNamespace(loss=np.array(loss), grad_norm=np.array(grad))

    runs = {"clip 1": run([4.0, 2.0, 1.0], [1e3, 1e2, 10.0]),
            "no clip": run([4.0, np.inf, np.nan], [1e3, 1e40, -np.inf])}
    fig = clipping_figure(runs)
    assert len(fig.data) == 4
    colors = (OKABE_ITO["blue"], OKABE_ITO["green"])
    for i, (name, r) in enumerate(runs.items()):
        loss, grad = fig.data[2 * i], fig.data[2 * i + 1]
        assert_xy(loss, [1, 2, 3], np.where(np.isfinite(r.loss), r.loss, np.nan))
        assert_xy(grad, [1, 2, 3], np.where(np.isfinite(r.grad_norm), r.grad_norm, np.nan))
        assert (loss.xaxis, loss.yaxis, grad.xaxis, grad.yaxis) == ("x", "y", "x2", "y2")
        assert loss.name == grad.name == loss.legendgroup == grad.legendgroup == name
        assert loss.showlegend is True and grad.showlegend is False
        assert loss.line.color == grad.line.color == colors[i] and loss.mode == "lines"
    lay = fig.layout
    assert [a.text for a in lay.annotations] == ["training loss (log scale)",
                                                 "gradient norm before clipping (log)"]
    assert lay.yaxis.type == lay.yaxis2.type == "log"
    assert lay.yaxis.dtick == 1 and lay.yaxis2.dtick == 6  # 2 decades; 39 decades
    assert lay.yaxis.title.text == "loss (log scale)"
    assert lay.xaxis.title.text == lay.xaxis2.title.text == "training step"
    assert lay.title.text == "Exploding gradients with and without clipping"


def test_explorer_four_series_shown_and_hidden_with_their_numbers():
    fig = go.FigureWidget(through_time_explorer_figure())
    d = fig.data
    assert len(d) == 12
    # the flags' legend entries come with the first series only
    assert_triple_style(d[0:3], "||dL/dh_t|| measured", CELL_COLORS["rnn"], None, True)
    assert_triple_style(d[3:6], "bound (gamma ||W_hh||)^(T-t)", ROLE_COLORS["theory"],
                        THEORY_DASH)
    assert_triple_style(d[6:9], "LSTM ||dL/dc_t||", CELL_COLORS["lstm"], "longdash",
                        mode="lines")
    assert_triple_style(d[9:12], "LSTM cell path only", CELL_PATH_COLOR, "dot")
    assert fig.layout.yaxis.type == "log" and fig.layout.height == 440

    rnn = SimpleNamespace(profile=profile("rnn", [1e-3, 0.0, 1.0]), bound=[1e-4, 1e-2, 1.0])
    update_through_time_explorer_figure(fig, rnn)
    assert_log_triple(d[0:3], [1e-3, 0.0, 1.0])
    assert_log_triple(d[3:6], [1e-4, 1e-2, 1.0])
    assert all(t.visible is None for t in d[0:3])  # h is always drawn
    assert all(t.visible is True for t in d[3:6]) and all(t.visible is False for t in d[6:])
    assert all(len(t.x) == len(t.y) == 0 for t in d[6:])
    assert d[0].line.color == CELL_COLORS["rnn"]
    assert fig.layout.title.text == f"Gradient through time<br><sup>{ZERO_NOTE}</sup>"

    lstm = SimpleNamespace(profile=profile("lstm", [0.5, 1.0, 1.0], c=[0.0, 0.5, 1.0],
                                           path=[0.25, 0.5, 1.0]), bound=None)
    update_through_time_explorer_figure(fig, lstm, title="LSTM<br>old")
    assert_log_triple(d[0:3], [0.5, 1.0, 1.0])
    assert_log_triple(d[6:9], [0.0, 0.5, 1.0])
    assert_log_triple(d[9:12], [0.25, 0.5, 1.0])
    assert all(t.visible is False for t in d[3:6]) and all(len(t.x) == 0 for t in d[3:6])
    assert all(t.visible is True for t in d[6:12])
    assert d[0].line.color == CELL_COLORS["lstm"]
    title = fig.layout.title.text
    assert title == f"LSTM<br><sup>cell state: {ZERO_NOTE}</sup>"
    update_through_time_explorer_figure(
        fig, SimpleNamespace(profile=profile("new", [1.0]), bound=None))
    assert d[0].line.color == OKABE_ITO["grey"] and fig.layout.title.text == "Gradient through time"


def test_cell_labels():
    assert cell_label(SimpleNamespace(cell="rnn", nonlinearity="relu")) == "RNN (relu)"
    assert cell_label(SimpleNamespace(cell="lstm", nonlinearity="tanh")) == "LSTM"
    assert cell_label(SimpleNamespace(cell="gru", nonlinearity="tanh")) == "GRU"


def test_through_time_five_series_of_one_cell_cycle_four_dashes():
    profiles = {f"rnn {i}": profile("rnn", [1.0, 0.5]) for i in range(5)}
    fig = through_time_figure(profiles)
    assert [t.line.dash for t in fig.data[::3]] == [None, "dot", "dashdot", "longdash", None]
    assert {t.line.color for t in fig.data[::3]} == {CELL_COLORS["rnn"]}


def test_through_time_notes_of_two_series_are_joined_and_objects_are_checked():
    fig = through_time_figure({"a": profile("rnn", [0.0, 1.0]),
                               "b": profile("lstm", [1.0, np.inf])})
    overflow = "1 step overflowed to infinity: drawn as a triangle at the top"
    assert fig.layout.title.text == f"Gradient through time<br><sup>{ZERO_NOTE}; {overflow}</sup>"
    no_config = SimpleNamespace(h_grad_norm=np.ones(2))
    with pytest.raises(TypeError, match=r"\.config, got SimpleNamespace"):
        through_time_figure({"a": no_config})
    # no positive value to scale by: one label per decade
    assert through_time_figure({"a": profile("rnn", [0.0, 0.0])}).layout.yaxis.dtick == 1


def test_cell_path_five_profiles_cycle_four_colours_and_keep_every_note():
    profiles = {f"p{i}": profile("lstm", [1.0], c=[0.0 if i == 0 else 1.0], path=[1.0])
                for i in range(5)}
    fig = cell_path_figure(profiles)
    colors = [OKABE_ITO[k] for k in ("green", "purple", "sky_blue", "black", "green")]
    assert [t.line.color for t in fig.data[::6]] == colors  # each profile's total
    assert [t.line.color for t in fig.data[3::6]] == colors  # ... and its path, same colour
    assert ZERO_NOTE in fig.layout.title.text  # the first profile's note is kept
    with pytest.raises(TypeError, match=r"\.cell_path_norm"):
        cell_path_figure({"x": SimpleNamespace(c_grad_norm=np.ones(1))})


def test_radius_sweep_mean_and_reference_line_colours_and_modes():
    fig = radius_sweep_figure({"radius": [0.5, 1.0], "ratio": [[0.5, 2.0]], "seeds": [0]})
    seeds, mean, one = fig.data
    assert mean.line.color == seeds.marker.color == CELL_COLORS["rnn"]
    assert one.line.color == ROLE_COLORS["theory"] and one.mode == "lines"


def test_training_curves_four_lengths_four_dashes_and_label_spacing():
    def run(metric):
        return SimpleNamespace(eval_at=np.array([0, 10]), test_metric=np.array(metric),
                               metric_name="test MSE", task="adding")

    runs = {("rnn", T, 0): run([1.0, 1e-9]) for T in (64, 8, 32, 16)}
    fig = training_curves_figure(runs)
    assert [t.line.dash for t in fig.data] == ["dashdot", None, "dot", "dash"]
    assert fig.layout.yaxis.dtick == 2  # 9 decades of test MSE: a label every 2


def test_clipping_panels_side_by_side_five_runs_and_one_loss_title():
    runs = {f"r{i}": SimpleNamespace(loss=np.array([1.0, 0.5]), grad_norm=np.array([1.0, 2.0]))
            for i in range(5)}
    fig = clipping_figure(runs)
    colors = [OKABE_ITO[k] for k in ("blue", "green", "orange", "purple", "blue")]
    assert [t.line.color for t in fig.data[::2]] == colors
    lay = fig.layout
    assert lay.xaxis.domain[0] == 0 and lay.xaxis2.domain[1] == 1  # one row of two panels
    assert lay.xaxis.domain[1] < lay.xaxis2.domain[0] and tuple(lay.yaxis.domain) == (0, 1)
    assert tuple(lay.yaxis2.domain) == (0, 1) and "xaxis3" not in lay
    assert lay.yaxis.title.text == "loss (log scale)" and not lay.yaxis2.title.text


def test_explorer_titles_axes_and_the_bounds_note():
    fig = go.FigureWidget(through_time_explorer_figure())
    lay = fig.layout
    assert lay.title.text == "Gradient through time"
    assert lay.xaxis.title.text == "time step t (loss at the last step T)"
    assert lay.yaxis.title.text == "gradient norm (log scale)"
    assert lay.yaxis.exponentformat == "power"
    rnn = SimpleNamespace(profile=profile("rnn", [1.0, 1.0]), bound=[0.0, 1.0])
    update_through_time_explorer_figure(fig, rnn, title="RNN")
    assert fig.layout.title.text == f"RNN<br><sup>{ZERO_NOTE}</sup>"  # no "cell state:"
    for missing in (SimpleNamespace(bound=None), SimpleNamespace(profile=rnn.profile)):
        with pytest.raises(TypeError, match="ThroughTimeProfile-like"):
            update_through_time_explorer_figure(fig, missing)
