"""helpers.figures.diagnose: traces carry the diagnosis's numbers; flags and labels are right."""

import numpy as np
import pytest
from trace_oracles import assert_log_triple

from helpers.data import teacher
from helpers.diagnose import Diagnosis, diagnose
from helpers.figures.diagnose import (
    depth_profiles_figure,
    diagnosis_figure,
    diagnosis_html,
    units_figure,
    update_depth_profiles_figure,
)
from helpers.figures.style import OKABE_ITO, ROLE_COLORS, SERIES_COLORS
from helpers.findings import Finding
from helpers.models import MLPConfig, build_mlp


@pytest.fixture(scope="module")
def sick():
    X, y = teacher(64, in_features=10, classes=4)
    return diagnose(build_mlp(MLPConfig(depth=30, activation="sigmoid", in_features=10,
                                        out_features=4)), X, y)


@pytest.fixture(scope="module")
def trained():
    X, y = teacher(64, in_features=10, classes=4)
    return diagnose(build_mlp(MLPConfig(depth=4, activation="relu", init="he", in_features=10,
                                        out_features=4)), X, y, steps=5)


def test_diagnosis_figure_draws_grad_data_and_flags(sick):
    fig = diagnosis_figure(sick)
    line = fig.data[0]
    np.testing.assert_allclose(line.y, sick.grad_data_ratio)
    assert list(line.x) == list(range(1, len(sick.layer_names) + 1))
    flagged = [t for t in fig.data if t.name == "layer named in a finding"]
    assert len(flagged) == 1 and flagged[0].marker.color == ROLE_COLORS["warning"]
    assert len(flagged[0].x) == len(sick.findings[0].layers)
    assert "vanishing gradients" in fig.layout.title.text
    assert fig.layout.yaxis.type == "log" and fig.layout.font.size >= 16
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert fig.layout.height <= 460
    assert len([t for t in fig.data if "update" in (t.name or "")]) == 0  # steps=0


def test_diagnosis_figure_with_updates(trained):
    fig = diagnosis_figure(trained)
    updates = [t for t in fig.data if t.name == "update:data per step"]
    np.testing.assert_allclose(updates[0].y, trained.update_ratio)
    assert "healthy" in fig.layout.title.text


def test_units_figure(sick):
    fig = units_figure(sick)
    np.testing.assert_allclose(fig.data[0].y, 100 * sick.saturation)
    np.testing.assert_allclose(fig.data[1].y, 100 * sick.dead_fraction)
    assert list(fig.layout.yaxis.range) == [0, 100]


def test_depth_profiles_figure_positions_and_errors():
    fig = depth_profiles_figure({"a": [1.0, 0.1, 0.0], "b": [2.0, 2.0, 2.0]}, title="t",
                                x=[3, 6, 12])
    assert list(fig.data[0].x) == [3, 6, 12]
    assert np.isnan(fig.data[0].y[2])  # the zero leaves a gap in the line ...
    assert list(fig.data[1].x) == [12]  # ... and is drawn as a flag at its own position
    assert "exactly 0" in fig.layout.title.text
    with pytest.raises(ValueError, match="positions"):
        depth_profiles_figure({"a": [1.0]}, title="t", x=[1, 2])
    with pytest.raises(ValueError, match="at least one"):
        depth_profiles_figure({}, title="t")


def test_html_report(sick, trained):
    page = diagnosis_html(sick)
    assert "vanishing gradients" in page and "Lesson 5: initialization" in page
    assert "<table>" in page and "plotly-graph-div" in page
    assert "healthy: no finding" in diagnosis_html(trained)


# --- every trace and every line of the report, from a diagnosis written out by hand --------

NAMES = ("0.weight", "2.weight", "4.weight", "6.weight")


def finding(name="vanishing gradients", layers=("0.weight", "4.weight"), figure=1e-7,
            threshold=1e-4, fixes=("use ReLU (lesson 4)", "He init (lesson 5)")):
    return Finding(name=name, figure=figure, threshold=threshold, measured="first / last",
                   why="lesson 2 <bound>", layers=layers, causes=("sigmoid", "deep"),
                   fixes=fixes, when="at the current weights")


