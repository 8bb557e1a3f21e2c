"""helpers.figures.residual: traces, axes and flagged points of the residual charts."""

from types import SimpleNamespace

import numpy as np
import pytest

from helpers.figures.residual import (
    KIND_COLORS,
    profiles_figure,
    residual_explorer_figure,
    update_residual_explorer_figure,
)
from helpers.figures.style import ROLE_COLORS


def fake(depth=5, scale=1.0, grad=None, std=None):
    g = np.geomspace(1e-3, 1.0, depth) * scale if grad is None else np.asarray(grad, float)
    s = np.linspace(1.0, 2.0, depth) if std is None else np.asarray(std, float)
    return SimpleNamespace(grad_norm=g, stream_std=s, weight_grad_norm=np.append(g, 0.5),
                           ratio=g[0] / g[-1])


def test_profiles_figure_traces_axes_and_colours():
    panels = {"sigmoid": {"plain": fake(), "residual": fake(scale=2)},
              "relu": {"plain": fake(), "residual": fake(), "residual + pre-LN": fake()}}
    fig = profiles_figure(panels, "grad_norm", title="t")
    assert len(fig.data) == 3 * 5
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["plain", "residual", "plain", "residual",
                                       "residual + pre-LN"]
    assert [t.showlegend for t in lines] == [True, True, False, False, True]
    for t in lines:
        assert t.line.color == KIND_COLORS[t.name]
        assert t.line.color != ROLE_COLORS["warning"]
    np.testing.assert_allclose(np.asarray(fig.data[3].y, float), fake(scale=2).grad_norm)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert "log scale" in fig.layout.yaxis.title.text
    assert fig.layout.xaxis.title.text and fig.layout.title.text.startswith("t")


@pytest.mark.parametrize("quantity, n", [("stream_std", 5), ("weight_grad_norm", 6)])
def test_other_quantities(quantity, n):
    fig = profiles_figure({"p": {"plain": fake()}}, quantity)
    assert len(fig.data[0].x) == n


def test_zeros_nan_and_inf_are_drawn_and_named():
    bad = fake(grad=[1.0, 0.0, np.nan, np.inf, 1e-300])
    fig = profiles_figure({"p": {"plain": bad}}, "grad_norm", title="T")
    line, zero, huge = fig.data[:3]
    assert list(zero.x) == [2, 3] and list(huge.x) == [4]
    assert all(np.isfinite(zero.y)) and all(np.isfinite(huge.y))
    assert "exactly 0" in fig.layout.title.text and "infinity" in fig.layout.title.text


def test_bad_arguments():
    with pytest.raises(ValueError) as info:
        profiles_figure({"p": {"plain": fake()}}, "loss")
    assert str(info.value) == ("unknown quantity 'loss'; valid choices: grad_norm, stream_std, "
                               "weight_grad_norm")
    for panels in ({}, {"p": {}}, {"p": {"plain": fake()}, "q": {}}):
        with pytest.raises(ValueError) as info:
            profiles_figure(panels)
        assert str(info.value) == ("panels must map at least one title to a non-empty "
                                   "{name: profile}")


def test_explorer_figure_built_with_a_comparison_equals_one_updated():
    """residual_explorer_figure(comparison) draws what an empty one shows once updated,
    and the trace names say which series each is."""
    comparison = SimpleNamespace(plain=fake(grad=[1e-3, 1e-2, 1.0]),
                                 residual=fake(grad=[0.5, 0.7, 1.0], std=[1.0, 1.5, 2.0]))
    built = residual_explorer_figure(comparison)
    updated = residual_explorer_figure()
    update_residual_explorer_figure(updated, comparison)
    for a, b in zip(built.data, updated.data, strict=True):
        np.testing.assert_array_equal(np.asarray(a.x, float), np.asarray(b.x, float))
        np.testing.assert_array_equal(np.asarray(a.y, float), np.asarray(b.y, float))
    np.testing.assert_allclose(np.asarray(built.data[9].y, float), [1.0, 1.5, 2.0])
    assert [built.data[k].name for k in (0, 3, 6, 9)] == ["plain", "residual"] * 2
    for k, kind in ((0, "plain gradient"), (1, "residual gradient"), (2, "plain std"),
                    (3, "residual std")):  # a zero in one series: the note names it
        values = [[1e-3, 1e-2, 1.0] for _ in range(4)]
        values[k][1] = 0.0
        c = SimpleNamespace(plain=fake(grad=values[0], std=values[2]),
                            residual=fake(grad=values[1], std=values[3]))
        note = update_residual_explorer_figure(built, c)
        assert note.startswith(f"{kind}: 1 layer") and ";" not in note, note


def test_explorer_figure_and_update():
    fig = residual_explorer_figure()
    assert len(fig.data) == 12
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert fig.layout.yaxis.title.text and fig.layout.yaxis2.title.text
    plain, res = fake(grad=[1e-80, 1e-40, 1.0]), fake(grad=[1.0, 0.0, 2.0], std=[1, np.inf, 3])
    note = update_residual_explorer_figure(fig, SimpleNamespace(plain=plain, residual=res),
                                           title="Head")
    np.testing.assert_allclose(np.asarray(fig.data[0].y, float), plain.grad_norm)
    assert list(fig.data[4].x) == [2]  # the residual gradient's exact zero, drawn
    assert list(fig.data[11].x) == [2]  # the residual std's overflow, drawn
    np.testing.assert_allclose(np.asarray(fig.data[6].y, float), plain.stream_std)
    assert fig.layout.title.text.startswith("Head") and "residual gradient" in note
    assert fig.data[0].line.color == KIND_COLORS["plain"]
    assert fig.data[3].line.color == KIND_COLORS["residual"]
