"""Widgets (helpers.widgets.base, explorer, curves): set a control, check the figure's numbers."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import pytest

from helpers.activations import activation_fn, derivative
from helpers.capture import gradient_profile
from helpers.data import spirals
from helpers.figures.profiles import log_series
from helpers.models import MLPConfig, build_mlp
from helpers.widgets import gradient_flow as explorer_module
from helpers.widgets.base import LiveFigure, norm_value
from helpers.widgets.curves import make_activation_point_explorer
from helpers.widgets.gradient_flow import make_gradient_flow_explorer, ratio_sentence

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


# -- base -----------------------------------------------------------------------------------
class Doubler(LiveFigure):
    """A minimal LiveFigure: one slider n, one trace showing 2 * arange(n)."""

    def __init__(self, fail=False):
        self.fail = fail
        super().__init__({"n": widgets.IntSlider(3, min=1, max=10)},
                         go.Figure(go.Scatter(x=[], y=[], name="2k")))
        self.update()

    def _update(self):
        if self.fail:
            raise ValueError("n is not allowed here")
        n = self.controls["n"].value
        self.figure.data[0].x = np.arange(n)
        self.figure.data[0].y = 2 * np.arange(n)
        return f"n = {n}"


def test_live_figure_updates_on_change():
    w = Doubler()
    assert w.n is w.controls["n"] and w.values() == {"n": 3}
    assert isinstance(w.figure, go.FigureWidget)
    w.n.value = 5
    np.testing.assert_array_equal(w.figure.data[0].y, [0, 2, 4, 6, 8])
    assert w.status.value == "n = 5" and w.error is None
    assert w.updates == 2 and w.last_update_seconds >= 0
    with pytest.raises(AttributeError, match="no attribute or control"):
        _ = w.nothing


def test_live_figure_shows_errors_instead_of_raising():
    w = Doubler()
    w.fail = True
    w.n.value = 4  # must not raise
    assert isinstance(w.error, ValueError)
    assert "Could not update" in w.status.value and "n is not allowed here" in w.status.value
    np.testing.assert_array_equal(w.figure.data[0].y, [0, 2, 4])  # the last good state stays
    w.fail = False
    w.n.value = 6
    assert w.error is None and w.status.value == "n = 6"


def test_live_figure_mimebundle_has_widget_and_static_snapshot():
    w = Doubler()
    bundle = w._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    assert bundle[WIDGET_VIEW]["model_id"] == w.widget.model_id
    html = bundle["text/html"]
    assert "n = 3" in html and "static snapshot" in html and "Plotly.newPlot" in html
    assert bundle["text/plain"] == "Doubler({'n': 3})"
    # a fragment that uses the page's plotly.js (embedding it would add ~4 MB per chart)
    assert len(html) < 50_000 and "<html" not in html and html.startswith("<div>n = 3</div>")
    w.status.value = ""
    assert w._repr_mimebundle_()["text/html"].startswith("<div style=")  # the chart, no status
    snap = w.snapshot()
    assert isinstance(snap, go.Figure) and not isinstance(snap, go.FigureWidget)
    np.testing.assert_array_equal(snap.data[0].y, [0, 2, 4])


# -- explorer -------------------------------------------------------------------------------
SMALL = dict(depth=4, width=8, activation="sigmoid", init="default", dtype="float64", seed=0)


@pytest.fixture(scope="module")
def data():
    return spirals(64, noise=0.1, seed=1)


@pytest.fixture
def explorer(data):
    return make_gradient_flow_explorer(*data, **SMALL)


def expected_profile(w, **settings):
    """The profile the compute layer gives for the explorer's current configuration."""
    v = w.values()
    v.update(settings)
    config = MLPConfig(depth=v["depth"], width=v["width"], activation=v["activation"],
                       init=v["init"], weight_std=v["weight_std"], norm=norm_value(v["norm"]),
                       residual=v["residual"], seed=v["seed"], dtype=v["dtype"],
                       in_features=2, out_features=2)
    return gradient_profile(build_mlp(config), w.X, w.y)


