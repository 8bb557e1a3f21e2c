"""Tests for helpers.theory: closed forms, quadrature, Monte Carlo and wide random networks."""

import math

import numpy as np
import pytest
import torch
from oracles import gradient_norm_prediction
from scipy import integrate

from helpers import theory
from helpers.activations import ACTIVATIONS, activation_fn, derivative
from helpers.capture import gradient_profile
from helpers.models import MLPConfig, build_mlp
from helpers.theory import (
    chain_bound,
    chi1,
    chi1_grid,
    critical_line,
    depth_scale,
    expected_squared_derivative,
    gaussian_expectation,
    length_map,
    monte_carlo_squared_derivative,
    q_star,
    sigmoid_derivative_bound,
)

NAMES = list(ACTIVATIONS)
QS = [0.1, 1.0, 4.0]


def quad_expectation(f, q):
    """E[f(sqrt(q) z)], z ~ N(0, 1), by adaptive quadrature split at the kink z = 0."""
    def g(z):
        return f(np.array(math.sqrt(q) * z)) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    lo = integrate.quad(g, -np.inf, 0.0, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
    hi = integrate.quad(g, 0.0, np.inf, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
    return lo + hi


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("q", QS)
def test_expected_squared_derivative_vs_quad_and_monte_carlo(name, q):
    d = derivative(name)
    exact = expected_squared_derivative(name, q)
    assert exact == pytest.approx(quad_expectation(lambda x: d(x) ** 2, q), abs=1e-10)
    mean, se = monte_carlo_squared_derivative(name, q, n=100_000, seed=1)
    assert abs(mean - exact) <= 4 * se + 1e-12  # + 1e-12: linear's estimate has se = 0


@pytest.mark.parametrize("q", QS)
def test_expected_squared_derivative_closed_forms(q):
    assert expected_squared_derivative("relu", q) == pytest.approx(0.5, abs=1e-12)
    assert expected_squared_derivative("leaky_relu", q) == pytest.approx((1 + 0.01**2) / 2,
                                                                         abs=1e-12)
    assert expected_squared_derivative("linear", q) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(expected_squared_derivative("relu", np.array(QS)), 0.5, atol=1e-12)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "gelu"])
def test_length_map_vs_quad(name):
    f = activation_fn(name)
    for q in QS:
        expected = 1.3 * quad_expectation(lambda x: f(x) ** 2, q) + 0.2
        assert length_map(name, q, 1.3, 0.2) == pytest.approx(expected, abs=1e-10)


def test_length_map_closed_forms_and_gaussian_moments():
    assert length_map("relu", 3.0, 1.5, 0.1) == pytest.approx(1.5 * 3.0 / 2 + 0.1, rel=1e-12)
    assert length_map("linear", 3.0, 1.5, 0.1) == pytest.approx(1.5 * 3.0 + 0.1, rel=1e-12)
    np.testing.assert_allclose(gaussian_expectation(lambda x: x**2, np.array([0.5, 2.0])),
                               [0.5, 2.0], rtol=1e-12)
    assert gaussian_expectation(np.ones_like) == pytest.approx(1.0, abs=1e-12)


POINTS = [("tanh", 0.5, 0.05), ("tanh", 1.5, 0.05), ("tanh", 3.0, 0.3), ("sigmoid", 4.0, 0.1),
          ("relu", 1.5, 0.1), ("gelu", 1.2, 0.05), ("silu", 2.5, 0.1), ("elu", 1.0, 0.1)]


@pytest.mark.parametrize("name, sw, sb", POINTS)
def test_q_star_is_a_fixed_point(name, sw, sb):
    q = q_star(name, sw, sb)
    assert np.isfinite(q) and q > 0
    assert length_map(name, q, sw, sb) == pytest.approx(q, rel=1e-9, abs=1e-12)


def test_q_star_vectorised_and_relu_closed_form():
    sw = np.array([0.5, 1.0, 1.5])
    np.testing.assert_allclose(q_star("relu", sw, 0.1), 0.1 / (1 - sw / 2), rtol=1e-9)
    assert q_star("tanh", 0.5, 0.0) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("sw, sb", [(2.001, 0.0), (2.01, 0.0), (2.1, 0.0), (2.5, 0.0), (3.0, 0.1),
                                    (2.0, 0.1)])
