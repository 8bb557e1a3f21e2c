"""Tests for helpers.models: MLPConfig validation, build_mlp, init_weights, residual blocks."""

import math

import numpy as np
import pytest
import torch
from oracles import params_equal
from torch import nn

from helpers.activations import ACTIVATIONS
from helpers.models import (
    INITS,
    MLP,
    Block,
    MLPConfig,
    build_mlp,
    init_weights,
    layer_names,
    linear_layers,
    trace_layers,
)


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("norm", [None, "batch", "layer"])
def test_same_config_same_weights_different_seed_different(init, norm):
    cfg = MLPConfig(depth=3, width=8, init=init, norm=norm, sigma_b2=0.1)
    assert params_equal(build_mlp(cfg), build_mlp(cfg))
    a, b = build_mlp(cfg), build_mlp(cfg.replace(seed=1))
    for (_, la), (_, lb) in zip(linear_layers(a), linear_layers(b)):
        assert not torch.equal(la.weight, lb.weight)


@pytest.mark.parametrize("init", INITS)
def test_init_weights_in_place_equals_build_mlp(init):
    cfg = MLPConfig(depth=3, width=8, init=init, norm="batch", sigma_b2=0.2, seed=3)
    model = build_mlp(cfg.replace(seed=0))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(0.5)
    model(torch.randn(16, 2))  # train-mode forward moves BatchNorm's running statistics
    out = init_weights(model, cfg)
    assert out is model
    assert params_equal(model, build_mlp(cfg))  # includes BatchNorm buffers


@pytest.mark.parametrize("init", INITS)
def test_float32_weights_are_the_float64_weights_cast(init):
    # every draw is made in float64 from the seed: the dtype never changes the network
    cfg = MLPConfig(depth=3, width=8, init=init, norm="layer", sigma_b2=0.2, seed=4,
                    dtype="float64")
    m64, m32 = build_mlp(cfg), build_mlp(cfg.replace(dtype="float32"))
    for p64, p32 in zip(m64.parameters(), m32.parameters(), strict=True):
        assert p32.dtype == torch.float32 and p64.dtype == torch.float64
        assert torch.equal(p32, p64.to(torch.float32))


def test_init_weights_uses_models_own_config_by_default():
    cfg = MLPConfig(depth=2, width=8, init="he", seed=5)
    model = build_mlp(cfg)
    with torch.no_grad():
        model.output.weight.zero_()
    assert params_equal(init_weights(model), build_mlp(cfg))


WIDE = dict(depth=2, width=1024, in_features=128, activation="tanh")


def hidden_weights(cfg):
    model = build_mlp(cfg)
    return [m for _, m in linear_layers(model)][:-1]  # (1024, 128), (1024, 1024)


@pytest.mark.parametrize(
    "init, extra, variance",
    [
        ("xavier", {}, lambda fi, fo: 2.0 / (fi + fo)),
        ("he", {}, lambda fi, fo: 2.0 / fi),
        ("normal", {"weight_std": 0.3}, lambda fi, fo: 0.09),
        ("mean_field", {"sigma_w2": 1.7, "sigma_b2": 0.3}, lambda fi, fo: 1.7 / fi),
        ("default", {}, lambda fi, fo: 1.0 / (3.0 * fi)),  # U(+-1/sqrt(fan_in))
    ],
)
def test_empirical_weight_variance_matches_formula(init, extra, variance):
    for lin in hidden_weights(MLPConfig(init=init, **WIDE, **extra)):
        w = lin.weight.detach().double()
        fan_out, fan_in = w.shape
        # >= 131k entries: the sample variance is within ~0.4% (1 sd) of the true one.
        assert w.var().item() == pytest.approx(variance(fan_in, fan_out), rel=0.03)
        assert abs(w.mean().item()) < 0.01 * math.sqrt(variance(fan_in, fan_out))


def test_he_init_for_leaky_relu_uses_its_gain():
    # Same generator draws, so the leaky weights are the ReLU weights scaled by 1/sqrt(1+a^2).
    cfg = MLPConfig(depth=2, width=64, activation="relu", init="he")
    relu, leaky = build_mlp(cfg), build_mlp(cfg.replace(activation="leaky_relu"))
    for (_, a), (_, b) in zip(linear_layers(relu), linear_layers(leaky)):
        ratio = b.weight.double() / a.weight.double()
        np.testing.assert_allclose(ratio.detach().numpy(), 1.0 / math.sqrt(1.0 + 0.01**2),
                                   rtol=1e-6)
    w = [m for _, m in linear_layers(build_mlp(MLPConfig(init="he", **{
        **WIDE, "activation": "leaky_relu"})))][1].weight.detach().double()
    assert w.var().item() == pytest.approx(2.0 / (1 + 0.01**2) / 1024, rel=0.03)


