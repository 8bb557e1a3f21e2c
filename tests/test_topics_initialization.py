"""Signal propagation measured in networks (helpers.topics.initialization) against autograd
and theory."""

import math
import warnings

import numpy as np
import pytest
import torch

from helpers.activations import derivative
from helpers.growth import growth_per_layer
from helpers.jacobians import log_singular_values, random_network
from helpers.models import MLPConfig, build_mlp
from helpers.theory import (
    chi1,
    correlation_map,
    critical_line,
    length_map_iterates,
    q_star,
    variance_preserving_gain,
)
from helpers.topics.initialization import (
    _run,
    classify_chi1,
    fixed_point_inputs,
    input_variance,
    jacobian_factors,
    jacobian_singular_values,
    mean_field_profile,
    measure_gradient_growth,
    phase_grid,
    variance_profile,
)

# Measured at width 512, depth 30, batch 32 over seeds 0-11: |growth / chi_1 - 1| stayed
# below 1.5% at every point (std 0.5-0.9% per point). The tests allow 3%, twice the largest error
# seen; a wrong power of sigma_w2 or a gradient taken after the activation would be off by
# tens of percent (e.g. chi_1 = 0.58 vs 0.70 at the ordered point).
GROWTH_RTOL = 0.03
SIGMA_B2 = 0.05


