"""The check machinery every lesson's exercises use.

A check never crashes a lesson: a wrong answer gives a message and a hint, an unfinished
exercise (its stub raises ``NotImplementedError``) says so, and any other exception in the
student's code is reported with its type and message. With the environment variable
``COURSE_STRICT_CHECKS=1`` (set by the test suite on solved notebooks) a check that does
not pass raises ``AssertionError`` instead.

Two rules keep a check honest and a student's first attempt their own:

- **No hidden reference.** A check names the course functions that already compute the
  answer (``forbid=``); while the student's code runs, every name in the notebook bound to one
  of them, and the attribute of the module that defines it, is swapped for a stand-in that
  fails the check with "write it yourself". Returning ``sigma_prime(z)`` cannot pass.
- **Hints only after a wrong answer, and escalating.** A hint may be one sentence or a
  sequence, from a nudge to the recipe; the first wrong answer to an exercise shows the
  first, each further one adds the next. An unfinished exercise shows no hint.
"""

from __future__ import annotations

import contextlib
import html
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one exercise check; displays as a coloured box in a notebook."""

    exercise: str  # e.g. "1.2"
    status: str  # "passed", "failed", "not done" or "error"
    message: str  # what was checked, or what went wrong
    hint: str = ""  # shown when the check did not pass (a sequence of levels before finish())

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __repr__(self) -> str:
        icon = {"passed": "PASS", "failed": "FAIL", "not done": "TODO", "error": "ERROR"}
        text = f"[{icon[self.status]}] Exercise {self.exercise}: {self.message}"
        if not self.passed and self.hint:
            text += f"\n  Hint: {' '.join(hint_levels(self.hint))}"
        return text

    def _repr_html_(self) -> str:
        color = {"passed": "#009E73", "failed": "#D55E00", "not done": "#E69F00",
                 "error": "#D55E00"}[self.status]
        body = html.escape(self.message)
        if not self.passed and self.hint:
            body += f"<br><b>Hint:</b> {html.escape(' '.join(hint_levels(self.hint)))}"
        return (f'<div style="border-left:6px solid {color};padding:6px 10px;margin:4px 0">'
                f"<b>Exercise {html.escape(self.exercise)}: {self.status}</b><br>{body}</div>")


Hint = str | Sequence[str]
_ATTEMPTS: dict[str, int] = {}  # wrong answers so far, per exercise, in this kernel


def hint_levels(hint: Hint) -> tuple[str, ...]:
    """``hint`` as a tuple of levels (a plain string is one level)."""
    if isinstance(hint, str):
        return (hint,) if hint else ()
    return tuple(h for h in hint if h)


def prefixed(text: str, hint: Hint) -> tuple[str, ...]:
    """``hint`` with ``text`` (a diagnosis of this wrong answer) in front of its first level."""
    levels = hint_levels(hint) or ("",)
    return ((text + levels[0]).strip(), *levels[1:])


def finish(result: CheckResult) -> CheckResult:
    """Apply the hint rules, then strict mode, and return what the notebook displays."""
    levels = hint_levels(result.hint)
    if result.status == "not done":
        result = replace(result, hint="")
    elif result.status in ("failed", "error"):
        _ATTEMPTS[result.exercise] = n = _ATTEMPTS.get(result.exercise, 0) + 1
        shown = levels[:n]
        more = (" (try again: a wrong answer next time shows a further hint)"
                if n < len(levels) else "")
        result = replace(result, hint=" ".join(shown) + more if shown else "")
    else:
        _ATTEMPTS.pop(result.exercise, None)
        result = replace(result, hint=levels[0] if levels else "")
    if os.environ.get("COURSE_STRICT_CHECKS") == "1" and not result.passed:
        raise AssertionError(repr(result))
    return result


def _course_function(obj) -> bool:
    module = getattr(obj, "__module__", "") or ""
    return module.startswith("helpers.") and not module.startswith("helpers.checks")


class ReferenceCalled(Exception):
    """The student's code called a course function that already computes the answer."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _stand_in(name: str) -> Callable:
    def called(*args, **kwargs):
        raise ReferenceCalled(name)

    called.__name__ = name
    return called