def test_relu_q_star_is_infinite_beyond_two(sw, sb):
    assert q_star("relu", sw, sb) == math.inf
    assert np.all(np.isinf(q_star("relu", np.array([sw, sw]), sb)))


def test_chi1_known_values():
    assert chi1("tanh", 1.0, 0.0) == pytest.approx(1.0, abs=1e-9)
    assert chi1("relu", 2.0, 0.0) == pytest.approx(1.0, abs=1e-12)
    for sw in (0.5, 1.0, 3.0):  # ReLU: chi1 = sigma_w2 / 2 whatever q*
        assert chi1("relu", sw, 0.1) == pytest.approx(sw / 2, rel=1e-12)
    assert chi1("tanh", 0.5, 0.05) < 1 < chi1("tanh", 3.0, 0.05)


def test_chi1_equals_its_definition():
    for name, sw, sb in POINTS:
        q = q_star(name, sw, sb)
        assert chi1(name, sw, sb) == pytest.approx(sw * expected_squared_derivative(name, q),
                                                   rel=1e-12)


def test_critical_line():
    assert critical_line("tanh", 0.0) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(critical_line("relu", np.array([0.0, 0.1, 0.5])), 2.0, atol=1e-8)
    sb = np.array([0.01, 0.05, 0.2])
    line = critical_line("tanh", sb)
    assert line.shape == (3,) and np.all(np.diff(line) > 0)
    np.testing.assert_allclose(chi1("tanh", line, sb), 1.0, atol=1e-7)
    assert math.isnan(critical_line("tanh", 0.05, lo=0.05, hi=1.0))  # no crossing in range


def test_depth_scale_and_prediction():
    for name, sw, sb in POINTS:
        assert depth_scale(name, sw, sb) == pytest.approx(1 / abs(math.log(chi1(name, sw, sb))))
    assert depth_scale("relu", 2.0, 0.0) == math.inf or depth_scale("relu", 2.0, 0.0) > 1e10
    pred = gradient_norm_prediction("tanh", 0.5, 0.05, 5)
    c = chi1("tanh", 0.5, 0.05)
    np.testing.assert_allclose(pred, [c**4, c**3, c**2, c, 1.0], rtol=1e-12)
    grid = chi1_grid("tanh", [0.5, 1.0, 2.0], [0.0, 0.1])
    assert grid.shape == (2, 3)
    assert grid[1, 2] == pytest.approx(chi1("tanh", 2.0, 0.1), rel=1e-12)


def test_sigmoid_derivative_bound():
    for d in range(31):
        assert sigmoid_derivative_bound(d) == 0.25**d
    assert sigmoid_derivative_bound(np.int64(3)) == 0.25**3


def test_chain_bound_holds_for_autograd_chains():
    w = [2.0, -4.0, 0.5]
    np.testing.assert_allclose(chain_bound(w), [0.5, 0.5, 0.0625])
    np.testing.assert_allclose(chain_bound(w, "tanh"), [2.0, 8.0, 4.0])
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        weights = torch.randn(8, generator=g, dtype=torch.float64) * 3
        biases = torch.randn(8, generator=g, dtype=torch.float64)
        a0 = torch.randn((), generator=g, dtype=torch.float64, requires_grad=True)
        a, grads = a0, []
        for wj, bj in zip(weights, biases):
            a = torch.sigmoid(wj * a + bj)
            grads.append(abs(torch.autograd.grad(a, a0, retain_graph=True)[0].item()))
        assert np.all(np.array(grads) <= chain_bound(weights.numpy()) * (1 + 1e-12))


