"""helpers.figures.chain: traces, axes and log-safe handling of zeros and overflow."""

from types import SimpleNamespace

import numpy as np
import pytest
from trace_oracles import assert_log_triple

from helpers.figures.chain import (
    chain_gradient_figure,
    jacobian_depth_figure,
    update_chain_gradient_figure,
)
from helpers.figures.style import ACTIVATION_COLORS, ROLE_COLORS
from helpers.topics.chain import JacobianNorms, jacobian_norms, scalar_chain


def test_chain_gradient_figure_traces_and_axes():
    r = scalar_chain(np.ones(30), 0.0, "sigmoid", 0.5)
    fig = chain_gradient_figure(r)
    assert len(fig.data) == 6
    assert fig.layout.yaxis.type == "log"
    assert "log scale" in fig.layout.yaxis.title.text and fig.layout.xaxis.title.text
    assert fig.layout.title.text and fig.layout.showlegend
    np.testing.assert_allclose(fig.data[0].y, r.grad)
    np.testing.assert_allclose(fig.data[3].y, r.bound)
    np.testing.assert_array_equal(fig.data[0].x, np.arange(31))
    assert fig.data[3].line.dash == "dash"
    assert fig.data[0].line.color == ACTIVATION_COLORS["sigmoid"]
    assert len(fig.data[1].x) == 0 and len(fig.data[2].x) == 0  # nothing flagged


def test_zeros_and_overflow_are_drawn_not_dropped():
    dead = scalar_chain(np.full(10, 2.0), 0.0, "relu", -1.0)  # grad exactly 0 below the top
    fig = chain_gradient_figure(dead)
    assert len(fig.data[1].x) == 10  # ten zeros drawn as markers at the floor
    assert np.all(np.asarray(fig.data[1].y) > 0)
    assert "exactly 0" in fig.layout.title.text
    boom = scalar_chain(np.full(1000, 16.0), -8.0, "sigmoid", 0.5)
    note = update_chain_gradient_figure(fig, boom)
    assert len(fig.data[2].x) > 0 and len(fig.data[5].x) > 0  # measured and bound overflow
    assert np.all(np.isfinite(fig.data[2].y)) and "infinity" in note
    assert len(fig.data[1].x) == 0  # the previous zeros were replaced


def test_update_changes_data_and_colour():
    fig = chain_gradient_figure(scalar_chain(np.ones(5), 0.0, "sigmoid", 0.5))
    r = scalar_chain(np.full(8, 1.5), 0.0, "tanh", 0.0)
    update_chain_gradient_figure(fig, r, title="custom")
    np.testing.assert_allclose(fig.data[0].y, r.grad)
    assert fig.data[0].line.color == ACTIVATION_COLORS["tanh"]
    assert fig.layout.title.text == "custom"


def test_jacobian_depth_figure():
    results = [jacobian_norms(12, 8, a, s, seed=0) for a, s in
               (("sigmoid", 1.0), ("sigmoid", 16.0), ("relu", 2.0))]
    fig = jacobian_depth_figure(results)
    lines = [t for t in fig.data if t.mode == "lines" and t.showlegend is not False]
    # 2 lines (spectral, RMS) per result + the reference line at 1
    assert len(lines) == 2 * len(results) + 1
    np.testing.assert_allclose(fig.data[0].y, results[0].spectral)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert "log scale" in fig.layout.yaxis.title.text
    assert fig.layout.xaxis.title.text and fig.layout.title.text
    assert [a.text for a in fig.layout.annotations] == ["Sigmoid", "ReLU"]


def test_jacobian_depth_figure_flags_overflow():
    r = jacobian_norms(3, 4, "relu", 1.0, seed=0)
    bad = type(r)(r.activation, r.sigma_w, r.sigma_b, r.width, np.array([1.0, np.inf, 0.0]),
                  r.rms, r.factor_norm, r.weight_norm, r.mean_derivative)
    fig = jacobian_depth_figure([bad])
    flagged = [t for t in fig.data if t.mode == "markers" and len(t.x)]
    assert len(flagged) == 2 and "infinity" in fig.layout.title.text
    with pytest.raises(ValueError):
        jacobian_depth_figure([])


def test_underflow_to_subnormal_keeps_a_positive_floor():
    r = scalar_chain(np.full(100, 8.0), 8.0, "sigmoid", 0.5)  # saturated: underflows to 0
    assert (r.grad == 0).any() and r.grad[r.grad > 0].min() < 1e-300
    fig = chain_gradient_figure(r)
    zeros_y = np.asarray(fig.data[1].y, dtype=float)
    assert zeros_y.size == int((r.grad == 0).sum()) and np.all(zeros_y > 0)


