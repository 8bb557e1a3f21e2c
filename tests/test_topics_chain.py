"""helpers.topics.chain: the scalar chain's hand-written backward pass and the Jacobian products,
checked against PyTorch autograd."""

import math
import re

import numpy as np
import pytest
import torch

from helpers.activations import ACTIVATIONS
from helpers.jacobians import random_network
from helpers.theory import chain_bound, chi1
from helpers.topics.chain import (
    autograd_chain_gradients,
    autograd_input_jacobian,
    bound_to_output,
    depth_below,
    input_gradients,
    jacobian_norms,
    scalar_chain,
)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_scalar_chain_matches_autograd(activation):
    rng = np.random.default_rng(1)
    w, b = rng.normal(0, 1.5, 12), rng.normal(0, 1.0, 12)
    r = scalar_chain(w, b, activation, 0.7)
    ref = autograd_chain_gradients(w, b, activation, 0.7)
    np.testing.assert_allclose(r.grad, ref, rtol=1e-10, atol=1e-300)
    assert r.grad[-1] == 1.0 and r.a.shape == (13,) and r.z.shape == (12,)


def test_autograd_reference_is_independent_of_numpy_backward():
    # Build the chain directly in torch, so the oracle does not share code with the package.
    w, b = [0.5, -2.0, 3.0], [0.1, 0.0, -0.2]
    x = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    a = x
    for wk, bk in zip(w, b, strict=True):
        a = torch.tanh(wk * a + bk)
    (g,) = torch.autograd.grad(a, x)
    assert scalar_chain(w, b, "tanh", 0.3).grad[0] == pytest.approx(float(g), rel=1e-12)


def test_forward_values_and_local_factors():
    r = scalar_chain([2.0, -1.0], [0.5, 0.0], "sigmoid", 1.0)
    s = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    assert r.z[0] == pytest.approx(2.5)
    assert r.a[1] == pytest.approx(s(2.5))
    assert r.local[1] == pytest.approx(-1.0 * s(r.z[1]) * (1 - s(r.z[1])))
    assert r.grad[0] == pytest.approx(r.local[0] * r.local[1])


def test_bound_holds_and_matches_theory():
    rng = np.random.default_rng(3)
    for act in ("sigmoid", "tanh", "relu", "gelu"):
        w = rng.normal(0, 2, 20)
        r = scalar_chain(w, rng.normal(0, 1, 20), act, 0.1)
        assert np.all(np.abs(r.grad) <= r.bound * (1 + 1e-12))
        # bound[0] is the theory module's bound for the whole chain
        assert r.bound[0] == pytest.approx(chain_bound(w, act)[-1], rel=1e-12)
    np.testing.assert_allclose(bound_to_output([1.0, 1.0, 1.0]), [1 / 64, 1 / 16, 1 / 4, 1])


def test_best_case_reaches_the_bound_and_explosion():
    r = scalar_chain(np.ones(10), -0.5, "sigmoid", 0.5)  # z_k = 0 exactly
    assert r.grad[0] == 0.25**10 == r.bound[0]
    r = scalar_chain(np.full(20, 8.0), -4.0, "sigmoid", 0.5)
    assert r.grad[0] == 2.0**20


def test_dead_relu_gives_exact_zero_and_overflow_is_inf():
    assert scalar_chain(np.full(5, 2.0), 0.0, "relu", -1.0).grad[0] == 0.0
    r = scalar_chain(np.full(1000, 16.0), -8.0, "sigmoid", 0.5)  # 4^1000 overflows
    assert np.isposinf(r.grad[0]) and np.isposinf(r.bound[0])


def test_depth_below_and_input_gradients():
    r = scalar_chain(np.ones(60), -0.5, "sigmoid", 0.5)
    np.testing.assert_allclose(input_gradients(r), 0.25 ** np.arange(1, 61))
    assert depth_below(r, 1e-6) == 10
    assert depth_below(r, 1e-300) is None


@pytest.mark.parametrize("bad", [dict(weights=[]), dict(weights=[[1.0]]),
                                 dict(weights=[np.inf]), dict(biases=[0.0, 1.0])])
def test_invalid_inputs(bad):
    args = dict(weights=[1.0], biases=0.0, activation="sigmoid", x0=0.0) | bad
    with pytest.raises(ValueError):
        scalar_chain(**args)
    with pytest.raises(ValueError, match="valid choices"):
        scalar_chain([1.0], 0.0, "sigmoidd", 0.0)


