"""helpers.figures.residual: traces, axes and flagged points of the residual charts."""

from types import SimpleNamespace

import numpy as np
import pytest
from trace_oracles import assert_log_triple

from helpers.figures.residual import (
    KIND_COLORS,
    profiles_figure,
    residual_explorer_figure,
    series_color,
    update_residual_explorer_figure,
)
from helpers.figures.style import ROLE_COLORS, SERIES_COLORS


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


def test_series_color_known_kinds_then_a_cycle_that_skips_the_flag_colour():
    assert series_color("residual", 0) == KIND_COLORS["residual"]  # a kind wins over the index
    assert series_color("other", 0) == SERIES_COLORS[0]
    assert series_color("other", 1) == SERIES_COLORS[2]  # SERIES_COLORS[1] marks flagged points
    assert series_color("other", 7) == SERIES_COLORS[0]  # seven colours, then round again
    cycle = [series_color("other", i) for i in range(7)]
    assert len(set(cycle)) == 7 and ROLE_COLORS["warning"] not in cycle


def test_kind_colours_differ_and_avoid_the_flag_colour():
    colours = [KIND_COLORS[k] for k in ("plain", "residual", "residual + pre-LN",
                                        "residual + post-LN")]
    assert len(set(colours)) == 4 and ROLE_COLORS["warning"] not in colours


@pytest.mark.parametrize("quantity", ["grad_norm", "stream_std", "weight_grad_norm"])
def test_profiles_figure_draws_the_chosen_quantity_of_each_series(quantity):
    plain = SimpleNamespace(grad_norm=np.array([1e-4, 0.0, 1e-2]),
                            stream_std=np.array([1.0, np.inf, 3.0]),
                            weight_grad_norm=np.array([2.0, np.nan, 8.0, 1e-9]))
    res = SimpleNamespace(grad_norm=np.array([0.5, 0.7, 1.0]),
                          stream_std=np.array([0.0, 2.0, 4.0]),
                          weight_grad_norm=np.array([1.0, 1.0, np.inf, 0.5]))
    fig = profiles_figure({"a": {"plain": plain}, "b": {"residual": res}}, quantity)
    assert len(fig.data) == 6
    assert_log_triple(fig.data[0:3], getattr(plain, quantity), what="plain")
    assert_log_triple(fig.data[3:6], getattr(res, quantity), what="residual")


def test_profiles_figure_one_panel_per_group_and_one_legend_entry_per_series():
    fig = profiles_figure({"sigmoid": {"plain": fake(), "residual": fake()},
                           "relu": {"plain": fake()}}, title="t")
    assert [a.text for a in fig.layout.annotations] == ["sigmoid", "relu"]
    assert [(t.xaxis, t.yaxis) for t in fig.data] == [("x", "y")] * 6 + [("x2", "y2")] * 3
    assert [t.mode for t in fig.data] == ["lines+markers", "markers", "markers"] * 3
    assert [t.legendgroup for t in fig.data] == ["plain"] * 3 + ["residual"] * 3 + ["plain"] * 3
    assert [t.showlegend for t in fig.data] == [True, False, False] * 2 + [False] * 3
    assert fig.data[6].line.color == fig.data[0].line.color == KIND_COLORS["plain"]


def test_profiles_figure_other_names_take_colours_in_order_of_first_appearance():
    fig = profiles_figure({"a": {"x": fake(), "y": fake()}, "b": {"y": fake(), "z": fake()}})
    lines = fig.data[::3]
    assert [t.name for t in lines] == ["x", "y", "y", "z"]
    assert [t.line.color for t in lines] == [SERIES_COLORS[0], SERIES_COLORS[2],
                                             SERIES_COLORS[2], SERIES_COLORS[3]]
    assert [t.showlegend for t in lines] == [True, True, False, True]


@pytest.mark.parametrize("quantity, y_title, x_title", [
    ("grad_norm", "||dL/dx_l|| (log scale)", "hidden block l (1 = first)"),
    ("stream_std", "std of x_l (log scale)", "hidden block l (1 = first)"),
    ("weight_grad_norm", "||dL/dW|| (log scale)", "layer (1 = first hidden, last = output)"),
])
def test_profiles_figure_shared_log_axes_and_titles(quantity, y_title, x_title):
    lay = profiles_figure({"a": {"plain": fake()}, "b": {"plain": fake()}}, quantity).layout
    assert lay.yaxis.type == lay.yaxis2.type == "log"
    assert lay.yaxis.exponentformat == lay.yaxis2.exponentformat == "power"
    assert lay.yaxis2.matches == "y"  # one scale for every panel
    assert lay.yaxis.title.text == y_title and not lay.yaxis2.title.text
    assert lay.xaxis.title.text == lay.xaxis2.title.text == x_title
    assert lay.height == 420


