"""helpers.figures.training: traces carry the runs' numbers; the dashboard updates in place."""

from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest

from helpers.figures.training import (
    UPDATE_REFERENCE,
    curves_figure,
    dashboard_figure,
    decision_boundary_figure,
    describe_config,
    first_last_ratio,
    gradient_heatmap_figure,
    log10_grid,
    ratio_figure,
    runs_table_html,
    update_dashboard_figure,
    update_ratio_figure,
)


def fake_run(name, seed=0, records=6, layers=4, zero_first=False):
    rng = np.random.default_rng(seed)
    grad = 10.0 ** rng.uniform(-6, 0, (records, layers))
    if zero_first:
        grad[:, 0] = 0.0
    h = SimpleNamespace(
        steps=np.arange(0, 10 * records, 10), loss=np.linspace(1, 0.1, records),
        accuracy=np.linspace(0.5, 1, records), test_loss=np.linspace(1.1, 0.2, records),
        test_accuracy=np.linspace(0.45, 0.95, records), grad_norm=grad,
        update_ratio=10.0 ** rng.uniform(-4, -2, (records, layers)))
    grid = {"x": np.linspace(-1, 1, 5), "y": np.linspace(-1, 1, 5),
            "p": rng.uniform(0, 1, (5, 5))}
    return SimpleNamespace(name=name, history=h, grid=grid)


@pytest.fixture
def runs():
    return {"a": fake_run("a", 0), "b": fake_run("b", 1, zero_first=True)}


def test_curves_train_and_test_per_run(runs):
    fig = curves_figure(runs)
    assert isinstance(fig, go.Figure) and len(fig.data) == 8  # 2 runs x 2 panels x train/test
    np.testing.assert_array_equal(fig.data[1].y, runs["a"].history.test_loss)
    assert fig.data[1].line.dash == "dash" and fig.data[0].line.dash is None
    assert fig.layout.yaxis.type == "log" and fig.layout.height <= 460
    assert fig.layout.font.size >= 16


def test_heatmap_is_log10_layers_by_steps_with_zeros_blank(runs):
    fig = gradient_heatmap_figure(runs)
    z = np.asarray(fig.data[0].z, dtype=float)
    np.testing.assert_allclose(z, np.log10(runs["a"].history.grad_norm.T))
    zb = np.array(fig.data[1].z, dtype=float)
    assert np.all(np.isnan(zb[0])) and np.all(np.isfinite(zb[1:]))
    assert fig.layout.coloraxis.cmin <= np.nanmin(zb) and fig.layout.coloraxis.cmax >= z.max()
    _, blanks = log10_grid([1.0, 0.0, np.nan])
    assert blanks == 2


def test_update_ratio_has_every_layer_and_the_reference(runs):
    fig = update_ratio_figure(runs)
    refs = [t for t in fig.data if t.name == "1e-3 rule of thumb"]
    assert len(refs) == 2 and all(np.allclose(t.y, UPDATE_REFERENCE) for t in refs)
    layers = [t for t in fig.data if t.name and t.name.startswith("layer ")]
    assert len(layers) == 2 * 3  # layers 1-3 per run, plus "output"
    np.testing.assert_array_equal(fig.data[0].y, runs["a"].history.update_ratio[:, 0])


def test_ratio_over_training(runs):
    fig = ratio_figure(runs)
    g = runs["a"].history.grad_norm
    np.testing.assert_allclose(fig.data[0].y, g[:, 0] / g[:, -2])
    assert np.all(first_last_ratio(runs["b"].history) == 0)


def test_decision_boundary(runs):
    X = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]])
    y = np.array([0, 1, 1])
    fig = decision_boundary_figure(runs, X, y)
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), runs["a"].grid["p"])
    assert len(fig.data[2].x) == 2 and len(fig.data[1].x) == 1  # class 1, class 0


def test_dashboard_update_in_place(runs):
    fig = go.FigureWidget(dashboard_figure())
    n = len(fig.data)
    a, b = runs["a"], runs["b"]
    update_dashboard_figure(fig, a.history, finished=[b.history], grid=a.grid,
                            points=(np.zeros((2, 2)), np.array([0, 1])), title="live")
    assert len(fig.data) == n and fig.layout.title.text == "live"
    np.testing.assert_array_equal(fig.data[1].y, a.history.loss)
    np.testing.assert_array_equal(fig.data[5].y, a.history.test_accuracy)
    faded = np.array([np.nan if v is None else v for v in fig.data[0].y], dtype=float)
    np.testing.assert_array_equal(faded[:-1], b.history.loss)  # one run, then a gap
    np.testing.assert_allclose(np.asarray(fig.data[9].z, float), np.log10(a.history.grad_norm.T))
    np.testing.assert_array_equal(fig.data[10].y, a.history.update_ratio[-1])
    update_dashboard_figure(fig, None)
    assert len(fig.data[1].y) == 0 and len(fig.data[0].y) == 0