def test_jacobian_depth_figure_every_trace_from_the_drawing_rules():
    """Each result's spectral and RMS series (its own colour per weight scale, solid and
    dotted, in its activation's panel), zeros and overflows at one floor and ceiling shared
    by every series, and one reference line at 1 per panel; expected data written here."""
    from helpers.activations import get_spec
    from helpers.figures.style import SERIES_COLORS

    results = [jacobian_norms(6, 4, a, s, seed=0) for a, s in
               (("tanh", 1.0), ("tanh", 3.0), ("relu", 1.0))]
    def planted(r, spectral_last, rms_last):
        return type(r)(r.activation, r.sigma_w, r.sigma_b, r.width,
                       np.array([*r.spectral[:-1], spectral_last]),
                       np.array([*r.rms[:-1], rms_last]), r.factor_norm, r.weight_norm,
                       r.mean_derivative)

    # a zero in one series, the smallest positive value in the next, an overflow in another
    results[0] = planted(results[0], 0.0, 1e-9)
    results[2] = planted(results[2], results[2].spectral[-1], np.inf)
    fig = jacobian_depth_figure(results)
    series = [np.asarray(v, float) for r in results for v in (r.spectral, r.rms)]
    every = np.concatenate(series)
    pos = every[np.isfinite(every) & (every > 0)]
    floor, ceiling = pos.min() / 10, pos.max() * 10
    colors = {1.0: SERIES_COLORS[0], 3.0: SERIES_COLORS[1]}
    assert len(fig.data) == 6 * len(results) + 2
    for i, r in enumerate(results):
        for j, (kind, dash) in enumerate((("||J||_2", None), ("RMS gain", "dot"))):
            line, zeros, overflows = fig.data[6 * i + 3 * j: 6 * i + 3 * j + 3]
            v = series[2 * i + j]
            x = np.arange(1, len(v) + 1)
            ok, huge = np.isfinite(v) & (v > 0), np.isposinf(v)
            zero = ~ok & ~huge
            assert line.name == f"{get_spec(r.activation).label}, sigma_w = {r.sigma_w:.3g}: {kind}"
            assert line.line.color == colors[r.sigma_w] and line.line.dash == dash
            assert line.xaxis == ("x" if r.activation == "tanh" else "x2")
            np.testing.assert_array_equal(line.x, x)
            np.testing.assert_allclose(np.asarray(line.y, float),
                                       np.where(ok, v, np.where(huge, ceiling, np.nan)),
                                       rtol=1e-12)
            np.testing.assert_array_equal(zeros.x, x[zero])
            np.testing.assert_allclose(np.asarray(zeros.y, float), np.full(zero.sum(), floor))
            np.testing.assert_array_equal(overflows.x, x[huge])
            np.testing.assert_allclose(np.asarray(overflows.y, float),
                                       np.full(huge.sum(), ceiling))
    assert len(fig.data[1].x) == 1 and len(fig.data[17].x) == 1  # the planted zero and inf
    assert fig.data[1].y[0] == pytest.approx(1e-10, rel=1e-12)  # floor: below the 1e-9
    for col, ref in enumerate(fig.data[-2:], start=1):
        assert list(ref.x) == [1, 6] and list(ref.y) == [1.0, 1.0]
        assert ref.name == "1 (the gradient keeps its size)" and ref.showlegend == (col == 1)
        assert ref.xaxis == ("x" if col == 1 else "x2")
    assert fig.layout.yaxis2.matches == "y"  # one shared log axis
    assert tuple(fig.layout.yaxis.domain) == (0.0, 1.0)  # one row of panels, full height
    assert fig.layout.yaxis.title.text == "||d h_L / d h_0|| (log scale)"
    assert fig.layout.xaxis.title.text == "depth L (number of layers)"
    n_zero = int((~np.isfinite(every) | (every <= 0)).sum() - np.isposinf(every).sum())
    assert fig.layout.title.text.startswith("Norm of the Jacobian product vs depth<br><sup>")
    assert (f"{n_zero} values are exactly 0 or not a number" in fig.layout.title.text
            and "; 1 value overflowed to infinity" in fig.layout.title.text)


