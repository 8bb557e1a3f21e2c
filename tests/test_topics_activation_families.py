"""Tests for helpers.topics.activation_families (autograd is the oracle for every gradient)."""

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.activations import ACTIVATIONS, derivative
from helpers.capture import gradient_profile
from helpers.data import spirals
from helpers.models import MLPConfig, build_mlp
from helpers.theory import expected_squared_derivative
from helpers.topics.activation_families import (
    compare_activations,
    dead_unit_mask,
    dead_units,
    gradient_factors,
    shift_biases,
    squared_derivative_table,
)


@pytest.fixture(scope="module")
def data():
    return spirals(200, seed=0)


def small(activation, **kw):
    cfg = dict(depth=4, width=16, activation=activation, init="he", dtype="float64", seed=0)
    cfg.update(kw)
    return build_mlp(MLPConfig(**cfg))


def test_dead_unit_mask_counts_columns_zero_on_every_row():
    A = np.array([[0.0, 1.0, 0.0, -2.0],
                  [0.0, 0.0, 0.0, -1.0],
                  [0.0, 0.0, 3.0, 0.0]])  # (examples, units)
    np.testing.assert_array_equal(dead_unit_mask(A), [True, False, False, True])
    np.testing.assert_array_equal(dead_unit_mask(torch.tensor(A)), [True, False, False, True])


def _autograd_row_norms(model, X, y):
    """||dL/dW_row||^2 + (dL/db)^2 per hidden unit, from loss.backward()."""
    model.zero_grad()
    F.cross_entropy(model(X.double()), y).backward()
    return [((b.linear.weight.grad ** 2).sum(1) + b.linear.bias.grad ** 2).numpy()
            for b in model.blocks]


def _preacts(model, X):
    zs, h = [], X.double()
    with torch.no_grad():
        for b in model.blocks:
            z = b.linear(h)
            zs.append(z.numpy())
            h = b.act(z)
    return zs


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_dead_units_matches_autograd_and_definition(data, activation):
    X, y = data
    model = shift_biases(small(activation), -0.5)
    report = dead_units(model, X, y)
    rows = _autograd_row_norms(model, X, y)
    zs = _preacts(model, X)
    assert report.activation == activation
    assert report.n_examples == len(X)
    assert report.total_dead > 0  # the shift must kill some units, or the test is empty
    for i, (z, r) in enumerate(zip(zs, rows, strict=True)):
        mask = (z <= 0).all(axis=0)
        np.testing.assert_array_equal(report.dead_masks[i], mask)
        assert report.dead_count[i] == mask.sum()
        np.testing.assert_allclose(report.dead_grad_norm[i], np.sqrt(r[mask].sum()), rtol=1e-10,
                                   atol=1e-300)
        np.testing.assert_allclose(report.alive_grad_norm[i], np.sqrt(r[~mask].sum()),
                                   rtol=1e-10, atol=1e-300)
    dead_layers = report.dead_count > 0
    if activation == "relu":
        assert np.all(report.dead_grad_norm == 0.0)  # exactly zero, not small
    else:
        assert np.all(report.dead_grad_norm[dead_layers] > 0)
    np.testing.assert_allclose(report.dead_fraction, report.dead_count / 16)
    assert "dead" in repr(report)


def test_dead_fraction_agrees_with_gradient_profile(data):
    X, y = data
    model = shift_biases(small("relu", depth=3, width=32), -0.3)
    report = dead_units(model, X, y)
    profile = gradient_profile(model, X, y)
    np.testing.assert_allclose(report.dead_fraction, profile.dead_fraction[:-1])


def test_dead_units_does_not_touch_grad_and_rejects_other_models(data):
    X, y = data
    model = small("relu")
    dead_units(model, X, y)
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(TypeError, match="build_mlp"):
        dead_units(torch.nn.Linear(2, 2), X, y)
    with pytest.raises(ValueError, match="plain MLP"):
        dead_units(small("relu", norm="batch"), X, y)


def test_shift_biases_adds_to_hidden_biases_only():
    model = small("relu")
    before = [b.linear.bias.clone() for b in model.blocks]
    out_before = model.output.bias.clone()
    shift_biases(model, -2.0)
    for b, old in zip(model.blocks, before, strict=True):
        torch.testing.assert_close(b.linear.bias, old - 2.0)
    torch.testing.assert_close(model.output.bias, out_before)


def test_gradient_factors_measured_is_autograd_ratio(data):
    X, y = data
    model = small("tanh", depth=5)
    f = gradient_factors(model, X, y)
    acts, h = [], X.double()
    for b in model.blocks:
        h = b.act(b.linear(h))
        h.retain_grad()
        acts.append(h)
    F.cross_entropy(model.output(h), y).backward()
    sq = np.array([float((a.grad ** 2).sum()) for a in acts])
    np.testing.assert_allclose(f.measured, sq[:-1] / sq[1:], rtol=1e-10)
    zs = _preacts(model, X)
    np.testing.assert_allclose(f.q, [np.mean(z ** 2) for z in zs], rtol=1e-12)
    sw2 = np.array([float((b.linear.weight.detach() ** 2).sum()) / b.linear.in_features
                    for b in model.blocks])
    expected = sw2[1:] * expected_squared_derivative("tanh", f.q[1:])
    np.testing.assert_allclose(f.predicted, expected, rtol=1e-12)
    assert "measured" in repr(f)