@pytest.mark.parametrize("activation,sigma_w,sigma_b", [("sigmoid", 4.0, 0.0), ("relu", 1.4, 0.3),
                                                        ("tanh", 1.2, 0.1)])
def test_jacobian_norms_match_autograd(activation, sigma_w, sigma_b):
    m = jacobian_norms(6, 16, activation, sigma_w, sigma_b, seed=4)
    for L in (1, 3, 6):
        J = autograd_input_jacobian(L, 16, activation, sigma_w, sigma_b, seed=4)
        # The first L layers of the depth-6 network are the depth-L network only if the draws
        # match; random_network draws all weights first, so compare with a depth-L jacobian_norms.
        mL = jacobian_norms(L, 16, activation, sigma_w, sigma_b, seed=4)
        assert mL.spectral[-1] == pytest.approx(np.linalg.norm(J, 2), rel=1e-10)
        assert mL.rms[-1] == pytest.approx(np.linalg.norm(J) / 4.0, rel=1e-10)
    assert m.depth == 6


def test_jacobian_factor_norm_and_prefix_consistency():
    W, b, x = random_network(3, 8, 2.0**2, 0.0, seed=0)
    m = jacobian_norms(3, 8, "tanh", 2.0, seed=0)
    z = W[0] @ x
    D = 1 / np.cosh(z) ** 2
    assert m.factor_norm[0] == pytest.approx(np.linalg.norm(W[0].T @ np.diag(D), 2))
    assert m.weight_norm[0] == pytest.approx(np.linalg.norm(W[0], 2))
    assert m.spectral[0] == pytest.approx(np.linalg.norm(np.diag(D) @ W[0], 2))


def test_rms_gain_follows_mean_field():
    # Per-layer RMS gain of a width-64 net is close to sqrt(chi_1) (ReLU: sigma_w / sqrt 2).
    for act, s in (("relu", 1.0), ("sigmoid", 1.0)):
        m = jacobian_norms(40, 64, act, s, seed=0)
        gain = m.rms[-1] ** (1 / 40)
        assert gain == pytest.approx(np.sqrt(chi1(act, s * s)), rel=0.05)


# -- tests that kill surviving mutants of numbers the lessons show -------------------------


def _torch_chain_input_grads(weights, biases, activation, x0):
    """d a_n / d a_0 for every n by autograd, one chain of the first n layers at a time."""
    from helpers.activations import get_spec

    phi = get_spec(activation).module()
    out = []
    for n in range(1, len(weights) + 1):
        a0 = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
        a = a0
        for w, b in zip(weights[:n], biases[:n]):
            a = phi(w * a + b)
        (g,) = torch.autograd.grad(a, a0)
        out.append(float(g))
    return np.array(out)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_input_gradients_and_depth_below_against_autograd(activation):
    from helpers.topics.chain import depth_below, input_gradients, scalar_chain

    rng = np.random.default_rng(4)
    w, b = rng.normal(1.0, 1.0, 12), rng.normal(0.3, 0.5, 12)
    r = scalar_chain(w, b, activation, 0.4)
    want = _torch_chain_input_grads(w, b, activation, 0.4)
    np.testing.assert_allclose(input_gradients(r), want, rtol=1e-12, atol=1e-300)
    assert r.activation == activation
    mags = np.abs(input_gradients(r))  # (equal to want within 1e-12, checked above)
    for n in range(1, len(w) + 1):
        threshold = mags[n - 1]  # exactly the n-th magnitude: "below" is strict
        first = next((k + 1 for k, m in enumerate(mags) if m < threshold), None)
        assert depth_below(r, threshold) == first
    assert depth_below(r, 0.0) is None


def _prefix(W, b, k, h):
    for j in range(k):  # the first k tanh layers of the network
        h = torch.tanh(torch.from_numpy(W[j]) @ h + torch.from_numpy(b[j]))
    return h