def test_chain_gradient_figure_shares_one_floor_and_ceiling_and_names_its_chain():
    """Zeros of the measured series and of the bound sit at one floor, a decade below the
    smallest positive value of both; overflows at one ceiling; the title names the chain."""
    dead = scalar_chain(np.full(10, 2.0), 0.0, "relu", -1.0)
    fig = chain_gradient_figure(dead)
    both = np.concatenate([np.abs(dead.grad), np.abs(dead.bound)])
    pos = both[np.isfinite(both) & (both > 0)]
    zero_g = ~(np.isfinite(dead.grad) & (dead.grad != 0))
    np.testing.assert_array_equal(fig.data[1].x, np.arange(11)[zero_g])
    np.testing.assert_allclose(np.asarray(fig.data[1].y, float), pos.min() / 10, rtol=1e-12)
    assert fig.layout.title.text == (
        "ReLU chain of depth 10: gradient at each layer vs the bound<br><sup>10 layers are "
        "exactly 0 or not a number (underflow or dead units): drawn as x at the bottom</sup>")
    boom = scalar_chain(np.full(1000, 16.0), -8.0, "sigmoid", 0.5)
    update_chain_gradient_figure(fig, boom)
    both = np.concatenate([np.abs(boom.grad), np.abs(boom.bound)])
    with np.errstate(over="ignore"):  # near the float64 limit the ceiling stays finite
        ceiling = min(both[np.isfinite(both) & (both > 0)].max() * 10, np.finfo(float).max)
    for trace in (fig.data[2], fig.data[5]):
        np.testing.assert_allclose(np.asarray(trace.y, float), ceiling, rtol=1e-12)
    assert fig.data[3].line.dash == "dash" and fig.data[3].mode == "lines"
    assert chain_gradient_figure().layout.title.text == ("Gradient of the output with respect "
                                                         "to each layer")
    assert len(chain_gradient_figure().data[0].x) == 0


@pytest.mark.parametrize("chain", [
    (np.full(10, 0.5), 0.0, "relu", -1.0),  # dead: the gradient is 0, the bound 0.5^k > 0
    (np.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.0]), 0.0, "sigmoid", 0.5),  # a zero weight
])
def test_chain_gradient_figure_flags_both_series_at_the_floor_of_both(chain):
    """The floor is a decade below the smallest positive value of the gradient *and* the
    bound together, for the zeros of either series (here the two floors alone would differ)."""
    r = scalar_chain(*chain)
    fig = chain_gradient_figure(r)
    grad, bound = np.abs(r.grad), np.abs(r.bound)
    both = np.concatenate([grad, bound])
    floor = both[np.isfinite(both) & (both > 0)].min() / 10
    x = np.arange(grad.size)
    for values, zeros in ((grad, fig.data[1]), (bound, fig.data[4])):
        zero = ~(np.isfinite(values) & (values > 0))
        np.testing.assert_array_equal(zeros.x, x[zero])
        np.testing.assert_allclose(np.asarray(zeros.y, float), np.full(zero.sum(), floor),
                                   rtol=1e-12)
    assert (grad == 0).any()


def _chain(grad, bound, activation="tanh"):
    grad = np.asarray(grad, float)
    return SimpleNamespace(grad=grad, bound=np.asarray(bound, float), activation=activation,
                           depth=grad.size - 1)


def test_chain_gradient_figure_series_roles_legend_and_axis():
    """Measured (in the activation's colour, lines and markers) and the bound (theory colour,
    dashed, lines only), each with its own legend group for its zero and overflow markers."""
    fig = chain_gradient_figure(_chain([0.25, 0.5, 1.0], [0.5, 1.0, 1.0]))
    d = fig.data
    assert [t.name for t in d] == [
        "measured |d a_L / d a_k|", "measured |d a_L / d a_k|: exactly 0 / NaN",
        "measured |d a_L / d a_k|: overflow (inf)", "bound: prod |w_j| max phi'",
        "bound: prod |w_j| max phi': exactly 0 / NaN", "bound: prod |w_j| max phi': overflow (inf)"]
    assert [t.legendgroup for t in d] == ["measured"] * 3 + ["bound"] * 3
    assert [t.mode for t in d] == ["lines+markers", "markers", "markers", "lines", "markers",
                                   "markers"]
    assert d[0].line.color == ACTIVATION_COLORS["tanh"]
    assert d[3].line.color == ROLE_COLORS["theory"] != d[0].line.color
    assert d[0].line.dash is None and d[3].line.dash == "dash"
    assert {t.marker.color for t in (d[1], d[2], d[4], d[5])} == {ROLE_COLORS["warning"]}
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.exponentformat == "power"
    assert fig.layout.xaxis.type in (None, "-", "linear")


def test_update_chain_gradient_figure_draws_negative_gradients_by_their_size():
    """A negative weight makes d a_L / d a_k negative: the log chart shows |grad|, not a zero."""
    fig = chain_gradient_figure()
    note = update_chain_gradient_figure(fig, _chain([-0.125, 0.25, -0.5, 1.0],
                                                    [0.5, 0.5, 0.5, 1.0]))
    assert_log_triple(fig.data[0:3], [0.125, 0.25, 0.5, 1.0], x=np.arange(4))
    assert_log_triple(fig.data[3:6], [0.5, 0.5, 0.5, 1.0], x=np.arange(4))
    assert note == "" and "<br>" not in fig.layout.title.text