def test_biases_zero_except_default_and_mean_field():
    for init in ("xavier", "he", "orthogonal", "normal"):
        for _, lin in linear_layers(build_mlp(MLPConfig(depth=2, width=8, init=init))):
            assert torch.count_nonzero(lin.bias) == 0
    assert all(torch.count_nonzero(m.bias) == 0 for _, m in linear_layers(
        build_mlp(MLPConfig(depth=2, width=8, init="mean_field", sigma_b2=0.0))))
    for _, lin in linear_layers(build_mlp(MLPConfig(depth=2, width=8, init="default"))):
        bound = 1.0 / math.sqrt(lin.weight.shape[1])
        assert lin.bias.abs().max() <= bound and lin.weight.abs().max() <= bound


def test_mean_field_bias_variance():
    cfg = MLPConfig(depth=4, width=1024, in_features=8, init="mean_field", sigma_w2=1.5,
                    sigma_b2=0.3)
    b = torch.cat([m.bias for _, m in linear_layers(build_mlp(cfg))][:-1]).double()
    # 4096 biases: the sample variance has a relative sd of sqrt(2/4096) ~ 2.2%.
    assert b.var().item() == pytest.approx(0.3, rel=0.1)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_orthogonal_init_scaled_by_gain(activation):
    cfg = MLPConfig(depth=2, width=128, in_features=16, activation=activation, init="orthogonal")
    gain2 = ACTIVATIONS[activation].gain ** 2
    first, square, _ = [m.weight.detach().double() for _, m in linear_layers(build_mlp(cfg))]
    np.testing.assert_allclose((square @ square.T).numpy(), gain2 * np.eye(128), atol=1e-5)
    np.testing.assert_allclose((first.T @ first).numpy(), gain2 * np.eye(16), atol=1e-5)


def test_norm_layers_start_as_identity():
    for norm, cls in (("batch", nn.BatchNorm1d), ("layer", nn.LayerNorm)):
        model = build_mlp(MLPConfig(depth=2, width=8, norm=norm))
        norms = [m for m in model.modules() if isinstance(m, cls)]
        assert len(norms) == 2
        for m in norms:
            assert torch.all(m.weight == 1) and torch.all(m.bias == 0)
    model = build_mlp(MLPConfig(depth=2, width=8))
    assert all(isinstance(b.norm, nn.Identity) for b in model.blocks)


@pytest.mark.parametrize("depth", [1, 2, 7])
def test_number_and_names_of_linear_layers(depth):
    cfg = MLPConfig(depth=depth, width=5, in_features=3, out_features=4)
    model = build_mlp(cfg)
    lins = linear_layers(model)
    assert len(lins) == depth + 1
    assert [n for n, _ in lins] == [f"blocks.{i}.linear" for i in range(depth)] + ["output"]
    assert layer_names(cfg) == [f"hidden {i + 1}" for i in range(depth)] + ["output"]
    assert lins[0][1].weight.shape == (5, 3) and lins[-1][1].weight.shape == (4, 5)
    assert model(torch.randn(6, 3)).shape == (6, 4)


def test_residual_blocks_add_input_where_widths_match():
    cfg = MLPConfig(depth=3, width=6, in_features=2, residual=True, norm="layer")
    model = build_mlp(cfg)
    assert [b.residual for b in model.blocks] == [False, True, True]
    assert "residual=True" in repr(model) and "residual=False" in repr(model)
    x = torch.randn(4, 2)
    h = x
    with torch.no_grad():
        for block in model.blocks:
            branch = block.act(block.norm(block.linear(h)))
            h = h + branch if block.residual else branch
        np.testing.assert_array_equal(model(x).numpy(), model.output(h).numpy())
    same = build_mlp(cfg.replace(in_features=6))
    assert [b.residual for b in same.blocks] == [True, True, True]
    plain = build_mlp(cfg.replace(residual=False))
    assert not any(b.residual for b in plain.blocks)


def test_block_without_residual_is_plain_composition():
    block = Block(3, 3, "tanh", None, residual=False)
    x = torch.randn(2, 3)
    with torch.no_grad():
        assert torch.equal(block(x), torch.tanh(block.linear(x)))


def test_float64_option():
    model = build_mlp(MLPConfig(depth=2, width=4, dtype="float64", norm="batch"))
    assert all(p.dtype == torch.float64 for p in model.parameters())
    assert model(torch.randn(3, 2, dtype=torch.float64)).dtype == torch.float64
    assert isinstance(model, MLP) and model.config.dtype == "float64"


