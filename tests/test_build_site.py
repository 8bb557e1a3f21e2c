"""The static edition: `python -m tools.build_site` builds pages and decks that work offline.

The build runs once per session on the lessons in notebooks/ (or, while there are none,
on the small stand-in notebook in tests/browser/fixtures/): the ``static_build`` fixture of
tests/conftest.py, whose executed notebooks ``test_notebooks.py`` reads too. The browser
checks open the files in headless Chromium with every request that would leave the machine
aborted.
"""

from __future__ import annotations

import json
import re
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
def site(static_build) -> Path:
    """Every lesson's page and deck (the session's one build: see ``static_build``)."""
    assert static_build["returncode"] == 0, f"build failed:\n{static_build['log']}"
    return static_build["out"]


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


# --- every slide fits the projector ------------------------------------------------------

SLIDE_W, SLIDE_H = 1280, 720
MIN_CHART_FONT_PX = 16

# For every slide of the deck: go to it, let MathJax and Plotly finish, then measure its
# content box (the union of its cells' boxes) against the slide area, count elements whose
# content is cut at the right edge (code or output wider than its box), and take the
# smallest font of any chart text. Fragments are laid out (only transparent) before they
# appear, so they count from the start.
JS_MEASURE_DECK = """
async (revealPath) => {
  const R = require(revealPath);
  R.configure({transition: 'none', backgroundTransition: 'none'});  // measure where it lands
  const wait = ms => new Promise(r => setTimeout(r, ms));
  const idle = () => new Promise(r => MathJax.Hub.Queue(r));
  const frame = document.querySelector('.reveal .slides').getBoundingClientRect();
  const found = [];
  const tops = Array.from(document.querySelectorAll('.reveal .slides > section'));
  for (let h = 0; h < tops.length; h++) {
    const stack = tops[h].querySelectorAll(':scope > section');
    const subs = stack.length ? Array.from(stack) : [tops[h]];
    for (let v = 0; v < subs.length; v++) {
      R.slide(h, v);
      await idle();
      await wait(150);
      const s = R.getCurrentSlide();
      let top = Infinity, bottom = -Infinity, left = Infinity, right = -Infinity;
      for (const el of s.querySelectorAll(':scope > .jp-Cell, :scope > .fragment > .jp-Cell')) {
        const r = el.getBoundingClientRect();
        if (r.height === 0) continue;
        top = Math.min(top, r.top); bottom = Math.max(bottom, r.bottom);
        left = Math.min(left, r.left); right = Math.max(right, r.right);
      }
      const cut = [];
      for (const el of s.querySelectorAll('.jp-Cell *')) {
        if (el.closest('aside.notes, svg, .MathJax_CHTML, .MathJax_Preview, .mjx-chtml')) continue;
        if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 2 &&
            getComputedStyle(el).overflowX !== 'visible') {
          cut.push(el.tagName.toLowerCase() + '.' + (el.className || '').toString().split(' ')[0]
                   + ' ' + (el.scrollWidth - el.clientWidth) + 'px');
        }
      }
      let minFont = Infinity;
      for (const t of s.querySelectorAll('.js-plotly-plot .main-svg text')) {
        if (!t.textContent.trim()) continue;
        const tspans = t.querySelectorAll('tspan');
        for (const el of [t, ...tspans]) {
          const text = el.textContent.replace(/\u200b/g, '').trim();
          // the exponent of a log axis' tick label (10^-16) is a superscript of the label
          if (!text || (el !== t && /^[\u2212\\-+0-9.]+$/.test(text))) continue;
          minFont = Math.min(minFont, parseFloat(getComputedStyle(el).fontSize));
        }
      }
      const scrollers = Array.from(s.querySelectorAll('*')).filter(
        el => el.scrollHeight > el.clientHeight + 2 && el.clientHeight > 0 &&
              ['auto', 'scroll'].includes(getComputedStyle(el).overflowY)).length;
      found.push({h, v, over_bottom: Math.round(bottom - frame.bottom),
                  over_top: Math.round(frame.top - top),
                  over_right: Math.round(right - frame.right), cut, scrollers,
                  min_chart_font: minFont === Infinity ? null : minFont,
                  text: (s.innerText || '').trim().slice(0, 60)});
    }
  }
  R.slide(0, 0);
  return found;
}
"""


def measure_deck(page, deck: Path) -> list[dict]:
    """Open a deck at 1280x720 and measure every slide (see JS_MEASURE_DECK)."""
    page.set_viewport_size({"width": SLIDE_W, "height": SLIDE_H})
    page.goto(deck.as_uri())
    page.wait_for_function(f"() => {REVEAL}.isReady && {REVEAL}.isReady()", timeout=30_000)
    page.wait_for_function(f"() => ({JS_PLOTS_DRAWN})() === "
                           "document.querySelectorAll('.js-plotly-plot').length", timeout=30_000)
    return page.evaluate(JS_MEASURE_DECK, REVEAL_JS)


def misfits(slides: list[dict]) -> list[str]:
    """One line per slide that does not fit, or whose chart text is under 16 px."""
    bad = []
    for s in slides:
        why = [f"{k.split('_')[1]} by {s[k]} px" for k in ("over_bottom", "over_top", "over_right")
               if s[k] > 0]
        if s["cut"]:
            why.append(f"cut at the right: {', '.join(s['cut'][:3])}")
        if s["scrollers"]:
            why.append(f"{s['scrollers']} scrolling boxes")
        if s["min_chart_font"] is not None and s["min_chart_font"] < MIN_CHART_FONT_PX:
            why.append(f"chart text {s['min_chart_font']:g} px")
        if why:
            bad.append(f"slide {s['h'] + 1}.{s['v'] + 1} ({s['text']!r}): " + "; ".join(why))
    return bad


@pytest.mark.browser
@pytest.mark.parametrize("nb_path", LESSONS, ids=lambda p: p.stem)
def test_every_slide_fits_1280x720(site, offline_page, nb_path):
    """Each slide's content lies inside the 1280x720 slide, nothing is cut, chart text >= 16 px."""
    page = offline_page
    with screenshot_on_failure(page, "test_every_slide_fits_1280x720-" + nb_path.stem):
        slides = measure_deck(page, site / f"{nb_path.stem}.slides.html")
        assert len(slides) == expected_slide_count(source(nb_path.stem))
        bad = misfits(slides)
        assert not bad, f"{len(bad)} of {len(slides)} slides do not fit:\n" + "\n".join(bad)


@pytest.mark.parametrize("nb_path", LESSONS, ids=lambda p: p.stem)
def test_handouts_leave_the_speaker_notes_out(site, nb_path):
    """Notes cells are in the deck's speaker view, not in the handout's body text."""
    nb = source(nb_path.stem)
    notes = [c.id for c in nb.cells if slide_type(c) == "notes"]
    shown = [c.id for c in nb.cells if slide_type(c) not in ("notes", "skip")]
    page = (site / f"{nb_path.stem}.html").read_text()
    deck = (site / f"{nb_path.stem}.slides.html").read_text()
    assert all(f'id="cell-id={cid}"' in page for cid in shown[:3])  # the ids are there...
    assert not [cid for cid in notes if f'id="cell-id={cid}"' in page]  # ...but not the notes
    assert all(f'id="cell-id={cid}"' in deck for cid in notes)
