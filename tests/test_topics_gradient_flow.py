"""helpers.topics.gradient_flow and the one model cache and layer walk it relies on."""

import numpy as np
import pytest
import torch

from helpers.capture import gradient_profile
from helpers.data import lesson_data, spirals
from helpers.model_cache import ModelCache
from helpers.models import MLPConfig, build_mlp, trace_layers
from helpers.topics.gradient_flow import config_title, measure_config
from helpers.topics.initialization import variance_profile
from helpers.widgets.gradient_flow import make_gradient_flow_explorer


def test_lesson_data_is_the_explorers_default():
    X, y = lesson_data()
    w = make_gradient_flow_explorer(depth=2, width=8)
    assert torch.equal(w.X, X) and torch.equal(w.y, y)
    X2, y2 = spirals(256, noise=0.1, seed=0)
    assert torch.equal(X, X2) and torch.equal(y, y2)


def test_measure_config_equals_a_fresh_build_on_the_lesson_data():
    config = MLPConfig(depth=4, width=8, activation="tanh", dtype="float64", seed=3)
    cache = ModelCache(maxsize=2)
    got = measure_config(config, cache=cache)
    want = gradient_profile(build_mlp(config), *lesson_data())
    np.testing.assert_allclose(got.weight_grad_norm, want.weight_grad_norm, rtol=1e-12)
    again = measure_config(config.replace(seed=4), cache=cache)  # re-initialised in place
    fresh = gradient_profile(build_mlp(config.replace(seed=4)), *lesson_data())
    np.testing.assert_allclose(again.weight_grad_norm, fresh.weight_grad_norm, rtol=1e-12)
    assert len(cache) == 1
    assert "Tanh, depth 4, width 8" in config_title(config)


def test_model_cache_keys_on_norm_position():
    cache = ModelCache(maxsize=4)
    inside = MLPConfig(depth=3, width=6, in_features=6, residual=True, norm="layer")
    pre = inside.replace(norm_position="pre")
    assert cache(inside) is not cache(pre)
    assert cache(pre).blocks[1].position == "pre"
    assert cache(inside).blocks[1].position == "inside"
    assert len(cache) == 2


def _same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                  b.state_dict().values(), strict=True))


@pytest.mark.parametrize("norm", [None, "batch"])
def test_model_cache_gives_a_fresh_builds_weights_after_any_write(norm, monkeypatch):
    """Asked again for the same config, the cache skips re-initialising only while no
    parameter or buffer was written: after an optimiser step, an in-place edit, a swapped
    ``.data`` or a BatchNorm forward in train mode, it returns ``build_mlp``'s weights."""
    import helpers.model_cache as mc

    inits = []
    real = mc.init_weights
    monkeypatch.setattr(mc, "init_weights", lambda m, c: inits.append(c) or real(m, c))
    config = MLPConfig(depth=3, width=6, in_features=2, norm=norm, dtype="float64", seed=5)
    fresh = build_mlp(config)
    cache = ModelCache(maxsize=2)
    model = cache(config)
    X, y = lesson_data(32)
    gradient_profile(model, X, y)  # measures; leaves the weights as they were
    assert cache(config) is model and _same_weights(model, fresh)
    # BatchNorm's buffers are written back after the pass (so it re-initialises); a plain
    # network is handed back untouched
    assert len(inits) == (1 if norm == "batch" else 0)
    inits.clear()
    assert cache(config) is model and inits == []
    writes = [
        lambda m: torch.optim.SGD(m.parameters(), lr=0.1).step() if any(
            p.grad is not None for p in m.parameters()) else m.output.bias.add_(1.0),
        lambda m: m.blocks[0].linear.weight.mul_(2.0),
        lambda m: setattr(m.output.weight, "data", torch.zeros_like(m.output.weight)),
    ]
    if norm == "batch":
        writes.append(lambda m: m.train()(X.double()))  # running statistics change
    for write in writes:
        with torch.no_grad():
            write(model)
        assert not _same_weights(model, fresh)
        before = len(inits)
        assert cache(config) is model and len(inits) == before + 1
        assert _same_weights(model, fresh)
    assert cache(config.replace(seed=6)) is model and len(inits) == len(writes) + 1
    assert _same_weights(model, build_mlp(config.replace(seed=6)))