def assert_figure_shows(w, p):
    """Every trace of the dashboard holds the profile's numbers (computed here, not by the
    figure module): 7 traces, each x, y and z."""
    fig = w.figure
    assert len(fig.data) == 7
    n = len(p.layer_names)
    layers = np.arange(1, n + 1)
    g = np.asarray(p.weight_grad_norm, float)
    ok = np.isfinite(g) & (g > 0)
    drawn = np.asarray(fig.data[0].y, float)
    np.testing.assert_array_equal(fig.data[0].x, layers)
    np.testing.assert_allclose(drawn[ok], g[ok], rtol=1e-12)
    assert np.isnan(drawn[~ok & ~np.isposinf(g)]).all()  # a gap where log cannot draw
    floor = g[ok].min() / 10 if ok.any() else 1e-30  # flagged zeros sit a decade below
    zero = ~ok & ~np.isposinf(g)
    np.testing.assert_array_equal(fig.data[1].x, layers[zero])
    np.testing.assert_allclose(np.asarray(fig.data[1].y, float), np.full(zero.sum(), floor))
    np.testing.assert_array_equal(fig.data[2].x, layers[np.isposinf(g)])
    for i, values in ((3, np.nan_to_num(p.activation_std, nan=0.0, posinf=0.0)),
                      (4, 100 * p.saturation), (5, 100 * p.dead_fraction)):
        np.testing.assert_array_equal(fig.data[i].x, layers, err_msg=f"trace {i}")
        np.testing.assert_allclose(np.asarray(fig.data[i].y, float), values, rtol=1e-12,
                                   err_msg=f"trace {i}")
    hidden = p.activation_hist[:-1]  # the output layer's logits are left out
    e = p.hist_edges
    np.testing.assert_allclose(np.asarray(fig.data[6].x, float), (e[:-1] + e[1:]) / 2,
                               rtol=1e-12)
    np.testing.assert_array_equal(fig.data[6].y, np.arange(1, n))
    z = np.log10(np.maximum(hidden, 1e-4))
    np.testing.assert_allclose(np.asarray(fig.data[6].z, float), z, rtol=1e-12)
    np.testing.assert_allclose(w.profile.weight_grad_norm, p.weight_grad_norm, rtol=1e-12)


def test_log_series_the_explorer_draws_with():
    s = log_series([1e-3, 0.0, np.nan, 2.0, np.inf])
    np.testing.assert_array_equal(s["x"], [1, 2, 3, 4, 5])
    np.testing.assert_allclose(s["y"], [1e-3, np.nan, np.nan, 2.0, 20.0])
    np.testing.assert_array_equal(s["zero_x"], [2, 3])
    np.testing.assert_allclose(s["zero_y"], [1e-4, 1e-4])
    np.testing.assert_array_equal(s["huge_x"], [5])
    np.testing.assert_allclose(s["huge_y"], [20.0])


def test_explorer_initial_state_matches_compute(explorer):
    assert explorer.error is None
    assert_figure_shows(explorer, expected_profile(explorer))
    assert "||dL/da|| first / last hidden layer" in explorer.status.value
    assert explorer.weight_std.disabled  # only meaningful with init "normal"


@pytest.mark.parametrize("control, value", [
    ("depth", 6), ("width", 12), ("activation", "tanh"), ("activation", "relu"),
    ("init", "xavier"), ("init", "he"), ("init", "orthogonal"), ("norm", "batch"),
    ("norm", "layer"), ("residual", True), ("seed", 3), ("dtype", "float32"),
])
def test_each_control_redraws_with_the_computed_numbers(explorer, control, value):
    before = np.asarray(explorer.figure.data[0].y, float).copy()
    getattr(explorer, control).value = value
    assert explorer.error is None, explorer.status.value
    after = np.asarray(explorer.figure.data[0].y, float)
    if control == "dtype":  # the same network (weights drawn in float64, then cast) ...
        np.testing.assert_allclose(after, before, rtol=1e-3)
        assert not np.array_equal(after, before)  # ... computed in float32
    else:
        assert before.shape != after.shape or not np.allclose(before, after, equal_nan=True)
    assert_figure_shows(explorer, expected_profile(explorer))
    assert getattr(explorer.config, control) == value