# --- every trace, its panel and its scale --------------------------------------------
# The expected numbers below are the runs' own arrays, written out from the documented
# drawing rules (not by calling the figure module's helpers).

def panel(trace) -> tuple[str, str]:
    """The (x axis, y axis) a trace is drawn on: ("x", "y") is the first panel."""
    return trace.xaxis or "x", trace.yaxis or "y"


def floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_every_figure_puts_its_title_and_legend_above_the_plots(runs):
    X, y = np.zeros((2, 2)), np.array([0, 1])
    figures = {"curves": curves_figure(runs, title="T1"),
               "heatmap": gradient_heatmap_figure(runs, title="T2"),
               "update": update_ratio_figure(runs, title="T3"),
               "ratio": ratio_figure(runs, title="T4"),
               "boundary": decision_boundary_figure(runs, X, y, title="T5")}
    for i, (what, fig) in enumerate(figures.items(), 1):
        lay = fig.layout
        assert lay.title.text == f"T{i}", what  # the caller's title is shown
        plots_top = 1 - lay.margin.t / lay.height  # container coordinates, 1 = the top
        assert lay.title.yref == lay.legend.yref == "container", what
        assert 1 >= lay.title.y > lay.legend.y > plots_top, what
        assert lay.title.yanchor == lay.legend.yanchor == "top", what
        assert lay.legend.orientation == "h" and lay.legend.x == 0, what
        assert lay.height == 440 and lay.margin.b >= 40 and lay.margin.l >= 60, what
        assert lay.template.layout.plot_bgcolor == "white", what  # plotly_white
    # the default titles name what is drawn
    assert curves_figure(runs).layout.title.text == "Training (solid) and test (dashed)"


def test_curves_every_trace_is_a_runs_series_on_its_panel(runs):
    fig = curves_figure(runs)
    assert len(fig.data) == 8
    colors = []
    for r, (name, run) in enumerate(runs.items()):
        h = run.history
        expected = [(h.loss, "x", "y", name, True, None),
                    (h.test_loss, "x", "y", f"{name} (test)", False, "dash"),
                    (h.accuracy, "x2", "y2", name, False, None),
                    (h.test_accuracy, "x2", "y2", f"{name} (test)", False, "dash")]
        for k, (values, xa, ya, label, legend, dash) in enumerate(expected):
            t = fig.data[4 * r + k]
            np.testing.assert_array_equal(t.x, h.steps)
            np.testing.assert_array_equal(t.y, values)
            assert panel(t) == (xa, ya) and t.name == label and t.legendgroup == name
            assert t.showlegend is legend and t.line.dash == dash
        run_colors = {fig.data[4 * r + k].line.color for k in range(4)}
        assert len(run_colors) == 1 and None not in run_colors  # one colour per run
        colors += run_colors
    assert len(set(colors)) == 2  # two runs, two colours
    lay = fig.layout
    assert lay.yaxis.type == "log" and lay.yaxis2.type != "log"
    assert tuple(lay.yaxis2.range) == (0, 1.02)  # accuracy: the whole of [0, 1]
    assert [a.text for a in lay.annotations] == ["loss (log scale)", "accuracy"]
    assert lay.yaxis.title.text and lay.yaxis2.title.text
    assert lay.xaxis.title.text == lay.xaxis2.title.text == "training step"
    assert lay.xaxis.domain[1] < lay.xaxis2.domain[0]  # side by side, one row
    assert lay.yaxis.domain == lay.yaxis2.domain