def test_jacobian_norms_against_autograd_and_defaults():
    from helpers.jacobians import random_network
    from helpers.topics.chain import autograd_input_jacobian, jacobian_norms

    depth, width = 5, 8
    res = jacobian_norms(depth, width, "tanh", sigma_w=1.3, sigma_b=0.2, seed=3)
    W, b, x = random_network(depth, width, 1.3**2, 0.2**2, seed=3)
    np.testing.assert_allclose(
        autograd_input_jacobian(depth, width, "tanh", sigma_w=1.3, sigma_b=0.2, seed=3),
        torch.autograd.functional.jacobian(
            lambda h: _prefix(W, b, depth, h), torch.from_numpy(x)).numpy(), rtol=1e-12)
    for k in range(1, depth + 1):
        J = torch.autograd.functional.jacobian(lambda h, k=k: _prefix(W, b, k, h),
                                               torch.from_numpy(x)).numpy()
        assert res.spectral[k - 1] == pytest.approx(np.linalg.svd(J, compute_uv=False)[0],
                                                    rel=1e-10)
        assert res.rms[k - 1] == pytest.approx(np.sqrt((J ** 2).sum() / width), rel=1e-10)
    h = torch.from_numpy(x)
    for k in range(depth):
        z = (torch.from_numpy(W[k]) @ h + torch.from_numpy(b[k])).requires_grad_()
        torch.tanh(z).sum().backward()
        d = z.grad.numpy()
        assert res.mean_derivative[k] == pytest.approx(d.mean(), rel=1e-12)
        top = np.linalg.svd(W[k], compute_uv=False)[0]
        assert res.weight_norm[k] == pytest.approx(top, rel=1e-10)
        assert res.factor_norm[k] == pytest.approx(
            np.linalg.svd(W[k].T @ np.diag(d), compute_uv=False)[0], rel=1e-10)
        h = torch.tanh(z.detach())
    d1, d2 = jacobian_norms(3), jacobian_norms(3, 64, "sigmoid", 1.0, 0.0, 0)
    assert d1.width == 64 and np.array_equal(d1.spectral, d2.spectral)
    np.testing.assert_array_equal(autograd_input_jacobian(2).shape, (64, 64))


def test_autograd_network_gradients_agree_with_the_input_jacobian():
    """grad_h[0] = J^T grad_out for the same network, and every shape is the parameter's."""
    from helpers.jacobians import random_network
    from helpers.topics.chain import autograd_input_jacobian, autograd_network_gradients

    W, b, x = random_network(5, 6, 2.0, 0.1, seed=3)
    g = np.random.default_rng(0).normal(size=6)
    grad_h, grad_W = autograd_network_gradients(x, list(W), list(b), "tanh", g)
    J = autograd_input_jacobian(5, 6, "tanh", sigma_w=math.sqrt(2.0), sigma_b=math.sqrt(0.1),
                                seed=3)
    np.testing.assert_allclose(grad_h[0], J.T @ g, rtol=1e-12, atol=1e-15)
    assert len(grad_h) == 6 and np.array_equal(grad_h[-1], g)
    assert [w.shape for w in grad_W] == [(6, 6)] * 5


def test_sigmoid_at_sigma_w_16_grows_below_the_mean_field_rate():
    """Lesson 2: over 5 seeds one width-64 network's RMS gain per layer is 1.13-1.20, below
    sqrt(chi_1) = 1.246 (mean square, infinite width); narrower networks fall further below."""
    from helpers.theory import chi1
    from helpers.topics.chain import over_seeds

    theory = math.sqrt(chi1("sigmoid", 256.0, 0.0))
    assert round(theory, 3) == 1.246
    wide = over_seeds(60, 64, "sigmoid", 16.0)["rms_rate"]
    assert wide.size == 5 and 1.12 < wide.min() and wide.max() < 1.20 < theory
    narrow = over_seeds(60, 16, "sigmoid", 16.0)["rms_rate"]
    assert narrow.mean() < wide.mean() - 0.1


def test_relu_at_criticality_keeps_the_rms_gain_but_the_spectrum_spreads():
    """Lesson 2: ReLU at sigma_w = sqrt 2: RMS gain per layer 0.97-1.01 over 5 seeds, while
    ||J_60||_2 = 12.1 for seed 0 and the spectral norm is over 6 times the RMS gain for
    every seed."""
    from helpers.topics.chain import over_seeds

    r = over_seeds(60, 64, "relu", math.sqrt(2.0))
    assert np.all(np.abs(r["rms_rate"] - 1.0) < 0.03)
    assert round(float(r["spectral"][0]), 1) == 12.1
    assert np.all(r["spectral"] / r["rms"] > 6.0)
    with pytest.raises(ValueError, match="^seeds must name at least one seed$"):
        over_seeds(3, 4, "relu", 1.0, seeds=())


def test_a_sigmoid_chain_of_depth_100_loses_about_65_decades():
    """Lesson 2 (under the explorer): w = 1, b = 0, a_0 = 0.5, depth 100."""
    g = scalar_chain(np.ones(100), 0.0, "sigmoid", x0=0.5).grad[0]
    assert round(-math.log10(g), 1) == 64.8