def fake(findings=(), grad=(1e-6, 0.0, 1e-3, 0.5), weight=(1.0, 2.0, 4.0, 5.0),
         update=(np.nan,) * 4, units=("1", "3"), saturation=(0.25, 0.5),
         dead=(0.0, 0.125), losses=(1.0,), figures=None, not_measured=()):
    n = len(grad)
    return Diagnosis(findings=tuple(findings),
                     figures={"first / last": 1e-6, "loss": float("nan")} if figures is None
                     else figures, layer_names=NAMES[:n], layer_types=("Linear",) * n,
                     grad_norm=np.array(grad), weight_norm=np.array(weight),
                     underflow=np.zeros(n), update_ratio=np.array(update, dtype=float),
                     unit_names=tuple(units), saturation=np.array(saturation),
                     dead_fraction=np.array(dead), unit_grad_norm=np.ones(len(units)),
                     losses=np.array(losses), not_measured=tuple(not_measured),
                     dtype="float32")


def test_diagnosis_figure_every_trace_and_the_marked_layers():
    d = fake(findings=[finding(layers=("0.weight", "2.weight", "6.weight"))],
             update=(1e-3, 1e-4, np.nan, 1e-2))
    fig = diagnosis_figure(d)
    ratio = [1e-6, 0.0, 1e-3 / 4, 0.1]  # ||dL/dW|| / ||W||
    assert len(fig.data) == 3 + 3 + 1
    assert_log_triple(fig.data[0:3], ratio)
    assert_log_triple(fig.data[3:6], [1e-3, 1e-4, np.nan, 1e-2])
    names = ["grad:data ||dL/dW|| / ||W||", "update:data per step"]
    for k, color in enumerate((ROLE_COLORS["measured"], OKABE_ITO["green"])):
        line, zeros, overflows = fig.data[3 * k:3 * k + 3]
        assert line.name == names[k] and line.line.color == color
        assert zeros.showlegend is False and overflows.showlegend is False
        for t in (line, zeros, overflows):
            assert list(t.customdata) == list(NAMES) and "%{customdata}" in t.hovertemplate
    marks = fig.data[6]  # layers 1, 2 and 4 are named; layer 2's ratio is 0: no ring on it
    assert list(marks.x) == [1, 4] and list(marks.y) == [1e-6, 0.1]
    assert marks.name == "layer named in a finding" and marks.mode == "markers"
    title = fig.layout.title.text
    assert title.startswith("Per-layer gradient sizes: vanishing gradients<br><sup>")
    assert "grad:data ||dL/dW|| / ||W||: 1 layer is exactly 0" in title
    assert "update:data per step: 1 layer is exactly 0" in title
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.exponentformat == "power"
    assert fig.layout.xaxis.title.text == "layer (weight matrix or kernel, 1 = first)"
    assert fig.layout.yaxis.title.text == "ratio (log scale)"
    assert fig.layout.font.size == 16 and fig.layout.height == 380
    assert (fig.layout.legend.orientation, fig.layout.legend.y) == ("h", -0.25)


def test_diagnosis_figure_healthy_without_updates_or_marks():
    d = fake(grad=(1e-2, 2e-2, 4e-2, 5e-2))
    fig = diagnosis_figure(d, title="Mine", height=300)
    assert len(fig.data) == 3  # no update:data (steps=0), no marks (no finding)
    assert fig.layout.title.text == "Mine" and fig.layout.height == 300
    assert diagnosis_figure(d).layout.title.text == "Per-layer gradient sizes: healthy"
    two = fake(findings=[finding(), finding(name="dead units", layers=("9.weight",))])
    fig = diagnosis_figure(two)
    assert fig.layout.title.text.startswith(
        "Per-layer gradient sizes: vanishing gradients, dead units<br>")
    assert list(fig.data[-1].x) == [1, 3]  # only the first finding's layers are in the model
    with pytest.raises(ValueError, match="no layer"):
        diagnosis_figure(fake(grad=(), weight=(), update=()))


def test_units_figure_every_bar():
    d = fake(units=("1", "3", "5"), saturation=(0.25, 0.5, 1.0), dead=(0.0, 0.125, 0.75))
    fig = units_figure(d)
    sat, dead = fig.data
    assert sat.type == dead.type == "bar"
    np.testing.assert_array_equal(sat.x, [1, 2, 3])
    np.testing.assert_array_equal(sat.y, [25.0, 50.0, 100.0])
    np.testing.assert_array_equal(dead.x, [1, 2, 3])
    np.testing.assert_array_equal(dead.y, [0.0, 12.5, 75.0])
    assert (sat.name, dead.name) == ("saturated %", "dead %")
    assert (sat.marker.color, dead.marker.color) == (ROLE_COLORS["saturation"],
                                                     ROLE_COLORS["dead"])
    assert list(sat.customdata) == list(dead.customdata) == ["1", "3", "5"]
    assert fig.layout.barmode == "group" and tuple(fig.layout.yaxis.range) == (0, 100)
    assert fig.layout.title.text == "Activation modules: saturated and dead units"
    assert fig.layout.xaxis.title.text == "activation module (1 = first called)"
    assert fig.layout.yaxis.title.text == "units (%)" and fig.layout.height == 400
    with pytest.raises(ValueError, match="no activation module"):
        units_figure(fake(units=(), saturation=(), dead=()))


