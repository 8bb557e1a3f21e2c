"""Small input checks across the package: clear errors instead of wrong numbers."""

import math

import numpy as np
import pytest
import torch

from helpers.data import spirals, teacher, train_test_split
from helpers.jacobians import random_network
from helpers.models import MLPConfig, build_mlp
from helpers.theory import (
    length_map_iterates,
    monte_carlo_squared_derivative,
    q_star,
    sigmoid_derivative_bound,
)
from helpers.topics.activation_families import shift_biases
from helpers.topics.initialization import classify_chi1
from helpers.topics.neuron import saturated_fraction_mc
from helpers.training import accuracy, train


@pytest.mark.parametrize(("n", "fraction"), [(2, 0.75), (3, 0.9), (10, 0.99), (2, 0.25)])
def test_train_test_split_keeps_both_parts_non_empty(n, fraction):
    X, y = torch.zeros(n, 2), torch.zeros(n)
    X_train, y_train, X_test, y_test = train_test_split(X, y, fraction)
    assert len(X_train) >= 1 and len(X_test) >= 1 and len(X_train) + len(X_test) == n


def test_accuracy_refuses_labels_the_model_cannot_predict():
    model = build_mlp(MLPConfig(depth=1, width=4, out_features=2))
    X = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="labels must be class indices from 0 to 1"):
        accuracy(model, X, torch.tensor([0, 1, 5]))
    with pytest.raises(ValueError, match="labels must be class indices from 0 to 1"):
        accuracy(model, X, torch.tensor([0, -1, 1]))
    assert 0.0 <= accuracy(model, X, torch.tensor([0, 1, 1])) <= 1.0


def test_wrong_feature_count_names_the_expected_count():
    model = build_mlp(MLPConfig(depth=1, width=4, in_features=3))
    X, y = torch.zeros(5, 2), torch.zeros(5, dtype=torch.long)
    with pytest.raises(ValueError, match=r"X must have shape \(n_examples, 3\)"):
        train(model, X, y, steps=1)
    with pytest.raises(ValueError, match=r"X must have shape \(n_examples, 3\)"):
        accuracy(model, X, y)


def test_classify_chi1_refuses_nan():
    with pytest.raises(ValueError, match="chi_1 must be finite and >= 0, got nan"):
        classify_chi1(math.nan)
    assert classify_chi1(math.inf) == "chaotic" and classify_chi1(1.0) == "critical"


def test_q_star_refuses_a_negative_start():
    with pytest.raises(ValueError, match="q0 must be finite and >= 0, got -1.0"):
        q_star("tanh", 1.5, 0.05, q0=-1)
    assert q_star("tanh", 1.5, 0.05, q0=np.float64(2.0)) == pytest.approx(
        q_star("tanh", 1.5, 0.05))


def test_shift_biases_refuses_nan():
    model = build_mlp(MLPConfig(depth=2, width=4, activation="relu"))
    before = [b.linear.bias.clone() for b in model.blocks]
    with pytest.raises(ValueError, match="shift must be a finite number"):
        shift_biases(model, math.nan)
    for b, old in zip(model.blocks, before, strict=True):
        assert torch.equal(b.linear.bias, old)


@pytest.mark.parametrize("make", [
    lambda: spirals(10, seed=-1), lambda: teacher(10, seed=-1),
    lambda: saturated_fraction_mc(1.0, seed=-1),
    lambda: monte_carlo_squared_derivative("tanh", 1.0, seed=-1),
    lambda: MLPConfig(seed=-1),
])
def test_negative_seeds_get_the_course_message(make):
    with pytest.raises(ValueError, match=r"seed must be between 0 and 4294967295, got -1"):
        make()


def test_numpy_integers_are_accepted():
    i = np.int64
    assert len(spirals(i(20))[0]) == 20
    assert MLPConfig(depth=i(3), width=i(8)).depth == 3
    assert type(MLPConfig(depth=i(3)).depth) is int
    assert sigmoid_derivative_bound(i(2)) == 0.0625
    assert length_map_iterates("tanh", 1.5, 0.0, [1.0], steps=i(3)).shape == (1, 4)
    assert saturated_fraction_mc(1.0, n=i(100))[0] >= 0
    assert monte_carlo_squared_derivative("tanh", 1.0, n=i(100))[0] > 0
    assert random_network(depth=i(2), width=i(3), sigma_w2=1.0)[0].shape == (2, 3, 3)
    model = build_mlp(MLPConfig(depth=1, width=4))
    X, y = spirals(16)
    assert len(train(model, X, y, steps=i(2), record_every=i(1)).steps) >= 1


def test_mlp_config_refuses_networks_too_large_for_memory():
    with pytest.raises(ValueError, match=r"would need [0-9.]+ GiB for its weights alone"):
        MLPConfig(depth=1000, width=8192)
    assert MLPConfig(depth=100, width=512).parameter_count() == sum(
        p.numel() for p in build_mlp(MLPConfig(depth=100, width=512)).parameters())


def test_check_data_refuses_an_empty_batch_and_names_each_argument():
    from helpers.model_io import check_data
    X, y = check_data(np.zeros((1, 3)), np.zeros(1, dtype=np.int64))  # one example is data
    assert X.shape == (1, 3) and y.shape == (1,)
    with pytest.raises(ValueError, match=r"^X_test is empty: it needs at least one example"):
        check_data(np.zeros((0, 3)), name_x="X_test")
    with pytest.raises(ValueError, match=r"^X_test must have shape \(n_examples"):
        check_data(np.zeros(3), name_x="X_test")
    with pytest.raises(ValueError, match=r"^y_test must have one entry per example \(4\)"):
        check_data(np.zeros((4, 2)), np.zeros(3, dtype=np.int64), name_y="y_test")
    with pytest.raises(ValueError, match=r"^X contains NaN or infinite values"):
        check_data(np.array([[1.0, np.nan]]))
    with pytest.raises(TypeError, match=r"^y must be a torch.Tensor or a NumPy array, got list"):
        check_data(np.zeros((2, 2)), [0, 1])


def test_model_inputs_pass_keyword_options_unchanged_but_check_positional_ones():
    from helpers.model_io import model_inputs
    model = build_mlp(MLPConfig(depth=1, width=4, in_features=3, out_features=2,
                                dtype="float64"))
    X, _ = model_inputs(model, {"x": np.zeros((2, 3), dtype=np.float32), "flag": True})
    assert X["flag"] is True and X["x"].dtype == torch.float64  # the model's dtype
    with pytest.raises(TypeError, match=r"a tuple of them .* got a tuple of bool, ndarray$"):
        model_inputs(model, (np.zeros((2, 3)), True))
    with pytest.raises(ValueError, match="^X is an empty dict"):
        model_inputs(model, {})
    for bad in (None, 3.0, "spirals"):  # a single positional X must be an array too
        with pytest.raises(TypeError, match="^X must be a torch.Tensor or a NumPy array, got"):
            model_inputs(model, bad)
