"""Assertions shared by the widget tests: a figure's traces hold given numbers.

The expected numbers are written here from the documented drawing rules, not by calling
the figure modules, so that a figure that draws the wrong data fails.
"""

from __future__ import annotations

import numpy as np


def assert_xy(trace, x, y, rtol: float = 1e-12, what: str = "", x_rtol=None) -> None:
    """``trace.x`` equals ``x`` and ``trace.y`` equals ``y`` (NaN where ``y`` is NaN);
    ``x_rtol`` (default ``rtol``) when y is computed less exactly than x."""
    np.testing.assert_allclose(np.asarray(trace.x, float), np.asarray(x, float),
                               rtol=rtol if x_rtol is None else x_rtol, err_msg=f"{what} x")
    np.testing.assert_allclose(np.asarray(trace.y, float), np.asarray(y, float), rtol=rtol,
                               err_msg=f"{what} y")


def assert_log_triple(traces, values, x=None, what: str = "") -> None:
    """A (line, zeros, overflows) log-axis triple shows ``values`` against ``x`` (1, 2, ...):
    positive finite values on the line, zeros/negatives/NaN as markers a decade below the
    smallest positive value (a gap in the line), +inf as markers a decade above the largest."""
    v = np.asarray(values, float)
    x = np.arange(1, len(v) + 1) if x is None else np.asarray(x, float)
    ok = np.isfinite(v) & (v > 0)
    huge = np.isposinf(v)
    zero = ~ok & ~huge
    line, zeros, overflows = traces
    floor = v[ok].min() / 10 if ok.any() else 1e-30
    ceiling = v[ok].max() * 10 if ok.any() else 1.0
    assert_xy(line, x, np.where(ok, v, np.where(huge, ceiling, np.nan)), what=f"{what} line")
    assert_xy(zeros, x[zero], np.full(zero.sum(), floor), what=f"{what} zeros")
    assert_xy(overflows, x[huge], np.full(huge.sum(), ceiling), what=f"{what} overflows")
