"""The shared validators: conversions, NumPy scalars, booleans refused, clear messages."""

import math

import numpy as np
import pytest

from helpers.validation import check_bool, check_choice, check_float, check_int, check_seed


def test_check_int_accepts_numpy_and_converts():
    value = check_int("depth", np.int64(5), 1, 10)
    assert value == 5 and type(value) is int


@pytest.mark.parametrize("bad", [True, 2.0, "3", None, np.float64(2.0), np.bool_(True)])
def test_check_int_refuses_non_integers(bad):
    with pytest.raises(TypeError, match="depth must be an int, got"):
        check_int("depth", bad, 1, 10)


def test_check_int_bounds_are_inclusive():
    assert check_int("n", 1, 1, 3) == 1 and check_int("n", 3, 1, 3) == 3
    assert check_int("n", -7) == -7


def test_check_float():
    value = check_float("lr", np.float32(0.5), 0, 1)
    assert value == 0.5 and type(value) is float
    assert check_float("lr", 2, 0) == 2.0
    with pytest.raises(TypeError, match="lr must be a number"):
        check_float("lr", True)
    with pytest.raises(TypeError):
        check_float("lr", "0.1")
    with pytest.raises(ValueError, match="finite"):
        check_float("lr", math.nan)
    with pytest.raises(ValueError, match="finite"):
        check_float("lr", math.inf)
    assert check_float("x", math.inf, allow_inf=True) == math.inf
    with pytest.raises(ValueError, match="finite"):
        check_float("x", math.nan, allow_inf=True)
    assert check_float("p", 0.0, 0, 1) == 0.0


def test_check_choice_lists_choices():
    assert check_choice("norm", None, [None, "batch", "layer"]) is None
    expected = r"unknown norm 'group'; valid choices: None, 'batch', 'layer'"
    with pytest.raises(ValueError, match=expected):
        check_choice("norm", "group", [None, "batch", "layer"])
    with pytest.raises(ValueError, match="unknown cell"):
        check_choice("cell", ["rnn"], {"rnn": 1, "lstm": 2})


def test_check_bool_and_seed():
    assert check_bool("residual", np.bool_(True)) is True
    with pytest.raises(TypeError, match="residual must be True or False"):
        check_bool("residual", 1)
    assert check_seed(np.int32(3)) == 3
    with pytest.raises(ValueError, match=r"seed must be between 0 and 4294967295, got -1"):
        check_seed(-1)
    with pytest.raises(TypeError):
        check_seed(1.5)


def test_validation_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys; sys.modules['torch'] = None; import helpers.validation"
    subprocess.run([sys.executable, "-c", code], check=True)


def _message(check, *args, **kwargs) -> str:
    with pytest.raises((TypeError, ValueError)) as info:
        check(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize(("args", "kwargs", "text"), [
    (("n", 0, 1, 10), {}, "n must be between 1 and 10, got 0"),
    (("n", 11, 1, 10), {}, "n must be between 1 and 10, got 11"),
    (("n", -3, 1), {}, "n must be an int >= 1, got -3"),
    (("n", 6, None, 5), {}, "n must be an int <= 5, got 6"),
    (("n", 0, 1, 1000000), {}, "n must be between 1 and 1000000, got 0"),
])
def test_check_int_messages_in_full(args, kwargs, text):
    """The whole message, not a fragment: the kind of value is named for a one-sided bound
    only, and an int bound is written as it is (not 1e+06)."""
    assert _message(check_int, *args, **kwargs) == text


@pytest.mark.parametrize(("args", "kwargs", "text"), [
    (("lr", math.nan, 0, 1), {}, "lr must be a finite number, got nan"),
    (("x", math.inf, 0), {}, "x must be finite and >= 0, got inf"),
    (("x", -math.inf, None, 0.0), {}, "x must be finite and <= 0, got -inf"),
    (("x", -1, 0), {"allow_inf": True}, "x must be >= 0, got -1.0"),
    (("p", 1, None, 1), {"hi_open": True}, "p must be finite and < 1, got 1.0"),
    (("p", 0, 0.0, 1.0), {"lo_open": True, "hi_open": True},
     "p must be between 0 and 1 (exclusive), got 0.0"),
    (("p", 1, 0, 1), {"hi_open": True}, "p must be in [0, 1), got 1.0"),
    (("lr", 0.0, 0, 1), {"lo_open": True}, "lr must be in (0, 1], got 0.0"),
    (("lr", -1, 0), {"lo_open": True}, "lr must be finite and > 0, got -1.0"),
    (("p", 2, 0.5, 1.5), {}, "p must be between 0.5 and 1.5, got 2.0"),
    (("p", 0, 0.1 + 0.2, 1), {}, "p must be between 0.30000000000000004 and 1, got 0.0"),
])
def test_check_float_messages_in_full(args, kwargs, text):
    """Float bounds read as written by hand (0, not 0.0) unless the short form would round
    them; one-sided bounds say "finite" unless infinity is allowed."""
    assert _message(check_float, *args, **kwargs) == text


def test_check_float_upper_bound_is_inclusive_unless_open():
    assert check_float("p", 1.0, 0, 1) == 1.0
    assert check_float("p", 1.0, None, 1) == 1.0
    with pytest.raises(ValueError):
        check_float("p", 1.0, None, 1, hi_open=True)


def test_check_choice_messages_in_full():
    assert (_message(check_choice, "activation", "foo", ["relu", "tanh"])
            == "unknown activation 'foo'; valid choices: relu, tanh")
    assert (_message(check_choice, "configuration", "x", ["sigmoid, default init", "ReLU"])
            == "unknown configuration 'x'; valid choices: 'sigmoid, default init', 'ReLU'")
    # a value whose comparison with a choice raises is refused the same way, not with
    # NumPy's "truth value of an array is ambiguous"
    assert (_message(check_choice, "norm", np.array([1, 2]), [None, "batch"])
            == "unknown norm array([1, 2]); valid choices: None, 'batch'")