def test_trace_layers_matches_forward_hooks():
    config = MLPConfig(depth=3, width=5, in_features=5, residual=True, norm="layer",
                       norm_position="post", dtype="float64", seed=1)
    model = build_mlp(config)
    x = torch.randn(7, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    seen = []
    hooks = [b.linear.register_forward_hook(lambda m, i, o: seen.append(o)) for b in model.blocks]
    try:
        out = model(x)
    finally:
        for h in hooks:
            h.remove()
    trace = trace_layers(model, x)
    for a, b in zip(trace.preact, seen, strict=True):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(trace.output, out)
    assert len(trace.block_out) == len(trace.act_out) == 3


@pytest.mark.parametrize("position", ["inside", "pre", "post"])
def test_variance_profile_measures_the_configured_norm_position(position):
    """The measured pre-activation gradients are those of the network the config builds,
    whatever its norm position (autograd through the model's own forward is the oracle)."""
    config = MLPConfig(depth=4, width=6, in_features=6, out_features=3, residual=True,
                       norm="layer", norm_position=position, init="he", activation="relu",
                       dtype="float64", seed=2)
    seed = 5
    got = variance_profile(config, batch=16, seed=seed)
    model = build_mlp(config)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(16, 6, generator=gen, dtype=torch.float64)
    hs = []
    hooks = [b.linear.register_forward_hook(lambda m, i, o: hs.append(o)) for b in model.blocks]
    try:
        out = model(x)
    finally:
        for h in hooks:
            h.remove()
    v = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed + 1),
                    dtype=out.dtype)
    grads = torch.autograd.grad((out * v).sum(), hs)
    want_g = np.array([float((g * g).sum() / 16) for g in grads])
    want_h = np.array([float((h.detach() ** 2).mean()) for h in hs])
    np.testing.assert_allclose(got.grad_sq_norm, want_g, rtol=1e-10)
    np.testing.assert_allclose(got.preact_second_moment, want_h, rtol=1e-10)


def test_variance_profile_tells_norm_positions_apart():
    base = MLPConfig(depth=4, width=6, in_features=6, residual=True, norm="layer",
                     dtype="float64", seed=2)
    inside = variance_profile(base, batch=16)
    pre = variance_profile(base.replace(norm_position="pre"), batch=16)
    assert not np.allclose(inside.grad_sq_norm, pre.grad_sq_norm)


def test_flow_summary_reads_the_first_and_last_hidden_layers():
    from types import SimpleNamespace

    from helpers.topics.gradient_flow import flow_summary

    p = SimpleNamespace(weight_grad_norm=np.array([2.0, 5.0, 4.0, 9.0]),
                        activation_grad_norm=np.array([1e-6, 1.0, 1e-2, 3.0]))
    s = flow_summary(p)
    assert (s.weight_ratio, s.largest_weight_grad) == (0.5, 9.0)
    assert s.activation_ratio == pytest.approx(1e-4, rel=1e-12)
    assert s.activation_orders == pytest.approx(-4.0)
    p.weight_grad_norm = np.array([0.0, np.inf, 1.0, 1.0])
    p.activation_grad_norm = np.array([0.0, 1.0, 0.0, 1.0])
    with np.errstate(all="raise"):  # 0 / 0 is NaN here, quietly
        s = flow_summary(p)
    assert s.weight_ratio == 0.0 and s.largest_weight_grad == np.inf
    assert np.isnan(s.activation_ratio) and np.isnan(s.activation_orders)
    p.weight_grad_norm = np.array([1.0, 2.0, 0.0, 1.0])  # a last hidden layer with no gradient
    with np.errstate(all="raise"):  # x / 0 is infinite here, quietly
        assert flow_summary(p).weight_ratio == np.inf
    # float32 norms are divided in float64: no overflow to inf, no subnormal rounding
    p.weight_grad_norm = np.array([1e30, 1.0, 1e-20, 1.0], dtype=np.float32)
    p.activation_grad_norm = np.array([1e-30, 1.0, 1e20, 1.0], dtype=np.float32)
    s = flow_summary(p)
    assert s.weight_ratio == float(np.float64(np.float32(1e30)) / np.float64(np.float32(1e-20)))
    assert s.activation_ratio == float(np.float64(np.float32(1e-30)) / np.float64(np.float32(1e20)))
    # a network with one weight layer: first and last are the same layer
    p.weight_grad_norm, p.activation_grad_norm = np.array([3.0]), np.array([2.0])
    s = flow_summary(p)
    assert (s.weight_ratio, s.activation_ratio, s.largest_weight_grad) == (1.0, 1.0, 3.0)