def test_heatmap_every_run_on_one_colour_scale(runs):
    fig = gradient_heatmap_figure(runs)
    assert len(fig.data) == 2
    finite = []
    for i, (name, run) in enumerate(runs.items()):
        t, g = fig.data[i], run.history.grad_norm
        with np.errstate(divide="ignore"):
            expected = np.where(g.T > 0, np.log10(g.T), np.nan)
        np.testing.assert_allclose(np.asarray(t.z, float), expected)
        np.testing.assert_array_equal(t.x, run.history.steps)
        np.testing.assert_array_equal(t.y, np.arange(1, g.shape[1] + 1))  # 1 = input side
        assert t.name == name and t.coloraxis == "coloraxis"
        assert panel(t) == (("x", "y") if i == 0 else ("x2", "y2"))
        finite += list(expected[np.isfinite(expected)])
    axis = fig.layout.coloraxis
    assert axis.cmin == min(finite) and axis.cmax == max(finite)  # exactly the data's range
    assert axis.colorbar.title.text == "log10"
    assert [a.text for a in fig.layout.annotations] == list(runs)
    assert fig.layout.yaxis.title.text == "layer (1 = input side)"
    assert fig.layout.xaxis.title.text == fig.layout.xaxis2.title.text == "training step"
    assert fig.layout.yaxis.domain == fig.layout.yaxis2.domain


def test_heatmap_of_all_zero_gradients_is_blank_on_a_default_scale():
    run = fake_run("dead")
    run.history.grad_norm[:] = 0.0
    fig = gradient_heatmap_figure({"dead": run})
    assert np.all(np.isnan(np.asarray(fig.data[0].z, float)))
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (-1.0, 0.0)


def test_update_ratio_every_layer_its_colour_and_the_reference(runs):
    fig = update_ratio_figure(runs)
    n = 4  # layers in fake_run: 3 hidden + output
    assert len(fig.data) == 2 * (n + 1) + 1
    for r, run in enumerate(runs.values()):
        h, axes = run.history, (("x", "y") if r == 0 else ("x2", "y2"))
        lines = fig.data[r * (n + 1): r * (n + 1) + n]
        for layer, t in enumerate(lines):
            np.testing.assert_array_equal(t.x, h.steps)
            np.testing.assert_array_equal(t.y, h.update_ratio[:, layer])
            assert t.name == ("output" if layer == n - 1 else f"layer {layer + 1}")
            assert panel(t) == axes and t.mode == "lines" and t.showlegend is False
            assert t.legendgroup == t.name
        colors = [t.line.color for t in lines]
        assert len(set(colors)) == n and None not in colors  # one colour per layer
        ref = fig.data[r * (n + 1) + n]
        assert list(ref.x) == [h.steps[0], h.steps[-1]] and list(ref.y) == [1e-3, 1e-3]
        assert ref.name == "1e-3 rule of thumb" and ref.showlegend is (r == 0)
        assert ref.line.dash == "dash" and ref.mode == "lines" and panel(ref) == axes
        assert ref.line.color not in colors
    key = fig.data[-1]  # a legend entry only: how to read the layer colours
    assert list(key.x) == [None] and list(key.y) == [None] and key.mode == "lines"
    assert key.name == "layers: dark = input side, yellow = output"
    assert key.line.color == fig.data[0].line.color  # the input side's colour
    lay = fig.layout
    assert lay.yaxis.type == lay.yaxis2.type == "log" and lay.yaxis2.matches == "y"
    assert lay.yaxis.title.text == "update:data (log scale)"
    assert lay.xaxis.title.text == lay.xaxis2.title.text == "training step"
    assert [a.text for a in lay.annotations] == list(runs)


def test_update_ratio_layer_colours_run_from_the_scales_dark_end():
    from plotly.colors import sample_colorscale

    from helpers.figures.style import HEATMAP_SCALE

    run = fake_run("a", layers=3)
    fig = update_ratio_figure({"a": run})
    expected = sample_colorscale(HEATMAP_SCALE, [0.0, 0.45, 0.9])
    assert [t.line.color for t in fig.data[:3]] == expected


def test_ratio_every_run_and_the_line_at_one():
    runs = {"a": fake_run("a", 0, layers=5), "b": fake_run("b", 1, layers=5)}
    fig = ratio_figure(runs)
    assert len(fig.data) == 2
    for t, (name, run) in zip(fig.data, runs.items(), strict=True):
        g = run.history.grad_norm  # 5 layers: the first over the fourth (the last hidden)
        np.testing.assert_allclose(t.y, g[:, 0] / g[:, 3], rtol=1e-15)
        np.testing.assert_array_equal(t.x, run.history.steps)
        assert t.name == name
    assert fig.data[0].line.color != fig.data[1].line.color
    (shape,) = fig.layout.shapes
    assert shape.y0 == shape.y1 == 1.0 and shape.line.dash == "dot"
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.xaxis.title.text == "training step" and fig.layout.yaxis.title.text


