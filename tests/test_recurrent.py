"""helpers.recurrent: configs, builder, and the through-time profile checked against autograd."""

import numpy as np
import pytest
import torch
from torch import nn

from helpers.data import adding_problem, first_symbol_task
from helpers.recurrent import (
    RecurrentConfig,
    build_recurrent,
    recurrent_weights,
    scaled_matrix,
    through_time_profile,
    unroll,
)

CASES = [dict(cell="rnn"), dict(cell="rnn", nonlinearity="relu", init="orthogonal"),
         dict(cell="lstm", forget_bias=1.5), dict(cell="gru", init="spectral",
                                                  spectral_radius=1.3)]


def cell_oracle(net, x, y, loss="mse"):
    """dL/dh_t (and dL/dc_t) with torch's own cells sharing the weights, via retain_grad."""
    c = net.config
    kind = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[c.cell]
    extra = {"nonlinearity": c.nonlinearity} if c.cell == "rnn" else {}
    cell = kind(c.input_size, c.hidden, **extra).to(x.dtype)
    with torch.no_grad():
        for name, p in recurrent_weights(net).items():
            getattr(cell, name).copy_(p)
    h = x.new_zeros(len(x), c.hidden)
    state = (h, h.clone()) if c.cell == "lstm" else h
    hs, cs = [], []
    for t in range(x.shape[1]):
        state = cell(x[:, t], state)
        h = state[0] if c.cell == "lstm" else state
        h.retain_grad()
        hs.append(h)
        if c.cell == "lstm":
            state[1].retain_grad()
            cs.append(state[1])
    out = net.readout(h)
    value = (nn.functional.mse_loss(out, y.reshape(out.shape)) if loss == "mse"
             else nn.functional.cross_entropy(out, y))
    value.backward()
    return ([float(h.grad.norm()) for h in hs], [float(c.grad.norm()) for c in cs],
            float(value.detach()))


@pytest.mark.parametrize("fields", CASES, ids=lambda f: f["cell"] + f.get("nonlinearity", ""))
def test_profile_matches_torch_cells(fields):
    net = build_recurrent(RecurrentConfig(hidden=12, dtype="float64", seed=3, **fields))
    X, y = adding_problem(16, 9, seed=1)
    X, y = X.double(), y.double()
    p = through_time_profile(net, X, y)
    assert all(q.grad is None for q in net.parameters())  # the net's grads are untouched
    h_ref, c_ref, loss = cell_oracle(net, X, y)
    np.testing.assert_allclose(p.h_grad_norm, h_ref, rtol=1e-10)
    assert p.loss == pytest.approx(loss, rel=1e-12)
    if fields["cell"] == "lstm":
        np.testing.assert_allclose(p.c_grad_norm, c_ref, rtol=1e-10)
    else:
        assert p.c_grad_norm is None and p.cell_path_norm is None


def test_unroll_matches_the_fused_module():
    for fields in CASES:
        net = build_recurrent(RecurrentConfig(hidden=7, dtype="float64", **fields))
        X, _ = adding_problem(5, 11, seed=2)
        hs, _, _ = unroll(net, X.double())
        out, _ = net.rnn(X.double())
        torch.testing.assert_close(torch.stack(hs, 1), out, rtol=1e-12, atol=1e-12)


def test_cell_path_is_the_forget_gate_product_by_autograd():
    """dL/dc_t along the cell path only: the same pass with h and the gates detached."""
    net = build_recurrent(RecurrentConfig(cell="lstm", hidden=10, forget_bias=2.0,
                                          dtype="float64", seed=1))
    X, y = adding_problem(8, 12, seed=4)
    X, y = X.double(), y.double()
    p = through_time_profile(net, X, y)
    hs, cs, forget = unroll(net, X)
    g_T = torch.autograd.grad(nn.functional.mse_loss(net.readout(hs[-1]).squeeze(-1), y),
                              cs[-1])[0]
    # A chain c_t = f_t * c_{t-1} + (a constant) with the measured gates: only the cell path.
    c0 = torch.zeros_like(cs[0], requires_grad=True)
    chain, leaves = c0, []
    for f in forget:
        chain = f.detach() * chain + 1.0
        chain.retain_grad()
        leaves.append(chain)
    (chain * g_T).sum().backward()
    np.testing.assert_allclose(p.cell_path_norm, [float(c.grad.norm()) for c in leaves],
                               rtol=1e-10)
    np.testing.assert_allclose(p.cell_path_norm[-1], p.c_grad_norm[-1], rtol=1e-12)
    assert np.all(np.diff(p.cell_path_norm) >= 0)  # gates in (0, 1): it only shrinks back
    assert p.forget_mean.min() > 0.5  # forget bias 2: gates start near sigmoid(2) = 0.88


