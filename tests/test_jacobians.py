"""helpers.jacobians: the one convention for random networks and their Jacobians."""

import numpy as np
import pytest
import torch

from helpers.activations import get_spec
from helpers.jacobians import input_output_jacobian, jacobian_layers, random_network


def _autograd_jacobian(activation, W, b, a0):  # the oracle: PyTorch autograd
    Wt, bt, phi = torch.from_numpy(W), torch.from_numpy(b), get_spec(activation).module()

    def net(a):  # (width,) -> (width,): a_k = phi(W_k a_{k-1} + b_k)
        for k in range(len(Wt)):
            a = phi(Wt[k] @ a + bt[k])
        return a

    return torch.autograd.functional.jacobian(net, torch.from_numpy(a0)).numpy()


@pytest.mark.parametrize("init", ["gaussian", "orthogonal"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_jacobian_matches_autograd(init, activation):
    W, b, x = random_network(4, 7, 1.3, 0.1, init=init, seed=2)
    np.testing.assert_allclose(input_output_jacobian(activation, W, b, x),
                               _autograd_jacobian(activation, W, b, x), rtol=1e-12, atol=1e-14)
    layers = list(jacobian_layers(activation, W, b, x))  # every prefix is a network too
    assert len(layers) == 4
    np.testing.assert_allclose(layers[1][1], _autograd_jacobian(activation, W[:2], b[:2], x),
                               rtol=1e-12, atol=1e-14)


def test_random_network_draws_and_scales():
    W, b, x = random_network(200, 64, 2.0, 0.25, seed=0)
    assert W.shape == (200, 64, 64) and b.shape == (200, 64) and x.shape == (64,)
    assert np.var(W) * 64 == pytest.approx(2.0, rel=0.02)  # sigma_w2 is a variance * fan_in
    assert np.var(b) == pytest.approx(0.25, rel=0.05)
    orth, _, _ = random_network(3, 16, 4.0, init="orthogonal", seed=1)
    for Ok in orth:
        np.testing.assert_allclose(Ok.T @ Ok, 4.0 * np.eye(16), atol=1e-12)
    a, b2 = random_network(2, 8, 1.0, seed=5)[0], random_network(2, 8, 4.0, seed=5)[0]
    np.testing.assert_allclose(2 * a, b2)  # compared weight scales share their draws
    # Gaussian weights are not orthogonal (their entries have the same variance as an
    # orthogonal matrix's, so the variance alone cannot tell the two apart)
    gram = W[0].T @ W[0] / 2.0
    assert np.max(np.abs(gram - np.eye(64))) > 0.3
    assert np.mean(np.abs(W) ** 4) / np.mean(W ** 2) ** 2 == pytest.approx(3.0, rel=0.05)


def test_random_network_smallest_sizes_and_scales_are_valid():
    W, b, x = random_network(1, 1, 0.5)  # depth 1, width 1, a weight variance below 1
    assert W.shape == (1, 1, 1) and np.all(b == 0) and x.shape == (1,)
    assert np.array_equal(random_network(2, 4, 1.0)[0], random_network(2, 4, 1.0, seed=0)[0])


def test_random_network_validation():
    for args, rule in [((0, 8, 1.0), "depth must be between"),
                       ((2, 0, 1.0), "width must be between"),
                       ((2, 8, -1.0), "sigma_w2 must"), ((2, 8, 1.0, -0.5), "sigma_b2 must")]:
        with pytest.raises(ValueError, match=f"^{rule}"):
            random_network(*args)
    with pytest.raises(ValueError, match="^unknown init .uniform.; valid choices: gaussian"):
        random_network(2, 8, 1.0, init="uniform")


def test_layers_need_one_bias_per_weight():
    W, b, x = random_network(3, 4, 1.0)
    with pytest.raises(ValueError):
        list(jacobian_layers("tanh", W, b[:2], x))


def test_overflow_becomes_inf_without_an_error():
    """An exploding linear network overflows to inf, quietly, even where NumPy would raise."""
    W, b, x = random_network(400, 8, 100.0, seed=0)
    with np.errstate(all="raise"):
        layers = list(jacobian_layers("linear", W, b, x))
        assert np.isinf(layers[-1][1]).any() or np.isnan(layers[-1][1]).any()
        tiny = list(jacobian_layers("linear", W * 1e-3, b, x))  # underflows to 0
        assert np.any(tiny[-1][1] == 0)


def test_log_singular_values_passes_are_checked():
    from helpers.jacobians import log_singular_values

    W, _, _ = random_network(3, 4, 1.0, init="orthogonal")
    np.testing.assert_allclose(log_singular_values(list(W), max_passes=1), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="^max_passes must be"):
        log_singular_values(list(W), max_passes=0)


def test_log_singular_values_stop_as_documented(monkeypatch):
    """Passes stop once no value moves by more than ``tol`` (a move of exactly ``tol``
    stops them), else after ``max_passes``; each pass is one QR per factor forward and one
    back. A diagonal factor's values are exact from the first pass, so the second pass
    moves nothing and is the last."""
    from helpers.jacobians import log_singular_values

    calls = []
    qr = np.linalg.qr
    monkeypatch.setattr(np.linalg, "qr", lambda m: calls.append(1) or qr(m))
    factors = [np.diag([2.0, 1.0, 0.5]), np.diag([1.0, 3.0, 1.0])]
    for tol, passes in [(1e-6, 2), (0.0, 2)]:
        calls.clear()
        logs = log_singular_values(factors, tol=tol, max_passes=8)
        assert len(calls) == passes * 2 * len(factors)
        np.testing.assert_allclose(logs, np.log([3.0, 2.0, 0.5]), rtol=1e-15)
    calls.clear()
    log_singular_values(factors, tol=-1.0, max_passes=5)  # never close enough: all 5 passes
    assert len(calls) == 5 * 2 * len(factors)
    with pytest.raises(ValueError) as info:
        log_singular_values(factors, max_passes=10_001)
    assert str(info.value) == "max_passes must be between 1 and 10000, got 10001"
    assert log_singular_values(factors, max_passes=10_000).shape == (3,)