def test_weight_std_with_normal_init(explorer):
    explorer.init.value = "normal"
    assert not explorer.weight_std.disabled
    assert_figure_shows(explorer, expected_profile(explorer))
    before = np.asarray(explorer.figure.data[0].y, float).copy()
    explorer.weight_std.value = 1.0
    assert explorer.error is None
    assert not np.allclose(before, np.asarray(explorer.figure.data[0].y, float))
    assert_figure_shows(explorer, expected_profile(explorer))
    assert explorer.config.weight_std == 1.0


def test_explorer_cached_models_are_reinitialised_exactly(explorer):
    first = explorer.profile.weight_grad_norm.copy()
    explorer.seed.value = 5
    explorer.seed.value = 0  # back: the cached model is re-initialised in place
    np.testing.assert_array_equal(explorer.profile.weight_grad_norm, first)


def test_explorer_float32_underflow_is_flagged(data):
    w = make_gradient_flow_explorer(*data, depth=60, width=8, activation="sigmoid",
                                    dtype="float32")
    assert w.error is None
    p = expected_profile(w)
    assert (p.weight_grad_norm == 0).any(), "this deep float32 sigmoid net should underflow"
    assert len(w.figure.data[1].x) == int((p.weight_grad_norm == 0).sum())
    # a norm of exactly 0 means every entry is 0 (tiny float32 entries must not square to 0)
    zero_layers = p.weight_grad_norm == 0
    np.testing.assert_array_equal(p.grad_zero_fraction[zero_layers], 1.0)
    assert (p.weight_grad_norm[p.grad_zero_fraction < 1] > 0).all()
    assert "exactly 0" in w.figure.layout.title.text
    assert_figure_shows(w, p)


