"""helpers.topics.normalization: the NumPy BatchNorm/LayerNorm against PyTorch, and the
measurements."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.growth import growth_per_layer
from helpers.models import MLPConfig, build_mlp
from helpers.norm_layers import (
    batch_norm_backward,
    batch_norm_eval,
    batch_norm_step,
    batch_norm_train,
    layer_norm,
    update_running_stats,
)
from helpers.theory import relu_batchnorm_growth
from helpers.topics.normalization import (
    backward_vs_autograd,
    batch_noise,
    compare_with_torch,
    mode_accuracies,
    norm_explorer_profile,
    norm_profiles,
    random_batches,
    reference_run,
    torch_batch_norm_run,
)


def test_train_forward_matches_batchnorm1d():
    batches, gamma, beta = random_batches(n_batches=1, batch=10, features=4, seed=3)
    bn = nn.BatchNorm1d(4).double().train()
    with torch.no_grad():
        bn.weight.copy_(torch.as_tensor(gamma))
        bn.bias.copy_(torch.as_tensor(beta))
        expected = bn(torch.as_tensor(batches[0])).numpy()
    np.testing.assert_allclose(batch_norm_train(batches[0], gamma, beta), expected, atol=1e-12)


def test_running_stats_use_unbiased_variance_and_new_batch_weight():
    x = np.array([[0.0, 1.0], [2.0, 5.0], [4.0, 3.0]])
    m, v = update_running_stats(np.zeros(2), np.ones(2), x, momentum=0.1)
    np.testing.assert_allclose(m, 0.1 * x.mean(0))
    np.testing.assert_allclose(v, 0.9 + 0.1 * x.var(0, ddof=1))


def test_reference_run_matches_torch_train_and_eval():
    diffs = compare_with_torch(seed=5)
    assert set(diffs) == {"train_out", "eval_out", "running_mean", "running_var"}
    assert max(diffs.values()) < 1e-12


def test_eval_mode_uses_running_stats_and_leaves_them():
    x = np.random.default_rng(0).normal(3, 2, (5, 3))
    rm, rv = np.full(3, 1.0), np.full(3, 4.0)
    y, m2, v2 = batch_norm_step(x, np.ones(3), np.zeros(3), rm, rv, False)
    np.testing.assert_allclose(y, (x - 1.0) / np.sqrt(4.0 + 1e-5))
    np.testing.assert_array_equal(m2, rm)
    np.testing.assert_array_equal(v2, rv)
    np.testing.assert_allclose(batch_norm_eval(x, 2.0, 1.0, rm, rv), 2 * y + 1)


def test_a_wrong_step_function_is_detected():
    def biased_running(x, g, b, rm, rv, training, momentum=0.1, eps=1e-5):
        y, m, v = batch_norm_step(x, g, b, rm, rv, training, momentum, eps)
        if training:
            v = (1 - momentum) * rv + momentum * x.var(0)
        return y, m, v

    assert compare_with_torch(biased_running)["running_var"] > 1e-3


def test_backward_matches_autograd():
    diffs = backward_vs_autograd(seed=2)
    assert max(diffs.values()) < 1e-10
    # and independently, with autograd through our own NumPy-equivalent torch formula
    x = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)
    gamma = torch.tensor([0.5, 2.0, 1.5], dtype=torch.float64, requires_grad=True)
    beta = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    dy = torch.randn(7, 3, dtype=torch.float64)
    F.batch_norm(x, None, None, gamma, beta, training=True).backward(dy)
    dx, dg, db = batch_norm_backward(dy.numpy(), x.detach().numpy(), gamma.detach().numpy())
    np.testing.assert_allclose(dx, x.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(dg, gamma.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(db, beta.grad.numpy(), atol=1e-12)


def test_layer_norm_matches_torch():
    x = np.random.default_rng(1).normal(2, 3, (6, 5))
    g, b = np.linspace(0.5, 2, 5), np.linspace(-1, 1, 5)
    expected = F.layer_norm(torch.as_tensor(x), (5,), torch.as_tensor(g), torch.as_tensor(b))
    np.testing.assert_allclose(layer_norm(x, g, b), expected.numpy(), atol=1e-12)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="at least 2"):
        batch_norm_train(np.ones((1, 3)), 1.0, 0.0)
    with pytest.raises(ValueError, match="shape"):
        batch_norm_train(np.ones(3), 1.0, 0.0)
    with pytest.raises(ValueError, match="momentum"):
        update_running_stats(0, 1, np.ones((2, 2)), momentum=2)
    with pytest.raises(ValueError, match="batch sizes"):
        batch_noise(batch_sizes=(1, 4))


def test_torch_run_records_every_batch():
    batches, gamma, beta = random_batches(n_batches=3, seed=0)
    out = torch_batch_norm_run(batches, gamma, beta)
    assert all(len(v) == 3 for v in out.values())
    ours = reference_run(batch_norm_step, batches, gamma, beta)
    np.testing.assert_allclose(ours["running_var"][-1], out["running_var"][-1], atol=1e-12)


def test_norm_profiles_batchnorm_removes_sigmoid_saturation():
    p = norm_profiles((None, "batch"), depth=6, width=16, activation="sigmoid", init="normal",
                      weight_std=1.0, batch=64)
    assert p[None].saturation[:-1].mean() > 0.05
    assert p["batch"].saturation[:-1].mean() < 0.01
    assert p["batch"].dtype == "float64"


def test_profile_gradients_match_autograd():
    prof = norm_explorer_profile(5, "relu", "batch", 32, width=8)
    from helpers.data import spirals
    X, y = spirals(32, noise=0.1, seed=0)
    model = build_mlp(MLPConfig(depth=5, width=8, activation="relu", norm="batch",
                                dtype="float64")).train()
    F.cross_entropy(model(X.double()), y).backward()
    grads = [m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)]
    np.testing.assert_allclose(prof.weight_grad_norm, grads, rtol=1e-10)


def test_relu_batchnorm_gradients_grow_like_theory():
    p = norm_profiles((None, "batch"), depth=40, width=64, activation="relu", init="he", batch=128)
    growth = growth_per_layer(p["batch"].weight_grad_norm, estimator="log_fit", skip=1)
    assert abs(growth - relu_batchnorm_growth()) < 0.08
    assert growth_per_layer(p[None].weight_grad_norm, estimator="log_fit", skip=1) < 1.05
    assert relu_batchnorm_growth() == pytest.approx(math.sqrt(math.pi / (math.pi - 1)))


def test_growth_per_layer_on_exact_geometric_series():
    g = np.r_[1.0, 3.0 ** np.arange(10, 0, -1), 1.0]
    assert growth_per_layer(g, estimator="log_fit", skip=1) == pytest.approx(3.0)
    assert math.isnan(growth_per_layer([1.0, 0.0, 1.0, 1.0], estimator="log_fit", skip=1))


def test_batch_noise_shrinks_like_inverse_sqrt():
    n = batch_noise(batch_sizes=(8, 128), n_batches=100, width=8, population=1024)
    assert n.spread[0] > n.spread[1] * 2.5
    assert np.all(n.theory > 0) and n.theory[0] / n.theory[1] == pytest.approx(4.0)
    assert "B=8" in repr(n)


def test_batch_noise_matches_large_batch_theory_on_gaussian_features():
    """Gaussian features, unequal means and scales, and a fixed example 3 standard deviations
    above the mean in every unit: the large-batch prediction is sqrt(5.5 / B) (closed form),
    and the measured spread of its normalised value agrees with it at large B, once the
    batches' drawing without replacement from N examples is allowed for (the finite
    population correction sqrt((N - B) / (N - 1)): 0.974 at B = 1024; what is left is the
    O(1/B) of the theory, 3-6% at B = 256)."""
    rng = np.random.default_rng(7)
    loc, scale = rng.normal(0, 3, 16), rng.uniform(0.5, 4, 16)
    n = 20_000
    Z = loc + scale * rng.standard_normal((n, 16))
    Z[0] = Z[1:].mean(0) + 3 * Z[1:].std(0)  # x_hat = 3 (to 1e-3) in every unit
    sizes = np.array([256, 1024])
    noise = batch_noise(tuple(sizes), n_batches=400, features=Z, seed=1)
    np.testing.assert_allclose(noise.theory, np.sqrt(5.5 / sizes), rtol=1e-3)
    correction = np.sqrt((n - sizes) / (n - 1))
    np.testing.assert_allclose(noise.spread, noise.theory * correction, rtol=0.07)
    # the same population through torch's own BatchNorm: one batch, same normalised value
    batch = Z[:64]
    bn = nn.BatchNorm1d(16, eps=1e-5, affine=False).double().train()
    want = bn(torch.from_numpy(batch))[0].detach().numpy()
    got = (batch[0] - batch.mean(0)) / np.sqrt(batch.var(0) + 1e-5)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    with pytest.raises(ValueError, match="features must be"):
        batch_noise((4,), features=np.ones(5))
    with pytest.raises(ValueError, match="features must be"):
        batch_noise((4,), features=np.where(np.eye(6, 3) > 0, np.nan, 1.0))
    two = batch_noise((2,), features=[[0.0, 1.0], [2.0, 5.0]], n_batches=3)  # the smallest
    np.testing.assert_allclose(two.spread, [0.0], atol=1e-12)  # one possible batch: no spread
    with pytest.raises(ValueError, match="population=10"):
        batch_noise((4, 11), features=np.ones((10, 3)))


def test_batch_noise_is_torch_batchnorm_of_the_fixed_example_over_its_batches():
    """The spread is that of ``nn.BatchNorm1d``'s train-mode output for row 0, over batches
    of row 0 plus B - 1 other rows drawn without replacement from ``seed``'s generator."""
    rng = np.random.default_rng(3)
    Z = rng.normal(0, 1, (50, 4)) * [1.0, 2.0, 5.0, 0.5] + [0.0, 3.0, -4.0, 10.0]
    got = batch_noise((3, 10), n_batches=6, features=Z, seed=5)
    draws = np.random.default_rng(5)
    bn = nn.BatchNorm1d(4, affine=False).double().train()  # eps 1e-5, as BatchNorm's
    for b, spread in zip((3, 10), got.spread, strict=True):
        values = []
        for _ in range(6):
            rows = 1 + draws.choice(49, b - 1, replace=False)
            batch = torch.from_numpy(np.vstack([Z[0], Z[rows]]))
            values.append(bn(batch)[0].detach().numpy())
        assert spread == pytest.approx(np.std(values, axis=0).mean(), rel=1e-10)