@pytest.mark.slow
@pytest.mark.parametrize(
    "activation, sigma_w2, sigma_b2",
    [("tanh", 0.5, 0.05),  # ordered: chi1 = 0.432
     ("tanh", "critical", 0.05),  # sigma_w2 = 1.761 on the critical line: chi1 = 1
     ("tanh", 3.0, 0.05),  # chaotic: chi1 = 1.209
     ("relu", 2.0, 0.0)],  # He init: chi1 = 1
)
def test_chi1_matches_wide_random_network(activation, sigma_w2, sigma_b2):
    """The per-layer growth of ||dL/da_l||^2 in a wide network equals chi1.

    Depth 20, width 1000, float64, 32 inputs drawn from the fixed-point distribution
    (phi(sqrt(q*) z), so every layer's pre-activations have variance q*), and a loss
    sum(output * R) with R random, so that a random direction is back-propagated from the
    last hidden layer. The growth factor ||dL/da_{l-1}||^2 / ||dL/da_l||^2 is averaged
    geometrically over the 15 middle ratios (the first two and last two are left out).

    Tolerance 5% relative: over seeds 0..2 and these four points the measured geometric
    mean differed from chi1 by at most 1.0% (single layers by up to 8%, finite-width
    noise ~ 1 / sqrt(width * batch)), so 5% is five times the worst deviation seen while
    still rejecting a wrong phase (chi1 differs from 1 by 20% or more off the critical line).
    """
    if sigma_w2 == "critical":
        sigma_w2 = critical_line(activation, sigma_b2)
    depth, width, batch = 20, 1000, 32
    qs = q_star(activation, sigma_w2, sigma_b2)
    qs = qs if np.isfinite(qs) and qs > 1e-12 else 1.0  # ReLU at sigma_w2 = 2: any q is fixed
    cfg = MLPConfig(depth=depth, width=width, init="mean_field", sigma_w2=sigma_w2,
                    sigma_b2=sigma_b2, activation=activation, in_features=width,
                    out_features=width, dtype="float64", seed=0)
    model = build_mlp(cfg)
    g = torch.Generator().manual_seed(1)
    z = math.sqrt(qs) * torch.randn(batch, width, generator=g, dtype=torch.float64)
    X = torch.from_numpy(activation_fn(activation)(z.numpy()))
    R = torch.randn(batch, width, generator=g, dtype=torch.float64)
    p = gradient_profile(model, X, torch.zeros(batch), loss=lambda out, y: (out * R).sum())
    sq = p.activation_grad_norm[:depth] ** 2  # hidden layers 1..depth
    growth = sq[:-1] / sq[1:]
    measured = float(np.exp(np.log(growth[2:-2]).mean()))
    assert measured == pytest.approx(chi1(activation, sigma_w2, sigma_b2), rel=0.05)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: expected_squared_derivative("tanh", -1.0), ValueError, "finite and >= 0"),
        (lambda: expected_squared_derivative("tanh", float("nan")), ValueError, "finite and >= 0"),
        (lambda: expected_squared_derivative("swish", 1.0), ValueError, "valid choices: sigmoid"),
        (lambda: monte_carlo_squared_derivative("tanh", -2.0), ValueError, "finite and >= 0"),
        (lambda: monte_carlo_squared_derivative("tanh", 1.0, n=1), ValueError,
         "n must be an int >= 2"),
        (lambda: length_map("tanh", 1.0, 0.0), ValueError, "sigma_w2 must be finite and > 0"),
        (lambda: length_map("tanh", 1.0, -1.0), ValueError, "sigma_w2 must be finite and > 0"),
        (lambda: length_map("tanh", 1.0, 1.0, -0.1), ValueError,
         "sigma_b2 must be finite and >= 0"),
        (lambda: length_map("tanh", -1.0, 1.0), ValueError, "finite and >= 0"),
        (lambda: q_star("tanh", 0.0), ValueError, "sigma_w2 must be finite and > 0"),
        (lambda: q_star("swish", 1.0), ValueError, "valid choices"),
        (lambda: chi1("relu", -2.0), ValueError, "sigma_w2 must be finite and > 0"),
        (lambda: chi1("swish", 1.0), ValueError, "valid choices"),
        (lambda: chi1(3, 1.0), TypeError, "activation must be a string"),
        (lambda: depth_scale("tanh", float("inf")), ValueError, "sigma_w2 must be finite"),
        (lambda: critical_line("tanh", -0.1), ValueError, "sigma_b2 must be finite and >= 0"),
        (lambda: critical_line("swish", 0.1), ValueError, "valid choices"),
        (lambda: gradient_norm_prediction("tanh", 1.0, 0.0, 0), ValueError,
         "depth must be an int >= 1"),
        (lambda: gradient_norm_prediction("tanh", 1.0, 0.0, 2.5), ValueError,
         "depth must be an int >= 1"),
        (lambda: sigmoid_derivative_bound(-1), ValueError, "depth must be an int >= 0"),
        (lambda: sigmoid_derivative_bound(2.5), TypeError, "depth must be an int"),
        (lambda: sigmoid_derivative_bound(True), TypeError, "depth must be an int"),
        (lambda: chain_bound([]), ValueError, "non-empty 1-D sequence of finite numbers"),
        (lambda: chain_bound([1.0, float("nan")]), ValueError, "finite numbers"),
        (lambda: chain_bound([1.0], "swish"), ValueError, "valid choices"),
        (lambda: gaussian_expectation(np.ones_like, -1.0), ValueError, "finite and >= 0"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# -- tests that kill surviving mutants of numbers the lessons show -------------------------


def test_defaults_are_no_bias_and_unit_variance():
    """Lessons call these without the optional arguments: the defaults are sigma_b2 = 0, q = 1."""
    from helpers import theory

    assert theory.chi1("tanh", 1.5) == theory.chi1("tanh", 1.5, 0.0)
    assert theory.q_star("tanh", 1.5) == theory.q_star("tanh", 1.5, 0.0)
    assert theory.depth_scale("tanh", 0.8) == theory.depth_scale("tanh", 0.8, 0.0)
    assert theory.length_map("tanh", 0.7, 1.5) == theory.length_map("tanh", 0.7, 1.5, 0.0)
    assert theory.expected_squared_derivative("tanh") == \
        theory.expected_squared_derivative("tanh", 1.0)
    assert theory.monte_carlo_squared_derivative("tanh") == \
        theory.monte_carlo_squared_derivative("tanh", 1.0, 100_000, 0)
    assert theory.monte_carlo_squared_derivative("tanh", seed=1) != \
        theory.monte_carlo_squared_derivative("tanh")
    # a scalar in, a Python float out (lessons format these in sentences)
    for value in (theory.chi1("tanh", 1.5, 0.05), theory.depth_scale("tanh", 1.5, 0.05),
                  theory.q_star("tanh", 1.5, 0.05)):
        assert type(value) is float


def test_monte_carlo_standard_error_matches_the_spread_of_estimates():
    """The reported standard error equals the spread of estimates over independent seeds."""
    from helpers.theory import monte_carlo_squared_derivative

    runs = [monte_carlo_squared_derivative("tanh", 1.0, n=2000, seed=s) for s in range(40)]
    means, ses = np.array([r[0] for r in runs]), np.array([r[1] for r in runs])
    # 40 estimates: their std is within ~25% of the true SE with high probability
    assert np.std(means, ddof=1) == pytest.approx(np.median(ses), rel=0.35)
    assert ses.std() < 0.1 * ses.mean()


def test_critical_line_is_nan_without_a_crossing_in_the_bracket():
    from helpers.theory import chi1, critical_line

    crit = float(critical_line("tanh", 0.1))
    assert chi1("tanh", crit, 0.1) == pytest.approx(1.0, abs=1e-8)
    # bracket entirely on the chaotic side (chi_1(lo) ~ 1.18 > 1): no crossing
    assert np.isnan(critical_line("tanh", 0.1, lo=3.0, hi=20.0))
    # bracket entirely on the ordered side
    assert np.isnan(critical_line("tanh", 0.1, lo=0.05, hi=crit - 0.5))
    # a tight bracket (chi_1(hi) - 1 ~ 0.1) still finds the same crossing
    assert float(critical_line("tanh", 0.1, lo=crit - 0.5, hi=crit + 0.5)) == \
        pytest.approx(crit, abs=1e-8)
    # one sigma_b2 per crossing: each row uses its own bias
    both = critical_line("tanh", [0.0, 0.1, 0.3])
    for sb, c in zip([0.0, 0.1, 0.3], both):
        assert chi1("tanh", c, sb) == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_q_star_on_a_grid_is_an_attracting_fixed_point_from_any_start(name):
    """Over a grid of weight and bias variances and from a small and a large start: a finite
    q* satisfies q* = L(q*) to 1e-12 and attracts (L'(q*) <= 1); an infinite one means the
    length map keeps growing (L(q) > q far out); bounded activations never diverge."""
    sw, sb = np.meshgrid([0.3, 0.9, 1.0, 1.7, 2.0, 2.6, 5.0, 12.0], [0.0, 0.05, 0.5])
    for q0 in (0.01, 50.0):
        q = q_star(name, sw, sb, q0=q0)
        assert q.shape == sw.shape
        for qi, w, b in zip(q.ravel(), sw.ravel(), sb.ravel(), strict=True):
            if name == "relu" and w == 2.0 and b == 0.0:
                assert qi == pytest.approx(q0, rel=1e-12)  # every q is a fixed point: kept
                continue
            if np.isinf(qi):
                assert name not in ("sigmoid", "tanh"), (w, b)
                assert length_map(name, 1e8, w, b) > 1e8, (w, b)
                continue
            assert length_map(name, qi, w, b) == pytest.approx(qi, rel=1e-12, abs=1e-13), (w, b)
            h = 1e-6 * max(qi, 1e-3)
            slope = (length_map(name, qi + h, w, b) - length_map(name, max(qi - h, 0.0), w, b)
                     ) / (qi + h - max(qi - h, 0.0))
            assert slope <= 1 + 1e-4, (w, b, qi, slope)
        if name in ("sigmoid", "tanh"):
            np.testing.assert_allclose(q, q_star(name, sw, sb, q0=1.0), rtol=1e-10, atol=1e-12)


def test_q_star_start_is_checked():
    assert q_star("tanh", 1.5, 0.05, q0=0.0) == pytest.approx(q_star("tanh", 1.5, 0.05))
    for bad in (-1.0, math.nan):
        with pytest.raises(ValueError, match="^q0 must be"):
            q_star("tanh", 1.5, 0.05, q0=bad)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: gaussian_expectation(np.ones_like, math.nan),
         "variances q must be finite and >= 0"),
        (lambda: chain_bound([[1.0]]),
         "weights must be a non-empty 1-D sequence of finite numbers"),
        (lambda: length_map("tanh", 1.0, 1.0, math.nan),
         "sigma_b2 must be finite and >= 0, got nan"),
        (lambda: length_map("tanh", 1.0, 1.0, math.inf),
         "sigma_b2 must be finite and >= 0, got inf"),
        (lambda: theory.length_map_iterates("tanh", 1.0, 0.0, [1.0], steps=-1),
         "steps must be between 0 and 100000, got -1"),
        (lambda: theory.length_map_iterates("tanh", 1.0, 0.0, [1.0], steps=100_001),
         "steps must be between 0 and 100000, got 100001"),
        (lambda: theory.norm_growth_estimate("tanh", "group"),
         "unknown norm 'group'; valid choices: batch, layer"),
        (lambda: theory.variance_preserving_gain("tanh", 0.0), "q must be finite and > 0, got 0.0"),
        (lambda: theory.correlation_map("tanh", 1.5, 1.5), "correlations c must lie in [-1, 1]"),
        # tanh below sigma_w2 = 1 without bias: q* = 0 exactly, where the c-map divides by q*
        (lambda: theory.correlation_map("tanh", 0.5, 0.5),
         "the c-map needs a finite q* > 0; got q* = 0.0 for tanh at sigma_w2 = 0.5, "
         "sigma_b2 = 0.0"),
    ],
)
def test_bad_input_messages_word_for_word(call, message):
    """What a student reads when a call is wrong: the whole message, naming the argument."""
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_optional_arguments_and_return_types_of_the_maps():
    """Defaults the lessons rely on (20 steps of the length map, no bias in the c-map), and
    a Python float for a scalar, an array of the same shape for an array."""
    rows = theory.length_map_iterates("tanh", 1.5, 0.05, [0.5, 2.0])
    assert rows.shape == (2, 21)
    np.testing.assert_array_equal(rows, theory.length_map_iterates("tanh", 1.5, 0.05, [0.5, 2.0],
                                                                   steps=20))
    assert theory.length_map_iterates("tanh", 1.5, 0.05, [0.5], steps=0).tolist() == [[0.5]]
    assert theory.correlation_map("tanh", 0.3, 1.5) == theory.correlation_map("tanh", 0.3, 1.5, 0.0)
    assert theory.correlation_map("tanh", 0.3, 1.5) != theory.correlation_map("tanh", 0.3, 1.5, 1.0)
    one = theory.correlation_map("tanh", 0.3, 1.5, 0.05)
    many = theory.correlation_map("tanh", [[0.3, 0.6]], 1.5, 0.05)
    assert type(one) is float and isinstance(many, np.ndarray) and many.shape == (1, 2)
    assert many[0, 0] == one
    depths = depth_scale("tanh", [0.5, 1.5], 0.05)
    assert isinstance(depths, np.ndarray) and depths.shape == (2,)
    assert depths[1] == pytest.approx(depth_scale("tanh", 1.5, 0.05), rel=1e-12)
    # the bisection's answer depends on its bracket in the last digits: the default is [0.05, 20]
    assert critical_line("tanh", 0.1) == critical_line("tanh", 0.1, lo=0.05, hi=20.0)
    assert critical_line("tanh", 0.1) != critical_line("tanh", 0.1, lo=0.05, hi=21.0)


