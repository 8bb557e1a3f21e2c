"""Tests for helpers.checks.lesson04: correct passes, wrong fails with a hint, stub is TODO."""

import numpy as np
import pytest
import torch

from helpers.activations import derivative
from helpers.checks.core import _ATTEMPTS
from helpers.checks.lesson04 import (
    check_count_dead_units,
    check_leaky_relu_derivative,
    check_monte_carlo_gelu,
)
from helpers.theory import expected_squared_derivative, monte_carlo_squared_derivative
from helpers.topics.activation_families import dead_unit_mask


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise")


def good_leaky(z, slope=0.01):
    return np.where(np.asarray(z) > 0, 1.0, slope)


def test_leaky_reference_agrees_with_autograd():
    z = np.array([-2.0, -1e-9, 0.0, 1e-9, 2.0])
    zt = torch.tensor(z, requires_grad=True)
    for slope in (0.01, 0.2):
        (g,) = torch.autograd.grad(torch.nn.functional.leaky_relu(zt, slope).sum(), zt)
        np.testing.assert_array_equal(good_leaky(z, slope), g.numpy())


def test_check_4_1():
    assert check_leaky_relu_derivative(good_leaky).passed
    wrong_zero = check_leaky_relu_derivative(
        lambda z, slope=0.01: np.where(np.asarray(z) >= 0, 1.0, slope))
    assert wrong_zero.status == "failed" and "z = 0" in wrong_zero.hint  # first level
    hard_coded = check_leaky_relu_derivative(
        lambda z, slope=0.01: np.where(np.asarray(z) > 0, 1.0, 0.01))
    assert hard_coded.status == "failed"
    assert check_leaky_relu_derivative(stub).status == "not done"


def test_check_4_2():
    assert check_count_dead_units(lambda A: int((~(A > 0).any(axis=0)).sum())).passed
    rows = check_count_dead_units(lambda A: int((A <= 0).all(axis=1).sum()))
    assert rows.status == "failed" and "rows" in rows.message
    assert check_count_dead_units(lambda A: int((A == 0).sum())).status == "failed"
    assert check_count_dead_units(stub).status == "not done"


def mc(q, n, seed):
    z = np.sqrt(q) * np.random.default_rng(seed).standard_normal(n)
    return float(np.mean(derivative("gelu")(z) ** 2))


def test_check_4_3():
    assert check_monte_carlo_gelu(mc).passed
    _ATTEMPTS.clear()
    no_sqrt = check_monte_carlo_gelu(lambda q, n, seed: mc(q * q, n, seed))
    assert no_sqrt.status == "failed" and "variance" in no_sqrt.hint
    assert "sqrt" in check_monte_carlo_gelu(lambda q, n, seed: mc(q * q, n, seed)).hint
    assert check_monte_carlo_gelu(lambda q, n, seed: "x").status == "failed"
    assert check_monte_carlo_gelu(stub).status == "not done"


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError):
        check_count_dead_units(lambda A: 0)
    assert check_count_dead_units(lambda A: int((~(A > 0).any(axis=0)).sum())).passed


def test_count_dead_units_other_wrong_count_gets_only_the_first_hint():
    _ATTEMPTS.clear()
    r = check_count_dead_units(lambda A: int((~(A > 0).any(axis=0)).sum()) + 7)
    assert r.status == "failed" and "differ" in r.message
    assert "You counted" not in r.message and "columns" in r.hint and "axis 0" not in r.hint
    again = check_count_dead_units(lambda A: int((~(A > 0).any(axis=0)).sum()) + 7)
    assert "axis 0" in again.hint  # the second wrong answer shows the next level


def test_stubs_show_no_hint():
    _ATTEMPTS.clear()
    for check in (check_leaky_relu_derivative, check_count_dead_units, check_monte_carlo_gelu):
        r = check(stub)
        assert r.status == "not done" and r.hint == ""


@pytest.mark.parametrize("check, cheat", [
    (check_leaky_relu_derivative,
     lambda z, slope=0.01: derivative("leaky_relu")(z) * 0 + np.where(np.asarray(z) > 0, 1.0,
                                                                       slope)),
    (check_count_dead_units, lambda A: int(dead_unit_mask(A).sum())),
    (check_monte_carlo_gelu, lambda q, n, seed: float(expected_squared_derivative("gelu", q))),
    (check_monte_carlo_gelu,
     lambda q, n, seed: monte_carlo_squared_derivative("gelu", q, n=n, seed=seed)[0]),
])
def test_calling_the_course_answer_fails(check, cheat):
    r = check(cheat)
    assert r.status == "failed" and "course's own answer" in r.message


# --- 4.4: the smooth activations' derivatives ------------------------------------------------

def smooth(z, gelu_second_term=True, silu_second_term=True, elu_is_value=False):
    from scipy.special import expit, ndtr

    z = np.asarray(z, dtype=np.float64)
    s = expit(z)
    dens = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
    elu = np.where(z > 0, 1.0, np.expm1(np.minimum(z, 0.0)) if elu_is_value
                   else np.exp(np.minimum(z, 0.0)))
    return {"elu": elu, "gelu": ndtr(z) + (z * dens if gelu_second_term else 0.0),
            "silu": s + (z * s * (1 - s) if silu_second_term else 0.0)}


def test_smooth_derivatives_pass_and_typical_mistakes_are_named():
    from helpers.checks.lesson04 import check_smooth_derivatives

    assert check_smooth_derivatives(smooth).passed
    r = check_smooth_derivatives(lambda z: smooth(z, gelu_second_term=False))
    assert r.status == "failed" and r.message.startswith("gelu:") and "product" in r.hint
    r = check_smooth_derivatives(lambda z: smooth(z, silu_second_term=False))
    assert r.status == "failed" and r.message.startswith("silu:") and "product" in r.hint
    r = check_smooth_derivatives(lambda z: smooth(z, elu_is_value=True))
    assert r.status == "failed" and r.message.startswith("elu:") and "ELU itself" in r.hint
    r = check_smooth_derivatives(lambda z: {"elu": smooth(z)["elu"]})
    assert r.status == "failed" and "keys" in r.message
    assert check_smooth_derivatives(stub).status == "not done"


def test_smooth_derivatives_cannot_be_the_course_answer():
    from helpers.activations import derivative as course_derivative
    from helpers.checks.lesson04 import check_smooth_derivatives

    def shortcut(z):
        return {n: course_derivative(n)(z) for n in ("elu", "gelu", "silu")}

    r = check_smooth_derivatives(shortcut)
    assert r.status == "failed" and "`derivative`" in r.message


def test_smooth_derivatives_that_are_not_numbers_or_match_no_mistake():
    from helpers.checks.lesson04 import check_smooth_derivatives

    r = check_smooth_derivatives(lambda z: {**smooth(z), "gelu": ["?"] * z.size})
    assert r.status == "failed" and r.message == "gelu: expected numbers, got list."
    assert "alone" not in r.hint  # no named mistake
    r = check_smooth_derivatives(lambda z: {**smooth(z), "silu": 2 * smooth(z)["silu"]})
    assert r.status == "failed" and r.message.startswith("silu: ") and "alone" not in r.hint
