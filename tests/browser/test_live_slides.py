"""Live slides: a lesson presented with jupyterlab-deck keeps its sliders and charts live.

The instructor's route (docs/teaching.md): open the lesson in JupyterLab, Run All, then
View > Deck (the `deck:start` command). The test does the same in Chromium, pages through
the deck to the first slide that shows a slider and a chart, presses ArrowRight on the
slider handle and checks that the chart's data changed.
"""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, lesson_paths
from lablib import open_notebook, run_all_and_wait
from test_lessons_in_lab import JS_CHART_STATE, SLIDER_HANDLE, wait_for_change

DECK_NOTEBOOK = ROOT / "notebooks" / "03_gradients_in_deep_networks.ipynb"

ONSCREEN = ".jp-Cell.jp-deck-mod-onscreen.jp-deck-mod-visible"


@pytest.mark.browser
def test_deck_slide_has_live_slider_and_chart(page, lab):
    open_notebook(page, lab, f"notebooks/{DECK_NOTEBOOK.name}")
    run_all_and_wait(page)
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0; }")
    page.evaluate("() => window.jupyterapp.commands.execute('deck:start')")
    page.wait_for_selector("body[data-jp-deck-mode='presenting']", state="attached")

    n_cells = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length")
    cell = None
    for _ in range(n_cells):
        candidates = page.locator(ONSCREEN).filter(has=page.locator(SLIDER_HANDLE)).filter(
            has=page.locator(".js-plotly-plot .main-svg"))
        if candidates.count() and candidates.first.locator(SLIDER_HANDLE).first.is_visible():
            cell = candidates.first
            break
        page.evaluate("() => window.jupyterapp.commands.execute('deck:forward')")
        page.wait_for_timeout(400)
    assert cell is not None, "no slide of the deck shows a slider together with a chart"
    assert cell.locator(".js-plotly-plot").first.is_visible()

    handle = cell.locator(SLIDER_HANDLE).first
    before = cell.evaluate(JS_CHART_STATE)
    handle.focus()
    top = handle.get_attribute("aria-valuemax")
    key = "ArrowLeft" if handle.get_attribute("aria-valuenow") == top else "ArrowRight"
    page.keyboard.press(key)
    assert wait_for_change(cell, before), f"the chart did not change after {key} on the slider"
    # still presenting: the keyboard went to the slider, not to the deck
    assert page.locator("body[data-jp-deck-mode='presenting']").count() == 1


@pytest.mark.parametrize("nb_path", lesson_paths(), ids=lambda p: p.stem)
def test_lessons_use_slide_metadata_the_deck_shows(nb_path):
    """Continuation cells carry no slide_type (as JupyterLab 4 writes them), not "-".

    jupyterlab-deck 0.2.0 hides every cell whose slide_type is "-", so a lesson that uses
    it presents as slides with missing code, outputs and widgets. nbconvert treats a
    missing slide_type as "-", so the static decks are the same either way.
    """
    nb = json.loads(nb_path.read_text())
    dashes = [i for i, c in enumerate(nb["cells"])
              if c.get("metadata", {}).get("slideshow", {}).get("slide_type") == "-"]
    assert not dashes, (
        f'{len(dashes)} cells have slide_type "-" (cells {dashes[:8]}...): the deck hides them; '
        "remove the key instead (python -m tools.slide_metadata --fix " + nb_path.name + ")")