def test_cross_entropy_profile_on_the_symbol_task():
    cfg = RecurrentConfig(cell="gru", hidden=9, input_size=5, output_size=4, dtype="float64")
    net = build_recurrent(cfg)
    X, y = first_symbol_task(10, 6, symbols=4, seed=0)
    p = through_time_profile(net, X, y)
    h_ref, _, loss = cell_oracle(net, X.double(), y, loss="ce")
    np.testing.assert_allclose(p.h_grad_norm, h_ref, rtol=1e-10)
    assert p.loss == pytest.approx(loss)
    assert "gru" in repr(p) and "T=6" in repr(p)


def test_inits_and_forget_bias():
    for kind in ("spectral", "orthogonal"):
        w = scaled_matrix(40, 1.7, kind, seed=2)
        assert torch.linalg.eigvals(w).abs().max().item() == pytest.approx(1.7, rel=1e-9)
    q = scaled_matrix(30, 0.9, "orthogonal")
    assert torch.linalg.matrix_norm(q, 2).item() == pytest.approx(0.9, rel=1e-9)
    net = build_recurrent(RecurrentConfig(cell="lstm", hidden=6, init="spectral",
                                          spectral_radius=0.5, forget_bias=3.0))
    w = net.rnn.weight_hh_l0.detach().double()
    for k in range(4):  # every gate block has the radius
        assert torch.linalg.eigvals(w[6 * k:6 * (k + 1)]).abs().max() == pytest.approx(0.5,
                                                                                        rel=1e-5)
    total = net.rnn.bias_ih_l0 + net.rnn.bias_hh_l0
    assert torch.allclose(total[6:12], torch.full((6,), 3.0))
    # only the forget gate's biases change (gate order: input, forget, cell, output)
    plain = build_recurrent(RecurrentConfig(cell="lstm", hidden=6, init="spectral",
                                            spectral_radius=0.5))
    for name in ("bias_ih_l0", "bias_hh_l0"):
        got, default = getattr(net.rnn, name), getattr(plain.rnn, name)
        assert torch.equal(got[:6], default[:6]) and torch.equal(got[12:], default[12:])
    assert torch.all(net.rnn.bias_ih_l0[6:12] == 3.0) and torch.all(net.rnn.bias_hh_l0[6:12] == 0)
    a = build_recurrent(RecurrentConfig(seed=5))
    b = build_recurrent(RecurrentConfig(seed=5))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert build_recurrent(RecurrentConfig(dtype="float64")).readout.weight.dtype == torch.float64


def test_forward_shape_and_replace():
    cfg = RecurrentConfig(cell="lstm", hidden=5, input_size=3, output_size=2)
    out = build_recurrent(cfg)(torch.zeros(4, 7, 3))
    assert out.shape == (4, 2)
    assert cfg.replace(hidden=8).hidden == 8
    with pytest.raises(ValueError, match="between"):
        cfg.replace(hidden=0)