def _numpy_backprop(model, x, v):
    """Pre-activation gradients by the recursion delta_l = phi'(h_l) W_{l+1}^T delta_{l+1}."""
    ws = [b.linear.weight.detach().numpy() for b in model.blocks]
    bs = [b.linear.bias.detach().numpy() for b in model.blocks]
    act = model.config.activation
    from helpers.activations import activation_fn
    f, d = activation_fn(act), derivative(act)
    a, hs = x.numpy(), []
    for w, b in zip(ws, bs):
        h = a @ w.T + b  # (batch, width)
        hs.append(h)
        a = f(h)
    w_next = model.output.weight.detach().numpy()
    delta_next = v  # dL/d out
    deltas = [None] * len(hs)
    for layer in range(len(hs) - 1, -1, -1):
        deltas[layer] = d(hs[layer]) * (delta_next @ w_next)
        delta_next, w_next = deltas[layer], ws[layer]
    return np.array([(g * g).sum() / x.shape[0] for g in deltas]), hs


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradients_match_autograd_and_hand_backprop(activation):
    config = MLPConfig(depth=4, width=7, activation=activation, init="mean_field", sigma_w2=1.7,
                       sigma_b2=0.1, in_features=5, out_features=3, dtype="float64", seed=3)
    model = build_mlp(config)
    x = torch.randn(6, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    prof = _run(model, x, v_seed=11)
    v = torch.randn(6, 3, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    # autograd through the model's own forward, with retained pre-activation gradients
    hs = []

    def keep(module, inputs, out):
        out.retain_grad()
        hs.append(out)

    handles = [b.linear.register_forward_hook(keep) for b in model.blocks]
    (model(x) * v).sum().backward()
    for h in handles:
        h.remove()
    autograd = np.array([(h.grad ** 2).sum().item() / 6 for h in hs])
    np.testing.assert_allclose(prof.grad_sq_norm, autograd, rtol=1e-12)
    by_hand, h_np = _numpy_backprop(model, x, v.numpy())
    np.testing.assert_allclose(prof.grad_sq_norm, by_hand, rtol=1e-10)
    np.testing.assert_allclose(prof.preact_second_moment, [np.mean(h * h) for h in h_np],
                               rtol=1e-12)
    np.testing.assert_allclose(prof.grad_second_moment, prof.grad_sq_norm / 7, rtol=1e-12)


@pytest.mark.parametrize("phase, sigma_w2", [
    ("ordered", 0.7), ("critical", None), ("chaotic", 2.5)])
def test_measured_growth_matches_chi1_at_width_512(phase, sigma_w2):
    """Growth of ||dL/dh_l||^2 per layer within 3% of chi_1 at width 512."""
    if sigma_w2 is None:
        sigma_w2 = critical_line("tanh", SIGMA_B2)
    r = measure_gradient_growth("tanh", sigma_w2, SIGMA_B2, depth=30, width=512, seed=0)
    assert r.phase == phase
    assert r.chi1 == pytest.approx(chi1("tanh", sigma_w2, SIGMA_B2))
    assert abs(r.relative_error) < GROWTH_RTOL, r
    # the network does sit at the fixed point the theory assumes (per layer the variance
    # fluctuates by ~10%: the biases are one draw of 512 numbers per layer)
    assert np.mean(r.preact_var[5:]) == pytest.approx(r.q_star, rel=0.05)


def test_ratios_estimator_telescopes_and_validates():
    g = np.array([64.0, 32.0, 16.0, 4.0, 2.0, 1.0])
    assert growth_per_layer(g, estimator="ratios", skip=0) == pytest.approx(64.0 ** (1 / 5))
    assert growth_per_layer(g, estimator="ratios", skip=1) == pytest.approx((32.0 / 2.0) ** (1 / 3))
    with pytest.raises(ValueError, match="skip"):
        growth_per_layer(g, estimator="ratios", skip=3)


def test_relu_growth_is_half_sigma_w2():
    r = measure_gradient_growth("relu", 2.6, 0.0, depth=20, width=256, seed=1)
    assert r.chi1 == pytest.approx(1.3, rel=1e-9)
    assert r.q_input == 1.0 and math.isinf(r.q_star)
    assert abs(r.relative_error) < 0.05


def test_length_map_iterates_converge_and_match_a_network():
    it = length_map_iterates("tanh", 2.0, 0.05, [0.05, 1.0, 4.0], steps=40)
    assert it.shape == (3, 41)
    qs = q_star("tanh", 2.0, 0.05)
    np.testing.assert_allclose(it[:, -1], qs, rtol=1e-8)
    prof = mean_field_profile("tanh", 2.0, 0.05, depth=10, width=512, batch=64, q0=4.0)
    np.testing.assert_allclose(prof.preact_second_moment, it[2, 1:11],
                               rtol=0.08)


def test_fixed_point_inputs_give_the_fixed_point():
    qs = q_star("tanh", 1.5, 0.1)
    x = fixed_point_inputs("tanh", qs, 512, 256, seed=0)
    assert x.dtype == torch.float64 and x.shape == (512, 256)
    # E[phi(h)^2] at h ~ N(0, q*) maps to q* under the layer
    assert (1.5 * (x ** 2).mean().item() + 0.1) == pytest.approx(qs, rel=0.02)
    assert input_variance("tanh", 0.5, 0.0) == 1.0  # q* = 0: start from 1 instead
    with pytest.raises(ValueError):
        fixed_point_inputs("tanh", -1.0, 2, 2)


def test_variance_profile_he_keeps_relu_variance_and_xavier_halves_it():
    base = MLPConfig(depth=20, width=256, activation="relu", in_features=256,
                     out_features=256, dtype="float64")
    he = variance_profile(base.replace(init="he"), batch=64, seed=0)
    xavier = variance_profile(base.replace(init="xavier"), batch=64, seed=0)
    ratio_he = he.preact_second_moment[-1] / he.preact_second_moment[0]
    ratio_xavier = xavier.preact_second_moment[-1] / xavier.preact_second_moment[0]
    assert 0.3 < ratio_he < 3.0
    assert ratio_xavier == pytest.approx(0.5 ** 19, rel=0.5)
    with pytest.raises(TypeError):
        variance_profile("relu")


def test_orthogonal_linear_network_is_an_exact_isometry():
    s = jacobian_singular_values("linear", 1.0, 0.0, init="orthogonal", depth=20, width=32)
    np.testing.assert_allclose(s, 1.0, rtol=1e-10)
    g = jacobian_singular_values("linear", 1.0, 0.0, init="gaussian", depth=20, width=32)
    assert g.max() / g.min() > 100  # Gaussian products spread their singular values


def test_tanh_critical_mean_square_singular_value_is_chi1_power():
    sb = 1e-3
    sw = critical_line("tanh", sb)
    kw = dict(depth=10, width=256, method="svd")  # every value is resolved at depth 10
    orth = jacobian_singular_values("tanh", sw, sb, init="orthogonal", **kw)
    assert np.mean(orth ** 2) == pytest.approx(1.0, rel=0.15)  # chi_1^depth = 1
    gauss = jacobian_singular_values("tanh", sw, sb, init="gaussian", **kw)
    assert np.std(np.log(orth)) < 0.5 * np.std(np.log(gauss))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="init"):
        random_network(2, 4, 1.0, 0.0, init="uniform")
    with pytest.raises(ValueError, match="depth"):
        measure_gradient_growth("tanh", 1.0, 0.0, depth=2)
    with pytest.raises(ValueError, match="valid choices"):
        measure_gradient_growth("swish", 1.0, 0.0)


def _haar(n, rng):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diagonal(r))


