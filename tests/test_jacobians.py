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


def test_random_network_validation():
    with pytest.raises(ValueError, match="between"):
        random_network(0, 8, 1.0)
    with pytest.raises(ValueError, match="between"):
        random_network(2, 0, 1.0)
    with pytest.raises(ValueError):
        random_network(2, 8, -1.0)
    with pytest.raises(ValueError, match="gaussian"):
        random_network(2, 8, 1.0, init="uniform")
