"""gradient_profile's activation histograms against np.histogram of activations captured here.

The oracle is independent of helpers.capture: forward hooks on the model's own modules
record each layer's activation output, and NumPy bins them. As documented in
``helpers/capture.py``, values outside the common range count in the end bins and NaN
counts in the first bin.
"""

import numpy as np
import pytest
import torch
from torch import nn

from helpers.capture import gradient_profile
from helpers.data import spirals
from helpers.models import MLPConfig, build_mlp


def _layer_outputs(model, X):
    """Per Linear layer, the output of the activation that follows it (or its own output)."""
    calls = []  # (is_linear, output) in call order
    hooks = [m.register_forward_hook(
        lambda mod, inp, out: calls.append((isinstance(mod, nn.Linear), out.detach().clone())))
        for m in model.modules() if isinstance(m, (nn.Linear, nn.Sigmoid, nn.Tanh, nn.ReLU))]
    try:
        with torch.no_grad():
            model(X)
    finally:
        for h in hooks:
            h.remove()
    outputs = []
    for is_linear, out in calls:
        if is_linear:
            outputs.append(out)
        else:
            outputs[-1] = out  # the activation's output replaces its Linear's
    return [o.double().flatten().numpy() for o in outputs]


def _oracle(values, edges):
    lo, hi = edges[0], edges[-1]
    v = np.where(np.isnan(values), lo, np.clip(values, lo, hi))  # documented outlier/NaN rule
    counts, _ = np.histogram(v, bins=edges)
    return counts / values.size


@pytest.mark.parametrize("activation, bins", [("sigmoid", 40), ("tanh", 17), ("relu", 25)])
def test_histograms_equal_numpy_histograms_of_the_activations(activation, bins):
    X, y = spirals(128, 0.1, seed=1)
    model = build_mlp(MLPConfig(depth=4, width=16, activation=activation, init="xavier",
                                dtype="float64", seed=2))
    p = gradient_profile(model, X, y, bins=bins, sample=10**6)  # every value is binned
    outs = _layer_outputs(model, X.double())
    assert len(outs) == len(p.layer_names) == p.activation_hist.shape[0]
    for i, values in enumerate(outs):
        np.testing.assert_allclose(p.activation_hist[i], _oracle(values, p.hist_edges),
                                   rtol=0, atol=1e-12, err_msg=f"layer {i}")
    if activation == "relu":  # unbounded: the range is mean +- 4 std, so there are outliers
        all_values = np.concatenate(outs[:-1])
        assert (all_values > p.hist_edges[-1]).any()


def test_outliers_land_in_the_end_bins_and_nan_in_the_first():
    X, y = spirals(64, 0.1, seed=0)
    model = build_mlp(MLPConfig(depth=3, width=8, activation="sigmoid", dtype="float64",
                                seed=0))
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        linears[2].weight[3] = float("nan")  # unit 3 of hidden layer 3 is NaN on every example
    p = gradient_profile(model, X, y, bins=10, sample=10**6)
    outs = _layer_outputs(model, X.double())
    assert (p.hist_edges[0], p.hist_edges[-1]) == (0.0, 1.0)
    nan_fraction = np.isnan(outs[2]).mean()
    assert nan_fraction == pytest.approx(1 / 8)
    np.testing.assert_allclose(p.activation_hist[2], _oracle(outs[2], p.hist_edges), atol=1e-12)
    assert p.activation_hist[2][0] >= nan_fraction
    # the output layer (logits, no activation) is NaN everywhere: all of it in the first bin
    assert np.isnan(outs[3]).all()
    np.testing.assert_allclose(p.activation_hist[3], np.eye(10)[0], atol=1e-12)
    # logits of a healthy net reach far outside (0, 1): they are counted in the end bins
    wide = build_mlp(MLPConfig(depth=3, width=8, activation="sigmoid", weight_std=3.0,
                               init="normal", dtype="float64", seed=2))
    q = gradient_profile(wide, X, y, bins=10, sample=10**6)
    logits = _layer_outputs(wide, X.double())[3]
    assert (logits < 0).mean() > 0.2 and (logits > 1).mean() > 0.4  # measured 0.27 and 0.46
    np.testing.assert_allclose(q.activation_hist[3], _oracle(logits, q.hist_edges), atol=1e-12)
    assert q.activation_hist[3][0] == pytest.approx((logits < 0.1).mean())
    assert q.activation_hist[3][-1] == pytest.approx((logits >= 0.9).mean())


def test_the_default_sample_is_4096_values_per_layer():
    """The lessons' histograms use the default: at most 4,096 evenly spaced values per layer
    (here 300 examples x 16 units = 4,800 values, so the default samples)."""
    X, y = spirals(300, seed=0)
    model = build_mlp(MLPConfig(depth=3, width=16, activation="tanh", seed=0))
    default = gradient_profile(model, X, y)
    explicit = gradient_profile(model, X, y, sample=4096)
    other = gradient_profile(model, X, y, sample=4097)
    np.testing.assert_array_equal(default.activation_hist, explicit.activation_hist)
    assert not np.array_equal(default.activation_hist, other.activation_hist)