def test_first_last_ratio_is_float64_and_quiet_when_a_norm_is_zero():
    h = SimpleNamespace(grad_norm=np.array([[1.0, 2.0, 0.0, 5.0], [0.0, 3.0, 0.0, 5.0],
                                            [0.5, 1.0, 0.25, 5.0]], dtype=np.float32))
    with np.errstate(all="raise"):  # x/0 and 0/0 must not warn or raise
        r = first_last_ratio(h)
    assert r.dtype == np.float64
    np.testing.assert_array_equal(r[1:], [np.nan, 2.0])
    assert np.isposinf(r[0])


def test_decision_boundary_every_trace(runs):
    X = np.array([[0.0, 0.5], [1.0, 1.5], [-1.0, 0.25], [2.0, -2.0]])
    y = np.array([0, 1, 1, 0])
    fig = decision_boundary_figure(runs, X, y)
    assert len(fig.data) == 2 * 3
    for r, (name, run) in enumerate(runs.items()):
        axes = ("x", "y") if r == 0 else ("x2", "y2")
        hm = fig.data[3 * r]
        np.testing.assert_array_equal(hm.x, run.grid["x"])
        np.testing.assert_array_equal(hm.y, run.grid["y"])
        np.testing.assert_array_equal(np.asarray(hm.z), run.grid["p"])
        assert (hm.zmin, hm.zmax) == (0, 1) and hm.coloraxis is None and hm.name == name
        assert hm.showscale is (r == len(runs) - 1) and panel(hm) == axes  # one colour bar
        scale = [tuple(s) for s in hm.colorscale]
        assert [s[0] for s in scale] == [0, 0.5, 1] and scale[1][1] == "#ffffff"  # p = 0.5
        assert hm.colorbar.title.text == "P(class 1)"
        for c in (0, 1):
            t = fig.data[3 * r + 1 + c]
            np.testing.assert_array_equal(t.x, X[y == c, 0])
            np.testing.assert_array_equal(t.y, X[y == c, 1])
            assert t.mode == "markers" and t.name == f"class {c}" and panel(t) == axes
            assert t.showlegend is (r == 0)
    assert fig.data[1].marker.color != fig.data[2].marker.color
    assert fig.data[1].marker.color == fig.data[4].marker.color  # a class keeps its colour
    lay = fig.layout
    for axis in (lay.xaxis, lay.xaxis2, lay.yaxis):
        assert tuple(axis.range) == (-2.6, 2.6)
    assert lay.xaxis.title.text == "x1" and lay.yaxis.title.text == "x2"
    assert [a.text for a in lay.annotations] == list(runs)


def test_describe_config_names_every_setting():
    from helpers.models import MLPConfig

    plain = MLPConfig(depth=6, width=32, activation="tanh", init="xavier", seed=3)
    assert describe_config(plain) == "tanh, depth 6, width 32, init xavier, seed 3"
    full = MLPConfig(depth=8, width=16, activation="relu", init="he", norm="layer",
                     residual=True, norm_position="post", seed=0)
    assert describe_config(full) == ("relu, depth 8, width 16, init he, "
                                     "layernorm (post), residual, seed 0")


def _cells(table: str, tag: str) -> list[list[str]]:
    import re

    rows = re.findall(r"<tr>(.*?)</tr>", table)
    return [re.findall(rf"<{tag}>(.*?)</{tag}>", row) for row in rows if f"<{tag}>" in row]


def test_runs_table_one_row_per_run_with_its_numbers():
    h1 = SimpleNamespace(test_accuracy=np.array([0.5, 0.9126]), final_loss=0.012346,
                         seconds=3.04)
    h2 = SimpleNamespace(test_accuracy=np.zeros(0), final_loss=float("nan"), seconds=0.25)
    runs = [dict(name="relu <deep>", optimizer="adam", lr=0.001, history=h1,
                 status="finished", steps_to_target=120),
            dict(name="tanh", optimizer="sgd", lr=0.5, history=h2,
                 status="diverged at step 3", steps_to_target=None)]
    table = runs_table_html(runs, target=0.9)
    assert table.startswith('<table style="font-size:15px">') and table.endswith("</table>")
    assert _cells(table, "th") == [["#", "network", "optimizer, lr", "status",
                                    "final train loss", "test accuracy", "steps to 90% test",
                                    "seconds"]]
    assert _cells(table, "td") == [
        ["1", "relu &lt;deep&gt;", "adam, 0.001", "finished", "0.01235", "0.913", "120",
         "3.0"],
        ["2", "tanh", "sgd, 0.5", "diverged at step 3", "nan", "nan", "never", "0.2"]]
    assert runs_table_html([], target=0.9) == ""


