"""Tests for helpers.capture.gradient_profile; torch.autograd is the oracle for every gradient."""

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.activations import ACTIVATIONS, is_saturated
from helpers.capture import GradientProfile, capture_pass, compute_loss, gradient_profile
from helpers.data import spirals
from helpers.layer_stats import _count_nonzero_rows, _count_rows, _histogram_range
from helpers.models import MLP, MLPConfig, build_mlp
from helpers.norms import row_norms as _row_norms
from helpers.recorder import _built_mlp_modules


def toy_data(n=32, features=2, classes=2, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, features, generator=g, dtype=dtype)
    return X, torch.randint(classes, (n,), generator=g)


def mlp_oracle(model, X, y, loss_fn=F.cross_entropy):
    """Forward the MLP by hand on a copy, keeping every tensor, and back-propagate."""
    m = copy.deepcopy(model)
    h = X.to(next(m.parameters()).dtype)
    zs, acts = [], []
    for block in m.blocks:
        z = block.norm(block.linear(h))  # (batch, width): the activation's input
        a = block.act(z)
        a.retain_grad()
        zs.append(z)
        acts.append(a)
        h = h + a if block.residual else a
    out = m.output(h)
    out.retain_grad()
    zs.append(out)
    acts.append(out)
    loss = loss_fn(out, y)
    loss.backward()
    weights = [b.linear.weight for b in m.blocks] + [m.output.weight]
    return {
        "wgrad": [w.grad.detach() for w in weights],
        "agrad": [a.grad.detach() for a in acts],
        "acts": [a.detach().double().numpy() for a in acts],
        "zs": [z.detach().double().numpy() for z in zs],
        "loss": float(loss.detach()),
    }


def norms(tensors):
    return np.array([torch.linalg.vector_norm(t.double()).item() for t in tensors])


MLP_CASES = [
    dict(activation="tanh"),
    dict(activation="relu", init="he", norm="batch"),
    dict(activation="sigmoid", norm="layer"),
    dict(activation="tanh", norm="layer", residual=True, in_features=8),
    dict(activation="gelu", norm="batch", residual=True),
    dict(activation="linear", init="xavier"),
]