def test_batch_noise_population_is_a_random_first_layer_on_the_lessons_spirals():
    """By default the population is the pre-activations of a Linear layer with N(0, 1)
    weights and biases (drawn in that order from ``seed``) on ``lesson_data(population,
    seed)``: given those features directly, the result is the same."""
    from helpers.data import lesson_data

    for seed in (0, 2):
        X, _ = lesson_data(300, seed=seed)
        gen = torch.Generator().manual_seed(seed)
        W = torch.empty(8, 2, dtype=torch.float64).normal_(0, 1, generator=gen)
        b = torch.empty(8, dtype=torch.float64).normal_(0, 1, generator=gen)
        Z = (X.double() @ W.T + b).numpy()
        got = batch_noise((4, 16), n_batches=20, width=8, population=300, seed=seed)
        want = batch_noise((4, 16), n_batches=20, features=Z, seed=seed)
        np.testing.assert_allclose(got.spread, want.spread, rtol=1e-12)
        np.testing.assert_allclose(got.theory, want.theory, rtol=1e-12)


def test_mode_accuracies_restores_state_and_mode():
    from helpers.data import spirals
    X, y = spirals(32, seed=0)
    model = build_mlp(MLPConfig(depth=3, width=8, activation="tanh", norm="batch"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    acc = mode_accuracies(model, X, y, batch_sizes=(2, 4))
    assert set(acc) == {"eval mode", "train mode, whole data as one batch",
                        "train mode, batches of 2", "train mode, batches of 4"}
    assert all(0 <= a <= 1 for a in acc.values())
    assert model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


# -- tests that kill surviving mutants of numbers the lessons show -------------------------


def test_batch_norm_train_accepts_a_batch_of_two():
    """B = 2 is the smallest batch BatchNorm normalises (torch agrees)."""
    import torch.nn.functional as F

    from helpers.norm_layers import batch_norm_train

    x = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, 0.25]])
    g, b = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 1.0])
    want = F.batch_norm(torch.from_numpy(x), None, None, torch.from_numpy(g),
                        torch.from_numpy(b), training=True, eps=1e-5).numpy()
    np.testing.assert_allclose(batch_norm_train(x, g, b), want, rtol=1e-12)