def test_replace_and_repr():
    cfg = MLPConfig()
    new = cfg.replace(depth=3, activation="relu")
    assert (new.depth, new.activation, new.width) == (3, "relu", cfg.width)
    assert "depth=3" in repr(new)
    with pytest.raises(ValueError, match="depth must be between 1 and 1000"):
        cfg.replace(depth=0)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"depth": 0}, ValueError, "depth must be between 1 and 1000, got 0"),
        ({"depth": 1001}, ValueError, "depth must be between 1 and 1000"),
        ({"width": 0}, ValueError, "width must be between 1 and 8192"),
        ({"in_features": 0}, ValueError, "in_features must be between 1"),
        ({"out_features": 0}, ValueError, "out_features must be between 1"),
        ({"depth": 2.5}, TypeError, "depth must be an int, got 2.5"),
        ({"depth": True}, TypeError, "depth must be an int"),
        ({"width": "64"}, TypeError, "width must be an int"),
        ({"seed": None}, TypeError, "seed must be an int"),
        ({"activation": "swish"}, ValueError, "valid choices: sigmoid, tanh, relu"),
        ({"activation": None}, TypeError, "activation must be a string"),
        ({"norm": "group"}, ValueError, "valid choices: None, 'batch', 'layer'"),
        ({"init": "kaiming"}, ValueError, "valid choices: default, xavier, he, orthogonal"),
        ({"dtype": "float16"}, ValueError, "valid choices: float32, float64"),
        ({"weight_std": -0.1}, ValueError, "weight_std must be finite and >= 0"),
        ({"weight_std": float("nan")}, ValueError, "weight_std must be finite and >= 0"),
        ({"sigma_w2": float("inf")}, ValueError, "sigma_w2 must be finite and >= 0"),
        ({"sigma_b2": -1.0}, ValueError, "sigma_b2 must be finite and >= 0"),
        ({"weight_std": "0.1"}, TypeError, "weight_std must be a number"),
        ({"residual": 1}, TypeError, "residual must be True or False"),
    ],
)
def test_config_rejects_bad_values(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        MLPConfig(**kwargs)


def test_build_mlp_rejects_non_config():
    with pytest.raises(TypeError, match="build_mlp expects an MLPConfig, got dict"):
        build_mlp({"depth": 3})


@pytest.mark.parametrize("position", ["inside", "pre", "post"])
def test_norm_position_of_residual_blocks(position):
    cfg = MLPConfig(depth=3, width=6, in_features=2, residual=True, norm="layer",
                    norm_position=position, init="he", activation="relu")
    model = build_mlp(cfg)
    first, second = model.blocks[0], model.blocks[1]
    assert first.position == "inside" and not first.residual  # 2 -> 6: no skip possible
    assert second.position == position and second.residual
    assert f"norm_position={position!r}" in repr(model)
    x = torch.randn(5, 6)
    with torch.no_grad():
        expected = {
            "inside": x + second.act(second.norm(second.linear(x))),
            "pre": x + second.linear(second.act(second.norm(x))),
            "post": second.norm(x + second.act(second.linear(x))),
        }[position]
        assert torch.equal(second(x), expected)
    plain = build_mlp(cfg.replace(residual=False))
    assert all(b.position == "inside" for b in plain.blocks)


def test_unknown_norm_position():
    with pytest.raises(ValueError, match="unknown norm_position 'middle'; valid choices: inside, "
                                         "pre, post"):
        MLPConfig(norm_position="middle")


def test_preserved_buffers_restores_running_stats_after_backward():
    import torch

    from helpers.models import MLPConfig, build_mlp, preserved_buffers

    model = build_mlp(MLPConfig(depth=3, width=8, norm="batch", seed=0))
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    with preserved_buffers(model):
        model.train()
        out = model(torch.randn(16, 2))
        changed = any(not torch.equal(v, model.state_dict()[k]) for k, v in before.items())
        out.sum().backward()  # must not fail: buffers are written back only on exit
    assert changed, "a train-mode forward should move the running statistics"
    for k, v in before.items():
        assert torch.equal(model.state_dict()[k], v), k
    with preserved_buffers([model.blocks[0]]):
        model(torch.randn(16, 2))
    assert torch.equal(model.blocks[0].norm.running_mean, before["blocks.0.norm.running_mean"])
    assert not torch.equal(model.blocks[1].norm.running_mean, before["blocks.1.norm.running_mean"])


def _message(kwargs):
    with pytest.raises((ValueError, TypeError)) as info:
        MLPConfig(**kwargs)
    return str(info.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"depth": 0}, "depth must be between 1 and 1000, got 0"),
    ({"width": 8193}, "width must be between 1 and 8192, got 8193"),
    ({"in_features": 10**6 + 1}, "in_features must be between 1 and 1000000, got 1000001"),
    ({"out_features": 10**6 + 1}, "out_features must be between 1 and 1000000, got 1000001"),
    ({"seed": -1}, "seed must be between 0 and 4294967295, got -1"),
    ({"norm": "group"}, "unknown norm 'group'; valid choices: None, 'batch', 'layer'"),
    ({"init": "kaiming"},
     "unknown init 'kaiming'; valid choices: default, xavier, he, orthogonal, normal, mean_field"),
    ({"dtype": "float16"}, "unknown dtype 'float16'; valid choices: float32, float64"),
])
def test_config_messages_word_for_word(kwargs, message):
    """Each message names its own field and the whole valid range."""
    assert _message(kwargs) == message