@pytest.mark.parametrize("kwargs", MLP_CASES)
def test_gradients_match_autograd_float64(kwargs):
    in_features = kwargs.get("in_features", 2)
    cfg = MLPConfig(depth=4, width=8, dtype="float64", **kwargs)
    model = build_mlp(cfg)
    X, y = toy_data(features=in_features, dtype=torch.float64)
    p = gradient_profile(model, X, y)
    ref = mlp_oracle(model, X, y)
    assert len(p) == cfg.depth + 1
    assert p.layer_names == tuple(f"blocks.{i}.linear" for i in range(4)) + ("output",)
    assert p.activations == (cfg.activation,) * 4 + ("linear",)
    for arr in (p.weight_grad_norm, p.activation_grad_norm, p.activation_mean, p.saturation):
        assert arr.shape == (cfg.depth + 1,) and arr.dtype == np.float64
    np.testing.assert_allclose(p.weight_grad_norm, norms(ref["wgrad"]), rtol=1e-10)
    np.testing.assert_allclose(p.activation_grad_norm, norms(ref["agrad"]), rtol=1e-10)
    np.testing.assert_allclose(p.activation_mean, [a.mean() for a in ref["acts"]],
                               rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(p.activation_std, [a.std() for a in ref["acts"]], rtol=1e-9)
    np.testing.assert_allclose(
        p.weight_norm, norms([m.weight for m in model.modules() if isinstance(m, nn.Linear)]),
        rtol=1e-12)
    np.testing.assert_allclose(p.grad_data_ratio, p.weight_grad_norm / p.weight_norm)
    zero = [1.0 - torch.count_nonzero(g).item() / g.numel() for g in ref["wgrad"]]
    np.testing.assert_array_equal(p.grad_zero_fraction, zero)
    assert p.loss == pytest.approx(ref["loss"], rel=1e-12)
    assert p.dtype == "float64"


def test_gradients_match_autograd_float32():
    model = build_mlp(MLPConfig(depth=5, width=16, activation="tanh", norm="batch"))
    X, y = toy_data()
    p = gradient_profile(model, X, y)
    ref = mlp_oracle(model, X, y)
    np.testing.assert_allclose(p.weight_grad_norm, norms(ref["wgrad"]), rtol=1e-5)
    np.testing.assert_allclose(p.activation_grad_norm, norms(ref["agrad"]), rtol=1e-5)
    assert p.dtype == "float32"


def test_hand_written_sequential_with_layernorm():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 8),
                          nn.Tanh(), nn.Linear(8, 2)).double()
    X, y = toy_data(features=3, dtype=torch.float64)
    p = gradient_profile(model, X, y)
    assert p.layer_names == ("0", "3", "5")
    assert p.activations == ("relu", "tanh", "linear")

    m = copy.deepcopy(model)
    z1 = m[1](m[0](X))
    a1 = m[2](z1)
    z2 = m[3](a1)
    a2 = m[4](z2)
    out = m[5](a2)
    for t in (a1, a2, out):
        t.retain_grad()
    F.cross_entropy(out, y).backward()
    np.testing.assert_allclose(p.weight_grad_norm, norms([m[i].weight.grad for i in (0, 3, 5)]),
                               rtol=1e-10)
    np.testing.assert_allclose(p.activation_grad_norm, norms([a1.grad, a2.grad, out.grad]),
                               rtol=1e-10)
    acts = [t.detach().numpy() for t in (a1, a2, out)]
    np.testing.assert_allclose(p.activation_mean, [a.mean() for a in acts], rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(p.activation_std, [a.std() for a in acts], rtol=1e-9)
    expected_sat = is_saturated("tanh", z2.detach().numpy()).mean()
    np.testing.assert_allclose(p.saturation, [0.0, expected_sat, 0.0])
    dead = 1.0 - (z1 > 0).any(0).double().mean().item()
    np.testing.assert_allclose(p.dead_fraction, [dead, 0.0, 0.0])


def test_layers_in_forward_order_not_registration_order():
    class Reversed(nn.Module):
        def __init__(self):
            super().__init__()
            self.late = nn.Linear(6, 2)
            self.unused = nn.Linear(6, 6)
            self.early = nn.Linear(3, 6)
            self.act = nn.Sigmoid()

        def forward(self, x):
            return self.late(self.act(self.early(x)))

    X, y = toy_data(features=3)
    p = gradient_profile(Reversed(), X, y)
    assert p.layer_names == ("early", "late")  # the unused layer takes no part
    assert p.activations == ("sigmoid", "linear")


def test_repeated_linear_counts_once():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            return self.lin(torch.tanh(self.lin(x)))  # functional tanh: not a module

    X, y = toy_data(features=4, classes=4)
    p = gradient_profile(Shared(), X, y)
    assert p.layer_names == ("lin",) and len(p.weight_grad_norm) == 1
    model = Shared()
    out = model(X)
    (g,) = torch.autograd.grad(F.cross_entropy(out, y), model.lin.weight)
    assert gradient_profile(model, X, y).weight_grad_norm[0] == pytest.approx(
        torch.linalg.vector_norm(g).item(), rel=1e-5)


def test_saturation_equals_fraction_outside_bounds():
    model = build_mlp(MLPConfig(depth=3, width=16, activation="sigmoid", init="normal",
                                weight_std=1.5, dtype="float64"))
    X, y = toy_data(n=64, dtype=torch.float64)
    X = 3 * X
    p = gradient_profile(model, X, y)
    ref = mlp_oracle(model, X, y)
    lo, hi = ACTIVATIONS["sigmoid"].saturation_bounds
    expected = [((z < lo) | (z > hi)).mean() for z in ref["zs"][:-1]] + [0.0]
    np.testing.assert_allclose(p.saturation, expected, rtol=1e-12)
    assert 0.05 < p.saturation[1] < 1.0  # the case really has saturated units
    np.testing.assert_array_equal(p.dead_fraction, 0.0)  # sigmoid has no dead units


def test_dead_relu_units_and_zero_gradients():
    cfg = MLPConfig(depth=3, width=16, activation="relu", init="he", dtype="float64")
    model = build_mlp(cfg)
    with torch.no_grad():
        model.blocks[1].linear.bias[:4] = -1e3  # units 0..3 of hidden layer 2 never fire
    X, y = toy_data(n=64, dtype=torch.float64)
    p = gradient_profile(model, X, y)
    ref = mlp_oracle(model, X, y)
    expected = [1.0 - (z > 0).any(0).mean() for z in ref["zs"][:-1]] + [0.0]
    np.testing.assert_allclose(p.dead_fraction, expected, rtol=1e-12)
    assert p.dead_fraction[1] >= 4 / 16
    # A dead unit's row of dW and the next layer's column of dW are exactly zero.
    assert p.grad_zero_fraction[1] >= 4 / 16 and p.grad_zero_fraction[2] >= 4 / 16
    zero = [1.0 - torch.count_nonzero(g).item() / g.numel() for g in ref["wgrad"]]
    np.testing.assert_array_equal(p.grad_zero_fraction, zero)


def test_all_dead_network_gives_zero_gradients_and_a_valid_histogram():
    model = build_mlp(MLPConfig(depth=2, width=8, activation="relu", init="he"))
    with torch.no_grad():
        for block in model.blocks:
            block.linear.bias.fill_(-1e3)
    X, y = toy_data()
    p = gradient_profile(model, X, y, bins=4)
    np.testing.assert_array_equal(p.dead_fraction[:2], [1.0, 1.0])
    np.testing.assert_array_equal(p.grad_zero_fraction[:2], [1.0, 1.0])
    np.testing.assert_array_equal(p.weight_grad_norm[:2], [0.0, 0.0])
    np.testing.assert_allclose(p.hist_edges, [-0.5, -0.25, 0.0, 0.25, 0.5])  # widened range
    assert np.isnan(p.first_to_last_ratio)
    assert "nan" in repr(p)


@pytest.mark.parametrize("activation, bins", [("sigmoid", 10), ("tanh", 7), ("relu", 40),
                                              ("gelu", 1)])
def test_histograms_are_fractions(activation, bins):
    model = build_mlp(MLPConfig(depth=3, width=8, activation=activation))
    X, y = toy_data(n=50)
    p = gradient_profile(model, X, y, bins=bins, sample=64)
    assert p.activation_hist.shape == (4, bins) and p.hist_edges.shape == (bins + 1,)
    np.testing.assert_allclose(p.activation_hist.sum(1), 1.0, atol=1e-12)
    assert np.all(p.activation_hist >= 0)
    assert np.all(np.diff(p.hist_edges) > 0)
    if activation == "sigmoid":
        assert (p.hist_edges[0], p.hist_edges[-1]) == (0.0, 1.0)
    if activation == "tanh":
        assert (p.hist_edges[0], p.hist_edges[-1]) == (-1.0, 1.0)


def test_histogram_range_rules():
    m, s = torch.tensor([0.5, 0.0]), torch.tensor([0.1, 1.0])
    assert _histogram_range(["sigmoid", "linear"], m, s) == (0.0, 1.0)
    assert _histogram_range(["sigmoid", "tanh", "linear"], m, s) == (-1.0, 1.0)
    nan = torch.tensor([float("nan")])
    assert _histogram_range(["relu"], nan, nan) == (-1.0, 1.0)
    lo, hi = _histogram_range(["relu", "linear"], torch.tensor([1.0, 0.0]),
                              torch.tensor([1.0, 9.0]))
    assert (lo, hi) == (-0.25, 5.0)  # hidden layers only; little room below 0 for ReLU
    assert _histogram_range(["gelu"], torch.tensor([1.0]), torch.tensor([0.5])) == (-1.0, 3.0)


def test_model_is_not_changed_by_measuring():
    model = build_mlp(MLPConfig(depth=3, width=8, norm="batch"))
    X, y = toy_data()
    model(X)  # give the running statistics non-trivial values
    model.eval()
    out_before = model(X).detach().clone()
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert all(p.grad is None for p in model.parameters())
    gradient_profile(model, X, y)
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert model.training
    model.eval()
    assert torch.equal(model(X), out_before)
    assert all(not m._forward_hooks for m in model.modules())


def test_existing_grad_fields_are_left_alone():
    model = build_mlp(MLPConfig(depth=2, width=8))
    for p in model.parameters():
        p.grad = torch.full_like(p, 7.0)
    X, y = toy_data()
    gradient_profile(model, X, y)
    assert all(torch.equal(p.grad, torch.full_like(p, 7.0)) for p in model.parameters())


def test_batchnorm_statistics_restored_when_the_loss_raises():
    model = build_mlp(MLPConfig(depth=2, width=8, norm="batch"))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    X, y = toy_data()
    with pytest.raises(ValueError, match="class labels must lie in 0..1"):
        gradient_profile(model, X, y + 5)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert all(not m._forward_hooks for m in model.modules())


def test_profile_in_eval_mode_and_numpy_inputs():
    model = build_mlp(MLPConfig(depth=2, width=8, norm="batch")).eval()
    X, y = toy_data()
    p = gradient_profile(model, X.numpy().astype(np.float64), y.numpy())
    q = gradient_profile(model, X, y)
    assert p.dtype == "float32"  # cast to the model's type
    np.testing.assert_allclose(p.weight_grad_norm, q.weight_grad_norm, rtol=1e-6)
    ints = gradient_profile(model, np.ones((4, 2), dtype=np.int64), np.array([0, 1, 0, 1]))
    assert np.all(np.isfinite(ints.weight_grad_norm))


def test_float64_keeps_tiny_gradients_that_float32_underflows():
    X, y = spirals(200, 0.1, seed=0)
    cfg = MLPConfig(depth=50, width=32, activation="sigmoid")
    p32 = gradient_profile(build_mlp(cfg), X, y)
    p64 = gradient_profile(build_mlp(cfg.replace(dtype="float64")), X, y)
    # Measured: float32 first layer 58% exactly-zero gradient entries; float64 none, norm ~2e-44.
    assert p32.grad_zero_fraction[0] > 0.3
    assert p64.grad_zero_fraction[0] == 0.0
    assert 0.0 < p64.weight_grad_norm[0] < 1e-30
    assert p64.dtype == "float64" and p32.dtype == "float32"


# -- the vanishing-gradient facts the course states ---------------------------------------


@pytest.fixture(scope="module")
def spiral_data():
    return spirals(1000, 0.1, seed=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deep_sigmoid_first_layer_gradient_vanishes(spiral_data, seed):
    X, y = spiral_data
    p = gradient_profile(build_mlp(MLPConfig(depth=20, width=64, activation="sigmoid",
                                             seed=seed)), X, y)
    # Measured on seeds 0..4: 7.5e-18 ... 3.4e-17. Bounds: a factor 10 either side of that.
    assert 7.5e-19 <= p.first_to_last_ratio <= 3.4e-16


HE = dict(depth=20, width=64, activation="relu", init="he")


def test_relu_he_gradients_do_not_vanish_like_sigmoid(spiral_data):
    """ReLU + He init at depth 20 on spirals, seeds 0..4.

    Measured first/last hidden weight-gradient ratio: 0.094, 0.035, 0.095, 0.062, 0.069
    (sigmoid: ~1e-17). The back-propagated signal itself, ||dL/da|| of the first hidden layer
    over the last, is 0.57, 1.37, 0.40, 1.38, 1.06. The weight-gradient ratio is lower because
    the first layer is 64x2 (2-D inputs) against 64x64 for the last hidden layer: the raw
    weight-gradient ratio is NOT within one order of magnitude of 1 here, the signal is.
    """
    X, y = spiral_data
    for seed in range(5):
        p = gradient_profile(build_mlp(MLPConfig(**HE, seed=seed)), X, y)
        assert 0.01 <= p.first_to_last_ratio <= 1.0
        assert 0.1 <= p.activation_grad_norm[0] / p.activation_grad_norm[-2] <= 10.0


def test_residual_layernorm_ratio_within_one_order_of_magnitude(spiral_data):
    X, y = spiral_data
    # Measured on seeds 0..4: 0.20, 0.16, 0.57, 0.57, 0.16.
    for seed in range(5):
        cfg = MLPConfig(**HE, residual=True, norm="layer", seed=seed)
        assert 0.1 <= gradient_profile(build_mlp(cfg), X, y).first_to_last_ratio <= 10.0


# -- losses, repr, bad input ------------------------------------------------------------


def test_mse_and_callable_losses():
    model = build_mlp(MLPConfig(depth=2, width=8, out_features=1, dtype="float64"))
    X, _ = toy_data(dtype=torch.float64)
    target = torch.randn(32, dtype=torch.float64)
    p = gradient_profile(model, X, target, loss="mse")  # (n,) reshaped to (n, 1)
    m = copy.deepcopy(model)
    F.mse_loss(m(X), target[:, None]).backward()
    np.testing.assert_allclose(p.weight_grad_norm, norms([m.blocks[0].linear.weight.grad,
                                                          m.blocks[1].linear.weight.grad,
                                                          m.output.weight.grad]), rtol=1e-10)
    q = gradient_profile(model, X, target, loss=lambda out, y: 0.5 * ((out[:, 0] - y) ** 2).mean())
    np.testing.assert_allclose(q.weight_grad_norm, 0.5 * p.weight_grad_norm, rtol=1e-10)
    assert q.loss == pytest.approx(0.5 * p.loss)


def test_repr_shows_key_numbers():
    X, y = toy_data()
    short = gradient_profile(build_mlp(MLPConfig(depth=2, width=8)), X, y)
    text = repr(short)
    assert text.startswith(f"GradientProfile(3 layers, loss={short.loss:.4g}, dtype=float32")
    assert f"{short.first_to_last_ratio:.3g}" in text
    assert f"{short.weight_grad_norm[0]:.3e}" in text and "blocks.1.linear" in text
    assert "..." not in text
    long = repr(gradient_profile(build_mlp(MLPConfig(depth=14, width=4)), X, y))
    assert "GradientProfile(15 layers" in long and "  ..." in long
    assert "blocks.4.linear" in long and "blocks.5.linear" not in long and "output" in long


def _made_up_profile(names, params=None, frozen=None, parametrizations=None):
    """A GradientProfile with known numbers: layer i has |dW| = 10^-i, |W| = i + 1, act std
    0.5 + i, saturation and dead fractions i / 4 and i / 8."""
    n = len(names)
    i = np.arange(n, dtype=float)
    return GradientProfile(
        layer_names=tuple(names), param_names=tuple(params or ["weight"] * n),
        activations=tuple(["tanh"] * (n - 1) + ["linear"]),
        frozen=np.array(frozen or [False] * n), parametrizations=tuple(parametrizations or
                                                                     [""] * n),
        weight_grad_norm=10.0 ** -i, weight_norm=i + 1, grad_zero_fraction=np.zeros(n),
        activation_mean=np.zeros(n), activation_std=0.5 + i, activation_grad_norm=np.ones(n),
        saturation=i / 4, dead_fraction=i / 8, hist_edges=np.linspace(-1, 1, 3),
        activation_hist=np.full((n, 2), 0.5), loss=0.6931, dtype="float64")


def test_entry_names_mark_parameters_frozen_and_parametrized_entries():
    p = _made_up_profile(["", "rnn", "enc.0", "head"],
                         params=["weight", "weight_hh_l0", "weight.original1", "weight"],
                         frozen=[True, False, True, False],
                         parametrizations=["", "", "WeightNorm", "SpectralNorm"])
    assert [p.entry_name(i) for i in range(4)] == [
        "(model) [frozen]", "rnn.weight_hh_l0", "enc.0.weight.original1 [frozen, WeightNorm]",
        "head [SpectralNorm]"]


def test_repr_rows_are_the_profile_numbers():
    """Every row of the printed table, exactly: name, activation, |dW|, |W|, activation std,
    saturated and dead percentages; names pad to at least 16 characters."""
    p = _made_up_profile(["a", "b", "out"])
    assert repr(p).splitlines() == [
        "GradientProfile(3 layers, loss=0.6931, dtype=float64, first/last hidden grad "
        "ratio=10)",
        "  layer           act               |dW|       |W|   act std   sat %  dead %",
        "  a               tanh         1.000e+00         1       0.5     0.0     0.0",
        "  b               tanh         1.000e-01         2       1.5    25.0    12.5",
        "  out             linear       1.000e-02         3       2.5    50.0    25.0"]
    wide = repr(_made_up_profile(["a" * 20, "out"])).splitlines()  # width: longest name + 2
    assert wide[1].startswith("  layer" + " " * 17 + "act") and wide[2].startswith(
        "  " + "a" * 20 + "  tanh")


def test_repr_of_a_long_profile_shows_first_and_last_five_and_cuts_long_names():
    for n, rows in ((12, 2 + 12), (13, 2 + 11)):  # up to 12 layers in full
        text = repr(_made_up_profile([f"l{i}" for i in range(n)]))
        assert len(text.splitlines()) == rows and ("  ..." in text) == (n == 13)
    names = [f"layer{i}" for i in range(13)] + ["x" * 45]
    rows = repr(_made_up_profile(names)).splitlines()
    assert len(rows) == 2 + 5 + 1 + 5 and rows[7] == "  ..."
    assert [r.split()[0] for r in rows[2:7]] == names[:5]
    assert [r.split()[0] for r in rows[8:]] == names[9:13] + ["x" * 39]  # width 40, less 1
    assert rows[-1].startswith("  " + "x" * 39 + " linear")
    assert rows[1].startswith("  layer" + " " * 35 + "act")  # the column is 40 wide


def test_default_histogram_has_forty_bins():
    X, y = toy_data()
    p = gradient_profile(build_mlp(MLPConfig(depth=2, width=8)), X, y)
    assert p.hist_edges.shape == (41,) and p.activation_hist.shape == (3, 40)
    assert p.frozen.dtype == bool


def test_compute_loss_checks():
    out = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="1-D tensor of integer class indices"):
        compute_loss(out, torch.zeros(4), "cross_entropy")
    with pytest.raises(ValueError, match=r"needs \(batch, classes\) outputs"):
        compute_loss(torch.zeros(4, 3, 2), torch.zeros(4, dtype=torch.long), "cross_entropy")
    with pytest.raises(ValueError, match="mse needs one target per output"):
        compute_loss(out, torch.zeros(4), "mse")
    with pytest.raises(ValueError, match="valid choices: cross_entropy, mse or a callable"):
        compute_loss(out, torch.zeros(4), "hinge")


@pytest.fixture
def small():
    return build_mlp(MLPConfig(depth=2, width=4)), *toy_data(n=8)


@pytest.mark.parametrize(
    "change, exc, match",
    [
        (dict(model="not a model"), TypeError, "model must be a torch.nn.Module, got str"),
        (dict(X=torch.zeros(0, 2)), ValueError, "X is empty"),
        (dict(X=torch.zeros(8)), ValueError, r"X must have shape \(n_examples, features...\)"),
        (dict(X=torch.full((8, 2), float("nan"))), ValueError, "X contains NaN or infinite"),
        (dict(X=[[0.0, 1.0]] * 8), TypeError, "X must be a torch.Tensor or a NumPy array"),
        (dict(X=np.array([["a", "b"]] * 8)), TypeError, "X must hold numbers"),
        (dict(y=torch.zeros(5, dtype=torch.long)), ValueError, r"one entry per example \(8\)"),
        (dict(y=torch.tensor(1)), ValueError, "one entry per example"),
        (dict(y=torch.full((8,), 2)), ValueError, r"class labels must lie in 0..1"),
        (dict(y=torch.full((8,), -1)), ValueError, r"class labels must lie in 0..1"),
        (dict(y=torch.zeros(8)), ValueError, "integer class indices"),
        (dict(loss="hinge"), ValueError, "valid choices: cross_entropy, mse"),
        (dict(loss="mse", y=torch.full((8, 2), float("nan"))), ValueError, "y contains NaN"),
        (dict(bins=0), ValueError, "bins must be between 1 and 1000, got 0"),
        (dict(bins=2.5), TypeError, "bins must be an int, got 2.5"),
        (dict(bins=True), TypeError, "bins must be an int, got True"),
        (dict(sample=0), ValueError, "sample must be an int >= 1, got 0"),
    ],
)
def test_gradient_profile_bad_input(small, change, exc, match):
    model, X, y = small
    args = dict(model=model, X=X, y=y, **{k: v for k, v in change.items()
                                          if k not in ("model", "X", "y")})
    args.update({k: v for k, v in change.items() if k in ("model", "X", "y")})
    with pytest.raises(exc, match=match):
        gradient_profile(args.pop("model"), args.pop("X"), args.pop("y"), **args)


def test_model_without_linear_layer():
    X, y = toy_data()
    with pytest.raises(ValueError, match="no weight parameter"):
        gradient_profile(nn.Sequential(nn.Tanh()), X, y)


def test_profile_is_frozen():
    X, y = toy_data()
    p = gradient_profile(build_mlp(MLPConfig(depth=2, width=4)), X, y)
    assert isinstance(p, GradientProfile)
    with pytest.raises(AttributeError):
        p.loss = 0.0


@pytest.mark.parametrize("position", ["pre", "post"])
def test_weight_gradients_match_autograd_for_pre_and_post_norm(position):
    cfg = MLPConfig(depth=4, width=8, activation="tanh", residual=True, norm="layer",
                    norm_position=position, dtype="float64")
    model = build_mlp(cfg)
    X, y = toy_data(dtype=torch.float64)
    p = gradient_profile(model, X, y)
    ref = copy.deepcopy(model)
    F.cross_entropy(ref(X), y).backward()
    lins = [m for m in ref.modules() if isinstance(m, nn.Linear)]
    assert len(p) == len(lins) == cfg.depth + 1
    np.testing.assert_allclose(p.weight_grad_norm, norms([m.weight.grad for m in lins]),
                               rtol=1e-10)


def test_check_data_without_labels():
    from helpers.capture import check_data

    X = check_data(np.arange(6).reshape(3, 2))
    assert X.dtype == torch.float32 and X.shape == (3, 2)


class HookedMLP(MLP):
    """The same network as a subclass: ``gradient_profile`` measures it with forward hooks."""


def as_hooked(model):
    hooked = copy.deepcopy(model)
    hooked.__class__ = HookedMLP
    return hooked


def assert_profiles_equal(p, q):
    for field in GradientProfile.__dataclass_fields__:
        a, b = getattr(p, field), getattr(q, field)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=field)
        else:
            assert a == b, field


