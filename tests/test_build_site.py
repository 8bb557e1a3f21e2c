"""The static edition: `python -m tools.build_site` builds pages and decks that work offline.

The build runs once per session on the lessons in notebooks/ (or, while there are none,
on the small stand-in notebook in tests/browser/fixtures/). The browser checks open the
files in headless Chromium with every request that would leave the machine aborted.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.browser import block_remote  # noqa: E402
from tools.build_site import expected_slide_count, slide_type  # noqa: E402

FIXTURES = ROOT / "tests" / "browser" / "fixtures"
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb")) or sorted(FIXTURES.glob("*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "tools.build_site", "--out", str(out), *map(str, LESSONS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, f"build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return out


def source(stem: str):
    return nbformat.read(next(p for p in LESSONS if p.stem == stem), as_version=4)


def test_every_lesson_has_a_page_and_a_deck(site):
    for nb in LESSONS:
        assert (site / f"{nb.stem}.html").stat().st_size > 0
        assert (site / f"{nb.stem}.slides.html").stat().st_size > 0
    index = (site / "index.html").read_text()
    assert all(f'href="{nb.stem}.slides.html"' in index for nb in LESSONS)


def test_only_exercise_stubs_failed(site):
    for entry in json.loads((site / "manifest.json").read_text()):
        for err in entry["exercise_errors"]:
            assert "NotImplementedError" in err, err


@pytest.mark.parametrize("nb_path", LESSONS, ids=lambda p: p.stem)
def test_pages_load_only_local_files(site, nb_path):
    for kind in ("html", "slides.html"):
        page = (site / f"{nb_path.stem}.{kind}").read_text()
        remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"', page)
        assert not remote, f"{kind} loads {remote}"
        assert page.count("vendor/plotly.min.js") == 1, "plotly.js must be loaded once per page"
        assert "Static edition" in page, "the banner saying where to run it live is missing"


@pytest.mark.parametrize("nb_path", LESSONS, ids=lambda p: p.stem)
def test_speaker_notes_are_in_the_deck(site, nb_path):
    notes = sum(slide_type(c) == "notes" for c in source(nb_path.stem).cells)
    deck = (site / f"{nb_path.stem}.slides.html").read_text()
    assert deck.count('<aside class="notes">') == notes


# --- in a browser ------------------------------------------------------------------------


@pytest.fixture
def offline_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    blocked: list[str] = []
    errors: list[str] = []
    block_remote(context, blocked)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.blocked, page.errors = blocked, errors
    try:
        yield page
    finally:
        context.close()


@contextmanager
def screenshot_on_failure(page, name: str):
    """Save a screenshot to test-artifacts/ when the block raises."""
    try:
        yield
    except BaseException:
        shots = ROOT / "test-artifacts"
        shots.mkdir(exist_ok=True)
        page.screenshot(path=str(shots / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"))
        raise


JS_PLOTS_DRAWN = """
() => Array.from(document.querySelectorAll('.js-plotly-plot'))
      .filter(el => el.querySelector('.main-svg')).length
"""


REVEAL_JS = "vendor/reveal.js/dist/reveal.js"
REVEAL = f"(window.require && require.defined('{REVEAL_JS}') && require('{REVEAL_JS}'))"
JS_POSITION = f"() => {{ const s = {REVEAL}.getState(); return s.indexh + '/' + s.indexv; }}"


@pytest.mark.browser
@pytest.mark.parametrize("nb_path", LESSONS, ids=lambda p: p.stem)
def test_deck_runs_offline(site, offline_page, nb_path):
    page = offline_page
    with screenshot_on_failure(page, "test_deck_runs_offline-" + nb_path.stem):
        nb = source(nb_path.stem)
        page.goto((site / f"{nb_path.stem}.slides.html").as_uri())
        # the deck loads reveal.js through require.js, so there is no global `Reveal`
        page.wait_for_function(f"() => {REVEAL}.isReady && {REVEAL}.isReady()", timeout=30_000)
        total = page.evaluate(f"() => {REVEAL}.getTotalSlides()")
        assert total == expected_slide_count(nb)
        # walk the deck as a presenter would, with the keyboard
        seen = {page.evaluate(JS_POSITION)}
        fragments = sum(slide_type(c) == "fragment" for c in nb.cells)
        for _ in range(total - 1 + fragments):
            page.keyboard.press("Space")  # next fragment or slide, vertical or horizontal
            seen.add(page.evaluate(JS_POSITION))
        assert len(seen) == total, f"visited {sorted(seen)} of {total} slides"
        n_plots = page.evaluate("() => document.querySelectorAll('.js-plotly-plot').length")
        expected_plots = (site / f"{nb_path.stem}.slides.html").read_text().count("Plotly.newPlot(")
        assert n_plots == expected_plots
        page.wait_for_function(f"() => ({JS_PLOTS_DRAWN})() === {n_plots}", timeout=20_000)
        assert not page.blocked, f"requests left the machine: {page.blocked}"
        assert not page.errors, f"errors in the page: {page.errors}"


@pytest.mark.browser
@pytest.mark.parametrize("nb_path", LESSONS, ids=lambda p: p.stem)
def test_page_runs_offline(site, offline_page, nb_path):
    page = offline_page
    with screenshot_on_failure(page, "test_page_runs_offline-" + nb_path.stem):
        page.goto((site / f"{nb_path.stem}.html").as_uri())
        n_plots = (site / f"{nb_path.stem}.html").read_text().count("Plotly.newPlot(")
        if nb_path.parent == FIXTURES:
            assert n_plots == 2, "the stand-in draws a static chart and a FigureWidget"
        page.wait_for_function(f"() => ({JS_PLOTS_DRAWN})() === {n_plots}", timeout=20_000)
        # MathJax typesets the LaTeX from the local copy
        markdown = [c.source for c in source(nb_path.stem).cells if c.cell_type == "markdown"]
        if "$" in "".join(markdown):
            page.wait_for_selector(".MathJax_CHTML, mjx-container", timeout=20_000)
        assert not page.blocked, f"requests left the machine: {page.blocked}"
        assert not page.errors, f"errors in the page: {page.errors}"
