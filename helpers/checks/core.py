"""The check machinery every lesson's exercises use.

A check never crashes a lesson: a wrong answer gives a message and a hint, an unfinished
exercise (its stub raises ``NotImplementedError``) says so, and any other exception in the
student's code is reported with its type and message. With the environment variable
``COURSE_STRICT_CHECKS=1`` (set by the test suite on solved notebooks) a check that does
not pass raises ``AssertionError`` instead.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one exercise check; displays as a coloured box in a notebook."""

    exercise: str  # e.g. "1.2"
    status: str  # "passed", "failed", "not done" or "error"
    message: str  # what was checked, or what went wrong
    hint: str = ""  # shown when the check did not pass

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __repr__(self) -> str:
        icon = {"passed": "PASS", "failed": "FAIL", "not done": "TODO", "error": "ERROR"}
        text = f"[{icon[self.status]}] Exercise {self.exercise}: {self.message}"
        if not self.passed and self.hint:
            text += f"\n  Hint: {self.hint}"
        return text

    def _repr_html_(self) -> str:
        color = {"passed": "#009E73", "failed": "#D55E00", "not done": "#E69F00",
                 "error": "#D55E00"}[self.status]
        body = html.escape(self.message)
        if not self.passed and self.hint:
            body += f"<br><b>Hint:</b> {html.escape(self.hint)}"
        return (f'<div style="border-left:6px solid {color};padding:6px 10px;margin:4px 0">'
                f"<b>Exercise {html.escape(self.exercise)}: {self.status}</b><br>{body}</div>")


def finish(result: CheckResult) -> CheckResult:
    if os.environ.get("COURSE_STRICT_CHECKS") == "1" and not result.passed:
        raise AssertionError(repr(result))
    return result


def _to_array(x) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor; no torch import needed here
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def compare(got, expected, rtol: float, atol: float) -> str | None:
    """``None`` if ``got`` matches ``expected``, else a sentence saying how it differs."""
    try:
        g = _to_array(got)
    except (TypeError, ValueError):
        return f"expected numbers, got {type(got).__name__}"
    e = _to_array(expected)
    if g.shape != e.shape:
        if g.size == e.size == 1:
            g, e = g.reshape(()), e.reshape(())
        else:
            return f"expected shape {e.shape}, got shape {g.shape}"
    if np.isnan(g).any() and not np.isnan(e).any():
        return f"your answer contains NaN at {int(np.isnan(g).sum())} position(s)"
    close = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    i = np.unravel_index(np.argmax(~close), g.shape) if g.ndim else ()
    where = f" at index {tuple(int(k) for k in i)}" if g.ndim else ""
    return (f"{int((~close).sum())} of {close.size} value(s) differ; e.g.{where} you gave "
            f"{g[i]:.6g}, expected {e[i]:.6g}")


def run_student(exercise: str, fn: Callable, *args, hint: str = "", **kwargs):
    """Call the student's ``fn``; returns ``(value, None)`` or ``(None, CheckResult)``."""
    if not callable(fn):
        return None, CheckResult(exercise, "error", f"expected a function, got {type(fn).__name__}",
                                 hint)
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError:
        return None, CheckResult(exercise, "not done",
                                 "not done yet: replace the `raise NotImplementedError` line "
                                 "with your code, run that cell, then run this one.", hint)
    except Exception as exc:  # the student's code failed: report it, do not crash the lesson
        return None, CheckResult(exercise, "error",
                                 f"your code raised {type(exc).__name__}: {exc}", hint)


def check_function(exercise: str, fn: Callable, reference: Callable, inputs: Sequence,
                   *, rtol: float = 1e-6, atol: float = 1e-9, hint: str = "",
                   what: str = "") -> CheckResult:
    """Compare ``fn(*args)`` with ``reference(*args)`` for every ``args`` in ``inputs``."""
    for args in inputs:
        args = args if isinstance(args, tuple) else (args,)
        got, problem = run_student(exercise, fn, *args, hint=hint)
        if problem is not None:
            return finish(problem)
        diff = compare(got, reference(*args), rtol, atol)
        if diff is not None:
            return finish(CheckResult(exercise, "failed", f"{diff}.", hint))
    done = what or f"matches the reference on {len(inputs)} test input(s)"
    return finish(CheckResult(exercise, "passed", f"correct: {done}."))


def check_value(exercise: str, value, expected, *, rtol: float = 1e-6, atol: float = 1e-9,
                hint: str = "", what: str = "") -> CheckResult:
    """Compare a value the student computed with the expected one."""
    diff = compare(value, expected, rtol, atol)
    if diff is not None:
        return finish(CheckResult(exercise, "failed", f"{diff}.", hint))
    return finish(CheckResult(exercise, "passed", f"correct{': ' + what if what else ''}."))


def check_true(exercise: str, condition: bool, success: str, failure: str,
               hint: str = "") -> CheckResult:
    """Pass if ``condition`` holds; for checks that are not a numeric comparison."""
    if condition:
        return finish(CheckResult(exercise, "passed", success))
    return finish(CheckResult(exercise, "failed", failure, hint))