def test_batch_noise_defaults_and_seed():
    """Lesson 6 calls batch_noise with its defaults; the seed fixes every draw."""
    from helpers.topics.normalization import batch_noise

    small = dict(n_batches=12, width=8, population=512)
    a, b = batch_noise((4, 16), seed=3, **small), batch_noise((4, 16), seed=3, **small)
    np.testing.assert_array_equal(a.spread, b.spread)
    c = batch_noise((4, 16), seed=4, **small)
    assert not np.array_equal(a.spread, c.spread)
    d, e = batch_noise(), batch_noise((4, 16, 64, 256), n_batches=200, width=32,
                                      population=4096, seed=0)
    np.testing.assert_array_equal(d.spread, e.spread)
    assert d.n_batches == 200 and list(d.batch_sizes) == [4, 16, 64, 256]


# --- the one-line estimate of the per-layer growth under a norm (lesson 6, section 7) -------

def test_norm_growth_estimate_closed_forms():
    from helpers.theory import norm_growth_estimate, relu_batchnorm_growth

    # ReLU: E[phi'^2] = 1/2, E[phi^2] = 1/2, Var phi = 1/2 - 1/(2 pi): LN 1, BN sqrt(pi/(pi-1))
    assert norm_growth_estimate("relu", "layer") == pytest.approx(1.0, abs=1e-9)
    ratio = 0.5 / (0.5 - 1 / (2 * math.pi))
    assert ratio == pytest.approx(math.pi / (math.pi - 1), rel=1e-14)
    assert norm_growth_estimate("relu", "batch") == pytest.approx(math.sqrt(ratio), rel=1e-9)
    assert norm_growth_estimate("relu", "batch") == pytest.approx(relu_batchnorm_growth())
    assert norm_growth_estimate("sigmoid", "layer") == pytest.approx(0.3909, abs=1e-4)
    assert norm_growth_estimate("sigmoid", "batch") == pytest.approx(1.0167, abs=1e-4)
    # tanh is odd: E[phi] = 0, so LayerNorm and BatchNorm give the same estimate
    assert norm_growth_estimate("tanh", "layer") == pytest.approx(1.0853, abs=1e-4)
    assert norm_growth_estimate("tanh", "batch") == pytest.approx(1.0853, abs=1e-4)
    with pytest.raises(ValueError, match="valid choices"):
        norm_growth_estimate("relu", None)