def test_update_chain_gradient_figure_names_flagged_layers_under_the_callers_title():
    """Zeros and NaN at the floor, +inf at the ceiling, and the count of each under the
    caller's title; the note is returned too."""
    grad = [0.0, np.nan, 1e-3, np.inf, 1.0]
    bound = [1e-2, 1e-1, 0.5, 1.0, 1.0]  # inside grad's positive range: the same floor
    fig = chain_gradient_figure(_chain(grad, bound), title="Deep chain")
    assert_log_triple(fig.data[0:3], grad, x=np.arange(5))
    assert_log_triple(fig.data[3:6], bound, x=np.arange(5))
    note = ("2 layers are exactly 0 or not a number (underflow or dead units): drawn as x at "
            "the bottom; 1 layer overflowed to infinity: drawn as a triangle at the top")
    assert fig.layout.title.text == f"Deep chain<br><sup>{note}</sup>"
    assert update_chain_gradient_figure(fig, _chain(grad, bound), title="Again") == note
    assert fig.layout.title.text == f"Again<br><sup>{note}</sup>"


def _norms(activation, sigma_w, spectral, rms):
    spectral, rms = np.asarray(spectral, float), np.asarray(rms, float)
    return JacobianNorms(activation, sigma_w, 0.0, 4, spectral, rms, spectral, spectral,
                         np.ones(spectral.size))


def test_jacobian_depth_figure_legend_groups_and_modes():
    """Each series is one legend entry (its flag markers hidden from the legend, in its
    group); lines without markers; both panels on a power-format log axis."""
    fig = jacobian_depth_figure([_norms("sigmoid", 1.0, [0.5, 0.25], [0.4, 0.2]),
                                 _norms("relu", 2.0, [1.0, 1.5], [1.0, 1.2])])
    series = fig.data[:12]
    for k in range(4):
        line, zeros, overflows = series[3 * k: 3 * k + 3]
        assert line.mode == "lines" and zeros.mode == overflows.mode == "markers"
        assert line.legendgroup == zeros.legendgroup == overflows.legendgroup == line.name
        assert line.showlegend is not False
        assert zeros.showlegend is False and overflows.showlegend is False
    assert [t.name for t in series[::3]] == [
        "Sigmoid, sigma_w = 1: ||J||_2", "Sigmoid, sigma_w = 1: RMS gain",
        "ReLU, sigma_w = 2: ||J||_2", "ReLU, sigma_w = 2: RMS gain"]
    assert [t.xaxis for t in series] == ["x"] * 6 + ["x2"] * 6
    assert series[0].line.color != series[6].line.color  # two weight scales
    for ax in (fig.layout.yaxis, fig.layout.yaxis2):
        assert ax.type == "log" and ax.exponentformat == "power"


def test_jacobian_depth_figure_reference_line_spans_the_deepest_result():
    """The dashed line at 1 runs from depth 1 to the largest depth of all results, in every
    panel, even where that panel's own results are shorter."""
    fig = jacobian_depth_figure([_norms("tanh", 1.0, [1.0, 0.9, 0.8], [1.0, 0.9, 0.8]),
                                 _norms("relu", 1.0, [1.0] * 5, [1.0] * 5)])
    refs = fig.data[-2:]
    for col, ref in enumerate(refs, start=1):
        assert list(ref.x) == [1, 5] and list(ref.y) == [1.0, 1.0]
        assert ref.xaxis == ("x" if col == 1 else "x2") and ref.mode == "lines"
        assert ref.line.dash == "dash" and ref.line.color == ROLE_COLORS["theory"]
        assert ref.legendgroup == "one"
    np.testing.assert_array_equal(fig.data[0].x, [1, 2, 3])
    np.testing.assert_array_equal(fig.data[6].x, [1, 2, 3, 4, 5])


def test_jacobian_depth_figure_callers_title_without_flags():
    fig = jacobian_depth_figure([_norms("relu", 1.0, [1.0, 2.0], [0.5, 1.0])], title="Gains")
    assert fig.layout.title.text == "Gains"
    assert [a.text for a in fig.layout.annotations] == ["ReLU"]
    assert len(fig.data) == 6 + 1  # one panel: one reference line


def test_jacobian_depth_figure_rejects_an_empty_list():
    with pytest.raises(ValueError, match="at least one JacobianNorms"):
        jacobian_depth_figure(iter([]))
