"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, one JupyterLab server.

Without a Chromium these tests skip (saying how to install one), unless REQUIRE_BROWSER=1,
in which case a missing browser is a failure. Screenshots of failing tests go to
test-artifacts/.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from lablib import JS_CLOSE_ALL, LabServer  # noqa: E402

FIXTURES = HERE / "fixtures"
ARTIFACTS = ROOT / "test-artifacts"


def lesson_paths() -> list[Path]:
    """The course's lessons, in order."""
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def prepare_copy(src: Path, dest: Path) -> None:
    """Copy a notebook for serving; exercise stubs get `raises-exception` so Run All goes on.

    JupyterLab stops "Run All" at the first error unless the failing cell carries the
    `raises-exception` tag; the stubs raise NotImplementedError by design.
    """
    nb = json.loads(src.read_text())
    for cell in nb["cells"]:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if "exercise" in tags and "raises-exception" not in tags:
            tags.append("raises-exception")
    dest.write_text(json.dumps(nb, indent=1))


@pytest.fixture(scope="session")
def lab(tmp_path_factory, chromium_path):
    """A JupyterLab server on 127.0.0.1 serving copies of the lessons and the test fixtures."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    nb_dir = root / "notebooks"
    # the lessons' folder as students have it (data files included), then the copies
    shutil.copytree(ROOT / "notebooks", nb_dir, ignore=shutil.ignore_patterns(
        "*.ipynb", ".ipynb_checkpoints"))
    for src in [*lesson_paths(), *sorted(FIXTURES.glob("*.ipynb"))]:
        prepare_copy(src, nb_dir / src.name)
    server = LabServer(root, base / "work")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def lab_page(browser, lab):
    """One Chromium tab for all the tests: JupyterLab loads once, notebooks open in turn."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.page_errors = []
    pg.console_errors = []
    pg.on("pageerror", lambda e: pg.page_errors.append(str(e)))
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text[:500]))
    try:
        yield pg
    finally:
        try:
            pg.evaluate(JS_CLOSE_ALL)  # shut the last notebook's kernel down
        except Exception:
            pass
        context.close()


@pytest.fixture
def page(lab_page, request):
    pg = lab_page
    pg.page_errors.clear()
    pg.console_errors.clear()
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is None or rep.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
            try:
                pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            except Exception as exc:  # a screenshot must never hide the real failure
                print(f"screenshot failed: {exc}")
            (ARTIFACTS / f"{name}.console.txt").write_text(
                "\n".join(["page errors:", *pg.page_errors, "console errors:", *pg.console_errors]))
        # close the notebook and shut its kernel down, so that lessons do not pile up kernels
        try:
            pg.evaluate(JS_CLOSE_ALL)
        except Exception:
            pass