def test_depth_profiles_every_series_and_the_in_place_update():
    profiles = {"post-norm": [1e-4, 1e-2, 1.0], "pre-norm": [0.5, np.inf, 1.0]}
    fig = depth_profiles_figure(profiles, title="T", y_title="Y", x_title="X", height=360)
    assert len(fig.data) == 6
    for k, (name, values) in enumerate(profiles.items()):
        assert_log_triple(fig.data[3 * k:3 * k + 3], values)
        line = fig.data[3 * k]
        assert line.name == name and line.line.color == SERIES_COLORS[k]
        assert fig.data[3 * k + 1].showlegend is False
    assert fig.layout.title.text.startswith("T<br><sup>pre-norm: 1 layer overflowed")
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("X", "Y")
    assert fig.layout.yaxis.type == "log" and fig.layout.height == 360
    plain = depth_profiles_figure({"a": [1.0, 2.0]}, title="U")
    assert plain.layout.title.text == "U"
    assert plain.layout.yaxis.title.text == "||dL/dW|| (log scale)"
    assert plain.layout.xaxis.title.text == "layer (1 = first)"

    update_depth_profiles_figure(fig, {"post-norm": [0.0, 1.0, 2.0],
                                       "pre-norm": [1.0, 1.0, 1.0]}, title="V")
    assert_log_triple(fig.data[0:3], [0.0, 1.0, 2.0])
    assert_log_triple(fig.data[3:6], [1.0, 1.0, 1.0])
    assert fig.layout.title.text.startswith("V<br><sup>post-norm: 1 layer is exactly 0")
    update_depth_profiles_figure(fig, {"post-norm": [1.0] * 3, "pre-norm": [1.0] * 3},
                                 title="W")
    assert fig.layout.title.text == "W"
    update_depth_profiles_figure(fig, {"post-norm": [2.0] * 3, "pre-norm": [2.0] * 3})
    assert fig.layout.title.text == "W" and list(fig.data[0].y) == [2.0] * 3
    with pytest.raises(ValueError, match=r"\['post-norm', 'pre-norm'\], got \['a'\]"):
        update_depth_profiles_figure(fig, {"a": [1.0] * 3})


def test_html_report_every_line():
    long = tuple(f"{k}.weight" for k in range(8))
    d = fake(findings=[finding(layers=long, figure=1.23456e-7, threshold=float("nan"))],
             losses=(1.0, 0.9, 0.8), figures={"first / last": 1.23456e-7, "loss": float("nan")},
             not_measured=("underflow: float64 <model>", "dead units: no ReLU"))
    page = diagnosis_html(d)
    head = page.split("<p>")[0]
    assert f'border-left:6px solid {ROLE_COLORS["warning"]}' in head
    assert ("<b>Diagnosis: 1 finding(s)</b> (4 layers, 2 activation modules, float32, "
            "2 steps)") in head
    assert ("<p><b>vanishing gradients</b> at the current weights: first / last = 1.23e-07 "
            "(threshold n/a; lesson 2 &lt;bound&gt;).<br>Layers: 0.weight, 1.weight, 2.weight, "
            "3.weight, 4.weight, 5.weight<br>Likely causes: sigmoid; deep<br>Try, in order:"
            "<ol><li>use ReLU (lesson 4)</li><li>He init (lesson 5)</li></ol></p>") in page
    assert ("<table><tr><th>figure</th><th>measured</th></tr><tr><td>first / last</td>"
            "<td>1.23e-07</td></tr><tr><td>loss</td><td>n/a</td></tr></table>") in page
    assert ("<p>Not measured: underflow: float64 &lt;model&gt;; dead units: no ReLU</p>"
            ) in page
    assert page.count("plotly-graph-div") == 1
    healthy = diagnosis_html(fake(figures={}))
    assert f'border-left:6px solid {ROLE_COLORS["measured"]}' in healthy
    assert "<b>Diagnosis: healthy: no finding</b>" in healthy and "0 steps" in healthy
    assert "Not measured" not in healthy
    none = diagnosis_html(fake(findings=[finding(layers=(), fixes=())]))
    assert "Layers: -<br>" in none and "<ol></ol>" in none
