"""helpers.topics.residual: block-output gradients checked against autograd and gradient_profile."""

import math

import numpy as np
import pytest
import torch
from oracles import scalar_residual_chain_derivative

from helpers.capture import gradient_profile
from helpers.data import lesson_data
from helpers.models import MLPConfig, build_mlp
from helpers.topics.residual import (
    compare_plain_residual,
    residual_block_reference,
    residual_stack_jacobian_autograd,
    scalar_residual_chain_autograd,
    stream_profile,
)

SMALL = MLPConfig(depth=6, width=8, dtype="float64", seed=3)


def small_data():
    return lesson_data(n=32, seed=1)


def autograd_block_outputs(config, X, y):
    """Independent oracle: retain_grad on every block output, then .backward()."""
    model = build_mlp(config).train()
    outs, h = [], X.to(torch.float64)
    for block in model.blocks:
        h = block(h)
        h.retain_grad()
        outs.append(h)
    loss = torch.nn.functional.cross_entropy(model.output(h), y)
    loss.backward()
    grads = np.array([o.grad.norm().item() for o in outs])
    stds = np.array([o.detach().std(unbiased=False).item() for o in outs])
    wgrads = np.array([m.weight.grad.norm().item() for m in [*[b.linear for b in model.blocks],
                                                            model.output]])
    return grads, stds, wgrads, loss.item()


@pytest.mark.parametrize("kw", [
    dict(activation="tanh"), dict(activation="relu", init="he", residual=True),
    dict(activation="sigmoid", residual=True, norm="layer", norm_position="pre"),
    dict(activation="relu", residual=True, norm="batch", norm_position="post"),
    dict(activation="gelu", residual=True, norm="batch", norm_position="inside"),
])
def test_stream_profile_matches_autograd(kw):
    X, y = small_data()
    config = SMALL.replace(**kw)
    p = stream_profile(config, X, y)
    grads, stds, wgrads, loss = autograd_block_outputs(config, X, y)
    np.testing.assert_allclose(p.grad_norm, grads, rtol=1e-10)
    np.testing.assert_allclose(p.stream_std, stds, rtol=1e-10)
    np.testing.assert_allclose(p.weight_grad_norm, wgrads, rtol=1e-10)
    assert p.loss == pytest.approx(loss, rel=1e-12)
    assert p.grad_norm.shape == (config.depth,) and p.weight_grad_norm.shape == (config.depth + 1,)
    assert p.ratio == pytest.approx(grads[0] / grads[-1])
    assert p.weight_ratio == pytest.approx(wgrads[0] / wgrads[-2])


@pytest.mark.parametrize("kw", [dict(activation="sigmoid"),
                                dict(activation="sigmoid", residual=True),
                                dict(activation="relu", residual=True, norm="layer")])
def test_equals_gradient_profile_where_the_activation_ends_the_block(kw):
    """Plain blocks and "inside" residual blocks: d/dh = d/d(x + h) = d/d(block output)."""
    X, y = small_data()
    config = SMALL.replace(**kw)
    p = stream_profile(config, X, y)
    g = gradient_profile(build_mlp(config), X, y)
    np.testing.assert_allclose(p.grad_norm, g.activation_grad_norm[:-1], rtol=1e-10)
    np.testing.assert_allclose(p.weight_grad_norm, g.weight_grad_norm, rtol=1e-10)


def test_measuring_does_not_change_batchnorm_buffers():
    X, y = small_data()
    config = SMALL.replace(norm="batch", residual=True)
    model = build_mlp(config)
    before = [b.clone() for b in model.buffers()]
    stream_profile(config, X, y, model=model)
    for a, b in zip(before, model.buffers(), strict=True):
        assert torch.equal(a, b)
    assert all(p.grad is None for p in model.parameters())


def test_compare_plain_residual_differs_only_in_skips():
    """Wiring: compare_plain_residual runs stream_profile on the plain and residual configs.

    stream_profile's own oracle is autograd (test_stream_profile_matches_autograd).
    """
    X, y = small_data()
    r = compare_plain_residual(SMALL.replace(activation="sigmoid", residual=True), X, y)
    assert not r.plain.config.residual and r.residual.config.residual
    assert r.plain.config.replace(residual=True) == r.residual.config
    np.testing.assert_allclose(r.plain.grad_norm, stream_profile(r.plain.config, X, y).grad_norm)
    assert "plain" in repr(r) and "residual" in repr(r)