def test_log_singular_values_known_answer_beyond_float64_resolution():
    """Factors U_k D_k U_{k-1}^T multiply to U_L (D_L...D_1) U_0^T: the singular values are
    the products of the D's, here spanning 10^0 to 10^-60, far below what an SVD of the
    formed product resolves."""
    rng = np.random.default_rng(0)
    n, depth = 12, 10
    U = [_haar(n, rng) for _ in range(depth + 1)]
    d = 10.0 ** -np.linspace(0, 6, n)  # per factor; the product spans 60 decades
    exact = np.log(d) * depth
    factors = [U[k + 1] @ np.diag(d) @ U[k].T for k in range(depth)]
    got = log_singular_values(factors, tol=0, max_passes=3)
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-8)
    svd = np.linalg.svd(np.linalg.multi_dot(factors[::-1]), compute_uv=False)
    assert svd.min() > 1e10 * np.exp(exact.min())  # the SVD's smallest is round-off


def test_log_singular_values_agree_with_120_digit_arithmetic():
    mpmath = pytest.importorskip("mpmath")
    sb = 1e-3
    sw = critical_line("tanh", sb)
    factors = jacobian_factors("tanh", sw, sb, depth=30, width=16, seed=0)
    mpmath.mp.dps = 120
    product = mpmath.eye(16)
    for f in factors:
        product = mpmath.matrix(f.tolist()) * product
    exact = np.sort([float(mpmath.log(v)) for v in mpmath.svd_r(product, compute_uv=False)])
    got = log_singular_values(factors, tol=0, max_passes=8)
    np.testing.assert_allclose(got, exact[::-1], rtol=0, atol=1e-4)
    assert np.exp(exact.min()) < 1e-25  # below float64's resolution of the product


def test_gaussian_jacobian_tail_is_real_not_round_off():
    """At the lesson's point the log-QR 10th percentile is 2.42e-16 and the smallest
    singular value near 10^-43; the SVD of the formed product floors at ~10^-18."""
    sb = 1e-3
    sw = critical_line("tanh", sb)
    s = jacobian_singular_values("tanh", sw, sb, init="gaussian", depth=30, width=256)
    svd = jacobian_singular_values("tanh", sw, sb, init="gaussian", depth=30, width=256,
                                   method="svd")
    assert np.log10(np.percentile(s, 10)) == pytest.approx(-15.617, abs=0.01)
    assert np.log10(s.min()) == pytest.approx(-42.95, abs=0.1)
    assert svd.min() > 1e-19 and s.min() < 1e-40


def test_correlation_map_fixed_point_and_slope_is_chi1():
    for sw, sb in [(0.7, 0.05), (1.5, 0.05), (2.5, 0.05)]:
        assert correlation_map("tanh", 1.0, sw, sb) == pytest.approx(1.0, abs=1e-10)
        eps = 1e-5
        slope = (1.0 - correlation_map("tanh", 1.0 - eps, sw, sb)) / eps
        assert slope == pytest.approx(chi1("tanh", sw, sb), rel=1e-3)
    with pytest.raises(ValueError, match="q"):
        correlation_map("relu", 0.5, 3.0, 0.0)  # q* infinite
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        correlation_map("tanh", 1.5, 1.5, 0.05)