@contextlib.contextmanager
def forbidden(fn: Callable, objects: Iterable) -> Iterator[None]:
    """While inside, names bound to ``objects`` in ``fn``'s globals (the notebook's namespace),
    in its closure and in every loaded course module (never a library's, never the checks')
    raise :class:`ReferenceCalled` when called."""
    objects = [o for o in objects if o is not None]
    if not objects:
        yield
        return
    ids = {id(o) for o in objects}
    namespaces = [getattr(fn, "__globals__", None)]
    if any(_course_function(o) for o in objects):  # every course module that holds one
        namespaces += [vars(m) for name, m in list(sys.modules.items())
                       if m is not None and (name == "helpers" or name.startswith("helpers."))
                       and not name.startswith("helpers.checks")]
    saved: list[tuple[dict, str, object]] = []
    seen: set[int] = set()
    for ns in namespaces:
        if ns is None or id(ns) in seen:
            continue
        seen.add(id(ns))
        for key, value in list(ns.items()):
            if id(value) in ids:
                saved.append((ns, key, value))
                name = getattr(value, "__name__", key)
                name = key if name == "<lambda>" else name  # the name the student typed
                ns[key] = _stand_in(name)
    cells = []  # names the student's function closes over (defined inside another function)
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if id(value) in ids:
            cells.append((cell, value))
            cell.cell_contents = _stand_in(getattr(value, "__name__", "reference"))
    try:
        yield
    finally:
        for ns, key, value in reversed(saved):
            ns[key] = value
        for cell, value in cells:
            cell.cell_contents = value


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


def run_student(exercise: str, fn: Callable, *args, hint: Hint = "", forbid: Iterable = (),
                **kwargs):
    """Call the student's ``fn``; returns ``(value, None)`` or ``(None, CheckResult)``.

    ``forbid`` lists the course functions that compute the answer: calling one of them from
    the student's code fails the check (see :func:`forbidden`)."""
    if not callable(fn):
        return None, CheckResult(exercise, "error", f"expected a function, got {type(fn).__name__}",
                                 hint)
    try:
        with forbidden(fn, forbid):
            return fn(*args, **kwargs), None
    except ReferenceCalled as used:
        return None, CheckResult(exercise, "failed",
                                 f"your code calls `{used.name}`, the course's own answer to "
                                 "this exercise; write the computation yourself.", hint)
    except NotImplementedError:
        return None, CheckResult(exercise, "not done",
                                 "not done yet: replace the `raise NotImplementedError` line "
                                 "with your code, run that cell, then run this one.", hint)
    except Exception as exc:  # the student's code failed: report it, do not crash the lesson
        return None, CheckResult(exercise, "error",
                                 f"your code raised {type(exc).__name__}: {exc}", hint)


def check_function(exercise: str, fn: Callable, reference: Callable, inputs: Sequence,
                   *, rtol: float = 1e-6, atol: float = 1e-9, hint: Hint = "",
                   what: str = "", forbid: Iterable = ()) -> CheckResult:
    """Compare ``fn(*args)`` with ``reference(*args)`` for every ``args`` in ``inputs``;
    ``reference`` itself is always forbidden to the student's code."""
    if _course_function(reference):
        forbid = (reference, *forbid)
    for args in inputs:
        args = args if isinstance(args, tuple) else (args,)
        got, problem = run_student(exercise, fn, *args, hint=hint, forbid=forbid)
        if problem is not None:
            return finish(problem)
        diff = compare(got, reference(*args), rtol, atol)
        if diff is not None:
            return finish(CheckResult(exercise, "failed", f"{diff}.", hint))
    done = what or f"matches the reference on {len(inputs)} test input(s)"
    return finish(CheckResult(exercise, "passed", f"correct: {done}."))


def check_value(exercise: str, value, expected, *, rtol: float = 1e-6, atol: float = 1e-9,
                hint: Hint = "", what: str = "") -> CheckResult:
    """Compare a value the student computed with the expected one."""
    diff = compare(value, expected, rtol, atol)
    if diff is not None:
        return finish(CheckResult(exercise, "failed", f"{diff}.", hint))
    return finish(CheckResult(exercise, "passed", f"correct{': ' + what if what else ''}."))


def check_true(exercise: str, condition: bool, success: str, failure: str,
               hint: Hint = "") -> CheckResult:
    """Pass if ``condition`` holds; for checks that are not a numeric comparison."""
    if condition:
        return finish(CheckResult(exercise, "passed", success))
    return finish(CheckResult(exercise, "failed", failure, hint))