def test_norm_growth_estimate_matches_the_measured_growth():
    """Depth 100, width 64, He init, float64: estimate within 3% of the fitted growth for every
    activation and norm; tanh + LayerNorm grows toward the input, sigmoid + LayerNorm vanishes."""
    from helpers.topics.normalization import norm_growth_table

    table = norm_growth_table()
    assert len(table) == 6
    for (act, norm), (estimate, measured) in table.items():
        assert measured == pytest.approx(estimate, rel=0.03), (act, norm, estimate, measured)
    assert 1.06 < table["tanh", "layer"][1] < 1.10  # LayerNorm does not avoid the growth
    assert 1.19 < table["relu", "batch"][1] < 1.22
    assert 0.37 < table["sigmoid", "layer"][1] < 0.40


def test_plain_sigmoid_forward_signal_collapses():
    """Depth 20, default init: the spread across examples shrinks ~0.15x per layer; at layer 20
    it is 2.6e-17 in float64; in float32 the 256 examples give only 5 distinct outputs."""
    from helpers.data import spirals
    from helpers.topics.normalization import forward_spread, last_layer_identity

    X, _ = spirals(256, noise=0.1, seed=0)
    config = MLPConfig(depth=20, width=64, activation="sigmoid", dtype="float64", seed=0)
    s64 = forward_spread(config, X)
    assert s64.shape == (20,) and 0.05 < s64[0] < 0.2
    assert 1e-17 < s64[-1] < 5e-17
    assert 0.13 < (s64[-1] / s64[0]) ** (1 / 19) < 0.17
    s32 = forward_spread(config.replace(dtype="float32"), X)
    assert s32[-1] < 1e-8 and s32[0] > 0.05  # below float32's rounding step (~6e-8 here)
    same = last_layer_identity(config.replace(dtype="float32"), X)
    assert same["distinct"] <= 8 and same["constant_units"] >= 48  # measured: 5 and 56 of 64
    assert last_layer_identity(config, X)["distinct"] > 200  # float64 still tells them apart