def test_variance_preserving_gain():
    assert variance_preserving_gain("relu") == pytest.approx(math.sqrt(2), rel=1e-12)
    assert variance_preserving_gain("linear") == pytest.approx(1.0, rel=1e-12)
    assert variance_preserving_gain(lambda x: np.where(x > 0, x, 0.2 * x)) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2), rel=1e-12)
    g = variance_preserving_gain("tanh")
    assert g == pytest.approx(1.592537, abs=1e-6) and g < 5 / 3
    # at that gain q = 1 is the tanh length map's fixed point
    assert length_map_iterates("tanh", g * g, 0.0, [1.0], steps=1)[0, 1] == pytest.approx(1.0)
    assert q_star("tanh", 25 / 9, 0.0) == pytest.approx(1.178480, abs=1e-5)
    with pytest.raises(ValueError, match="q"):
        variance_preserving_gain("tanh", 0.0)


def test_chaotic_correlation_fixed_point_and_its_depth_scale():
    """tanh at sigma_w2 = 2.5, sigma_b2 = 0.05: correlations settle at c* = 0.447 < 1, where the
    c-map's slope chi_c = 0.919 gives xi_c = 11.8 layers, unlike the gradient's 1/ln chi_1."""
    c = 0.0
    for _ in range(300):
        c = correlation_map("tanh", c, 2.5, 0.05)
    assert c == pytest.approx(0.4468, abs=2e-4)
    eps = 1e-5
    chi_c = (correlation_map("tanh", c + eps, 2.5, 0.05)
             - correlation_map("tanh", c - eps, 2.5, 0.05)) / (2 * eps)
    assert -1 / math.log(chi_c) == pytest.approx(11.80, abs=0.02)
    assert 1 / math.log(chi1("tanh", 2.5, 0.05)) == pytest.approx(7.98, abs=0.02)


def test_activation_second_moment_is_mean_of_phi_squared():
    config = MLPConfig(depth=3, width=6, activation="tanh", init="mean_field", sigma_w2=1.5,
                       sigma_b2=0.1, in_features=4, out_features=2, dtype="float64", seed=2)
    model = build_mlp(config)
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    prof = _run(model, x, v_seed=3)
    _, hs = _numpy_backprop(model, x, np.zeros((5, 2)))
    np.testing.assert_allclose(prof.activation_second_moment,
                               [np.mean(np.tanh(h) ** 2) for h in hs], rtol=1e-12)


def test_signal_measurements_validate_their_ranges():
    """Each size argument raises a ValueError naming it just outside its documented range
    and is accepted at its edge."""
    tiny = dict(sigma_w2=1.5, sigma_b2=0.05)
    for kw, name in [(dict(depth=0), "depth"), (dict(depth=1001), "depth"),
                     (dict(width=1), "width"), (dict(width=8193), "width"),
                     (dict(batch=0), "batch"), (dict(batch=100_001), "batch")]:
        with pytest.raises(ValueError, match=f"^{name} must be"):
            mean_field_profile("tanh", **tiny, **{"depth": 2, "width": 4, **kw})
    assert mean_field_profile("tanh", **tiny, depth=1, width=2, batch=1).depth == 1
    config = MLPConfig(depth=2, width=4, in_features=3, out_features=2, dtype="float64")
    for batch in (0, 100_001):
        with pytest.raises(ValueError, match="^batch must be"):
            variance_profile(config, batch=batch)
    assert variance_profile(config, batch=1).depth == 2
    with pytest.raises(TypeError, match="expected an MLPConfig, got str"):
        variance_profile("relu")
    for kw, name in [(dict(depth=2), "depth"), (dict(depth=1001), "depth"),
                     (dict(depth=8, skip=-1), "skip"), (dict(depth=8, skip=4), "skip")]:
        with pytest.raises(ValueError, match=f"^{name} must be"):
            measure_gradient_growth("tanh", **tiny, **{"width": 4, **kw})
    # skip runs from 0 to (depth - 2) // 2: at depth 8, ratios[3:4] is one middle ratio
    for depth, skip in [(3, 0), (8, 3), (9, 3)]:
        r = measure_gradient_growth("tanh", **tiny, depth=depth, width=4, skip=skip)
        assert r.skip == skip and r.depth == depth
    with pytest.raises(ValueError, match="^q must be"):
        fixed_point_inputs("tanh", -1.0, 2, 2)
    with pytest.raises(ValueError, match="unknown method 'qr'"):
        jacobian_singular_values("tanh", 1.0, 0.0, depth=2, width=4, method="qr")


