"""Tests for helpers.activations: the registry, analytic derivatives (autograd is the oracle)."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from helpers.activation_modules import (
    MODULE_TYPES,
    IdentityActivation,
    activation_name,
    get_activation,
)
from helpers.activations import (
    ACTIVATIONS,
    activation_fn,
    derivative,
    get_spec,
    is_saturated,
)

NAMES = list(ACTIVATIONS)
# Dense grid with large |z| plus the points where kinks and round-off live.
GRID = np.concatenate([np.linspace(-50.0, 50.0, 20001), [0.0, 1e-8, -1e-8]])


def autograd_derivative(name: str, z: np.ndarray) -> np.ndarray:
    """phi'(z) from torch.autograd on the registry's own module, in float64."""
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(get_activation(name)(zt).sum(), zt)
    return g.numpy()


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_autograd_on_dense_grid(name):
    # atol: in the tails autograd rounds (e.g. tanh's 1 - tanh^2, sigmoid's y (1 - y)) to 0
    # or to a few ulps of 1, while the analytic form keeps the tiny true value.
    np.testing.assert_allclose(derivative(name)(GRID), autograd_derivative(name, GRID),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_function_matches_torch_module(name):
    with torch.no_grad():
        expected = get_activation(name)(torch.tensor(GRID, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(activation_fn(name)(GRID), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_max_derivative_matches_dense_grid(name):
    z = np.linspace(-10, 10, 200001)
    assert np.abs(derivative(name)(z)).max() == pytest.approx(ACTIVATIONS[name].max_derivative,
                                                              rel=1e-4)


def test_sigmoid_derivative_max_is_quarter_at_zero():
    z = np.linspace(-10, 10, 200001)  # contains 0 exactly (index 100000)
    d = derivative("sigmoid")(z)
    assert z[np.argmax(d)] == 0.0
    assert d.max() == 0.25
    assert np.all(d <= 0.25)


def test_tanh_derivative_is_one_at_zero():
    assert derivative("tanh")(0.0) == 1.0
    assert autograd_derivative("tanh", np.array([0.0]))[0] == 1.0


def test_relu_derivative_is_exactly_one_or_zero():
    d = derivative("relu")(GRID)
    assert np.all(d[GRID > 0] == 1.0)
    assert np.all(d[GRID < 0] == 0.0)
    assert derivative("relu")(0.0) == 0.0  # autograd's convention at the kink
    assert autograd_derivative("relu", np.array([0.0]))[0] == 0.0


def test_leaky_relu_derivative_values():
    d = derivative("leaky_relu")(np.array([-3.0, -1e-8, 0.0, 1e-8, 5.0]))
    np.testing.assert_array_equal(d, [0.01, 0.01, 0.01, 1.0, 1.0])


@pytest.mark.parametrize("name", NAMES)
def test_derivative_keeps_float32_and_accepts_ints(name):
    z32 = np.linspace(-3, 3, 7, dtype=np.float32)
    assert derivative(name)(z32).dtype == np.float32
    assert activation_fn(name)(z32).dtype == np.float32
    ints = np.arange(-3, 4)
    np.testing.assert_allclose(derivative(name)(ints), derivative(name)(ints.astype(float)))
    assert np.ndim(derivative(name)(1.5)) == 0  # scalars in, scalars out


@pytest.mark.parametrize("name", [n for n in NAMES if ACTIVATIONS[n].saturation_bounds])
def test_saturation_bounds_are_where_derivative_drops_below_ten_percent(name):
    spec = ACTIVATIONS[name]
    threshold = 0.1 * spec.max_derivative
    lo, hi = spec.saturation_bounds
    for bound in (lo, hi):
        if math.isfinite(bound):
            assert abs(derivative(name)(bound)) == pytest.approx(threshold, rel=1e-3)
    z = np.linspace(-30, 30, 60001)
    sat = is_saturated(name, z)
    assert sat.any()
    assert np.all(np.abs(derivative(name)(z[sat])) < threshold * (1 + 1e-3))
    np.testing.assert_array_equal(sat, (z < lo) | (z > hi))


@pytest.mark.parametrize("name", [n for n in NAMES if ACTIVATIONS[n].saturation_bounds is None])
def test_non_saturating_activations_never_saturate(name):
    assert not is_saturated(name, GRID).any()
    assert is_saturated(name, GRID).shape == GRID.shape


def test_is_saturated_sigmoid_examples():
    mask = is_saturated("sigmoid", np.array([-4.0, -3.0, 0.0, 3.0, 4.0]))
    np.testing.assert_array_equal(mask, [True, False, False, False, True])


@pytest.mark.parametrize(
    "name, torch_name, param",
    [("sigmoid", "sigmoid", None), ("tanh", "tanh", None), ("relu", "relu", None),
     ("leaky_relu", "leaky_relu", 0.01), ("linear", "linear", None)],
)
def test_gain_equals_torch_calculate_gain(name, torch_name, param):
    assert ACTIVATIONS[name].gain == pytest.approx(nn.init.calculate_gain(torch_name, param),
                                                   rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_modules_are_fresh_not_inplace_and_recognised(name):
    a, b = get_activation(name), get_activation(name)
    assert a is not b
    assert not getattr(a, "inplace", False)
    assert activation_name(a) == name
    assert get_spec(name).name == name
    assert name in repr(get_spec(name))


def test_module_types_cover_registry_and_identity_placeholder_is_not_an_activation():
    assert set(MODULE_TYPES.values()) == set(ACTIVATIONS)
    assert activation_name(nn.Identity()) is None
    assert activation_name(nn.Linear(2, 2)) is None
    assert activation_name(IdentityActivation()) == "linear"

    class MyReLU(nn.ReLU):
        pass

    assert activation_name(MyReLU()) == "relu"  # subclasses are recognised via the MRO


@pytest.mark.parametrize("fn", [get_spec, get_activation, activation_fn, derivative])
def test_unknown_name_lists_valid_choices(fn):
    message = "unknown activation 'swish'; valid choices: sigmoid, tanh"
    with pytest.raises(ValueError, match=message):
        fn("swish")


@pytest.mark.parametrize("fn", [get_spec, get_activation, activation_fn, derivative])
def test_non_string_name_is_type_error(fn):
    with pytest.raises(TypeError, match=r"activation must be a string, one of \["):
        fn(3)


def test_is_saturated_bad_inputs():
    with pytest.raises(ValueError, match="valid choices"):
        is_saturated("swish", np.zeros(3))
    with pytest.raises(TypeError, match="expected real numbers"):
        is_saturated("sigmoid", np.array(["a", "b"]))


def test_non_numeric_arrays_are_type_errors():
    with pytest.raises(TypeError, match="expected real numbers"):
        derivative("tanh")(np.array(["x"]))
    with pytest.raises(TypeError, match="expected real numbers"):
        activation_fn("relu")(np.array([1 + 2j]))


def test_is_saturated_returns_a_boolean_mask_for_every_activation():
    """Lessons negate and count the mask (``~mask``, ``mask.mean()``): it must be bool."""
    from helpers.activations import ACTIVATIONS, is_saturated

    z = np.linspace(-8, 8, 33)
    for name in ACTIVATIONS:
        mask = is_saturated(name, z)
        assert mask.dtype == bool and mask.shape == z.shape, name
    assert not is_saturated("relu", z).any()  # ReLU has no saturating region


def test_saturation_region_is_strictly_outside_its_bounds():
    """The saturating region is open: a pre-activation on a bound is not saturated, the
    next float beyond it is."""
    for name in ("sigmoid", "tanh"):
        lo, hi = get_spec(name).saturation_bounds
        z = np.array([lo, hi, np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)])
        assert is_saturated(name, z).tolist() == [False, False, True, True], name


def test_tanh_derivative_underflows_quietly_far_out():
    with np.errstate(all="raise"):
        assert derivative("tanh")(np.array([1000.0, -1000.0])).tolist() == [0.0, 0.0]


def test_torch_side_names_are_reachable_from_the_numpy_module():
    import helpers.activations as numpy_side
    from helpers import activation_modules

    for name in ("IdentityActivation", "MODULE_TYPES", "activation_name", "get_activation"):
        assert getattr(numpy_side, name) is getattr(activation_modules, name)
    with pytest.raises(AttributeError, match="module 'helpers.activations' has no attribute "
                                             "'nonexistent'"):
        numpy_side.nonexistent  # noqa: B018