@pytest.mark.parametrize("fields, error, message", [
    (dict(cell="transformer"), ValueError,
     "unknown cell 'transformer'; valid choices: rnn, lstm, gru"),
    (dict(nonlinearity="sigmoid"), ValueError,
     "unknown nonlinearity 'sigmoid'; valid choices: tanh, relu"),
    (dict(cell="lstm", nonlinearity="relu"), ValueError,
     "nonlinearity applies to cell 'rnn' only; the lstm has its own gates "
     "(leave nonlinearity='tanh')"),
    (dict(hidden=2.5), TypeError, "hidden must be an int, got 2.5"),
    (dict(hidden=True), TypeError, "hidden must be an int, got True"),
    (dict(hidden=0), ValueError, "hidden must be between 1 and 4096, got 0"),
    (dict(hidden=4097), ValueError, "hidden must be between 1 and 4096, got 4097"),
    (dict(input_size=0), ValueError, "input_size must be between 1 and 1000000, got 0"),
    (dict(input_size=10**6 + 1), ValueError,
     "input_size must be between 1 and 1000000, got 1000001"),
    (dict(output_size=0), ValueError, "output_size must be between 1 and 1000000, got 0"),
    (dict(output_size=10**6 + 1), ValueError,
     "output_size must be between 1 and 1000000, got 1000001"),
    (dict(init="xavier"), ValueError,
     "unknown init 'xavier'; valid choices: default, orthogonal, spectral"),
    (dict(init="spectral"), ValueError, "init='spectral' needs spectral_radius (e.g. 1.0)"),
    (dict(spectral_radius=1.0), ValueError,
     "spectral_radius needs init='orthogonal' or 'spectral'"),
    (dict(init="spectral", spectral_radius=0.0), ValueError,
     "spectral_radius must be in (0, 100], got 0.0"),
    (dict(init="orthogonal", spectral_radius=100.5), ValueError,
     "spectral_radius must be in (0, 100], got 100.5"),
    (dict(forget_bias=1.0), ValueError, "forget_bias applies to cell 'lstm' only, not 'rnn'"),
    (dict(cell="lstm", forget_bias=float("nan")), ValueError,
     "forget_bias must be a finite number, got nan"),
    (dict(cell="lstm", forget_bias=-100.5), ValueError,
     "forget_bias must be between -100 and 100, got -100.5"),
    (dict(cell="lstm", forget_bias=100.5), ValueError,
     "forget_bias must be between -100 and 100, got 100.5"),
    (dict(seed=-1), ValueError, "seed must be between 0 and 4294967295, got -1"),
    (dict(dtype="float16"), ValueError,
     "unknown dtype 'float16'; valid choices: float32, float64"),
])
def test_bad_configs(fields, error, message):
    with pytest.raises(error) as info:
        RecurrentConfig(**fields)
    assert str(info.value) == message


def test_config_bounds_are_inclusive():
    for fields in (dict(hidden=1), dict(hidden=4096), dict(input_size=10**6),
                   dict(output_size=10**6), dict(init="spectral", spectral_radius=100.0),
                   dict(cell="lstm", forget_bias=-100.0), dict(cell="lstm", forget_bias=100.0)):
        RecurrentConfig(**fields)


def test_scaled_matrix_seeding_kinds_and_bounds():
    """Seeded (seed 0 and kind "spectral" by default); "orthogonal" is radius times an
    orthogonal matrix, "spectral" is not orthogonal; n from 1 to 4096, radius in (0, 100]."""
    assert torch.equal(scaled_matrix(6, 0.8), scaled_matrix(6, 0.8, "spectral", seed=0))
    assert not torch.equal(scaled_matrix(6, 0.8, seed=0), scaled_matrix(6, 0.8, seed=1))
    q = scaled_matrix(6, 0.8, "orthogonal", seed=3)
    torch.testing.assert_close(q @ q.T, 0.64 * torch.eye(6, dtype=torch.float64),
                               rtol=1e-12, atol=1e-12)  # measured: off the diagonal ~1e-16
    w = scaled_matrix(6, 0.8, seed=3)
    assert not torch.allclose(w @ w.T, 0.64 * torch.eye(6, dtype=torch.float64), atol=1e-2)
    assert scaled_matrix(1, 0.5).abs().item() == pytest.approx(0.5)
    assert torch.linalg.eigvals(scaled_matrix(3, 100.0)).abs().max() == pytest.approx(100.0)
    for args, message in (((0, 1.0), "n must be between 1 and 4096, got 0"),
                          ((4097, 1.0), "n must be between 1 and 4096, got 4097"),
                          ((4, 0.0), "radius must be in (0, 100], got 0.0"),
                          ((4, 100.5), "radius must be in (0, 100], got 100.5"),
                          ((4, 1.0, "uniform"),
                           "unknown kind 'uniform'; valid choices: spectral, orthogonal")):
        with pytest.raises(ValueError) as info:
            scaled_matrix(*args)
        assert str(info.value) == message


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_gate_block_gets_the_chosen_init(cell):
    """Each of W_hh's gate blocks is its own draw of the chosen kind: orthogonal blocks
    times the radius (1 when none is given), or Gaussian blocks with that spectral radius;
    the seed changes them."""
    h = 5
    blocks = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    eye = torch.eye(h, dtype=torch.float64)

    def gate_blocks(**fields):
        net = build_recurrent(RecurrentConfig(cell=cell, hidden=h, dtype="float64", **fields))
        w = net.rnn.weight_hh_l0.detach()
        return [w[k * h:(k + 1) * h] for k in range(blocks)]

    for b in gate_blocks(init="orthogonal"):
        torch.testing.assert_close(b @ b.T, eye, rtol=1e-12, atol=1e-12)
    for b in gate_blocks(init="orthogonal", spectral_radius=0.5):
        torch.testing.assert_close(b @ b.T, 0.25 * eye, rtol=1e-12, atol=1e-12)
    spectral = gate_blocks(init="spectral", spectral_radius=0.5)
    for b in spectral:
        assert torch.linalg.eigvals(b).abs().max().item() == pytest.approx(0.5, rel=1e-9)
        assert not torch.allclose(b @ b.T, 0.25 * eye, atol=1e-3)
    assert all(not torch.equal(a, b) for i, a in enumerate(spectral) for b in spectral[i + 1:])
    other = gate_blocks(init="spectral", spectral_radius=0.5, seed=1)
    assert all(not torch.equal(a, b) for a, b in zip(spectral, other, strict=True))