def test_classify_chi1_boundaries():
    assert classify_chi1(1.5, tol=0.5) == "critical"  # |chi_1 - 1| <= tol
    assert classify_chi1(0.4, tol=0.5) == "ordered"
    assert classify_chi1(1.6, tol=0.5) == "chaotic"
    assert classify_chi1(math.inf) == "chaotic"  # ReLU past sigma_w2 = 2 in the deep limit
    assert classify_chi1(0.0) == "ordered"
    with pytest.raises(ValueError, match="^chi_1 must be"):
        classify_chi1(-0.5)


def test_inputs_and_draws_follow_the_seed():
    """Same seed, same numbers (the global generator plays no part); the draws are float64."""
    a = fixed_point_inputs("tanh", 1.0, 8, 4, seed=3)
    torch.manual_seed(123)
    assert torch.equal(a, fixed_point_inputs("tanh", 1.0, 8, 4, seed=3))
    assert not torch.equal(a, fixed_point_inputs("tanh", 1.0, 8, 4, seed=4))
    assert (a.float().double() != a).any()  # not float32 draws widened
    assert fixed_point_inputs("tanh", 1.0, 2, 3, dtype="float32").dtype == torch.float32
    config = MLPConfig(depth=3, width=8, in_features=5, out_features=2, dtype="float64")
    p = variance_profile(config, batch=16, seed=2)
    torch.manual_seed(7)
    q = variance_profile(config, batch=16, seed=2)
    np.testing.assert_array_equal(p.grad_sq_norm, q.grad_sq_norm)
    # the batch is the number of examples averaged over: more examples, other means
    assert not np.allclose(p.preact_second_moment,
                           variance_profile(config, batch=64, seed=2).preact_second_moment)


def test_mean_field_profile_starts_at_the_fixed_point_by_default():
    """q0 defaults to input_variance; the read-out maps width to width, so the last layer's
    ||dL/dh||^2 is about width * chi_1 (E[(W_out^T v)_i^2] = sigma_w2, summed with phi'^2 over
    width units)."""
    sw, sb = 1.5, 0.05
    kw = dict(depth=4, width=256, batch=64, seed=1)
    default = mean_field_profile("tanh", sw, sb, **kw)
    explicit = mean_field_profile("tanh", sw, sb, q0=input_variance("tanh", sw, sb), **kw)
    np.testing.assert_array_equal(default.grad_sq_norm, explicit.grad_sq_norm)
    assert default.grad_sq_norm[-1] == pytest.approx(256 * chi1("tanh", sw, sb), rel=0.15)
    assert mean_field_profile("tanh", sw, sb, width=2, batch=1).depth == 30  # the default


def test_gradient_growth_record_is_the_measured_profile():
    """Wiring: the record holds mean_field_profile's numbers at the fixed point (their own
    oracle is autograd, above); ratios, growth and prediction follow their definitions."""
    sw, sb, depth = 1.5, 0.05, 9
    r = measure_gradient_growth("tanh", sw, sb, depth=depth, width=32, seed=1, batch=8, skip=2)
    prof = mean_field_profile("tanh", sw, sb, depth=depth, width=32, batch=8, seed=1)
    np.testing.assert_array_equal(r.grad_sq_norm, prof.grad_sq_norm)
    np.testing.assert_array_equal(r.preact_var, prof.preact_second_moment)
    g = prof.grad_sq_norm
    np.testing.assert_allclose(r.ratios, g[:-1] / g[1:], rtol=1e-15)
    middle = r.ratios[2:depth - 1 - 2]
    assert r.growth == pytest.approx(np.exp(np.mean(np.log(middle))), rel=1e-12)
    np.testing.assert_allclose(r.prediction, g[-1] * r.chi1 ** np.arange(depth - 1, -1, -1))
    assert (r.activation, r.sigma_w2, r.sigma_b2, r.depth, r.width, r.seed, r.skip) == (
        "tanh", sw, sb, depth, 32, 1, 2)
    assert r.q_input == r.q_star == pytest.approx(q_star("tanh", sw, sb))
    assert "tanh" in repr(r) and "sigma_w2=1.5" in repr(r)


