"""One validator per kind of argument, so every public function fails the same clear way.

Each validator returns the value converted to a plain Python type (NumPy integers and
floats are accepted and converted; booleans are refused where a number is meant, since
``bool`` is a subclass of ``int``), or raises ``TypeError`` for the wrong kind of value and
``ValueError`` for a value out of range, naming the argument, the valid range or choices,
and what was given. NumPy only: importing this module never loads torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """An integer (Python or NumPy, not a bool) with ``lo <= value <= hi`` (either may be None)."""
    if not _is_integer(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        kind = "" if lo is not None and hi is not None else "an int "
        raise ValueError(f"{name} must be {kind}{_range_text(lo, hi)}, got {value}")
    return value


def check_float(name: str, value, lo: float | None = None, hi: float | None = None, *,
                lo_open: bool = False, hi_open: bool = False, allow_inf: bool = False) -> float:
    """A real number (int, float or NumPy scalar, not a bool), finite unless ``allow_inf``.

    ``lo``/``hi`` bound it (inclusive, or exclusive with ``lo_open``/``hi_open``). NaN is
    always refused.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                      np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    one_sided = (lo is None) != (hi is None)
    bounds = _range_text(lo, hi, lo_open, hi_open) if lo is not None or hi is not None else ""
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        rule = f"finite and {bounds}" if one_sided else "a finite number"
        raise ValueError(f"{name} must be {rule}, got {value}")
    too_low = lo is not None and (value <= lo if lo_open else value < lo)
    too_high = hi is not None and (value >= hi if hi_open else value > hi)
    if too_low or too_high:
        rule = f"finite and {bounds}" if one_sided and not allow_inf else bounds
        raise ValueError(f"{name} must be {rule}, got {value}")
    return value


def check_choice(name: str, value, choices: Iterable):
    """One of ``choices`` (compared with ``==``); the error lists every valid choice."""
    choices = list(choices)
    try:
        ok = value in choices
    except (TypeError, ValueError):  # e.g. an array, whose == gives no single truth value
        ok = False
    if not ok:
        # Plain names when every choice is a string without a comma; repr otherwise (None vs
        # 'None', and 'sigmoid, default init' stays one choice in the list).
        show = str if all(isinstance(c, str) and "," not in c for c in choices) else repr
        raise ValueError(f"unknown {name} {value!r}; valid choices: "
                         f"{', '.join(show(c) for c in choices)}")
    return value


def check_bool(name: str, value) -> bool:
    """``True`` or ``False`` (a NumPy bool is accepted); anything else is a ``TypeError``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_seed(value, name: str = "seed") -> int:
    """A random seed: an integer from 0 to 2**32 - 1 (what NumPy and torch both accept)."""
    return check_int(name, value, 0, 2**32 - 1)


def _num(x) -> str:
    """A bound as written by hand: 0 rather than 0.0, 1e-06 rather than 1e-06 (as is)."""
    return f"{x:g}" if isinstance(x, float) and float(f"{x:g}") == x else str(x)


def _range_text(lo, hi, lo_open: bool = False, hi_open: bool = False) -> str:
    """The valid range in words; at least one of ``lo`` and ``hi`` is a number."""
    if lo is not None and hi is not None:
        lo, hi = _num(lo), _num(hi)
        if lo_open == hi_open:
            return f"between {lo} and {hi}" + (" (exclusive)" if lo_open else "")
        return f"in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {_num(lo)}"
    return f"{'<' if hi_open else '<='} {_num(hi)}"
