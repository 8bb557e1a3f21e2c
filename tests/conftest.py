"""Shared pytest fixtures: one torch thread, lenient exercise checks, one Chromium, and the
static edition of the lessons, built once per session."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.browser import INSTALL_HINT, LAUNCH_ARGS, browser_required, find_chromium  # noqa: E402

if "mutmut" in sys.modules:  # mutmut runs the suite in-process: see tools/mutation_stats.py
    pytest_plugins = ["tools.mutation_stats"]


@pytest.fixture(autouse=True, scope="session")
def _single_torch_thread():
    """Run torch on one thread: tiny tensors are faster so, and the machine is shared."""
    import torch  # imported here so that tests which do not use torch do not pay for it

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def _lenient_checks(monkeypatch):
    """Exercise checks report failures instead of raising, unless a test asks for strict mode;
    every test starts with no wrong attempts on record (hints start at their first level)."""
    from helpers.checks import core

    monkeypatch.setenv("COURSE_STRICT_CHECKS", "0")
    core._ATTEMPTS.clear()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium (never a downloaded browser); skip, or fail with REQUIRE_BROWSER=1."""
    path = find_chromium()
    if path is None:
        if browser_required():
            pytest.fail(f"REQUIRE_BROWSER is set but {INSTALL_HINT}", pytrace=False)
        pytest.skip(INSTALL_HINT)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One Playwright and one browser for the whole session.

    Playwright's sync API runs an event loop while it is active, so a second
    ``sync_playwright()`` in the same session would fail: every test shares this one.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def static_build(request, tmp_path_factory) -> dict:
    """The static edition of the lessons this session's tests need, built once.

    ``python -m tools.build_site`` runs each lesson (unsolved) in its own kernel, two at a
    time, and saves the executed notebooks too: the static-edition tests read the pages,
    and ``test_runs_unsolved`` reads the executed notebooks, so each lesson runs unsolved
    once per session. Returns ``{"out", "executed", "returncode", "log"}``; a lesson whose
    run failed has its partial run in ``executed`` (or none), and the build's log says why.
    """
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) or sorted(
        (ROOT / "tests" / "browser" / "fixtures").glob("*.ipynb"))
    users = [i for i in request.session.items if "static_build" in getattr(i, "fixturenames", ())]
    if any("site" in i.fixturenames for i in users):  # the static-edition tests: every lesson
        wanted = lessons
    else:
        wanted = sorted({i.callspec.params["nb_path"] for i in users
                         if "nb_path" in getattr(getattr(i, "callspec", None), "params", {})}
                        ) or lessons
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "tools.build_site", "--out", str(out), "--executed",
         str(out / "executed"), *map(str, wanted)],
        cwd=ROOT, capture_output=True, text=True, timeout=3600,
        env={**os.environ, "COURSE_STRICT_CHECKS": "0"},
    )
    return {"out": out, "executed": out / "executed", "returncode": proc.returncode,
            "log": f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"}


def pytest_collection_modifyitems(items):
    """Mark the tests that execute the lessons, so that `-m "not notebook"` leaves them out.

    The static-edition tests share a `site` fixture that runs every lesson to build the
    pages: they cost what the notebook tests cost, and belong with them in the slow loop.
    """
    for item in items:
        if "site" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.notebook)