def test_adam_with_tiny_eps_still_stays_at_ln2():
    from helpers.data import spirals
    from helpers.topics.normalization import adam_final_loss

    X, y = spirals(256, noise=0.1, seed=0)
    config = MLPConfig(depth=20, width=64, activation="sigmoid", dtype="float64", seed=0)
    assert adam_final_loss(config, X, y, eps=1e-30) == pytest.approx(math.log(2), abs=1e-3)
    with pytest.raises(ValueError, match="steps"):
        adam_final_loss(config, X, y, steps=0)


def test_batch_norm_backward_of_a_batch_constant_dy_is_zero():
    """Lesson 6's prediction: the same dy for every example gives dx = 0 (the mean removes it)."""
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, (8, 4))
    dy = np.tile([1.0, -2.0, 0.5, 3.0], (8, 1))
    dx, _, _ = batch_norm_backward(dy, x, np.ones(4))
    assert np.abs(dx).max() < 1e-12
    t = torch.as_tensor(x).requires_grad_(True)
    F.batch_norm(t, None, None, training=True).backward(torch.as_tensor(dy))
    assert t.grad.abs().max() < 1e-12


def test_random_batches_are_reproducible_with_unequal_means_and_scales():
    xs, gamma, beta = random_batches(n_batches=3, batch=200, features=4, seed=5)
    again = random_batches(n_batches=3, batch=200, features=4, seed=5)
    for a, b in zip(xs + [gamma, beta], again[0] + list(again[1:]), strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(xs) == 3 and all(x.shape == (200, 4) for x in xs)
    x = np.vstack(xs)
    assert np.ptp(x.mean(0)) > 0.5 and np.ptp(x.std(0)) > 0.2  # features differ
    assert gamma.shape == beta.shape == (4,) and np.all(gamma > 0)


def test_both_batch_norm_runs_honour_momentum_and_eps():
    """A single batch, momentum 0.5 and a large eps: the running mean moves half way to the
    batch mean, the running variance half way to the unbiased variance, and eps enters the
    train-mode and eval-mode outputs of both runs."""
    x = np.array([[0.0, 1.0], [2.0, 5.0], [4.0, 0.0]])
    gamma, beta = np.array([1.0, 2.0]), np.array([0.0, 1.0])
    mom, eps = 0.5, 0.7
    want_train = (x - x.mean(0)) / np.sqrt(x.var(0) + eps) * gamma + beta
    rm, rv = mom * x.mean(0), (1 - mom) + mom * x.var(0, ddof=1)
    want_eval = (x - rm) / np.sqrt(rv + eps) * gamma + beta
    for out in (torch_batch_norm_run([x], gamma, beta, momentum=mom, eps=eps),
                reference_run(batch_norm_step, [x], gamma, beta, momentum=mom, eps=eps)):
        np.testing.assert_allclose(out["train_out"][0], want_train, rtol=1e-12)
        np.testing.assert_allclose(out["running_mean"][0], rm, rtol=1e-12)
        np.testing.assert_allclose(out["running_var"][0], rv, rtol=1e-12)
        np.testing.assert_allclose(out["eval_out"][0], want_eval, rtol=1e-12)


def test_backward_vs_autograd_reports_each_gradient():
    diffs = backward_vs_autograd(seed=2)
    assert set(diffs) == {"dx", "dgamma", "dbeta"}
    assert all(0 <= v < 1e-10 for v in diffs.values())


def test_adam_final_loss_uses_its_eps_and_checks_it():
    """eps reaches the optimiser (the result is that of torch.optim.Adam with that eps), the
    default is PyTorch's 1e-8, and eps outside [0, 1] is refused."""
    from helpers.data import lesson_data
    from helpers.topics.normalization import adam_final_loss

    X, y = lesson_data(32)
    config = MLPConfig(depth=2, width=4, activation="tanh", dtype="float64")

    def by_hand(eps, steps):
        model = build_mlp(config).train()
        opt = torch.optim.Adam(model.parameters(), lr=0.01, eps=eps)
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(model(X.double()), y).backward()
            opt.step()
        with torch.no_grad():
            return F.cross_entropy(model(X.double()), y).item()

    assert adam_final_loss(config, X, y, steps=5, eps=0.5) == pytest.approx(by_hand(0.5, 5),
                                                                           rel=1e-12)
    assert adam_final_loss(config, X, y, steps=1) == pytest.approx(by_hand(1e-8, 1), rel=1e-12)
    assert adam_final_loss(config, X, y, steps=4) == adam_final_loss(config, X, y, steps=4,
                                                                     eps=1e-8)
    for eps in (-1e-3, 1.5):
        with pytest.raises(ValueError, match="^eps must be"):
            adam_final_loss(config, X, y, steps=1, eps=eps)
    with pytest.raises(ValueError, match="^steps must be"):
        adam_final_loss(config, X, y, steps=0)


def test_batch_noise_accepts_every_size_from_two_to_the_population():
    n = batch_noise((2, 64), n_batches=4, width=3, population=64)
    assert list(n.batch_sizes) == [2, 64] and n.spread.shape == (2,)
    assert n.spread[1] == pytest.approx(0.0, abs=1e-12)  # the whole population every time
    assert batch_noise((8,), n_batches=3, width=2, population=32).spread.shape == (1,)
    for bad in ((1, 8), (8, 33), ()):
        with pytest.raises(ValueError, match="batch sizes"):
            batch_noise(bad, n_batches=2, width=2, population=32)


def test_the_explorer_profile_is_norm_profiles_with_the_same_settings():
    from helpers.capture import gradient_profile
    from helpers.data import lesson_data

    got = norm_explorer_profile(4, "tanh", "layer", 32, init="he", seed=3)
    want = norm_profiles(("layer",), depth=4, width=64, activation="tanh", init="he", batch=32,
                         seed=3)["layer"]
    np.testing.assert_array_equal(got.weight_grad_norm, want.weight_grad_norm)
    X, y = lesson_data(32, seed=3)
    model = build_mlp(MLPConfig(depth=4, width=64, activation="tanh", norm="layer", init="he",
                                dtype="float64", seed=3)).train()
    np.testing.assert_array_equal(gradient_profile(model, X, y).weight_grad_norm,
                                  want.weight_grad_norm)


def test_norm_growth_table_is_the_log_fit_without_the_end_layers():
    """measured = exp(-slope) of log ||dL/dW|| against the layer, first and last left out."""
    from helpers.theory import norm_growth_estimate
    from helpers.topics.normalization import norm_growth_table

    table = norm_growth_table(("relu",), ("batch",), depth=8, seed=2)
    profile = norm_profiles(("batch",), depth=8, width=64, activation="relu", init="he",
                            batch=256, seed=2)["batch"]
    g = np.asarray(profile.weight_grad_norm)[1:-1]
    slope = np.polyfit(np.arange(g.size), np.log(g), 1)[0]
    estimate, measured = table["relu", "batch"]
    assert estimate == norm_growth_estimate("relu", "batch")
    assert measured == pytest.approx(math.exp(-slope), rel=1e-12)


def test_forward_spread_and_last_layer_identity_describe_the_last_blocks():
    """Defaults to the lesson batch; the spread is the population std over examples, and the
    identity counts come from the last block's output (examples x width)."""
    from helpers.data import lesson_data
    from helpers.topics.normalization import forward_spread, last_layer_identity

    # seed 3: the last block has 2 units that are 0 for every example, the one before 1
    config = MLPConfig(depth=3, width=6, activation="relu", init="normal", weight_std=0.3,
                       dtype="float64", seed=3)
    X = lesson_data()[0]

    def blocks(X):
        model = build_mlp(config).train()
        outs, h = [], X.double()
        with torch.no_grad():
            for block in model.blocks:
                h = block(h)
                outs.append(h.numpy())
        return outs

    def counts(last):
        return {"distinct": len(np.unique(last, axis=0)),
                "constant_units": int(np.all(last == last[0], axis=0).sum()),
                "examples": len(last), "width": 6}

    outs = blocks(X)
    spread = forward_spread(config)
    np.testing.assert_allclose(spread, [o.std(0).mean() for o in outs], rtol=1e-12)
    np.testing.assert_allclose(forward_spread(config, X[:40]),
                               [o.std(0).mean() for o in blocks(X[:40])], rtol=1e-12)
    ident = last_layer_identity(config)
    assert ident == counts(outs[-1]) and ident["constant_units"] == 2
    assert last_layer_identity(config, X[:40]) == counts(blocks(X[:40])[-1])
    # a net whose last layer is the same for every example: all units constant, one vector
    const = MLPConfig(depth=2, width=3, activation="relu", init="normal", weight_std=0.0,
                      dtype="float64")
    assert last_layer_identity(const, X[:10]) == {"distinct": 1, "constant_units": 3,
                                                  "examples": 10, "width": 3}


def test_numpy_batch_norm_computes_in_float64_and_names_bad_input():
    """float32 input is computed in float64 (torch in float64 agrees to 1e-12, not to
    float32's 1e-7); eval mode returns float64 running statistics too; a wrong shape or a
    batch of one, and a momentum outside [0, 1], are refused by name."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    g, b = np.array([1.5, 0.5, 2.0]), np.array([0.1, -0.2, 0.3])
    x64 = x.astype(np.float64)
    want = F.batch_norm(torch.from_numpy(x64), None, None, torch.from_numpy(g),
                        torch.from_numpy(b), training=True, eps=1e-5).numpy()
    np.testing.assert_allclose(batch_norm_train(x, g, b), want, rtol=1e-12, atol=1e-12)
    dy = rng.normal(size=(8, 3)).astype(np.float32)
    np.testing.assert_allclose(batch_norm_backward(dy, x, g)[0],
                               batch_norm_backward(dy.astype(np.float64), x64, g)[0],
                               rtol=1e-12, atol=1e-12)
    _, mean, var = batch_norm_step(x, g, b, np.zeros(3, np.float32), np.ones(3, np.float32),
                                   training=False)
    assert mean.dtype == var.dtype == np.float64
    with pytest.raises(ValueError) as info:
        batch_norm_train(x[0], g, b)
    assert str(info.value) == "x must have shape (batch, features), got (3,)"
    with pytest.raises(ValueError) as info:
        batch_norm_backward(dy[0], x, g)
    assert str(info.value) == "dy must have shape (batch, features), got (3,)"
    with pytest.raises(ValueError) as info:
        batch_norm_train(x[:1], g, b)
    assert str(info.value) == ("train-mode BatchNorm needs at least 2 examples per batch "
                               "(got 1): one example has no variance")
    for momentum in (-0.1, 1.1):
        with pytest.raises(ValueError) as info:
            update_running_stats(np.zeros(3), np.ones(3), x, momentum)
        assert str(info.value) == f"momentum must be between 0 and 1, got {momentum}"


def test_random_batches_follow_their_documented_draws():
    """The order and the distributions the docstring gives, with the defaults 4 batches of
    16 examples and 5 features from seed 0."""
    for kw, (n, batch, features, seed) in ((dict(n_batches=3, batch=7, features=2, seed=9),
                                            (3, 7, 2, 9)), ({}, (4, 16, 5, 0))):
        rng = np.random.default_rng(seed)
        loc, scale = rng.normal(0, 2, features), rng.uniform(0.5, 3, features)
        want = [loc + scale * rng.standard_normal((batch, features)) for _ in range(n)]
        gamma, beta = rng.uniform(0.5, 2, features), rng.normal(0, 1, features)
        xs, g, b = random_batches(**kw)
        assert len(xs) == n
        for x, w in zip(xs, want, strict=True):
            np.testing.assert_array_equal(x, w)
        np.testing.assert_array_equal(g, gamma)
        np.testing.assert_array_equal(b, beta)


def test_torch_run_computes_in_float64_from_float32_batches_and_lists():
    batches, gamma, beta = random_batches(n_batches=2, batch=6, features=3, seed=4)
    want = torch_batch_norm_run([x.astype(np.float32).astype(np.float64) for x in batches],
                                gamma, beta)
    for given in ([x.astype(np.float32) for x in batches],
                  [x.astype(np.float32).tolist() for x in batches]):
        got = torch_batch_norm_run(given, gamma, beta)
        for key in ("train_out", "eval_out", "running_mean", "running_var"):
            for a, b in zip(got[key], want[key], strict=True):
                assert a.dtype == np.float64
                np.testing.assert_array_equal(a, b)


def test_the_lessons_differences_come_from_the_documented_batches():
    """compare_with_torch and backward_vs_autograd measure on the seeded batches their
    docstrings name (seed 0 by default): the same numbers computed here from those batches."""
    for seed in (0, 3):
        batches, gamma, beta = random_batches(seed=seed)
        ours = reference_run(batch_norm_step, batches, gamma, beta)
        theirs = torch_batch_norm_run(batches, gamma, beta)
        want = {k: max(float(np.abs(a - b).max()) for a, b in zip(ours[k], theirs[k],
                                                                      strict=True))
                for k in theirs}
        assert compare_with_torch(seed=seed) == want

        (x,), gamma, beta = random_batches(n_batches=1, seed=seed)
        dy = np.random.default_rng(seed + 1).standard_normal(x.shape)
        t = torch.as_tensor(x).requires_grad_(True)
        bn = nn.BatchNorm1d(x.shape[1]).double().train()
        with torch.no_grad():
            bn.weight.copy_(torch.as_tensor(gamma))
            bn.bias.copy_(torch.as_tensor(beta))
        bn(t).backward(torch.as_tensor(dy))
        dx, dgamma, dbeta = batch_norm_backward(dy, x, gamma)
        assert backward_vs_autograd(seed=seed) == {
            "dx": float(np.abs(dx - t.grad.numpy()).max()),
            "dgamma": float(np.abs(dgamma - bn.weight.grad.numpy()).max()),
            "dbeta": float(np.abs(dbeta - bn.bias.grad.numpy()).max())}
    assert compare_with_torch() == compare_with_torch(seed=0)
    assert backward_vs_autograd() == backward_vs_autograd(seed=0)


def test_profiles_and_growth_table_defaults(monkeypatch):
    """norm_profiles' documented defaults (depth 20, width 64, sigmoid, PyTorch's default init,
    weight_std 0.1, 256 examples, seed 0), and norm_growth_table's (depth 100, He, seed 0)."""
    from helpers.topics import normalization

    default = norm_profiles((None,))[None]
    explicit = norm_profiles((None,), depth=20, width=64, activation="sigmoid", init="default",
                             weight_std=0.1, batch=256, seed=0)[None]
    np.testing.assert_array_equal(default.weight_grad_norm, explicit.weight_grad_norm)
    np.testing.assert_array_equal(default.activation_grad_norm, explicit.activation_grad_norm)
    calls = []

    def record(norms, **kw):
        calls.append((norms, kw))
        return {}

    monkeypatch.setattr(normalization, "norm_profiles", record)
    normalization.norm_growth_table(("tanh",), ("layer",))
    assert calls == [(("layer",), dict(depth=100, activation="tanh", init="he", seed=0))]


