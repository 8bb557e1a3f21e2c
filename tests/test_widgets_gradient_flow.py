"""Widget makers refuse values their controls would clamp, instead of changing them silently."""

import numpy as np
import pytest

from helpers.data import lesson_data
from helpers.widgets.chain import make_chain_explorer
from helpers.widgets.curves import make_activation_point_explorer
from helpers.widgets.gradient_flow import make_gradient_flow_explorer
from helpers.widgets.initialization import make_phase_diagram_explorer
from helpers.widgets.neuron import make_neuron_explorer


@pytest.mark.parametrize(("settings", "words"), [
    ({"depth": 500}, "depth must be between 1 and 100, got 500"),
    ({"depth": 0}, "depth must be between 1 and 100, got 0"),
    ({"width": 1024}, "width must be between 4 and 512, got 1024"),
    ({"seed": -1}, "seed must be between 0 and 1000000, got -1"),
    ({"weight_std": 100.0}, "weight_std must be between 0.001 and 10, got 100.0"),
])
def test_gradient_flow_explorer_refuses_out_of_range_settings(settings, words):
    with pytest.raises(ValueError, match=words):
        make_gradient_flow_explorer(**settings)


def test_gradient_flow_explorer_needs_both_x_and_y():
    X, y = lesson_data(32, seed=1)
    with pytest.raises(ValueError, match="give both X and y"):
        make_gradient_flow_explorer(X)
    with pytest.raises(ValueError, match="give both X and y"):
        make_gradient_flow_explorer(None, y)
    w = make_gradient_flow_explorer(X, y, depth=2, width=8)
    assert w.X is X and w.y is y


def test_gradient_flow_explorer_accepts_numpy_integers():
    w = make_gradient_flow_explorer(depth=np.int64(3), width=np.int64(8), seed=np.int64(2))
    assert w.controls["depth"].value == 3 and w.controls["seed"].value == 2


@pytest.mark.parametrize(("make", "words"), [
    (lambda: make_phase_diagram_explorer(seed=-1), "seed must be between 0 and 1000000"),
    (lambda: make_neuron_explorer(x=5.0), "x must be between -3 and 3, got 5.0"),
    (lambda: make_neuron_explorer(w=-7.0), "w must be between -6 and 6, got -7.0"),
    (lambda: make_activation_point_explorer(z=9.0), "z must be between -6 and 6, got 9.0"),
    (lambda: make_chain_explorer(depth=101), "depth must be between 1 and 100, got 101"),
])
def test_other_widgets_refuse_values_their_sliders_would_clamp(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def _autograd_flow(config, X, y):
    """First/last hidden-layer ||dL/da|| and ||dL/dW||, and the largest ||dL/dW||, from
    torch.autograd.grad on a fresh network (not through helpers.capture)."""
    import torch
    import torch.nn.functional as F

    from helpers.models import build_mlp, linear_layers, trace_layers

    model = build_mlp(config)
    trace = trace_layers(model, X.to(torch.float64))
    weights = [lin.weight for _, lin in linear_layers(model)]
    loss = F.cross_entropy(trace.output, y)
    grads = torch.autograd.grad(loss, [trace.act_out[0], trace.act_out[-1], *weights])
    a1, a_last, *gw = (float(g.norm()) for g in grads)
    return a1 / a_last, gw[0] / gw[-2], max(gw)


def test_status_line_exposes_the_tanh_std_001_net_that_the_weight_ratio_calls_healthy():
    import re

    from helpers.models import MLPConfig

    settings = dict(depth=20, width=64, activation="tanh", init="normal", weight_std=0.01,
                    dtype="float64", seed=0)
    w = make_gradient_flow_explorer(**settings)
    numbers = [float(x) for x in re.findall(r": ([-+0-9.e]+)", w.status.value)]
    act_ratio, weight_ratio, largest = numbers
    want = _autograd_flow(MLPConfig(**settings), w.X, w.y)
    np.testing.assert_allclose([act_ratio, weight_ratio, largest], want, rtol=5e-3)
    # the weight-gradient ratio reads "balanced" while the gradient has vanished
    assert 1.0 < weight_ratio < 2.0
    assert act_ratio < 1e-20 and largest < 1e-22
    assert "20.8 orders of magnitude smaller" in w.status.value
    assert "largest ||dL/dW|| of any layer" in w.status.value


def test_status_line_shows_the_switch_from_vanishing_to_exploding_as_std_grows():
    w = make_gradient_flow_explorer(depth=20, width=64, activation="tanh", init="normal",
                                    weight_std=0.01)
    ratios = {}
    for std in (0.01, 0.1, 0.2, 1.0):
        w.controls["weight_std"].value = std
        ratios[std] = float(w.status.value.split("</b>")[0].split(": ")[-1])
    assert ratios[0.01] < 1e-20 < ratios[0.1] < 0.1  # vanishing
    assert 10 < ratios[0.2] < 1e3 < ratios[1.0]  # exploding