DASHBOARD_PANELS = {  # trace index -> the panel it is drawn on (row 1: 3 panels, row 2: 2)
    0: ("x", "y"), 1: ("x", "y"), 2: ("x", "y"),  # loss: finished, train, test
    3: ("x2", "y2"), 4: ("x2", "y2"), 5: ("x2", "y2"),  # accuracy
    6: ("x3", "y3"), 7: ("x3", "y3"), 8: ("x3", "y3"),  # boundary and the two classes
    9: ("x4", "y4"),  # gradient heatmap, two columns wide
    10: ("x5", "y5"), 11: ("x5", "y5")}  # update:data per layer and the 1e-3 line


def test_dashboard_layout_each_trace_on_its_panel_and_scale():
    from helpers.figures.training import CLASS_COLORS, TRACES

    fig = dashboard_figure()
    assert len(fig.data) == len(TRACES) == 12
    assert {i: panel(t) for i, t in enumerate(fig.data)} == DASHBOARD_PANELS
    kinds = ["heatmap" if i in (6, 9) else "scatter" for i in range(12)]
    assert [t.type for t in fig.data] == kinds
    assert all(len(t.x) == 0 for t in fig.data)  # empty until the first update
    lay = fig.layout
    assert lay.yaxis.type == "log" and lay.yaxis5.type == "log"  # loss, update:data
    assert tuple(lay.yaxis2.range) == (0, 1.02)
    # the heatmap spans the first two columns, on the second row
    assert tuple(lay.xaxis4.domain) == (lay.xaxis.domain[0], lay.xaxis2.domain[1])
    assert lay.yaxis4.domain[1] < lay.yaxis.domain[0]
    assert tuple(lay.xaxis5.domain) == tuple(lay.xaxis3.domain)
    boundary = fig.data[6]
    assert (boundary.zmin, boundary.zmax) == (0, 1) and boundary.showscale is False
    assert fig.data[9].colorbar.title.text == "log10"
    # the legend: finished, train, test (their colours hold on the accuracy panel too) and
    # the 1e-3 rule; every other trace stays out of it
    shown = [i for i, t in enumerate(fig.data) if t.type == "scatter" and t.showlegend is not False]
    assert shown == [0, 1, 2, 11] and fig.data[11].name == "1e-3 rule"
    assert [fig.data[i].line.color for i in (0, 1, 2)] == [fig.data[i].line.color
                                                           for i in (3, 4, 5)]
    assert len({fig.data[i].line.color for i in (0, 1, 2, 11)}) == 4
    assert fig.data[2].line.dash == fig.data[5].line.dash == fig.data[11].line.dash == "dash"
    assert fig.data[1].line.dash is None and fig.data[4].line.dash is None
    assert (fig.data[7].marker.color, fig.data[8].marker.color) == CLASS_COLORS
    assert fig.data[7].mode == fig.data[8].mode == "markers"
    assert lay.title.text == "Press Start to train" and lay.height <= 480
    assert [a.text for a in lay.annotations] == [
        "loss (log scale)", "accuracy", "decision boundary",
        "log10 ||dL/dW||: layer x step", "update:data per layer"]
    assert 1 >= lay.title.y > lay.legend.y > 1 - lay.margin.t / lay.height


def _history(seed, records, layers=4, test_records=None):
    run = fake_run("h", seed=seed, records=records, layers=layers)
    h = run.history
    k = records if test_records is None else test_records
    h.test_loss, h.test_accuracy = h.test_loss[:k], h.test_accuracy[:k]
    return h, run.grid