def test_feature_counts_up_to_a_million_are_accepted():
    assert MLPConfig(depth=1, width=1, in_features=10**6).in_features == 10**6
    assert MLPConfig(depth=1, width=1, out_features=10**6).out_features == 10**6


def test_config_stores_the_checked_seed_as_an_int():
    cfg = MLPConfig(seed=np.int64(3))
    assert cfg.seed == 3 and type(cfg.seed) is int


def _hand_count(depth, width, n_in, n_out, norm):
    """Weights and biases layer by layer; a norm adds a scale and a shift per hidden unit."""
    sizes = [n_in] + [width] * depth + [n_out]
    linear = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return linear + (2 * width * depth if norm else 0)


@pytest.mark.parametrize("norm", [None, "batch", "layer"])
@pytest.mark.parametrize("depth, width, n_in, n_out", [(1, 3, 2, 2), (4, 5, 3, 7), (7, 2, 9, 1)])
def test_parameter_count_counts_every_parameter(norm, depth, width, n_in, n_out):
    cfg = MLPConfig(depth=depth, width=width, in_features=n_in, out_features=n_out, norm=norm)
    built = sum(p.numel() for p in build_mlp(cfg).parameters())
    assert cfg.parameter_count() == built == _hand_count(depth, width, n_in, n_out, norm)


def test_memory_guard_refuses_more_than_4_gib_and_counts_bytes_per_dtype():
    # 2**30 parameters exactly: 4 GiB in float32 is allowed ("more than 4 GiB" is refused) ...
    edge = {"depth": 255, "width": 2048, "in_features": 1792, "out_features": 2048}
    assert MLPConfig(**edge).parameter_count() == 2**30
    assert MLPConfig(**edge).dtype == "float32"
    tail = (" for its weights alone (more than 4 GiB): reduce depth, width, in_features or "
            "out_features")
    # ... one more input feature (2048 more weights) is not
    assert _message({**edge, "in_features": 1793}) == "this network would need 4.0 GiB" + tail
    # float64 takes 8 bytes a parameter: 738,328,578 parameters are 2.75 GiB, or 5.5 GiB
    assert MLPConfig(depth=12, width=8192).parameter_count() == 738_328_578
    assert _message({"depth": 12, "width": 8192, "dtype": "float64"}) == (
        "this network would need 5.5 GiB" + tail)
    assert _message({"depth": 1000, "width": 8192}) == "this network would need 249.8 GiB" + tail


def test_block_is_inside_by_default():
    block = Block(4, 4, "tanh", None, residual=True)
    assert block.residual and block.position == "inside"
    assert block.extra_repr() == "residual=True, norm_position='inside'"


@pytest.mark.parametrize("position", ["inside", "pre", "post"])
def test_trace_layers_keeps_each_layers_values(position):
    """trace_layers against the blocks' layers applied by hand, for every norm position."""
    cfg = MLPConfig(depth=3, width=4, in_features=4, out_features=3, norm="layer",
                    residual=True, norm_position=position, activation="tanh", dtype="float64")
    model = build_mlp(cfg)
    x = torch.randn(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    t = trace_layers(model, x)
    h = x
    for i, block in enumerate(model.blocks):
        lin, norm, act = block.linear, block.norm, block.act
        if position == "pre":
            z = norm(h)
            a = act(z)
            pre = lin(a)
            out = h + pre
        elif position == "post":
            pre = lin(h)
            z, a = pre, act(pre)
            out = norm(h + a)
        else:
            pre = lin(h)
            z = norm(pre)
            a = act(z)
            out = h + a
        for got, want in ((t.preact[i], pre), (t.act_in[i], z), (t.act_out[i], a),
                          (t.block_out[i], out)):
            torch.testing.assert_close(got, want, rtol=0, atol=0)
        h = out
    torch.testing.assert_close(t.output, model.output(h), rtol=0, atol=0)
    torch.testing.assert_close(t.output, model(x), rtol=0, atol=0)
    assert [len(t.preact), len(t.act_in), len(t.act_out), len(t.block_out)] == [3] * 4
    assert repr(t) == "LayerTrace(depth=3, output (5, 3))"
    # the values stay in the autograd graph
    t.output.sum().backward()
    assert model.blocks[0].linear.weight.grad is not None


def test_trace_layers_refuses_other_models():
    with pytest.raises(TypeError) as info:
        trace_layers(nn.Sequential(nn.Linear(2, 2)), torch.zeros(1, 2))
    assert str(info.value) == "expected an MLP made by build_mlp, got Sequential"