def test_gradient_growth_defaults_are_the_lessons_measurement():
    """Lesson 5 passes depth, width and seed and relies on batch 32 and skip 5."""
    r = measure_gradient_growth("tanh", 1.5, 0.05, depth=30, width=64)
    s = measure_gradient_growth("tanh", 1.5, 0.05, depth=30, width=64, seed=0, batch=32,
                                skip=5)
    assert r.growth == s.growth and r.skip == 5
    d = measure_gradient_growth("tanh", 1.5, 0.05, width=4)
    assert (d.depth, d.width, d.seed) == (30, 4, 0)


def _autograd_jacobian(activation, sw, sb, init, depth, width, seed):
    """d a_depth / d a_0 of the random network by autograd, at a_0 = phi(sqrt(q) x)."""
    W, b, x = random_network(depth, width, sw, sb, init=init, seed=seed)
    from helpers.activations import activation_fn
    phi = activation_fn(activation)
    a0 = torch.tensor(phi(math.sqrt(input_variance(activation, sw, sb)) * x))
    Wt = [torch.tensor(w) for w in W]
    bt = [torch.tensor(v) for v in b]

    def net(a):
        for w, v in zip(Wt, bt):
            a = torch.tanh(w @ a + v)
        return a

    return torch.autograd.functional.jacobian(net, a0).numpy()


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("init", ["gaussian", "orthogonal"])
def test_jacobian_singular_values_are_autograds(depth, init):
    sw, sb = 1.2, 0.05
    jac = _autograd_jacobian("tanh", sw, sb, init, depth, 6, seed=1)
    exact = np.linalg.svd(jac, compute_uv=False)
    kw = dict(init=init, depth=depth, width=6, seed=1)
    svd = jacobian_singular_values("tanh", sw, sb, method="svd", **kw)
    np.testing.assert_allclose(svd, exact, rtol=1e-12)
    log_qr = np.sort(jacobian_singular_values("tanh", sw, sb, **kw))[::-1]
    # the product of the values is |det J| whether or not the iteration has converged;
    # each value is within 5% here (measured at most 4.9%: nearly equal singular values
    # separate slowly in 8 passes of subspace iteration)
    assert np.sum(np.log(log_qr)) == pytest.approx(np.linalg.slogdet(jac)[1], abs=1e-10)
    np.testing.assert_allclose(log_qr, exact, rtol=0.05)


def test_jacobian_defaults_are_documented():
    """Gaussian weights, depth 30, width 256, seed 0 unless given."""
    d = jacobian_singular_values("tanh", 1.2, 0.05, depth=2, width=4)
    e = jacobian_singular_values("tanh", 1.2, 0.05, init="gaussian", depth=2, width=4, seed=0)
    np.testing.assert_array_equal(d, e)
    f = jacobian_factors("tanh", 1.2, 0.05, width=3)
    assert len(f) == 30 and f[0].shape == (3, 3)
    assert jacobian_singular_values("tanh", 1.2, 0.05, depth=1).shape == (256,)
    assert not np.array_equal(jacobian_factors("tanh", 1.2, 0.05, depth=2, width=4, seed=1)[0],
                              jacobian_factors("tanh", 1.2, 0.05, depth=2, width=4)[0])


def test_phase_grid_is_chi1_over_the_diagram_axes():
    g = phase_grid("tanh", n_w=3, n_b=2)
    np.testing.assert_allclose(g["sigma_w2"], [0.1, 2.05, 4.0])
    np.testing.assert_allclose(g["sigma_b2"], [0.0, 0.3])
    assert g["chi1"].shape == (2, 3)  # n_b rows, n_w columns
    for i, sb in enumerate(g["sigma_b2"]):
        for j, sw in enumerate(g["sigma_w2"]):
            assert g["chi1"][i, j] == pytest.approx(chi1("tanh", sw, sb), rel=1e-6)
        assert chi1("tanh", g["critical"][i], sb) == pytest.approx(1.0, rel=1e-6)
    for bad in (dict(n_w=1), dict(n_b=1001)):
        with pytest.raises(ValueError, match="^n_[wb] must be"):
            phase_grid("tanh", **bad)