def test_example_similarity_matches_numpy_and_rises_with_depth_under_he():
    from helpers.topics.gradient_flow import example_similarity

    X, _ = spirals(16, seed=2)
    config = MLPConfig(depth=3, width=8, activation="tanh", dtype="float64", seed=1)
    got = example_similarity(config, X)
    h = trace_layers(build_mlp(config), X.double()).block_out
    for k, layer in enumerate(h):
        a = layer.detach().numpy()
        u = a / np.linalg.norm(a, axis=1, keepdims=True)
        cos = u @ u.T
        assert got[k] == pytest.approx((cos.sum() - np.trace(cos)) / (16 * 15), rel=1e-12)
    # the lesson's claim: with zero biases, ReLU + He makes examples ever more alike with
    # depth, so a unit that is off for one example is off for all of them (dead units)
    he = MLPConfig(depth=20, width=64, activation="relu", init="he", dtype="float64")
    s = example_similarity(he)
    assert s[0] < 0.45 and s[-1] > 0.97
    dead = measure_config(he).dead_fraction[:-1]
    assert dead.max() == pytest.approx(0.406, abs=1e-3) and dead[0] == 0.0
    assert dead[10:].mean() > 2 * dead[1:5].mean()


def test_underflow_trace_float32_zeros_come_from_the_backward_signal():
    from helpers.topics.gradient_flow import underflow_trace

    config = MLPConfig(depth=50, width=64, activation="sigmoid", dtype="float64")
    f64, f32 = underflow_trace(config), underflow_trace(config.replace(dtype="float32"))
    assert all(v.shape == (4,) for v in (*f64.values(), *f32.values()))  # 4 layers by default
    sub, tiny = float(np.finfo(np.float32).smallest_subnormal), float(np.finfo(np.float32).tiny)
    # layer 1's float64 weight-gradient entries would fit as float32 subnormals ...
    assert sub < f64["dW_median"][0] < tiny
    assert f64["dW_median"][0] == pytest.approx(2.3e-45, rel=0.02)
    # ... but the backward signal delta_1 they are made of is below half the smallest one
    assert f64["delta_median"][0] < sub / 2
    assert f32["delta_zero"][0] == 1.0 and f32["dW_zero"][0] == 1.0
    assert 0 < f32["dW_zero"][1] < 1 and (f64["dW_zero"] == 0).all()
    # autograd check of one entry: dL/dW_1 = delta_1^T x in float64
    X, y = lesson_data()
    model = build_mlp(config)
    t = trace_layers(model, X.double())
    d1, w1 = torch.autograd.grad(torch.nn.functional.cross_entropy(t.output, y),
                                 [t.preact[0], model.blocks[0].linear.weight])
    torch.testing.assert_close(w1, d1.T @ X.double(), rtol=1e-10, atol=0)


def test_tanh_activation_gradient_ratio_crosses_1_near_one_over_sqrt_width():
    from helpers.topics.gradient_flow import flow_summary

    def ratio(std):
        config = MLPConfig(depth=20, width=64, activation="tanh", init="normal",
                           weight_std=std, dtype="float64")
        return flow_summary(measure_config(config)).activation_ratio

    assert ratio(0.01) < 1e-20 and ratio(0.1259) < 1.0 < ratio(0.13)  # 1/sqrt(64) = 0.125
    assert ratio(0.1585) > 5.0


def test_config_title_names_every_setting():
    c = MLPConfig(depth=5, width=16, activation="tanh", init="xavier")
    assert config_title(c) == "Tanh, depth 5, width 16, init xavier, norm none, float32"
    r = c.replace(norm="layer", residual=True, dtype="float64")
    assert config_title(r) == "Tanh, depth 5, width 16, init xavier, norm layer, residual, float64"


def test_inputs_without_labels_are_refused_not_replaced_by_the_lesson_data():
    from helpers.topics.gradient_flow import underflow_trace

    X, _ = lesson_data()
    c = MLPConfig(depth=3, width=8)
    with pytest.raises(ValueError, match="^y is None: give targets y"):
        measure_config(c, X)
    with pytest.raises(TypeError, match="^config must be an MLPConfig, got dict$"):
        measure_config({"depth": 3})
    for args in ((X, None), (None, torch.zeros(4, dtype=torch.long))):
        with pytest.raises(ValueError, match="^give both X and y"):
            underflow_trace(c, *args)


def test_model_cache_keeps_the_two_most_recently_used_by_default():
    """The default holds two architectures and drops the least recently used one; a bound
    of one is allowed, below one is refused by name."""
    cache = ModelCache()
    a, b, c = (MLPConfig(depth=2, width=w) for w in (3, 4, 5))
    model_a = cache(a)
    old_b = cache(b)
    assert cache(a) is model_a  # a is now the most recent
    cache(c)  # drops b, not a
    assert len(cache) == 2 and cache(a) is model_a
    model_b = cache(b)  # rebuilt: a new object
    assert model_b is not old_b and model_b.blocks[0].linear.out_features == 4
    assert len(cache) == 2
    one = ModelCache(maxsize=1)
    one(a)
    one(b)
    assert len(one) == 1
    with pytest.raises(ValueError) as info:
        ModelCache(maxsize=0)
    assert str(info.value) == "maxsize must be an int >= 1, got 0"