def test_profiles_figure_title_names_each_flagged_series_by_panel():
    fig = profiles_figure({"left": {"plain": fake(grad=[1.0, 0.0, 2.0])},
                           "mid": {"plain": fake(grad=[1.0, 2.0, 3.0])},
                           "right": {"residual": fake(grad=[1.0, np.inf, 2.0])}}, title="T")
    text = fig.layout.title.text
    assert text.startswith("T<br><sup>left, plain: 1 layer is exactly 0")
    assert "; right, residual: 1 layer overflowed" in text and "mid" not in text
    assert text.endswith("</sup>")
    fig = profiles_figure({"p": {"plain": fake()}}, height=300)
    assert fig.layout.title.text == "Gradient at each block output"
    assert fig.layout.height == 300


def test_empty_residual_explorer_panels_legend_and_colours():
    fig = residual_explorer_figure()
    assert [a.text for a in fig.layout.annotations] == [
        "Back-propagated signal ||dL/dx_l|| (log scale)", "Forward signal: std of x_l (log scale)"]
    assert [(t.xaxis, t.yaxis) for t in fig.data] == [("x", "y")] * 6 + [("x2", "y2")] * 6
    assert [t.name for t in fig.data[::3]] == ["plain", "residual"] * 2
    assert [t.legendgroup for t in fig.data] == (["plain"] * 3 + ["residual"] * 3) * 2
    assert [t.mode for t in fig.data] == ["lines+markers", "markers", "markers"] * 4
    # one legend entry per kind (left panel); the flag markers are named in the title
    assert [t.showlegend for t in fig.data] == [True, False, False] * 2 + [False] * 6
    assert [t.line.color for t in fig.data[::3]] == [KIND_COLORS["plain"],
                                                     KIND_COLORS["residual"]] * 2
    assert all(len(t.x) == 0 for t in fig.data)
    lay = fig.layout
    assert lay.yaxis.type == lay.yaxis2.type == "log"
    assert lay.yaxis.exponentformat == lay.yaxis2.exponentformat == "power"
    assert lay.title.text == "Plain vs residual" and lay.height == 440
    assert residual_explorer_figure(height=500).layout.height == 500


def test_update_residual_explorer_draws_the_four_series():
    c = SimpleNamespace(plain=fake(grad=[1e-9, 0.0, 1e-3], std=[1.0, 0.5, np.inf]),
                        residual=fake(grad=[2.0, np.nan, 1.0], std=[1.0, 3.0, 9.0]))
    fig = residual_explorer_figure()
    update_residual_explorer_figure(fig, c)
    assert_log_triple(fig.data[0:3], [1e-9, 0.0, 1e-3], what="plain gradient")
    assert_log_triple(fig.data[3:6], [2.0, np.nan, 1.0], what="residual gradient")
    assert_log_triple(fig.data[6:9], [1.0, 0.5, np.inf], what="plain std")
    assert_log_triple(fig.data[9:12], [1.0, 3.0, 9.0], what="residual std")


def test_update_residual_explorer_notes_name_series_in_order():
    c = SimpleNamespace(plain=fake(grad=[1.0, 0.0, 1.0], std=[1.0, np.inf, 1.0]),
                        residual=fake(grad=[0.0, 0.0, 1.0], std=[np.nan, 1.0, np.inf]))
    fig = residual_explorer_figure()
    note = update_residual_explorer_figure(fig, c, title="Head")
    starts = [note.index(s) for s in ("plain gradient: 1 layer is exactly 0",
                                      "; residual gradient: 2 layers are exactly 0",
                                      "; plain std: 1 layer overflowed",
                                      "; residual std: 1 layer is exactly 0")]
    assert starts[0] == 0 and starts == sorted(starts)
    assert note.rindex("; 1 layer overflowed") > starts[3]  # the residual std's inf, last
    assert fig.layout.title.text == f"Head<br><sup>{note}</sup>"
    clean = SimpleNamespace(plain=fake(3), residual=fake(3))
    assert update_residual_explorer_figure(fig, clean) == ""
    assert fig.layout.title.text == "Head"  # the head stays, the stale notes go