def test_mean_field_profile_weights_follow_the_seed():
    """Wiring: the seed reaches the network's weights, not only the inputs and the read-out
    direction (lesson 5's seed control changes the weights it measures)."""
    from helpers.topics.initialization import _run, fixed_point_inputs, input_variance

    seed, width = 3, 16
    q0 = input_variance("tanh", 1.5, 0.05)
    got = mean_field_profile("tanh", 1.5, 0.05, depth=4, width=width, batch=8, seed=seed)
    x = fixed_point_inputs("tanh", q0, 8, width, seed=seed + 1)
    for weight_seed, same in ((seed, True), (0, False)):
        config = MLPConfig(depth=4, width=width, activation="tanh", init="mean_field",
                           sigma_w2=1.5, sigma_b2=0.05, in_features=width,
                           out_features=width, dtype="float64", seed=weight_seed)
        want = _run(build_mlp(config), x, v_seed=seed + 2)
        assert np.allclose(got.grad_sq_norm, want.grad_sq_norm, rtol=1e-12) is same
        assert np.allclose(got.preact_second_moment, want.preact_second_moment,
                           rtol=1e-12) is same


def test_bad_sizes_are_refused_word_for_word():
    """Each size argument names its range and the value it got."""
    tiny = dict(sigma_w2=1.5, sigma_b2=0.05)
    cases = [
        (lambda: mean_field_profile("tanh", **tiny, depth=0, width=4),
         "depth must be between 1 and 1000, got 0"),
        (lambda: mean_field_profile("tanh", **tiny, depth=1001, width=4),
         "depth must be between 1 and 1000, got 1001"),
        (lambda: mean_field_profile("tanh", **tiny, depth=2, width=1),
         "width must be between 2 and 8192, got 1"),
        (lambda: mean_field_profile("tanh", **tiny, depth=2, width=8193),
         "width must be between 2 and 8192, got 8193"),
        (lambda: mean_field_profile("tanh", **tiny, depth=2, width=4, batch=0),
         "batch must be between 1 and 100000, got 0"),
        (lambda: measure_gradient_growth("tanh", **tiny, depth=2, width=4),
         "depth must be between 3 and 1000, got 2"),
        (lambda: measure_gradient_growth("tanh", **tiny, depth=1001, width=4),
         "depth must be between 3 and 1000, got 1001"),
        (lambda: measure_gradient_growth("tanh", **tiny, depth=8, width=4, skip=4),
         "skip must be between 0 and 3, got 4"),
        (lambda: measure_gradient_growth("tanh", **tiny, depth=8, width=4, skip=-1),
         "skip must be between 0 and 3, got -1"),
        (lambda: phase_grid("tanh", n_w=1), "n_w must be between 2 and 1000, got 1"),
        (lambda: phase_grid("tanh", n_w=1001), "n_w must be between 2 and 1000, got 1001"),
        (lambda: phase_grid("tanh", n_b=1), "n_b must be between 2 and 1000, got 1"),
        (lambda: phase_grid("tanh", n_b=1001), "n_b must be between 2 and 1000, got 1001"),
        (lambda: fixed_point_inputs("tanh", -1.0, 2, 2), "q must be finite and >= 0, got -1.0"),
        (lambda: classify_chi1(-0.5), "chi_1 must be >= 0, got -0.5"),
        (lambda: classify_chi1(1.0, tol=-0.1), "tol must be finite and >= 0, got -0.1"),
        # an odd depth: the bound is rounded down, (9 - 2) // 2 = 3
        (lambda: measure_gradient_growth("tanh", **tiny, depth=9, width=4, skip=4),
         "skip must be between 0 and 3, got 4"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value) == message
    # and each edge is accepted
    assert phase_grid("tanh", n_w=2, n_b=2)["chi1"].shape == (2, 2)


def test_omitted_arguments_are_the_documented_defaults():
    """Leaving an argument out gives exactly the numbers of passing its documented default
    (the lessons rely on these defaults)."""
    config = MLPConfig(depth=2, width=8, in_features=3, out_features=2, dtype="float64")
    a, b = variance_profile(config), variance_profile(config, batch=128, seed=0)
    np.testing.assert_array_equal(a.grad_sq_norm, b.grad_sq_norm)
    np.testing.assert_array_equal(a.preact_second_moment, b.preact_second_moment)
    assert torch.equal(fixed_point_inputs("tanh", 1.0, 4, 3),
                       fixed_point_inputs("tanh", 1.0, 4, 3, seed=0, dtype="float64"))
    assert input_variance("tanh", 1.5) == input_variance("tanh", 1.5, 0.0) == pytest.approx(
        q_star("tanh", 1.5, 0.0))
    # mean_field_profile: sigma_b2 0, depth 30, width 512, batch 32, seed 0
    a = mean_field_profile("tanh", 1.5)
    b = mean_field_profile("tanh", 1.5, 0.0, depth=30, width=512, batch=32,
                           q0=input_variance("tanh", 1.5, 0.0), seed=0)
    np.testing.assert_array_equal(a.grad_sq_norm, b.grad_sq_norm)
    np.testing.assert_array_equal(a.preact_second_moment, b.preact_second_moment)
    # measure_gradient_growth: sigma_b2 0, depth 30, width 512, seed 0, batch 32, skip 5
    a = measure_gradient_growth("tanh", 1.5)
    b = measure_gradient_growth("tanh", 1.5, 0.0, 30, 512, 0, batch=32, skip=5)
    np.testing.assert_array_equal(a.grad_sq_norm, b.grad_sq_norm)
    assert (a.sigma_b2, a.depth, a.width, a.seed, a.skip, a.growth) == (
        0.0, 30, 512, 0, 5, b.growth)
    # the Jacobians: sigma_b2 0, gaussian weights, depth 30, width 256, seed 0
    for fa, fb in zip(jacobian_factors("tanh", 1.2),
                      jacobian_factors("tanh", 1.2, 0.0, init="gaussian", depth=30, width=256,
                                       seed=0), strict=True):
        np.testing.assert_array_equal(fa, fb)
    np.testing.assert_array_equal(
        jacobian_singular_values("tanh", 1.2, width=4),
        jacobian_singular_values("tanh", 1.2, 0.0, init="gaussian", depth=30, width=4, seed=0,
                                 method="log_qr"))
    # the phase diagram: 32 values of sigma_w2 by 13 of sigma_b2
    g, h = phase_grid("tanh"), phase_grid("tanh", n_w=32, n_b=13)
    assert g["chi1"].shape == (13, 32)
    for key in ("sigma_w2", "sigma_b2", "chi1", "critical"):
        np.testing.assert_array_equal(g[key], h[key])


def test_gradient_growth_summary_line():
    """The printed summary: the setting, measured growth against chi_1 with the relative
    error in percent, and the phase."""
    r = measure_gradient_growth("tanh", 1.5, 0.05, depth=9, width=32, seed=1, batch=8, skip=2)
    assert repr(r) == (
        f"GradientGrowth(tanh, sigma_w2=1.5, sigma_b2=0.05, depth=9, width=32: measured "
        f"growth {r.growth:.4f} vs chi_1 {r.chi1:.4f} "
        f"({100 * (r.growth / r.chi1 - 1):+.2f}%), {classify_chi1(r.chi1)})")
    assert repr(r).endswith("%), ordered)") and "(-" in repr(r)  # measured below chi_1 here


def test_a_dead_network_is_measured_quietly():
    """ReLU at sigma_w2 = 0.1 and width 4 loses every unit: each gradient is 0 and each
    ratio 0 / 0. The record says so with NaN ratios and growth, without a RuntimeWarning."""
    with warnings.catch_warnings(), np.errstate(all="warn"):
        warnings.simplefilter("error")
        r = measure_gradient_growth("relu", 0.1, 0.0, depth=40, width=4)
    assert not r.grad_sq_norm.any() and np.isnan(r.ratios).all() and math.isnan(r.growth)