def test_dashboard_update_rewrites_every_trace_from_the_runs():
    fig = go.FigureWidget(dashboard_figure())
    live, grid = _history(0, records=5, layers=4, test_records=3)  # tests lag behind
    old1, _ = _history(1, records=3)
    old2, _ = _history(2, records=2)
    X = np.array([[0.5, -1.0], [1.5, 2.0], [-0.25, 0.75]])
    y = np.array([1, 0, 1])
    update_dashboard_figure(fig, live, finished=[old1, old2], grid=grid, points=(X, y),
                            title="relu, depth 4")
    d = fig.data
    # the finished runs: one trace each panel, None between runs
    for i, key in ((0, "loss"), (3, "accuracy")):
        expected = [*getattr(old1, key), np.nan, *getattr(old2, key), np.nan]
        steps = [*old1.steps, np.nan, *old2.steps, np.nan]
        np.testing.assert_array_equal(floats(d[i].y), expected)
        np.testing.assert_array_equal(floats(d[i].x), steps)
    np.testing.assert_array_equal(d[1].x, live.steps)
    np.testing.assert_array_equal(d[1].y, live.loss)
    np.testing.assert_array_equal(d[2].x, live.steps[:3])  # as many steps as test records
    np.testing.assert_array_equal(d[2].y, live.test_loss)
    np.testing.assert_array_equal(d[4].x, live.steps)
    np.testing.assert_array_equal(d[4].y, live.accuracy)
    np.testing.assert_array_equal(d[5].x, live.steps[:3])
    np.testing.assert_array_equal(d[5].y, live.test_accuracy)
    np.testing.assert_array_equal(d[6].x, grid["x"])
    np.testing.assert_array_equal(d[6].y, grid["y"])
    np.testing.assert_array_equal(np.asarray(d[6].z), grid["p"])
    np.testing.assert_array_equal(d[7].x, [1.5])  # class 0
    np.testing.assert_array_equal(d[7].y, [2.0])
    np.testing.assert_array_equal(d[8].x, [0.5, -0.25])
    np.testing.assert_array_equal(d[8].y, [-1.0, 0.75])
    np.testing.assert_array_equal(d[9].x, live.steps)
    np.testing.assert_array_equal(d[9].y, [1, 2, 3, 4])  # layer 1 = input side
    np.testing.assert_allclose(np.asarray(d[9].z, float), np.log10(live.grad_norm.T))
    np.testing.assert_array_equal(d[10].x, [1, 2, 3, 4])
    np.testing.assert_array_equal(d[10].y, live.update_ratio[-1])  # the latest record
    assert list(d[11].x) == [1, 4] and list(d[11].y) == [1e-3, 1e-3]
    assert fig.layout.title.text == "relu, depth 4"

    # the next draw: no points given, the grid kept -> the class markers stay
    update_dashboard_figure(fig, live, finished=[], grid=grid)
    np.testing.assert_array_equal(d[8].x, [0.5, -0.25])
    assert len(d[0].x) == len(d[3].y) == 0 and fig.layout.title.text == ""
    # neither grid nor points -> the markers go; the boundary keeps the last grid
    update_dashboard_figure(fig, live)
    assert len(d[7].x) == len(d[8].x) == len(d[7].y) == len(d[8].y) == 0
    np.testing.assert_array_equal(np.asarray(d[6].z), grid["p"])
    # no live run: every live trace is emptied
    update_dashboard_figure(fig, None, finished=[old1])
    for i in (1, 2, 4, 5, 10, 11):
        assert len(d[i].x) == len(d[i].y) == 0, i
    assert len(d[9].z) == len(d[6].z) == 0
    np.testing.assert_array_equal(floats(d[0].y), [*old1.loss, np.nan])


def test_dashboard_update_before_the_first_record_and_for_one_layer():
    fig = go.FigureWidget(dashboard_figure())
    empty = SimpleNamespace(steps=np.zeros(0, int), loss=np.zeros(0), accuracy=np.zeros(0),
                            test_loss=np.zeros(0), test_accuracy=np.zeros(0),
                            grad_norm=np.zeros((0, 3)), update_ratio=np.zeros((0, 3)))
    update_dashboard_figure(fig, empty)
    assert len(fig.data[10].x) == len(fig.data[10].y) == 0  # no record, no update:data
    np.testing.assert_array_equal(fig.data[9].y, [1, 2, 3])
    assert list(fig.data[11].x) == [1, 3]
    one, _ = _history(0, records=2, layers=1)
    update_dashboard_figure(fig, one)
    assert list(fig.data[11].x) == [1, 2]  # the 1e-3 line keeps a length with one layer
    np.testing.assert_array_equal(fig.data[10].x, [1])