def test_error_messages_name_the_offending_argument():
    """A user who passes a wrong value is told which argument and why."""
    cases = [(dict(weights=[]), "weights must be a non-empty 1-D"),
             (dict(weights=[1.0, np.nan]), "weights must be finite"),
             (dict(biases=[0.0, 1.0]), "biases has 2 entries but the chain has 1 layers"),
             (dict(biases=[np.inf]), "biases must be finite"),
             (dict(weights=np.ones(1001), biases=0.0), "between 1 and 1000 layers, got 1001"),
             (dict(x0=np.nan), "x0 must be a finite number")]
    for bad, message in cases:
        args = dict(weights=[1.0], biases=0.0, activation="sigmoid", x0=0.0) | bad
        with pytest.raises(ValueError, match=message):
            scalar_chain(**args)
    with pytest.raises(ValueError, match="weights must be finite"):
        bound_to_output([np.inf])
    with pytest.raises(ValueError, match="weights must be a non-empty"):
        autograd_chain_gradients([], 0.0, "tanh", 0.0)
    with pytest.raises(ValueError, match="biases has 1 entries but the chain has 2"):
        autograd_chain_gradients([1.0, 1.0], [0.0], "tanh", 0.0)
    for kwargs, message in [(dict(sigma_w=-1.0), "sigma_w must be finite and >= 0, got -1.0"),
                            (dict(sigma_b=-0.1), "sigma_b must be finite and >= 0, got -0.1"),
                            (dict(width=0), "width must be between 1 and 1024, got 0"),
                            (dict(width=1025), "width must be between 1 and 1024, got 1025")]:
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            jacobian_norms(2, **kwargs)