def test_explorer_error_is_shown_not_raised(explorer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("capture failed on purpose")

    good = np.asarray(explorer.figure.data[0].y, float).copy()
    monkeypatch.setattr(explorer_module, "gradient_profile", broken)
    explorer.depth.value = 5  # must not raise
    assert isinstance(explorer.error, RuntimeError)
    assert "Could not update" in explorer.status.value
    assert "capture failed on purpose" in explorer.status.value
    np.testing.assert_array_equal(np.asarray(explorer.figure.data[0].y, float), good)
    monkeypatch.undo()
    explorer.depth.value = 6
    assert explorer.error is None
    assert_figure_shows(explorer, expected_profile(explorer))


def test_explorer_rejects_bad_settings(data):
    with pytest.raises(ValueError, match="valid choices"):
        make_gradient_flow_explorer(*data, init="mean_field")
    with pytest.raises(ValueError, match="valid choices"):
        make_gradient_flow_explorer(*data, activation="nope")
    with pytest.raises(ValueError, match="between"):
        make_gradient_flow_explorer(*data, depth=0)


def test_explorer_mimebundle(explorer):
    bundle = explorer._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    assert "||dL/da|| first / last hidden layer" in bundle["text/html"]
    assert "static snapshot" in bundle["text/html"]
    assert bundle["text/plain"].startswith("GradientFlowExplorer(")


def test_ratio_sentence():
    assert "0.001" in ratio_sentence([1e-3, 1.0, 5.0]) and "3.0 orders" in ratio_sentence(
        [1e-3, 1.0, 5.0])
    assert "larger" in ratio_sentence([10.0, 1.0, 1.0])
    assert "underflowed" in ratio_sentence([0.0, 1.0, 1.0])
    assert "cannot be formed" in ratio_sentence([1.0, 0.0, 1.0])
    assert "cannot be formed" in ratio_sentence([np.nan, 1.0, 1.0])


# -- curves widget --------------------------------------------------------------------------
def test_activation_point_explorer_moves_the_point():
    names = ("sigmoid", "tanh")
    w = make_activation_point_explorer(names, z=1.0)
    w.z.value = -2.5
    assert w.error is None
    np.testing.assert_allclose(w.figure.data[-2].y, [activation_fn(n)(-2.5) for n in names])
    np.testing.assert_allclose(w.figure.data[-1].y, [derivative(n)(-2.5) for n in names])
    np.testing.assert_allclose(w.figure.data[-1].x, [-2.5, -2.5])
    assert f"{float(derivative('sigmoid')(-2.5)):.4f}" in w.status.value
    with pytest.raises(ValueError, match="valid choices"):
        make_activation_point_explorer(("sigmoid", "nope"))


def test_activation_point_explorer_every_trace():
    """Traces: phi and phi' of each activation (unchanged by z), then the two point markers."""
    names = ("sigmoid", "tanh", "relu")
    w = make_activation_point_explorer(names, z=1.0)
    for z in (1.0, -3.3, 4.0):
        w.z.value = z
        assert w.error is None and len(w.figure.data) == 2 * len(names) + 2
        for i, n in enumerate(names):
            phi, dphi = w.figure.data[2 * i], w.figure.data[2 * i + 1]
            grid = np.asarray(phi.x, float)
            assert grid.min() == -6.0 and grid.max() == 6.0
            np.testing.assert_allclose(np.asarray(phi.y, float), activation_fn(n)(grid))
            np.testing.assert_allclose(np.asarray(dphi.x, float), grid)
            np.testing.assert_allclose(np.asarray(dphi.y, float), derivative(n)(grid))
        np.testing.assert_allclose(w.figure.data[-2].x, [z] * 3)
        np.testing.assert_allclose(w.figure.data[-2].y, [activation_fn(n)(z) for n in names])
        np.testing.assert_allclose(w.figure.data[-1].x, [z] * 3)
        np.testing.assert_allclose(w.figure.data[-1].y, [derivative(n)(z) for n in names])


def test_activation_dropdown_lists_labels_and_rejects_unknown_names():
    from helpers.widgets.base import activation_dropdown

    dd = activation_dropdown("relu", ["sigmoid", "relu"])
    assert dd.value == "relu" and dd.options == (("Sigmoid", "sigmoid"), ("ReLU", "relu"))
    assert len(activation_dropdown("tanh").options) == 8
    with pytest.raises(ValueError, match="valid choices: sigmoid, relu"):
        activation_dropdown("swish", ["sigmoid", "relu"])


def test_every_norm_dropdown_shows_a_label_for_no_norm():
    """ipywidgets treats a Dropdown value of None as "nothing selected" (a blank label)."""
    from helpers.widgets.base import NO_NORM, norm_dropdown
    from helpers.widgets.normalization import make_normalization_explorer
    from helpers.widgets.residual import make_residual_explorer
    from helpers.widgets.training import make_training_dashboard

    d = norm_dropdown(None)
    assert d.value == NO_NORM and d.label == "none" and norm_value(d.value) is None
    assert norm_value(norm_dropdown("layer").value) == "layer"
    with pytest.raises(ValueError, match="valid choices: None, 'batch', 'layer'"):
        norm_dropdown("group")
    for w in (make_gradient_flow_explorer(depth=3, width=8), make_normalization_explorer(depth=3),
              make_residual_explorer(depth=10), make_training_dashboard(depth=3, width=8)):
        control = w.controls["norm"]
        assert None not in [value for _, value in control.options], type(w).__name__
        assert control.label, type(w).__name__


def test_paced_redraw_waits_for_the_browser_and_never_queues():
    import plotly.graph_objects as go

    from helpers.widgets.pacing import BrowserAnswers, PacedRedraw

    fig = go.FigureWidget(go.Figure(go.Scatter(x=[0], y=[0])))
    answers = BrowserAnswers(fig)
    drawn, guarded = [], []

    def draw(*args):
        drawn.append(args)
        fig.data[0].y = [len(drawn)]  # one update sent to the browser
        pace.drawn()

    def browser_answers():  # what plotly's front end sends once it has drawn the update
        fig.set_state({"_js2py_traceDeltas": {"trace_deltas": [{"uid": fig.data[0].uid}],
                                              "trace_edit_id": fig._last_trace_edit_id}})

    pace = PacedRedraw(answers, draw, lambda f: (guarded.append(1), f()), ack_timeout=3.0)
    assert pace.ready(0.0)  # no browser seen yet
    pace.bind()  # outside a kernel: no loop, so a request draws at once
    assert pace.loop is None
    pace.request(1, 2)
    assert drawn == [(1, 2)] and not guarded
    browser_answers()  # a browser has drawn the first redraw
    assert answers.answered == fig._last_trace_edit_id and not answers.waiting()
    assert not fig._js2py_traceDeltas  # the deltas never reach plotly.py's handler
    pace.request(3, 4)  # sent after the answer: the browser has not shown it yet
    now = pace.sent + 0.1
    assert answers.waiting()
    assert not pace.ready(now) and pace.ready(pace.sent + 3.5)  # late beyond waiting: draw
    browser_answers()
    assert pace.ready(now)
    pace.pending = True  # a redraw scheduled on the loop and not yet run
    assert not pace.ready(now)
    pace._on_loop(5, 6)  # the loop runs it, guarded, and clears the flag
    assert drawn[-1] == (5, 6) and guarded == [1] and not pace.pending


class Sliders(LiveFigure):
    """Five sliders in rows of two; the status line names the sum of their values."""

    def __init__(self):
        super().__init__({f"s{i}": widgets.IntSlider(i) for i in range(5)},
                         go.Figure(go.Scatter(x=[], y=[])), columns=2)

    def _update(self):
        return f"sum = {sum(self.values().values())}"


def test_live_figure_lays_out_controls_in_rows_then_status_figure_output():
    w = Sliders()
    rows = w.widget.children
    assert [len(r.children) for r in rows[:3]] == [2, 2, 1]
    assert [c for r in rows[:3] for c in r.children] == list(w.controls.values())
    assert rows[3:] == (w.status, w.figure, w.output)
    assert math.isnan(w.last_update_seconds) and w.updates == 0 and w.error is None


def test_live_figure_updates_on_a_value_only_and_times_the_update():
    w = Sliders()
    w.s1.description = "first"  # another trait: no update
    assert w.updates == 0
    w.s4.value = 10
    assert w.updates == 1 and w.status.value == "sum = 16"
    assert 0 <= w.last_update_seconds < 60


def test_an_error_then_a_good_update_clears_the_traceback():
    w = Doubler()
    w.fail = True
    w.n.value = 4
    assert w.status.value == ('<span style="color:#D55E00"><b>Could not update:</b> '
                              "ValueError: n is not allowed here</span>")
    assert "Traceback" in "".join(o.get("text", "") for o in w.output.outputs)
    w.n.value = 6  # a second failure replaces the first traceback
    assert len(w.output.outputs) == 1
    w.fail = False
    w.n.value = 5
    assert w.output.outputs == () and w.error is None


def test_a_missing_control_is_named_in_the_error():
    with pytest.raises(AttributeError) as info:
        _ = Doubler().depth
    assert str(info.value) == "Doubler has no attribute or control 'depth'"
    bare = Doubler.__new__(Doubler)  # before __init__ has set the controls
    with pytest.raises(AttributeError) as info:
        _ = bare.depth
    assert str(info.value) == "Doubler has no attribute or control 'depth'"


def test_dropdowns_describe_themselves_and_show_their_labels():
    from helpers.widgets.base import activation_dropdown, norm_dropdown

    act = activation_dropdown("relu")
    assert act.description == "activation" and act.style.description_width == "initial"
    norm = norm_dropdown("batch", description="where")
    assert norm.options == (("none", "none"), ("batch", "batch"), ("layer", "layer"))
    assert norm.description == "where" and norm.style.description_width == "initial"
    named = norm_dropdown(None, labels={None: "no norm", "layer": "LayerNorm"})
    assert [label for label, _ in named.options] == ["no norm", "batch", "LayerNorm"]
