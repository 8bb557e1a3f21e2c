"""Tests for helpers.model_io: what goes into a model and the loss that comes out.

Messages are compared word for word: they are what a user reads when a model of their own
does not fit the course's tools.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.model_io import call_model, check_data, compute_loss, first_tensor, model_inputs


def message(exc, fn, *args, **kwargs):
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    return str(info.value)


class MixedDtypes(nn.Module):
    """A first parameter in float64 and a second in float32 (e.g. a half-converted model)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(3, dtype=torch.float64))
        self.shift = nn.Parameter(torch.zeros(3, dtype=torch.float32))

    def forward(self, x):
        return x * self.scale


def test_inputs_take_the_dtype_of_the_first_floating_point_parameter():
    X, _ = model_inputs(MixedDtypes(), np.zeros((2, 3), dtype=np.float32))
    assert X.dtype == torch.float64
    counter = nn.Module()
    counter.register_buffer("n", torch.zeros(1, dtype=torch.long))
    counter.w = nn.Parameter(torch.zeros(2, dtype=torch.float64))
    X, _ = model_inputs(counter, np.zeros((2, 3), dtype=np.int64))
    assert X.dtype == torch.float64  # integer features become the float type


def test_model_inputs_messages_name_the_offending_argument():
    model = nn.Linear(3, 2)
    nan = np.full((2, 3), np.nan)
    assert message(ValueError, model_inputs, model, {"x": nan}) == (
        "X['x'] contains NaN or infinite values; clean the data first")
    assert message(ValueError, model_inputs, model, (np.zeros((2, 3)), nan)) == (
        "X[1] contains NaN or infinite values; clean the data first")
    assert message(ValueError, model_inputs, model, np.zeros((0, 3))) == (
        "X is empty or a scalar (shape (0, 3)): it needs a batch dimension with at least "
        "one example")
    assert message(ValueError, model_inputs, model, np.zeros(3)) == (
        "X must have shape (n_examples, features...), got (3,); for a single example use X[None]")
    assert message(TypeError, model_inputs, model, []) == (
        "X must be a torch.Tensor or a NumPy array, a tuple of them (positional arguments) or "
        "a dict of keyword arguments; got a list of nothing")
    assert message(TypeError, model_inputs, model, np.array([["a", "b"]])) == (
        "X must hold numbers, got a NumPy array of dtype <U1")


def test_check_data_messages_name_x_and_y_by_default():
    assert message(TypeError, check_data, [[1.0]]) == (
        "X must be a torch.Tensor or a NumPy array, got list")
    assert message(ValueError, check_data, np.zeros((2, 2)), np.array([0.0, np.nan])) == (
        "y contains NaN or infinite values")
    assert message(ValueError, check_data, np.zeros((2, 2)), np.array([np.inf, 0.0]),
                   name_y="y_test") == "y_test contains NaN or infinite values"
    for scalar in (np.array(1), torch.tensor(1)):  # a 0-d array stays 0-d
        assert message(ValueError, check_data, np.zeros((1, 2)), scalar) == (
            "y must have one entry per example, got a scalar")
    X = check_data(np.zeros((3, 2))[::-1])  # a reversed view is copied, in its own shape
    assert X.shape == (3, 2)


def test_call_model_passes_tensors_tuples_and_dicts():
    class Two(nn.Module):
        def forward(self, a, b=None):
            return a if b is None else a - b

    a, b = torch.ones(2, 1), torch.full((2, 1), 3.0)
    assert torch.equal(call_model(Two(), a), a)
    assert torch.equal(call_model(Two(), (a, b)), a - b)
    assert torch.equal(call_model(Two(), {"a": a, "b": b}), a - b)


def test_loss_messages_word_for_word():
    out = torch.zeros(4, 3)
    assert message(TypeError, compute_loss, out, None, lambda o: 1.5) == (
        "the loss callable must return a tensor, got float")
    assert message(ValueError, compute_loss, out, None, "mse") == (
        "the 'mse' loss needs targets y; give y, or a loss callable of the output alone, "
        "loss=lambda out: ...")
    assert message(ValueError, compute_loss, out, torch.zeros(4), "cross_entropy") == (
        "cross_entropy needs y as a 1-D tensor of integer class indices")
    assert message(ValueError, compute_loss, out, torch.zeros(5), "mse") == (
        "y must have one entry per example (4) of the output, got shape (5,); for other "
        "layouts (e.g. sequence-first outputs) pass loss as a callable")
    # a scalar output has no batch: its batch size is 0, and no y fits it
    assert message(ValueError, compute_loss, torch.tensor(1.0), torch.ones(1), "mse") == (
        "y must have one entry per example (0) of the output, got shape (1,); for other "
        "layouts (e.g. sequence-first outputs) pass loss as a callable")
    assert message(ValueError, compute_loss, out, torch.tensor([0, 3, 1, 1]), "cross_entropy") == (
        "class labels must lie in 0..2 for a model with 3 outputs; got labels 0..3")


@pytest.mark.parametrize("out, hint", [
    ({"logits": torch.zeros(2, 2)}, "out['...']"),
    ((torch.zeros(2, 2),), "out[0]"),
    ([torch.zeros(2, 2)], "out[0]"),
])
def test_a_non_tensor_output_gets_a_hint_that_fits_it(out, hint):
    kind = type(out).__name__
    assert message(TypeError, compute_loss, out, torch.zeros(2, dtype=torch.long),
                   "cross_entropy") == (
        f"the model returned a {kind}, not a tensor, so the 'cross_entropy' loss cannot be "
        f"taken; pass loss as a callable of the output, e.g. "
        f"loss=lambda out, y: F.cross_entropy({hint}, y)")


def test_an_output_with_logits_is_pointed_to_them():
    class Output:
        logits = torch.zeros(2, 2)

    assert "F.cross_entropy(out.logits, y)" in message(
        TypeError, compute_loss, Output(), torch.zeros(2, dtype=torch.long), "cross_entropy")


def test_mse_targets_take_the_outputs_dtype():
    out = torch.zeros(3, 2, requires_grad=True)
    y = torch.ones(3, 2, dtype=torch.float64)
    loss = compute_loss(out, y, "mse")
    assert loss.dtype == torch.float32 and loss.item() == 1.0
    loss.backward()
    assert out.grad.dtype == torch.float32
    # integer targets of the same size as the output are reshaped to it
    loss = compute_loss(torch.zeros(4, 1), torch.tensor([1, 1, 1, 1]), "mse")
    assert loss.dtype == torch.float32 and loss.item() == 1.0


def test_losses_agree_with_torch():
    g = torch.Generator().manual_seed(0)
    out = torch.randn(5, 3, generator=g)
    y = torch.tensor([0, 2, 1, 1, 0])
    assert torch.equal(compute_loss(out, y, "cross_entropy"), F.cross_entropy(out, y))
    assert torch.equal(compute_loss(out, None, lambda o: o.sum()), out.sum())
    assert torch.equal(compute_loss(out, y, lambda o, t: o[:, 0].sum() * t.sum()),
                       out[:, 0].sum() * y.sum())


def test_first_tensor_picks_the_tensor_to_measure():
    t = torch.zeros(2)
    lstm_out = (t, (torch.ones(1), torch.ones(1)))
    assert first_tensor(t) is t and first_tensor(lstm_out) is t and first_tensor([t]) is t
    for no_tensor in (None, (), [], {"a": t}, 3.0, ("text", t)):
        assert first_tensor(no_tensor) is None