def test_chain_result_holds_float64_inputs_and_phi_prime_at_each_z():
    """Integer inputs give the same float64 chain; ``derivative`` is phi'(z_k) (autograd) and
    ``biases`` is the per-layer bias, a single number repeated."""
    r = scalar_chain([2, -1, 3], 1, "tanh", 1)
    ref = scalar_chain([2.0, -1.0, 3.0], 1.0, "tanh", 1.0)
    for field in ("weights", "biases", "z", "a", "derivative", "local", "grad", "bound"):
        value = getattr(r, field)
        assert value.dtype == np.float64, field
        np.testing.assert_array_equal(value, getattr(ref, field))
    np.testing.assert_array_equal(r.biases, [1.0, 1.0, 1.0])
    z = torch.tensor(r.z, requires_grad=True)
    torch.tanh(z).sum().backward()
    np.testing.assert_allclose(r.derivative, z.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(r.local, r.weights * r.derivative, rtol=1e-14)


def test_autograd_oracle_takes_one_bias_for_every_layer():
    w = [1.5, -0.7, 2.0]
    np.testing.assert_array_equal(autograd_chain_gradients(w, 0.3, "tanh", 0.2),
                                  autograd_chain_gradients(w, [0.3] * 3, "tanh", 0.2))


def test_jacobian_norms_accepts_the_whole_slider_range():
    """sigma_w below 1 (the ordered phase), sigma_b = 0 and width 1 (a scalar network, whose
    Jacobian is the product of the local factors) are valid settings."""
    m = jacobian_norms(4, 8, "tanh", sigma_w=0.5, sigma_b=0.0, seed=1)
    assert m.activation == "tanh" and m.sigma_w == 0.5 and m.sigma_b == 0.0 and m.width == 8
    assert np.all(np.diff(m.rms) < 0)  # ordered phase: the gain shrinks with depth
    assert jacobian_norms(2, 4, "tanh", sigma_w=1.0, sigma_b=0.3).sigma_b == 0.3
    one = jacobian_norms(5, 1, "tanh", sigma_w=1.5, sigma_b=0.2, seed=2)
    J = autograd_input_jacobian(5, 1, "tanh", sigma_w=1.5, sigma_b=0.2, seed=2)
    assert J.shape == (1, 1)
    assert one.spectral[-1] == pytest.approx(abs(J[0, 0]), rel=1e-12)
    assert one.rms[-1] == pytest.approx(abs(J[0, 0]), rel=1e-12)


def test_an_overflowing_jacobian_is_reported_as_infinite():
    """Once J_L overflows, its norms are inf (not a failed SVD or NaN)."""
    m = jacobian_norms(200, 8, "relu", sigma_w=100.0, seed=0)
    assert np.isfinite(m.spectral[0]) and np.isfinite(m.rms[0])
    assert np.isposinf(m.spectral[-1]) and np.isposinf(m.rms[-1])
    first = np.flatnonzero(np.isinf(m.spectral))[0]
    assert np.all(np.isposinf(m.spectral[first:])) and np.all(np.isposinf(m.rms[first:]))


def test_autograd_input_jacobian_defaults_are_those_of_jacobian_norms():
    """With no settings both functions describe the same network (width 64, sigmoid,
    sigma_w = 1, sigma_b = 0, seed 0)."""
    J = autograd_input_jacobian(3)
    m = jacobian_norms(3)
    assert m.spectral[-1] == pytest.approx(np.linalg.norm(J, 2), rel=1e-10)
    assert m.rms[-1] == pytest.approx(np.linalg.norm(J) / 8.0, rel=1e-10)


def test_over_seeds_is_one_jacobian_norms_run_per_seed():
    """Entry i is jacobian_norms at seed i: its full-depth RMS gain, that gain per layer
    (the L-th root) and its spectral norm; the defaults are those of jacobian_norms."""
    from helpers.topics.chain import over_seeds

    r = over_seeds(4, 8, "tanh", 1.5, seeds=[0, 7])
    assert set(r) == {"seeds", "rms_rate", "rms", "spectral"}
    np.testing.assert_array_equal(r["seeds"], [0, 7])
    for i, s in enumerate((0, 7)):
        m = jacobian_norms(4, 8, "tanh", sigma_w=1.5, seed=s)
        assert r["rms"][i] == m.rms[-1] and r["spectral"][i] == m.spectral[-1]
        assert r["rms_rate"][i] == pytest.approx(m.rms[-1] ** 0.25, rel=1e-14)
    assert r["rms"][0] != r["rms"][1]  # two seeds, two networks
    single = over_seeds(3, 8, "tanh", 1.5, seeds=[5])
    assert single["rms"][0] == jacobian_norms(3, 8, "tanh", sigma_w=1.5, seed=5).rms[-1]
    default = over_seeds(2, seeds=[1])
    assert default["spectral"][0] == jacobian_norms(2, seed=1).spectral[-1]


def test_autograd_network_gradients_are_float64_and_need_one_bias_per_layer():
    """Integer or float32 inputs are computed in float64; a missing bias is an error."""
    from helpers.topics.chain import autograd_network_gradients

    W = [[[1, -2], [0, 1]], [[2, 1], [1, -1]]]
    b = [[0, 1], [1, 0]]
    grad_h, grad_W = autograd_network_gradients([1, 2], W, b, "tanh", [1, -1])
    ref_h, ref_W = autograd_network_gradients(
        np.array([1.0, 2.0]), [np.array(w, dtype=np.float64) for w in W],
        [np.array(v, dtype=np.float64) for v in b], "tanh", np.array([1.0, -1.0]))
    for got, want in zip(grad_h + grad_W, ref_h + ref_W, strict=True):
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want)
    f32 = [np.array(w, dtype=np.float32) / 3 for w in W]
    h32, W32 = autograd_network_gradients(np.float32([0.1, 0.2]), f32,
                                          [np.float32(v) / 7 for v in b], "tanh",
                                          np.float32([1.0, -1.0]))
    assert all(g.dtype == np.float64 for g in h32 + W32)
    with pytest.raises(ValueError):
        autograd_network_gradients([1.0, 2.0], W, b[:1], "tanh", [1.0, -1.0])


def test_the_results_print_their_summary():
    """What a student sees on printing a result: the setting and the headline numbers, each
    formatted from the arrays (a_L, d a_L / d a_0 and the bound at 4 significant digits)."""
    r = scalar_chain([2.0, -1.0, 3.0], 1.0, "tanh", 1.0)
    assert repr(r) == (f"ChainResult(tanh, depth=3, a_L={r.a[-1]:.4g}, "
                       f"d a_L/d a_0={r.grad[0]:.4g}, bound={r.bound[0]:.4g})")
    assert repr(r) == "ChainResult(tanh, depth=3, a_L=0.7678, d a_L/d a_0=-0.0243, bound=6)"
    m = jacobian_norms(3, 8, "tanh", 1.5, seed=0)
    assert repr(m) == ("JacobianNorms(tanh, sigma_w=1.5, width=8, depth=3, "
                       f"||J||_2 at full depth={m.spectral[-1]:.3g})")
    assert m.spectral[-1] == pytest.approx(np.linalg.norm(
        autograd_input_jacobian(3, 8, "tanh", 1.5, seed=0), 2), rel=1e-12)