def test_gradient_factor_prediction_holds_for_wide_relu_and_linear(data):
    X, y = data
    for act, target in (("relu", 1.0), ("linear", 2.0)):
        f = gradient_factors(small(act, depth=10, width=256), X, y)
        assert f.predicted_mean == pytest.approx(target, rel=0.05)
        assert f.measured_mean == pytest.approx(f.predicted_mean, rel=0.1)


def test_squared_derivative_table_agrees_with_quadrature():
    names = ["sigmoid", "relu", "gelu", "linear"]
    q = [0.1, 1.0, 10.0]
    t = squared_derivative_table(names, q, n=20_000, seed=3)
    assert t["names"] == tuple(names)
    assert t["quadrature"].shape == t["monte_carlo"].shape == t["std_error"].shape == (4, 3)
    for i, n in enumerate(names):
        np.testing.assert_allclose(t["quadrature"][i], expected_squared_derivative(n, q))
    assert np.all(np.abs(t["quadrature"] - t["monte_carlo"]) <= 5 * t["std_error"] + 1e-12)
    np.testing.assert_allclose(t["quadrature"][1], 0.5, rtol=1e-12)
    with pytest.raises(ValueError, match="valid choices"):
        squared_derivative_table(["nope"], q)


def test_compare_activations_uses_same_seed_and_matches_profiles(data):
    """Wiring: compare_activations calls gradient_profile once per activation, same seed.

    gradient_profile's own oracle is autograd (tests/test_capture.py) and NumPy for its
    histograms (tests/test_capture_histograms.py).
    """
    X, y = data
    names = ["sigmoid", "relu"]
    c = compare_activations(names, X, y, depth=6, width=16, init="he", seed=1)
    assert c.names == tuple(names)
    assert c.weight_grad_norm.shape == (2, 7)
    for i, name in enumerate(names):
        model = build_mlp(MLPConfig(depth=6, width=16, activation=name, init="he",
                                    dtype="float64", seed=1))
        np.testing.assert_allclose(c.weight_grad_norm[i], gradient_profile(model, X, y)
                                   .weight_grad_norm, rtol=1e-12)
    ratio = c.weight_grad_norm[:, 0] / c.weight_grad_norm[:, -2]
    np.testing.assert_allclose(c.first_to_last, ratio)
    assert c.first_to_last[0] < c.first_to_last[1]  # sigmoid vanishes faster than ReLU
    assert c.factor_measured[0] < 0.2 < c.factor_measured[1]
    assert "first/last" in repr(c)
    with pytest.raises(ValueError):
        compare_activations([], X, y)


def test_small_derivative_intervals_gelu_has_two():
    from helpers.topics.activation_families import small_derivative_intervals

    (tail_lo, tail_hi), (lo, hi) = small_derivative_intervals("gelu")
    assert tail_lo == -np.inf and tail_hi == pytest.approx(-1.7282, abs=1e-4)
    assert lo == pytest.approx(-1.1583, abs=1e-4) and hi == pytest.approx(-0.5324, abs=1e-4)
    d = derivative("gelu")
    m = ACTIVATIONS["gelu"].max_derivative
    assert np.all(np.abs(d(np.linspace(lo + 1e-6, hi - 1e-6, 101))) < 0.1 * m)
    assert np.abs(d(-0.75)) < 0.01  # GELU's derivative crosses zero inside the window
    assert small_derivative_intervals("silu") == [(-np.inf, pytest.approx(-0.88248, abs=1e-5))]
    assert small_derivative_intervals("linear") == []
    assert len(small_derivative_intervals("sigmoid")) == 2


# --- what the printed reports and the small pieces say, exactly -----------------------
def test_dead_unit_report_table_is_its_numbers(data):
    from helpers.topics.activation_families import DeadUnitReport

    r = DeadUnitReport(activation="relu", n_examples=200, width=np.array([16, 8]),
                       dead_count=np.array([4, 0]), dead_masks=(), loss=0.5,
                       dead_grad_norm=np.array([0.0, 0.0]), alive_grad_norm=np.array([1.5, 2e-3]))
    assert repr(r).splitlines() == [
        "DeadUnitReport(ReLU, 200 examples, 4 of 24 hidden units dead)",
        "  layer       dead   dead %   |grad| dead  |grad| alive",
        "  1              4     25.0     0.000e+00     1.500e+00",
        "  2              0      0.0     0.000e+00     2.000e-03"]
    r2 = replace(r, activation="MyAct")
    assert repr(r2).startswith("DeadUnitReport(MyAct, 200")  # not in the registry: its name
    X, y = data
    model = small("relu")
    rep = dead_units(model, X, y)
    assert rep.activation == "relu" and rep.n_examples == 200
    assert rep.loss == pytest.approx(F.cross_entropy(model(X.double()), y).item(), rel=1e-12)