def test_adam_final_loss_defaults_are_300_steps_at_lr_0_01():
    from helpers.data import lesson_data
    from helpers.topics.normalization import adam_final_loss

    X, y = lesson_data(32)
    config = MLPConfig(depth=2, width=4, activation="tanh", dtype="float64")
    assert adam_final_loss(config, X, y) == adam_final_loss(config, X, y, steps=300, lr=0.01,
                                                            eps=1e-8)
    assert adam_final_loss(config, X, y) != adam_final_loss(config, X, y, steps=299)


def test_batch_noise_prints_and_refuses_what_it_cannot_measure():
    from helpers.topics.normalization import BatchNoise

    printed = BatchNoise(np.array([4, 16]), np.array([0.5, 0.25]), np.zeros(2), 3)
    assert repr(printed) == "BatchNoise(B=4: 0.500, B=16: 0.250)"
    for kw, message in (
            (dict(population=1), "population must be an int >= 2, got 1"),
            (dict(n_batches=1), "n_batches must be an int >= 2, got 1"),
            (dict(width=0), "width must be an int >= 1, got 0"),
            (dict(batch_sizes=(4.5,)),
             "batch sizes must be integers between 2 and population=4096, got (4.5,)"),
            (dict(batch_sizes=(True, 4)),
             "batch sizes must be integers between 2 and population=4096, got (True, 4)"),
            (dict(batch_sizes=()),
             "batch sizes must be integers between 2 and population=4096, got ()"),
            (dict(batch_sizes=[[4, 8]]),
             "batch sizes must be integers between 2 and population=4096, got [[4, 8]]"),
            (dict(batch_sizes=16),
             "batch sizes must be integers between 2 and population=4096, got 16"),
            (dict(features=[[1.0, 2.0]]), "features must be a finite (examples, units) array "
                                          "with at least 2 examples, got shape (1, 2)")):
        with pytest.raises(ValueError) as info:
            batch_noise(**kw)
        assert str(info.value) == message
    # the smallest population, and float32 features measured in float64
    assert batch_noise((2,), n_batches=2, width=2, population=2).spread.shape == (1,)
    Z = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    got = batch_noise((4, 8), n_batches=5, features=Z, seed=2)
    want = batch_noise((4, 8), n_batches=5, features=Z.astype(np.float64), seed=2)
    np.testing.assert_array_equal(got.spread, want.spread)
    np.testing.assert_array_equal(got.theory, want.theory)
