"""helpers.figures.diagnose: traces carry the diagnosis's numbers; flags and labels are right."""

import numpy as np
import pytest

from helpers.data import teacher
from helpers.diagnose import diagnose
from helpers.figures.diagnose import (
    depth_profiles_figure,
    diagnosis_figure,
    diagnosis_html,
    units_figure,
)
from helpers.figures.style import ROLE_COLORS
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