def test_monte_carlo_standard_error_is_the_sample_std_over_root_n():
    """The standard error uses the sample standard deviation (n - 1 in the denominator): with
    n = 5 draws the difference from n - 2 is 15%."""
    mean, se = monte_carlo_squared_derivative("tanh", 2.0, n=5, seed=3)
    z = np.random.default_rng(3).standard_normal(5) * math.sqrt(2.0)
    v = (1.0 - np.tanh(z) ** 2) ** 2
    assert mean == pytest.approx(v.mean(), rel=1e-15)
    assert se == pytest.approx(math.sqrt(np.sum((v - v.mean()) ** 2) / 4) / math.sqrt(5), rel=1e-12)


@pytest.mark.parametrize("root, start", [(1e-9, 1.0), (10.0, 1.0), (10.0, 3.0), (0.3, 0.2),
                                         (2.5, 40.0)])
def test_attracting_root_finds_the_root_from_either_side_to_full_precision(root, start):
    """The fallback of q_star: the crossing of gap = L - id from + to -, below the start
    (gap < 0 there) or above it (gap >= 0, found by doubling), to rounding."""
    def gap(v):
        return 0.5 * (root - v)

    assert theory._attracting_root(gap, start) == pytest.approx(root, rel=1e-12)


def test_attracting_root_above_a_start_where_the_gap_is_small_and_positive():
    """gap(start) in (0, 1) and gap(2 start) in (0, 1): still above the identity, keep going."""
    def gap(v):
        return 0.1 * (8.0 - v)  # 0.5 at v = 3, 0.2 at v = 6

    assert theory._attracting_root(gap, 3.0) == pytest.approx(8.0, rel=1e-12)


