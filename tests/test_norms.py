"""helpers.norms: every norm and moment against an exact reference, at the edges of the
float range, where a plain sum of squares under- or overflows, and where E[x^2] - mean^2
cancels."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
import torch

from helpers.norms import moments, norms, row_norms, scaled_norm


def exact_norm(t: torch.Tensor) -> float:
    """sqrt(sum of squares) in exact rational arithmetic, then rounded once."""
    values = [Fraction(float(v)) for v in t.detach().double().flatten().tolist()]
    return sqrt_fraction(sum((v * v for v in values), Fraction(0)))


def sqrt_fraction(s: Fraction) -> float:
    """sqrt of a non-negative rational far outside the float range: scale by 4**k first."""
    if s == 0:
        return 0.0
    k = (s.numerator.bit_length() - s.denominator.bit_length()) // 2
    return math.sqrt(float(s / Fraction(4) ** k)) * 2.0 ** k


def exact_moments(t: torch.Tensor) -> tuple[float, float]:
    values = [Fraction(float(v)) for v in t.detach().double().flatten().tolist()]
    n = len(values)
    mean = sum(values, Fraction(0)) / n
    var = sum(((v - mean) ** 2 for v in values), Fraction(0)) / n
    return float(mean), sqrt_fraction(var)


GEN = torch.Generator().manual_seed(0)


def randn(*shape, scale=1.0, dtype=torch.float64):
    return (torch.randn(*shape, generator=GEN, dtype=torch.float64) * scale).to(dtype)


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e-160, 1e-3, 1.0, 1e150, 1e200, 1e300])
def test_scaled_norm_is_exact_across_the_float64_range(scale):
    t = randn(50, scale=scale)
    assert scaled_norm(t) == pytest.approx(exact_norm(t), rel=1e-13, abs=0)


def test_scaled_norm_special_values():
    assert scaled_norm(torch.zeros(0)) == 0.0
    assert scaled_norm(torch.zeros(4)) == 0.0
    assert math.isnan(scaled_norm(torch.tensor([1.0, float("nan")])))
    assert scaled_norm(torch.tensor([1.0, float("-inf")])) == math.inf
    assert scaled_norm(torch.tensor([-3.0, 4.0])) == 5.0
    assert isinstance(scaled_norm(torch.tensor([1.0], dtype=torch.float32)), float)


@pytest.mark.parametrize("fast", [False, True])
def test_norms_of_a_mixed_list_match_the_exact_norms(fast):
    tensors = [randn(30, scale=1e-200), randn(7, 3, scale=1e200), randn(5), torch.zeros(3),
               torch.zeros(0), randn(4, scale=1e-170), randn(9, scale=1e-160)]
    got = norms(tensors, fast=fast)
    assert got.dtype == np.float64 and got.shape == (len(tensors),)
    want = [exact_norm(t) for t in tensors]
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    assert norms([]).shape == (0,)


def test_float32_norms_fast_and_exact():
    tensors = [randn(1000, dtype=torch.float32), randn(64, scale=1e-30, dtype=torch.float32),
               randn(64, scale=1e30, dtype=torch.float32)]
    want = [exact_norm(t) for t in tensors]
    np.testing.assert_allclose(norms(tensors), want, rtol=1e-13)  # float64 accumulation
    fast = norms(tensors, fast=True)  # float32 accumulation: rel. error ~1e-6, never 0 or inf
    np.testing.assert_allclose(fast, want, rtol=3e-6)
    assert not np.allclose(fast[0], want[0], rtol=1e-12, atol=0) or fast[0] == want[0]


def test_float32_fast_norms_rescue_what_float32_squares_lose():
    tiny = torch.full((16,), 1e-25, dtype=torch.float32)  # squares underflow float32
    huge = torch.full((16,), 1e25, dtype=torch.float32)  # squares overflow float32
    got = norms([tiny, huge], fast=True)
    np.testing.assert_allclose(got, [exact_norm(tiny), exact_norm(huge)], rtol=1e-6)
    # a float64 tensor in the list: everything accumulates in float64
    small64 = randn(3, scale=1e-200)
    both = norms([tiny, small64], fast=True)
    assert both[1] == pytest.approx(exact_norm(small64), rel=1e-13, abs=0)
    assert both[0] == pytest.approx(exact_norm(tiny), rel=1e-12, abs=0)


@pytest.mark.parametrize("scale", [1e-250, 1.0, 1e250])
def test_row_norms(scale):
    rows = randn(6, 4, 5, scale=scale)
    want = [exact_norm(r) for r in rows]
    np.testing.assert_allclose(row_norms(rows), want, rtol=1e-13)
    assert row_norms(torch.zeros(3, 0)).tolist() == [0.0, 0.0, 0.0]
    f32 = randn(4, 8, dtype=torch.float32)
    np.testing.assert_allclose(row_norms(f32), [exact_norm(r) for r in f32], rtol=1e-12)


@pytest.mark.parametrize("offset, scale", [(0.0, 1.0), (1e6, 1.0), (1e12, 1.0), (5.0, 1e-10),
                                           (0.0, 1e200), (-3.0, 0.5)])
def test_moments_are_exact_even_where_e_x2_minus_mean2_cancels(offset, scale):
    t = randn(200, scale=scale) + offset
    mean, std = moments([t])
    m, s = exact_moments(t)
    assert mean[0] == pytest.approx(m, rel=1e-12, abs=0)
    # two passes around a rounded mean: relative error ~ (eps * |mean| / std)^2 / 2
    rel = max(1e-12, (1e-16 * offset / scale) ** 2 * 10)
    assert std[0] == pytest.approx(s, rel=rel, abs=0)


def test_moments_of_constants_empty_and_float32():
    const = torch.full((50,), 3.25, dtype=torch.float64)
    f32 = randn(500, dtype=torch.float32) * 2 + 1
    mean, std = moments([const, f32, torch.zeros(5)])
    assert mean[0] == 3.25 and std[0] == 0.0
    m, s = exact_moments(f32)
    assert mean[1] == pytest.approx(m, rel=1e-5, abs=0)
    assert std[1] == pytest.approx(s, rel=1e-5, abs=0)
    assert mean[2] == 0.0 and std[2] == 0.0
    e_mean, e_std = moments([])
    assert e_mean.shape == e_std.shape == (0,)


def test_moments_of_non_finite_tensors():
    mean, std = moments([torch.tensor([1.0, float("nan")]), torch.tensor([1.0, float("inf")])])
    assert math.isnan(mean[0]) and math.isnan(std[0])
    assert mean[1] == math.inf and math.isnan(std[1])


def test_the_slow_scaled_pass_runs_only_where_the_fast_one_can_be_wrong(monkeypatch):
    """The documented cost model: one batched pass for ordinary tensors, the scaled (or
    two-pass) computation only for the tensors whose fast result may be off."""
    import helpers.norms as mod

    calls = []
    real = mod.scaled_norm
    monkeypatch.setattr(mod, "scaled_norm", lambda t: calls.append(t.numel()) or real(t))
    ordinary = [randn(40) + 0.5, randn(6, 7, dtype=torch.float32) - 2.0, randn(3) * 1e-5,
                randn(8, scale=1e100), randn(5, scale=1e-100)]
    mod.norms(ordinary)
    mod.norms([t.float() for t in ordinary[:3]], fast=True)
    mod.row_norms(randn(4, 9))
    mod.moments(ordinary[:4])
    assert calls == []
    mod.norms([randn(11, scale=1e-200), randn(5), randn(13, scale=1e200)])
    assert calls == [11, 13]
    calls.clear()
    mod.row_norms(torch.stack([randn(3), randn(3, scale=1e-200)]))
    assert calls == [3]
    calls.clear()
    mod.moments([randn(17) + 1e9, randn(19)])  # |mean| >> std: E[x^2] - mean^2 cancels
    assert calls == [17]
    calls.clear()
    mod.moments([torch.full((23,), 2.0, dtype=torch.float64)])  # var 0 exactly: checked again
    assert calls == [23]


def test_single_entries_and_float32_inputs_are_exact():
    """A tensor of one entry is not a special case: its norm is |x| even where x^2
    underflows, its mean x and its std 0; scaled_norm of a float32 tensor is computed in
    float64."""
    tiny = torch.tensor([1e-200], dtype=torch.float64)
    assert norms([tiny]).tolist() == [1e-200] and norms([tiny], fast=True).tolist() == [1e-200]
    assert row_norms(torch.tensor([[1e-200], [3.0]], dtype=torch.float64)).tolist() == [
        1e-200, 3.0]
    mean, std = moments([torch.tensor([2.5]), torch.tensor([-1e-200], dtype=torch.float64)])
    assert mean.tolist() == [2.5, -1e-200] and std.tolist() == [0.0, 0.0]
    f32 = randn(1000, dtype=torch.float32)
    assert scaled_norm(f32) == pytest.approx(exact_norm(f32), rel=1e-15, abs=0)
    # float32 squares go subnormal near 1e-20: the fast float32 pass loses digits there
    sub = torch.full((100,), 1e-20, dtype=torch.float32)
    assert norms([sub], fast=True)[0] == pytest.approx(exact_norm(sub), rel=1e-6, abs=0)


def test_moments_rescue_where_the_one_pass_formula_fails():
    """Each case where var = E[x^2] - mean^2 is wrong is redone: float32 sums that cancel
    (|mean| >> std), squares that underflow to a variance of 0 at mean 0, half-precision
    sums, and squares that overflow (quietly: no RuntimeWarning)."""
    gen = torch.Generator().manual_seed(1)
    for offset, scale in [(1000.0, 10.0), (0.1, 0.002)]:
        t = (offset + scale * torch.randn(4096, generator=gen, dtype=torch.float64)).float()
        m, s = exact_moments(t)
        mean, std = moments([t])
        assert mean[0] == pytest.approx(m, rel=1e-12, abs=0)
        assert std[0] == pytest.approx(s, rel=1e-12, abs=0)
    pm = torch.tensor([1e-170, -1e-170], dtype=torch.float64)  # squares underflow to 0
    assert moments([pm])[1].tolist() == [1e-170]
    half = (5 + torch.randn(4096, generator=gen)).half()
    m, s = exact_moments(half)
    mean, std = moments([half])
    assert mean[0] == pytest.approx(m, rel=1e-6, abs=0)
    assert std[0] == pytest.approx(s, rel=1e-4, abs=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, std = moments([torch.full((4,), 1e200, dtype=torch.float64),
                             torch.tensor([1e200, -1e200], dtype=torch.float64)])
    assert mean.tolist() == [1e200, 0.0] and std.tolist() == [0.0, 1e200]
