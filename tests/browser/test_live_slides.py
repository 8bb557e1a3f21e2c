"""Live slides: a lesson presented in JupyterLab's deck mode never traps the presenter.

The instructor's route (docs/teaching.md, "Present a lesson live"): open the lesson in
JupyterLab, Run All, click the title cell, start the deck (`deck:start`), then only the
keyboard: right arrow for the next slide, down arrow for the next cell of the same slide
(a fragment), left arrow to go back. The tests do exactly that in Chromium at 1280x720,
for every lesson in notebooks/ (new lessons are picked up as they land):

* every key press changes what is on the screen (no dead presses), and the screen then
  shows the stop the slide metadata defines, with visible, non-empty content;
* no cell collapses (JupyterLab's own arrow-key bindings must not act on the notebook);
* the last slide is reached going forward, and the title going back;
* on a slide with a slider and a chart, the slider still redraws the chart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, lesson_paths
from lablib import open_notebook, run_all_and_wait
from test_lessons_in_lab import JS_CHART_STATE, SLIDER_HANDLE, wait_for_change

from tools.slide_metadata import problems

DECK_NOTEBOOK = ROOT / "notebooks" / "03_gradients_in_deep_networks.ipynb"
PRESENTING = "body[data-jp-deck-mode='presenting']"
ONSCREEN = ".jp-Cell.jp-deck-mod-onscreen.jp-deck-mod-visible"
VIEWPORT = {"width": 1280, "height": 720}

# What the deck shows now: indices of the cells on screen, whether each is laid out inside
# the window with some content, and whether any heading has collapsed cells under it.
JS_SCREEN = """
() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const on = [], empty = [];
  nb.widgets.forEach((c, i) => {
    const n = c.node;
    const cls = n.classList;
    if (!(cls.contains('jp-deck-mod-onscreen') && cls.contains('jp-deck-mod-visible'))) return;
    on.push(i);
    const r = n.getBoundingClientRect();
    const inside = r.height > 0 && r.width > 0 && r.bottom > 0 && r.top < window.innerHeight;
    const content = (n.innerText || '').trim().length > 0 || n.querySelector('svg, img, canvas');
    if (!inside || !content || getComputedStyle(n).visibility === 'hidden') empty.push(i);
  });
  const collapsed = nb.widgets.filter(c => c.headingCollapsed).length
    + document.querySelectorAll('.jp-showHiddenCellsButton').length;
  return {on, empty, collapsed, active: nb.activeCellIndex,
          presenting: document.body.dataset.jpDeckMode === 'presenting'};
}
"""


@dataclass(frozen=True)
class Stop:
    """One key press of the deck: a slide, a sub-slide or a fragment, and what it shows."""

    kind: str  # "slide", "subslide" or "fragment"
    cells: tuple[int, ...]  # notebook cells on screen once it is reached (no skip, no notes)


def deck_stops(nb_path: Path) -> list[Stop]:
    """The stops of a notebook's deck, in order, as nbconvert and the deck group the cells.

    A slide or sub-slide starts a new screen; a fragment adds its cell to the screen it is
    on; a cell without a slide type joins the stop before it.
    """
    cells = json.loads(nb_path.read_text())["cells"]
    stops: list[Stop] = []
    for i, cell in enumerate(cells):
        kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        if kind in ("skip", "notes"):
            continue
        if not stops:
            stops.append(Stop("slide", (i,)))
        elif kind in ("slide", "subslide"):
            stops.append(Stop(kind, (i,)))
        elif kind == "fragment":
            stops.append(Stop(kind, (*stops[-1].cells, i)))
        else:
            stops[-1] = Stop(stops[-1].kind, (*stops[-1].cells, i))
    return stops


KEYS = {"slide": "ArrowRight", "subslide": "ArrowDown", "fragment": "ArrowDown"}


def start_deck(page, nb_path: Path) -> None:
    """Open, run and present a lesson as the instructor does: click the title, start the deck."""
    open_notebook(page, page.lab, f"notebooks/{nb_path.name}")
    run_all_and_wait(page)
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.evaluate("() => window.jupyterapp.commands.execute('deck:start')")
    page.wait_for_selector(PRESENTING, state="attached")
    page.wait_for_timeout(500)


def press(page, key: str, before: dict, timeout_ms: int = 5_000) -> dict:
    """Press a key and wait until the screen changes; return the new screen (maybe unchanged)."""
    page.keyboard.press(key)
    try:
        page.wait_for_function(f"(b) => JSON.stringify(({JS_SCREEN})().on) !== b",
                               arg=json.dumps(before["on"]), timeout=timeout_ms, polling=100)
    except Exception:  # noqa: BLE001 - an unchanged screen is reported by the caller
        pass
    page.wait_for_timeout(150)
    return page.evaluate(JS_SCREEN)


def check_screen(screen: dict, where: str) -> None:
    assert screen["presenting"], f"{where}: the deck stopped presenting"
    assert screen["on"], f"{where}: an empty slide (no cell on screen)"
    assert not screen["empty"], f"{where}: cells {screen['empty']} are on screen but show nothing"
    assert not screen["collapsed"], f"{where}: a heading collapsed cells under it"


@pytest.fixture
def deck_page(page, lab):
    page.lab = lab
    page.set_viewport_size(VIEWPORT)
    try:
        yield page
    finally:
        page.set_viewport_size({"width": 1400, "height": 900})


@pytest.mark.browser
@pytest.mark.parametrize("nb_path", lesson_paths(), ids=lambda p: p.stem)
def test_live_deck_steps_through_the_whole_lesson(deck_page, nb_path):
    """-> and down through every slide and sub-slide to the last, then <- back to the title."""
    page = deck_page
    stops = deck_stops(nb_path)
    start_deck(page, nb_path)
    screen = page.evaluate(JS_SCREEN)
    check_screen(screen, "the title slide")
    assert stops[0].cells[0] in screen["on"], f"the deck did not start on the title: {screen}"
    # down on a slide with nothing below it: no blank slide, and the deck still moves on
    after = press(page, "ArrowDown", screen, timeout_ms=1_500)
    check_screen(after, "the title slide after a down arrow")
    assert after["on"] in (screen["on"], list(stops[1].cells)), f"down went to {after['on']}"
    start = 2 if after["on"] != screen["on"] else 1
    screen = after
    for n, stop in enumerate(stops[start:], start=start + 1):
        key = KEYS[stop.kind]
        where = f"stop {n} of {len(stops)} (cell {stop.cells[0]}, a {stop.kind}, after {key})"
        new = press(page, key, screen)
        assert new["on"] != screen["on"], f"{where}: the key press changed nothing on screen"
        check_screen(new, where)
        assert set(stop.cells) <= set(new["on"]), (
            f"{where}: expected cells {list(stop.cells)} on screen, the deck shows {new['on']}")
        screen = new
    assert set(stops[-1].cells) <= set(screen["on"]), "the last slide was not reached"
    for n in range(len(stops)):
        if stops[0].cells[0] in screen["on"]:
            break
        new = press(page, "ArrowLeft", screen)
        where = f"going back, press {n + 1} (from cells {screen['on']})"
        assert new["on"] != screen["on"], f"{where}: the key press changed nothing on screen"
        check_screen(new, where)
        assert max(new["on"]) < max(screen["on"]), f"{where}: <- went forward, to {new['on']}"
        screen = new
    assert stops[0].cells[0] in screen["on"], "<- did not lead back to the title slide"


@pytest.mark.browser
def test_deck_slide_has_live_slider_and_chart(deck_page):
    """The explorer slide of lesson 3: a slider on the live slide still redraws its chart."""
    page = deck_page
    start_deck(page, DECK_NOTEBOOK)
    stops = deck_stops(DECK_NOTEBOOK)
    screen = page.evaluate(JS_SCREEN)
    cell = None
    for stop in stops[1:]:
        candidates = page.locator(ONSCREEN).filter(has=page.locator(SLIDER_HANDLE)).filter(
            has=page.locator(".js-plotly-plot .main-svg"))
        if candidates.count() and candidates.first.locator(SLIDER_HANDLE).first.is_visible():
            cell = candidates.first
            break
        screen = press(page, KEYS[stop.kind], screen)
    assert cell is not None, "no slide of the deck shows a slider together with a chart"
    assert cell.locator(".js-plotly-plot").first.is_visible()
    # the chart is drawn (its traces arrived from the kernel) before the slider is moved
    cell.locator(".js-plotly-plot").first.evaluate(
        "el => new Promise((ok, no) => { const t0 = Date.now(); (function poll() {"
        " if ((el._fullData || []).length) ok(); else if (Date.now() - t0 > 60000) no('no traces');"
        " else setTimeout(poll, 250); })(); })")

    handle = cell.locator(SLIDER_HANDLE).first
    before = cell.evaluate(JS_CHART_STATE)
    handle.click()
    top = handle.get_attribute("aria-valuemax")
    key = "ArrowLeft" if handle.get_attribute("aria-valuenow") == top else "ArrowRight"
    page.keyboard.press(key)
    assert wait_for_change(cell, before), f"the chart did not change after {key} on the slider"
    # still presenting: the keyboard went to the slider, not to the deck
    assert page.locator(PRESENTING).count() == 1
    assert cell.is_visible(), "the slide with the slider left the screen"


@pytest.mark.parametrize("nb_path", lesson_paths(), ids=lambda p: p.stem)
def test_lessons_use_slide_metadata_the_deck_shows(nb_path):
    """Only slide, fragment, skip and notes: every key press in the deck shows something.

    A continuation cell ("-" or no slide type) is a stop of the live deck with nothing new
    on screen, and the left arrow does nothing on a sub-slide (tools/slide_metadata.py).
    """
    found = problems(json.loads(nb_path.read_text()))
    assert not found, ("\n".join(found[:10]) + "\nfix with: python -m tools.slide_metadata --fix "
                       f"notebooks/{nb_path.name}")