def test_attracting_root_is_infinite_when_the_gap_never_turns_negative():
    assert theory._attracting_root(lambda v: 1.0 + 0.0 * v, 2.0) == math.inf


def test_float32_and_integer_inputs_are_computed_in_float64():
    """Every map takes float32 arrays (or integers) as the float64 numbers they hold: the
    result is the float64 computation's, to the last bit."""
    from helpers.theory import correlation_map, length_map_iterates

    q32 = np.array([0.3, 1.7], dtype=np.float32)
    q64 = q32.astype(np.float64)
    sw32, sb32 = np.array([1.3, 2.2], dtype=np.float32), np.array([0.05, 0.3], dtype=np.float32)
    sw64, sb64 = sw32.astype(np.float64), sb32.astype(np.float64)
    c32 = np.array([0.2, 0.9], dtype=np.float32)
    pairs = [
        (lambda q: gaussian_expectation(np.tanh, q), q32, q64),
        (lambda q: expected_squared_derivative("tanh", q), q32, q64),
        (lambda w: chain_bound(w, "tanh"), np.array([0.7, 1.3, 2.1], dtype=np.float32),
         np.array([0.7, 1.3, 2.1], dtype=np.float32).astype(np.float64)),
        (lambda w: chain_bound(w, "sigmoid"), [3, 5], [3.0, 5.0]),
        (lambda sw: length_map("tanh", 1.0, sw, 0.1), sw32, sw64),
        (lambda sb: length_map("tanh", 1.0, 1.5, sb), sb32, sb64),
        (lambda sb: chi1("tanh", 1.5, sb), sb32, sb64),
        (lambda sb: critical_line("tanh", sb), sb32, sb64),
        (lambda sw: chi1_grid("tanh", sw, [0.1]), sw32, sw64),
        (lambda sb: chi1_grid("tanh", [1.5], sb), sb32, sb64),
        (lambda q: length_map_iterates("tanh", 1.5, 0.1, q, steps=3), q32, q64),
        (lambda c: correlation_map("tanh", c, 1.5, 0.1), c32, c32.astype(np.float64)),
    ]
    for i, (f, given, exact) in enumerate(pairs):
        got, want = np.asarray(f(given)), np.asarray(f(exact))
        assert got.dtype == np.float64, i
        np.testing.assert_array_equal(got, want, err_msg=str(i))