def test_depth_100_story():
    """The lesson's claims: sigmoid vanishes plain, not residual; ReLU+He residual explodes."""
    X, y = lesson_data()
    base = MLPConfig(depth=100, width=64, dtype="float64", seed=0)
    sig = compare_plain_residual(base.replace(activation="sigmoid"), X, y)
    assert sig.plain.ratio < 1e-50 and 0.1 < sig.residual.ratio < 10
    relu = compare_plain_residual(base.replace(activation="relu", init="he"), X, y)
    assert 0.1 < relu.plain.ratio < 10
    assert relu.residual.stream_std[-1] > 1e15 and relu.residual.loss > 1e15
    pre = stream_profile(base.replace(activation="relu", init="he", residual=True, norm="layer",
                                      norm_position="pre"), X, y)
    assert pre.stream_std[-1] < 100 and pre.ratio < 100
    growth = pre.stream_std[63] / pre.stream_std[15]  # sqrt(64 / 16) = 2 for a sqrt(l) law
    assert 1.5 < growth < 2.7
    post = stream_profile(base.replace(activation="relu", init="he", residual=True, norm="layer",
                                       norm_position="post"), X, y)
    assert post.ratio > 100 and abs(post.stream_std[-1] - 1) < 0.05


def test_residual_block_reference_matches_formula():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 5, generator=gen, dtype=torch.float64)
    W = torch.randn(5, 5, generator=gen, dtype=torch.float64)
    b = torch.randn(5, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(residual_block_reference(x, W, b, "tanh"),
                               x + torch.tanh(x @ W.T + b))
    with pytest.raises(ValueError, match="square"):
        residual_block_reference(x, W[:, :3], b, "tanh")


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu", "elu"])
def test_scalar_chain_derivative_matches_autograd(act):
    w = np.random.default_rng(5).normal(0.0, 0.8, 25)
    assert scalar_residual_chain_derivative(w, 0.4, act) == pytest.approx(
        scalar_residual_chain_autograd(w, 0.4, act), rel=1e-10)


def test_scalar_chain_is_a_product_of_one_plus_factors():
    # tanh at x = 0 stays at 0: every factor is 1 + w * tanh'(0) = 1 + w
    assert scalar_residual_chain_autograd([0.5, 0.5, 0.5], 0.0, "tanh") == pytest.approx(1.5**3)
    with pytest.raises(ValueError):
        scalar_residual_chain_autograd([], 0.0, "tanh")
    with pytest.raises(ValueError, match="valid choices"):
        scalar_residual_chain_autograd([1.0], 0.0, "swish")


def test_bad_arguments():
    with pytest.raises(TypeError, match="MLPConfig"):
        stream_profile("tanh")
    X, y = small_data()
    with pytest.raises(ValueError, match="shape"):
        stream_profile(SMALL, X[:, :1].repeat(1, 3), y)  # wrong number of features
    assert math.isfinite(stream_profile(SMALL).loss)  # defaults to the lesson's data


def test_lesson_8_trains_the_pre_ln_residual_net_with_the_default_init():
    """Lesson 7's summary: lesson 8 trains five depth-20 nets, among them residual ReLU + pre-LN
    with PyTorch's default init, on the spirals and the digits."""
    from helpers.topics.training import CONFIGURATIONS, DATASETS, DEPTH

    assert len(CONFIGURATIONS) == 5 and DEPTH == 20 and set(DATASETS) == {"spirals", "digits"}
    pre_ln = CONFIGURATIONS["residual ReLU + pre-LN"]
    assert pre_ln["residual"] and pre_ln["norm_position"] == "pre" and "init" not in pre_ln


def test_stream_rms_is_the_root_mean_square_of_each_block_output():
    """Lesson 7 reads the stream's size from stream_rms: checked against hooks on the blocks."""
    X, y = small_data()
    config = SMALL.replace(activation="relu", init="he", residual=True)
    model = build_mlp(config)
    outs = []
    hooks = [b.register_forward_hook(lambda m, i, o: outs.append(o.detach().double()))
             for b in model.blocks]
    try:
        p = stream_profile(config, X, y, model=model)
    finally:
        for h in hooks:
            h.remove()
    np.testing.assert_allclose(p.stream_rms, [float(o.pow(2).mean().sqrt()) for o in outs],
                               rtol=1e-12)
    assert np.all(p.stream_rms > p.stream_std)  # a ReLU residual stream has a nonzero mean


def test_stream_profile_measures_the_model_it_is_given_and_the_lesson_data_by_default():
    config = SMALL.replace(activation="tanh", in_features=2)
    X, y = lesson_data()
    assert stream_profile(config).loss == stream_profile(config, X, y).loss
    model = build_mlp(config)
    with torch.no_grad():
        for lin in model.modules():
            if isinstance(lin, torch.nn.Linear):
                lin.weight.mul_(2.0)
    doubled = stream_profile(config, X, y, model=model)
    assert not np.allclose(doubled.grad_norm, stream_profile(config, X, y).grad_norm)


def test_profile_and_comparison_print_what_they_measured():
    """The printed lines lesson 7 shows: which network, then the ratio, the loss and the
    last block's stream std, each to three significant digits."""
    X, y = small_data()
    r = compare_plain_residual(SMALL.replace(activation="sigmoid", norm="layer",
                                             norm_position="pre"), X, y)
    for p, kind in ((r.plain, "plain"), (r.residual, "residual (pre)")):
        assert repr(p) == (
            f"StreamProfile({kind}, sigmoid, init=default, norm=layer, depth=6, width=8, "
            f"float64: first/last ||dL/dx|| = {p.ratio:.3g}, loss = {p.loss:.3g}, "
            f"last stream std = {p.stream_std[5]:.3g})")
    # the last block's std, not another block's, is the one printed
    assert len({f"{s:.3g}" for s in r.residual.stream_std[[1, 4, 5]]}) == 3
    assert repr(r) == f"ResidualComparison(\n  plain:    {r.plain!r}\n  residual: {r.residual!r})"
    with pytest.raises(TypeError) as info:
        stream_profile("tanh")
    assert str(info.value) == "config must be an MLPConfig, got str"


def test_compare_plain_residual_measures_both_on_the_data_it_is_given():
    """Both sides use the caller's data, and the lesson's data when none is given."""
    X, y = small_data()
    config = SMALL.replace(activation="tanh")
    r = compare_plain_residual(config, X, y)
    for side, residual in ((r.plain, False), (r.residual, True)):
        want = stream_profile(config.replace(residual=residual), X, y)
        np.testing.assert_array_equal(side.grad_norm, want.grad_norm)
        assert side.loss == want.loss
    default, lesson = compare_plain_residual(config), compare_plain_residual(config,
                                                                             *lesson_data())
    for a, b in ((default.plain, lesson.plain), (default.residual, lesson.residual)):
        np.testing.assert_array_equal(a.grad_norm, b.grad_norm)


def test_references_compute_in_float64_from_lists_and_float32_arrays():
    """The lesson-7 oracles take lists or arrays of any float type and compute in float64:
    a list is not rounded to float32 on the way in."""
    rng = np.random.default_rng(4)
    x, W, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), rng.normal(size=4)
    want = x + np.tanh(x @ W.T + b)
    got = residual_block_reference(x.tolist(), W.tolist(), b.tolist(), "tanh")
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-13, atol=0)
    with pytest.raises(ValueError) as info:  # one example of the wrong length
        residual_block_reference(np.ones(3), W, b, "tanh")
    assert str(info.value) == ("W must be square (n, n) with n = x.shape[-1]; got W (4, 4), "
                               "x (3,)")
    x32 = x[0].astype(np.float32)
    J = residual_stack_jacobian_autograd(x32, [W, W], [b, b], "tanh")
    assert J.dtype == np.float64
    np.testing.assert_array_equal(J, residual_stack_jacobian_autograd(x32.astype(np.float64),
                                                                      [W, W], [b, b], "tanh"))
    with pytest.raises(ValueError):  # a bias for every weight matrix
        residual_stack_jacobian_autograd(x[0], [W, W], [b], "tanh")


def test_scalar_chain_refuses_non_finite_weights_and_start():
    message = "weights must be a non-empty sequence of finite numbers, x0 finite"
    for weights, x0 in (([0.5, math.nan], 0.1), ([0.5], math.inf), ([], 0.0)):
        with pytest.raises(ValueError) as info:
            scalar_residual_chain_autograd(weights, x0, "tanh")
        assert str(info.value) == message
