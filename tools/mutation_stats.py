"""A pytest plugin for mutmut's first pass: credit a cached fixture's calls to every test using it.

mutmut learns which tests exercise a function by recording the functions each test calls
between its start and its teardown. A fixture with ``scope="module"`` or ``"session"`` is
computed once, inside the first test that asks for it, so every function the fixture calls
is credited to that one test alone. A mutant of such a function is then tried against that
test only, and survives whenever the later tests, which read the same fixture's results,
are the ones that would notice it.

This plugin records the functions each fixture's set-up calls and adds them to the record
of every test that uses the fixture. ``tests/conftest.py`` loads it when mutmut runs the
suite in-process; during the runs against mutants it does nothing.
"""

from __future__ import annotations

import pytest

_HITS: dict[int, set[str]] = {}  # id(fixturedef) -> functions its set-up called


def _recording() -> bool:
    try:
        from mutmut.mutation.trampoline import get_mutant_under_test
    except ImportError:  # another mutmut layout: leave its record as it is
        return False
    return get_mutant_under_test() == "stats"


def _record():
    from mutmut.state import state

    return state()._stats


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    if not _recording() or fixturedef.scope == "function":
        yield
        return
    before = set(_record())
    yield
    _HITS[id(fixturedef)] = set(_record()) - before


def pytest_runtest_call(item):
    if not _recording():
        return
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return
    record = _record()
    for name in info.names_closure:
        for fixturedef in info.name2fixturedefs.get(name, ()):
            record.update(_HITS.get(id(fixturedef), ()))