@pytest.mark.parametrize("kwargs", MLP_CASES + [
    dict(activation="relu", norm="layer", residual=True, norm_position="pre"),
    dict(activation="elu", norm="batch", residual=True, norm_position="post"),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_built_mlps_record_themselves_exactly_as_hooks_see_them(kwargs, dtype):
    model = build_mlp(MLPConfig(depth=4, width=8, dtype=dtype, **kwargs))
    hooked = as_hooked(model)
    assert _built_mlp_modules(model) is not None and _built_mlp_modules(hooked) is None
    X, y = toy_data(features=kwargs.get("in_features", 2))
    assert_profiles_equal(gradient_profile(model, X, y), gradient_profile(hooked, X, y))
    assert all(not m._forward_hooks for m in hooked.modules())


def _swap_act(m):
    m.blocks[1].act = nn.Sequential(nn.Tanh())  # not an activation module itself


def _share_linear(m):
    m.blocks[2].linear = m.blocks[1].linear


def _pre_hook_on_act(m):
    m.blocks[0].act.register_forward_pre_hook(lambda module, args: (10 * args[0],))


def _pre_hook_on_block(m):
    m.blocks[1].register_forward_pre_hook(lambda module, args: (args[0],))


def _spectral_norm(m):
    torch.nn.utils.spectral_norm(m.blocks[0].linear)  # a buffer and a pre-hook on a Linear


def _patched_forward(m):
    forward = m.forward
    m.forward = lambda x: forward(x)


def _extra_module(m):
    m.blocks[0].dropout = nn.Dropout(0.0)


class _ShiftedLinear(nn.Linear):
    """A Linear subclass that changes what the layer computes."""

    def forward(self, x):
        return super().forward(x) + 0.5


def _subclassed_linear(m):
    old = m.blocks[1].linear
    m.blocks[1].linear = _ShiftedLinear(old.in_features, old.out_features)


def _subclassed_output(m):
    old = m.output
    m.output = _ShiftedLinear(old.in_features, old.out_features)


def _backward_hook_on_block(m):
    m.blocks[0].register_full_backward_hook(lambda module, grad_in, grad_out: None)


@pytest.mark.parametrize("change", [_swap_act, _share_linear, _pre_hook_on_act,
                                    _pre_hook_on_block, _spectral_norm, _patched_forward,
                                    _extra_module, _subclassed_linear, _subclassed_output,
                                    _backward_hook_on_block])
def test_changed_mlps_are_measured_with_hooks(change):
    model = build_mlp(MLPConfig(depth=3, width=8))
    assert _built_mlp_modules(model) is not None
    before = as_hooked(model)
    change(model)
    assert _built_mlp_modules(model) is None
    X, y = toy_data()
    # the same network, measured by hooks for sure (a copy of a patched forward would
    # still run the original model, so that one is compared with the model before)
    hooked = before if change is _patched_forward else as_hooked(model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert_profiles_equal(gradient_profile(model, X, y), gradient_profile(hooked, X, y))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    p = gradient_profile(model, X, y)
    names = dict((m, n) for n, m in reversed(list(model.named_modules())))  # first name wins
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert set(p.layer_names) <= {names[m] for m in linears}
    if change is _swap_act:
        assert p.activations == ("tanh",) * 3 + ("linear",)  # the hooks see the inner Tanh
    if change is _share_linear:
        assert p.layer_names == ("blocks.0.linear", "blocks.1.linear", "output")


def test_a_global_hook_turns_recording_off():
    model = build_mlp(MLPConfig(depth=2, width=4))
    handle = torch.nn.modules.module.register_module_forward_pre_hook(lambda m, args: None)
    try:
        assert _built_mlp_modules(model) is None
    finally:
        handle.remove()
    assert _built_mlp_modules(model) is not None


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_built_mlps_still_compile_with_torchscript():
    for kwargs in (dict(norm="batch"), dict(residual=True, norm="layer", norm_position="pre"),
                   dict(residual=True, norm="layer", norm_position="post")):
        model = build_mlp(MLPConfig(depth=3, width=8, **kwargs)).eval()
        X, _ = toy_data()
        assert torch.equal(torch.jit.script(model)(X), model(X))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("measure", [lambda m: m, as_hooked])
def test_nan_and_inf_gradients_count_as_nonzero(bad, measure):
    model = build_mlp(MLPConfig(depth=3, width=8, activation="relu", init="he"))
    with torch.no_grad():
        model.blocks[1].linear.weight[0, 0] = bad
    X, y = toy_data()
    p = gradient_profile(measure(model), X, y)
    ref = copy.deepcopy(model)
    F.cross_entropy(ref(X), y).backward()
    grads = [m.weight.grad for m in ref.modules() if isinstance(m, nn.Linear)]
    expected = [1.0 - torch.count_nonzero(g).item() / g.numel() for g in grads]
    np.testing.assert_array_equal(p.grad_zero_fraction, expected)
    assert not np.isfinite(p.weight_grad_norm).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_models(dtype):
    model = build_mlp(MLPConfig(depth=3, width=64, activation="tanh")).to(dtype)
    X, y = toy_data(n=64)
    p = gradient_profile(model, X, y)
    assert p.dtype == str(dtype).replace("torch.", "")
    ref = copy.deepcopy(model)
    F.cross_entropy(ref(X.to(dtype)), y).backward()
    grads = [m.weight.grad for m in ref.modules() if isinstance(m, nn.Linear)]
    np.testing.assert_allclose(p.weight_grad_norm, norms(grads), rtol=1e-6)
    zero = [1.0 - torch.count_nonzero(g).item() / g.numel() for g in grads]
    np.testing.assert_array_equal(p.grad_zero_fraction, zero)
    assert np.all(np.isfinite(p.activation_std))


@pytest.mark.parametrize("activation", ["elu", "gelu", "silu", "leaky_relu", "tanh", "relu"])
def test_saturation_and_dead_units_against_the_definition(activation):
    model = build_mlp(MLPConfig(depth=3, width=16, activation=activation, init="normal",
                                weight_std=1.0, dtype="float64"))
    X, y = toy_data(n=64, dtype=torch.float64)
    p = gradient_profile(model, X, y)
    ref = mlp_oracle(model, X, y)
    spec = ACTIVATIONS[activation]
    zs = ref["zs"][:-1]
    sat = [is_saturated(activation, z).mean() for z in zs] if spec.saturation_bounds else [0] * 3
    np.testing.assert_allclose(p.saturation, sat + [0.0], rtol=1e-12)
    dead = [1.0 - (z > 0).any(0).mean() for z in zs] if spec.relu_like else [0] * 3
    np.testing.assert_allclose(p.dead_fraction, dead + [0.0], rtol=1e-12)
    assert spec.saturation_bounds is None or p.saturation[:3].max() > 0  # the case saturates


def test_row_norms_redo_only_the_rows_float32_cannot_hold():
    rows = torch.tensor([[3.0, 4.0], [1e-25, 1e-25], [1e25, 1e25], [0.0, 0.0]])
    np.testing.assert_allclose(_row_norms(rows), [5.0, 2**0.5 * 1e-25, 2**0.5 * 1e25, 0.0],
                               rtol=1e-7)
    assert torch.linalg.vector_norm(rows[1]) == 0  # what float32 alone would say


def test_counts_are_exact_beyond_float32_integers():
    ones = torch.ones(1, 2**24 + 3)
    assert _count_rows(ones)[0] == 2**24 + 3  # float32 sums stop counting at 2**24
    assert _count_nonzero_rows(torch.tensor([[0.0, -0.0, 1e-45, float("nan")]]))[0] == 2


class BatchNormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 2))

    def forward(self, x):
        return self.body(x)


@pytest.mark.parametrize("loss", ["labels", "backward"])
def test_capture_pass_restores_buffers_and_removes_hooks_when_it_fails(loss):
    model = BatchNormNet()
    X, y = toy_data()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    if loss == "labels":
        with pytest.raises(ValueError, match="class labels"):
            capture_pass(model, X, y + 5)
    else:  # a non-scalar loss: the forward pass runs, the backward pass raises
        with pytest.raises(RuntimeError, match="scalar"):
            capture_pass(model, X, y, loss=lambda out, target: out)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert all(not m._forward_hooks for m in model.modules())


def test_capture_pass_keeps_each_layers_tensors():
    model = build_mlp(MLPConfig(depth=2, width=4, activation="tanh", dtype="float64"))
    X, y = toy_data(dtype=torch.float64)
    cap = capture_pass(model, X, y)
    ref = mlp_oracle(model, X, y)
    assert cap.layer_names == ("blocks.0.linear", "blocks.1.linear", "output")
    assert cap.activations == ("tanh", "tanh", "linear")
    for got, want in zip(cap.outputs, ref["acts"], strict=True):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    for got, want in zip(cap.weight_grads, ref["wgrad"], strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)
    assert all(not t.requires_grad for t in cap.outputs + cap.pre_activations + cap.weights)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        capture_pass("model", X, y)


def tiny_deep_linear_net(depth=100, width=16, std=1e-3, seed=0):
    """A float64 linear net whose gradient entries are ~1e-213: nonzero, squares underflow."""
    torch.manual_seed(seed)
    layers = [nn.Linear(2 if i == 0 else width, width, dtype=torch.float64) for i in range(depth)]
    layers.append(nn.Linear(width, 2, dtype=torch.float64))
    with torch.no_grad():
        for layer in layers:
            layer.weight.normal_(0.0, std)
            layer.bias.zero_()
    return nn.Sequential(*layers)


def exact_norm(t):
    """L2 norm of a float64 tensor of tiny entries: scaled by a power of two (exactly)."""
    m = float(t.abs().max())
    scale = 2.0 ** -math.frexp(m)[1]
    return torch.linalg.vector_norm(t * scale).item() / scale


@pytest.mark.parametrize("own", [False, True])
def test_float64_norms_of_tiny_gradients_are_not_zero(own):
    model = tiny_deep_linear_net()
    if own:  # the course's own MLP with the same weights: its recording path
        mlp = build_mlp(MLPConfig(depth=100, width=16, activation="linear", dtype="float64"))
        with torch.no_grad():
            linears = [b.linear for b in mlp.blocks] + [mlp.output]
            for dst, src in zip(linears, model, strict=True):
                dst.weight.copy_(src.weight)
                dst.bias.copy_(src.bias)
        model = mlp
    X, y = toy_data(dtype=torch.float64)
    p = gradient_profile(model, X, y)
    ref = copy.deepcopy(model)
    F.cross_entropy(ref(X), y).backward()
    grads = [q.grad for q in ref.parameters() if q.ndim == 2]
    assert float(grads[0].abs().max()) < 1e-150 and torch.all(grads[0] != 0)
    assert torch.linalg.vector_norm(grads[0]).item() == 0.0  # what an unscaled norm gives
    np.testing.assert_allclose(p.weight_grad_norm, [exact_norm(g) for g in grads], rtol=1e-12)
    assert np.all(p.weight_grad_norm > 0) and np.all(p.grad_zero_fraction == 0)


def test_scaled_norms_over_float64_range():
    from helpers.norms import norms, row_norms, scaled_norm

    tiny, huge = torch.full((3, 4), 1e-200, dtype=torch.float64), torch.full((5,), 1e200,
                                                                             dtype=torch.float64)
    assert scaled_norm(tiny) == pytest.approx(np.sqrt(12) * 1e-200, rel=1e-14)
    assert scaled_norm(huge) == pytest.approx(np.sqrt(5) * 1e200, rel=1e-14)
    assert scaled_norm(torch.zeros(3)) == 0.0 and scaled_norm(torch.zeros(0)) == 0.0
    assert np.isnan(scaled_norm(torch.tensor([1.0, float("nan")])))
    assert scaled_norm(torch.tensor([1.0, float("-inf")])) == math.inf
    got = norms([tiny, huge, torch.ones(4), torch.ones(4, dtype=torch.bfloat16) * 1e30])
    np.testing.assert_allclose(got, [np.sqrt(12) * 1e-200, np.sqrt(5) * 1e200, 2.0,
                                     2 * float(torch.tensor(1e30, dtype=torch.bfloat16))],
                               rtol=1e-12)
    np.testing.assert_allclose(row_norms(torch.stack([tiny, tiny * 1e100])),
                               [np.sqrt(12) * 1e-200, np.sqrt(12) * 1e-100], rtol=1e-14)


def test_batched_moments_against_float64_two_pass():
    from helpers.norms import moments

    g = torch.Generator().manual_seed(0)
    cases = [torch.randn(64, 8, generator=g), 1e4 + torch.randn(100, generator=g),  # cancels
             torch.randn(50, dtype=torch.float64, generator=g) * 1e-200,  # tiny
             torch.full((10,), 3.0), torch.zeros(4)]
    mean, std = moments(cases)
    for t, m, s in zip(cases, mean, std, strict=True):
        d = t.double()
        scale = 1e200 if t.dtype == torch.float64 else 1.0
        np.testing.assert_allclose(m, d.mean().item(), rtol=1e-6, atol=1e-7 * float(d.std()))
        np.testing.assert_allclose(s * scale, (d * scale).std(correction=0).item(), rtol=1e-5,
                                   atol=1e-12)


def test_gradient_profile_accepts_numpy_integers_for_bins_and_sample():
    model = build_mlp(MLPConfig(depth=2, width=8, seed=0))
    X, y = torch.randn(16, 2), torch.randint(0, 2, (16,))
    a = gradient_profile(model, X, y, bins=np.int64(12), sample=np.int32(64))
    b = gradient_profile(model, X, y, bins=12, sample=64)
    assert a.activation_hist.shape[1] == 12
    np.testing.assert_array_equal(a.activation_hist, b.activation_hist)


class TwoActivations(nn.Module):
    """An activation right after a layer, one after another activation, one called twice."""

    def __init__(self):
        super().__init__()
        self.a, self.t, self.r, self.b = nn.Linear(4, 8), nn.Tanh(), nn.ReLU(), nn.Linear(8, 3)

    def forward(self, x):
        h = self.r(self.t(self.a(x)))  # r follows t, not a layer: unpaired
        return self.b(self.t(h))  # t's second call is not a unit of its own


def units_by_autograd(model, X, y):
    """(name, input, output, dLoss/d output) of each activation module's first call, from
    forward hooks that retain the output's gradient and one plain backward."""
    seen, handles = {}, []
    for name, m in model.named_modules():
        if isinstance(m, (nn.Tanh, nn.ReLU, nn.GELU)):
            def hook(mod, inp, out, name=name):
                if name not in seen:
                    out.retain_grad()
                    seen[name] = (inp[0].detach().clone(), out)
            handles.append(m.register_forward_hook(hook))
    F.cross_entropy(model(X), y).backward()
    for h in handles:
        h.remove()
    return [(n, z, a.detach(), a.grad) for n, (z, a) in seen.items()]


@pytest.mark.parametrize("make", [
    lambda: TwoActivations(),
    lambda: build_mlp(MLPConfig(in_features=4, out_features=3, depth=4, width=8,
                                activation="gelu", residual=True, norm="layer",
                                norm_position="pre", dtype="float64")),
], ids=["hooked", "built-pre-norm"])
def test_every_activation_module_is_a_unit_against_autograd(make):
    torch.manual_seed(0)
    model = make()
    X, y = toy_data(n=32, features=4, classes=3, dtype=next(model.parameters()).dtype)
    cap = capture_pass(model, X, y)  # before the oracle's hooks: the built MLP records itself
    ref = units_by_autograd(model, X, y)
    assert cap.unit_names == tuple(r[0] for r in ref) and len(ref) >= 2
    for i, (name, z, a, g) in enumerate(ref):
        torch.testing.assert_close(cap.unit_inputs[i], z, msg=name)
        torch.testing.assert_close(cap.unit_outputs[i], a, msg=name)
        torch.testing.assert_close(cap.unit_output_grads[i], g, msg=name)
    assert cap.unit_activations == tuple(
        "tanh" if "t" == n else "relu" if n == "r" else "gelu" for n in cap.unit_names)


def test_complex_inputs_are_refused_not_made_real():
    model = build_mlp(MLPConfig(depth=2, width=8, seed=0))
    X = torch.randn(16, 2, dtype=torch.complex64)
    with pytest.raises(TypeError, match="complex; the model needs real inputs"):
        gradient_profile(model, X, torch.randint(0, 2, (16,)))


class _SharedLayerNet(nn.Module):
    """The layer ``a`` is called twice (tanh after each call), then the read-out ``c``."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.a, self.act, self.c = nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 2)

    def forward(self, x):
        return self.c(self.act(self.a(self.act(self.a(x)))))


class _UnusedBranchNet(nn.Module):
    """The layer ``side`` runs but the loss does not depend on its output."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.side, self.a, self.c = nn.Linear(3, 4), nn.Linear(3, 4), nn.Linear(4, 2)

    def forward(self, x):
        self.side(x)
        return self.c(torch.relu(self.a(x)))


def test_a_layer_called_twice_is_measured_at_its_first_call_and_later_layers_still_are():
    model = _SharedLayerNet()
    X, y = toy_data(n=8, features=3)
    p = capture_pass(model, X, y)
    assert p.layer_names == ("a", "c") and p.activations == ("tanh", "linear")
    with torch.no_grad():
        first = model.a(X)
        torch.testing.assert_close(p.pre_activations[0], first)
        torch.testing.assert_close(p.outputs[0], torch.tanh(first))
        torch.testing.assert_close(p.outputs[1], model(X))
    F.cross_entropy(model(X), y).backward()  # the gradient sums over both calls
    torch.testing.assert_close(p.weight_grads[0], model.a.weight.grad)
    torch.testing.assert_close(p.weight_grads[1], model.c.weight.grad)


def test_a_layer_the_loss_does_not_depend_on_has_zero_gradients():
    model = _UnusedBranchNet()
    X, y = toy_data(n=8, features=3)
    p = capture_pass(model, X, y)
    assert p.layer_names == ("side", "a", "c")
    side = p.layer_names.index("side")
    torch.testing.assert_close(p.weight_grads[side], torch.zeros(4, 3))
    torch.testing.assert_close(p.output_grads[side], torch.zeros(8, 4))
    F.cross_entropy(model(X), y).backward()
    torch.testing.assert_close(p.weight_grads[1], model.a.weight.grad)


class _Stashing(nn.Module):
    """A weight layer that returns nothing and leaves its result for its parent."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 4) / 2)

    def forward(self, x):
        self.result = x @ self.weight.T


class _Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Module()  # the attention one level down, as in a Transformer layer
        self.block.mha = nn.MultiheadAttention(4, 1, batch_first=True)
        self.stash = _Stashing()
        self.side = nn.Tanh()
        self.head = nn.Linear(4, 2)

    def forward(self, x):  # x (batch, 3, 4)
        h, _ = self.block.mha(x, x, x)
        self.side(h)  # an activation whose output the loss does not use
        self.stash(h.mean(1))
        return self.head(self.stash.result)


def test_entries_follow_the_forward_order_and_mark_what_was_not_measured():
    """out_proj, which its parent uses without calling it, is placed right after its parent
    (not at the end); a layer that returns no tensor is "n/a"; an activation whose output
    the loss does not use has a zero output gradient, not None (it still pairs with the
    layer it follows)."""
    torch.manual_seed(0)
    model = _Attention()
    X, y = torch.randn(5, 3, 4), torch.tensor([0, 1, 0, 1, 1])
    cap = capture_pass(model, X, y)
    assert cap.layer_names == ("block.mha", "block.mha.out_proj", "stash", "head")
    assert cap.activations == ("tanh", "n/a", "n/a", "linear")  # the Tanh follows mha
    i = cap.unit_names.index("side")
    assert torch.equal(cap.unit_output_grads[i], torch.zeros(5, 3, 4))


class _InPlaceAfterUse(nn.Module):
    def __init__(self):
        super().__init__()
        self.t = nn.Tanh()
        self.a = nn.Linear(4, 2)

    def forward(self, x):
        h = self.t(x)
        out = self.a(h)
        h.add_(1.0)  # the Tanh's recorded output changes after the Linear used it
        return out


def test_every_refusal_word_for_word():
    X, y = toy_data(n=6, features=4)
    frozen = nn.Sequential(nn.Linear(4, 2)).requires_grad_(False)

    class InPlace(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 2)

        def forward(self, x):
            h = self.a(x)
            h += x
            return self.b(h)

    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.c = nn.Linear(4, 4), nn.Parameter(torch.ones(2))

        def forward(self, x):
            return x[:, :2] * self.c

    changed = ("was changed in place after it was computed (e.g. `h += x` or an in-place "
               "activation further on), so its statistics and gradient cannot be measured; "
               "write `h = h + x` or use inplace=False there")
    for args, error, message in (
            ((nn.Linear(4, 2), X, None, "cross_entropy"), ValueError,
             "y is None: give targets y, or loss as a callable of the output alone"),
            ((nn.Sequential(nn.LayerNorm(4)), X, y), ValueError,
             "the model has no weight parameter (a tensor with 2 or more dimensions)"),
            ((nn.Linear(4, 2), X, None, lambda out: out.sum(1)), RuntimeError,
             "grad can be implicitly created only for scalar outputs: the loss has shape (6,); "
             "reduce it to a scalar"),
            ((InPlace(), X, y), ValueError, f"a tensor recorded at module 'a' (Linear) {changed}"),
            ((_InPlaceAfterUse(), X, y), ValueError,
             f"a tensor recorded at module 't' (Tanh) {changed}"),
            ((frozen, X, y), ValueError,
             "the loss does not depend on any parameter that requires a gradient: every weight "
             "taking part is frozen; unfreeze the ones to measure with requires_grad_(True)"),
            ((Unused(), X, y), ValueError,
             "no weight parameter of the model takes part in the forward pass")):
        with pytest.raises(error) as info:
            capture_pass(*args)
        assert str(info.value) == message
