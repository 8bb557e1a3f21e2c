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