def test_profile_messages_loss_names_and_repr():
    """The errors a lesson cell can meet, word for word; the loss named explicitly equals
    the one chosen by the targets' dtype; the repr names the cell and its nonlinearity."""
    net = build_recurrent(RecurrentConfig(hidden=4, dtype="float64"))
    X, y = adding_problem(4, 5)
    for args, message in (
            ((X[:, :0], y), "x must be a tensor of shape (batch, T, input_size) with T >= 1, "
                            "got torch.Size([4, 0, 2])"),
            (([[1.0]], y), "x must be a tensor of shape (batch, T, input_size) with T >= 1, "
                           "got list"),
            ((X, y[:2]), "y must be a tensor with one target per sequence of x"),
            ((X, y, "hinge"), "unknown loss 'hinge'; valid choices: auto, cross_entropy, mse")):
        with pytest.raises(ValueError) as info:
            through_time_profile(net, *args)
        assert str(info.value) == message
    auto, mse = through_time_profile(net, X, y), through_time_profile(net, X, y, loss="mse")
    np.testing.assert_array_equal(auto.h_grad_norm, mse.h_grad_norm)
    labels = (y > y.median()).long()
    classes = build_recurrent(RecurrentConfig(hidden=4, output_size=2, dtype="float64"))
    ce = through_time_profile(classes, X, labels, loss="cross_entropy")
    with torch.no_grad():
        want_mse = nn.functional.mse_loss(net(X.double()).squeeze(-1), y.double())
        want_ce = nn.functional.cross_entropy(classes(X.double()), labels)
    assert auto.loss == mse.loss == pytest.approx(float(want_mse), rel=1e-12)
    assert ce.loss == pytest.approx(float(want_ce), rel=1e-12)
    assert repr(auto).startswith("ThroughTimeProfile(rnn (tanh), hidden 4, T=5, loss ")
    relu = build_recurrent(RecurrentConfig(nonlinearity="relu", hidden=3))
    assert repr(through_time_profile(relu, X, y)).startswith("ThroughTimeProfile(rnn (relu), ")
    lstm = build_recurrent(RecurrentConfig(cell="lstm", hidden=3))
    assert repr(through_time_profile(lstm, X, y)).startswith("ThroughTimeProfile(lstm, ")


def test_bad_inputs():
    net = build_recurrent(RecurrentConfig())
    X, y = adding_problem(4, 5)
    for call, error, message in (
            (lambda: build_recurrent({"cell": "rnn"}), TypeError,
             "config must be a RecurrentConfig, got dict"),
            (lambda: through_time_profile(nn.Linear(2, 2), X, y), TypeError,
             "net must be a RecurrentNet (from build_recurrent), got Linear"),
            (lambda: through_time_profile(net, X[0], y), ValueError,
             "x must be a tensor of shape (batch, T, input_size) with T >= 1, got "
             "torch.Size([5, 2])"),
            (lambda: through_time_profile(net, torch.zeros(4, 5, 3), y), ValueError,
             "x has 3 features per step; the net expects 2"),
            (lambda: recurrent_weights(nn.RNN(2, 3)), TypeError,
             "net must be a RecurrentNet (from build_recurrent), got RNN")):
        with pytest.raises(error) as info:
            call()
        assert str(info.value) == message