def test_measurements_refuse_models_that_are_not_course_mlps(data):
    X, y = data

    class OnlyLinear(torch.nn.Module):  # blocks with a linear layer but no activation
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList([torch.nn.Module()])
            self.blocks[0].linear = torch.nn.Linear(2, 2)

    for fn in (dead_units, gradient_factors):
        with pytest.raises(TypeError, match="^model must be an MLP made by helpers.models"):
            fn(OnlyLinear(), X, y)
        with pytest.raises(ValueError, match="^this measurement needs a plain MLP"):
            fn(small("relu", norm="batch"), X, y)
    model = small("relu")
    model.blocks[0].act = torch.nn.Softsign()  # not a course activation
    with pytest.raises(ValueError, match="^unknown activation module Softsign$"):
        gradient_factors(model, X, y)


def test_gradient_factor_fields(data):
    X, y = data
    model = small("tanh")
    f = gradient_factors(model, X, y)
    assert f.activation == "tanh" and f.predicted.dtype == np.float64
    sw2 = [float((b.linear.weight.detach() ** 2).sum()) / b.linear.in_features
           for b in model.blocks]
    np.testing.assert_allclose(f.sigma_w2, sw2, rtol=1e-12)
    assert repr(f) == (f"GradientFactors(tanh: per-layer factor measured {f.measured_mean:.3g}, "
                       f"predicted {f.predicted_mean:.3g})")


def test_small_derivative_intervals_fraction_bounds():
    from helpers.topics.activation_families import small_derivative_intervals

    assert len(small_derivative_intervals("sigmoid", fraction=1.0)) == 2  # 1.0 is allowed
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="^fraction must be"):
            small_derivative_intervals("sigmoid", fraction=bad)
    (a, b), (c, d) = small_derivative_intervals("sigmoid", fraction=0.5)
    # sigma'(z) = 1/8 at sigma(z)(1 - sigma(z)) = 1/8: |z| = 2 acosh(sqrt 2) = 1.7627...
    z = 2 * np.arccosh(np.sqrt(2))
    assert (a, d) == (-np.inf, np.inf)
    assert b == pytest.approx(-z, abs=1e-10) and c == pytest.approx(z, abs=1e-10)


def test_squared_derivative_table_keys_and_one_name():
    t = squared_derivative_table("tanh", [0.5, 2.0], n=1000, seed=3)
    assert set(t) == {"names", "q", "quadrature", "monte_carlo", "std_error"}
    assert t["names"] == ("tanh",) and t["q"].tolist() == [0.5, 2.0]
    again = squared_derivative_table(["tanh"], [0.5, 2.0], n=1000, seed=3)
    np.testing.assert_array_equal(t["monte_carlo"], again["monte_carlo"])
    other = squared_derivative_table(["tanh"], [0.5, 2.0], n=1000, seed=4)
    assert not np.array_equal(t["monte_carlo"], other["monte_carlo"])  # the seed is used
    big = squared_derivative_table(["tanh"], [0.5], seed=3)  # default n = 100,000 draws
    assert big["std_error"][0, 0] < t["std_error"][0, 0] / 5


def test_compare_activations_shapes_its_network_from_the_data():
    """One activation by name; inputs from X's columns; one output for float targets (MSE)."""
    X = torch.randn(40, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    c = compare_activations("tanh", X, torch.randint(0, 4, (40,)), depth=3, width=8)
    assert c.names == ("tanh",) and c.config.in_features == 3 and c.config.out_features == 4
    assert c.config.seed == 0
    target = X[:, 0].clone()
    r = compare_activations("tanh", X, target, depth=3, width=8)
    assert r.config.out_features == 1
    model = build_mlp(r.config)
    mse = F.mse_loss(model(X)[:, 0], target)
    w = [b.linear.weight for b in model.blocks] + [model.output.weight]
    np.testing.assert_allclose(r.weight_grad_norm[0],
                               [float(g.norm()) for g in torch.autograd.grad(mse, w)], rtol=1e-10)
    with pytest.raises(ValueError, match="^names must list at least one activation$"):
        compare_activations([], X, X[:, 0])
    rows = repr(c).splitlines()
    assert rows[0] == "ActivationComparison(depth 3, width 8, init he, float64, seed 0)"
    assert rows[1] == "  activation           first/last |dW|  factor meas.  factor pred."
    assert rows[2] == (f"  {'Tanh':<20}{c.first_to_last[0]:>16.3g}{c.factor_measured[0]:>14.3g}"
                       f"{c.factor_predicted[0]:>14.3g}")
    assert len(rows) == 3
