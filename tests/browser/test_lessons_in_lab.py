"""Every lesson in a real JupyterLab: Run All works and each live widget moves its chart.

One JupyterLab server serves copies of the lessons (the repository is never written);
the lessons run one after another in the same Chromium.
"""

from __future__ import annotations

import json
import time

import pytest
from conftest import FIXTURES, lesson_paths
from lablib import JS_ERRORS, open_notebook, run_all_and_wait

NOTEBOOKS = [*lesson_paths(), *sorted(FIXTURES.glob("*.ipynb"))]

# Controls a person can operate with the keyboard, in the order the test tries them.
SLIDER_HANDLE = ".widget-slider .noUi-handle, .widget-slider .slider-handle"
DROPDOWN = ".widget-dropdown select"

# Everything that tells one state of a Plotly chart from another, for the charts in `root`.
JS_CHART_STATE = """
(root) => JSON.stringify(Array.from(root.querySelectorAll('.js-plotly-plot')).map(el => ({
  data: (el._fullData || el.data || []).map(t => [t.x, t.y, t.z, t.visible, t.name]
    .map(v => (v && v.length !== undefined && typeof v !== 'string') ? Array.from(v) : v)),
  shapes: el.layout && el.layout.shapes, annotations: el.layout && el.layout.annotations,
  title: el.layout && el.layout.title && el.layout.title.text,
})))
"""


def wait_for_change(area, before: str, timeout_s: float = 45) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if area.evaluate(JS_CHART_STATE) != before:
            return True
        time.sleep(0.25)
    return False


def operate(page, area, control_index: int) -> str | None:
    """Move one control in `area` as a person would; return a description, or None if none."""
    handles = area.locator(SLIDER_HANDLE)
    dropdowns = area.locator(DROPDOWN)
    n_h = handles.count()
    if control_index < n_h:
        h = handles.nth(control_index)
        h.scroll_into_view_if_needed()
        h.focus()
        now, top = h.get_attribute("aria-valuenow"), h.get_attribute("aria-valuemax")
        key = "ArrowLeft" if now is not None and now == top else "ArrowRight"
        page.keyboard.press(key)
        return f"slider {control_index} {key}"
    i = control_index - n_h
    if i < dropdowns.count():
        d = dropdowns.nth(i)
        d.scroll_into_view_if_needed()
        options = d.locator("option").all_inner_texts()
        current = d.evaluate("el => (el.options[el.selectedIndex] || {}).text")
        others = [o for o in options if o != current]
        if not others:
            return f"dropdown {i} (one option)"
        d.select_option(label=others[0])
        return f"dropdown {i} -> {others[0]}"
    return None


@pytest.mark.browser
@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_runs_and_widgets_move_charts(page, lab, nb_path):
    rel = f"notebooks/{nb_path.name}"
    t0 = time.monotonic()
    open_notebook(page, lab, rel)
    t_open = time.monotonic()
    state = run_all_and_wait(page)
    t_ran = time.monotonic()
    print(f"{nb_path.stem}: opened in {t_open - t0:.1f} s, ran in {t_ran - t_open:.1f} s")
    assert all(c["count"] is not None for c in state["cells"] if c["type"] == "code")

    errors = page.evaluate(JS_ERRORS)
    unexpected = [e for e in errors
                  if not ("exercise" in e["tags"] and e["ename"] == "NotImplementedError")]
    assert not unexpected, "errors besides the exercise stubs:\n" + json.dumps(unexpected, indent=1)
    broken = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))
        .map(el => el.innerText).filter(t => /Error displaying widget|model not found/i.test(t))""")
    assert not broken, f"widgets failed to render: {broken}"

    # every output that holds both a control and a chart is a live widget: each must respond
    areas = page.locator(".jp-OutputArea-output").filter(has=page.locator(".js-plotly-plot"))
    live = [areas.nth(i) for i in range(areas.count())
            if areas.nth(i).locator(f"{SLIDER_HANDLE}, {DROPDOWN}").count() > 0]
    if nb_path.parent == FIXTURES:
        assert live, "the stand-in notebook has a live widget"
    for k, area in enumerate(live):
        area.scroll_into_view_if_needed()
        area.locator(".js-plotly-plot .main-svg").first.wait_for(state="attached")
        tried = []
        for control in range(6):  # some controls (a seed, a colour) may leave a chart alone
            before = area.evaluate(JS_CHART_STATE)
            what = operate(page, area, control)
            if what is None:
                break
            tried.append(what)
            if wait_for_change(area, before, timeout_s=45 if control == 0 else 15):
                break
        else:
            pytest.fail(f"widget {k}: no chart changed after {tried}")
        print(f"  widget {k}: {tried} at {time.monotonic() - t0:.1f} s")
        assert tried and area.evaluate(JS_CHART_STATE) != before, (
            f"widget {k} in {nb_path.name}: the chart did not change after {tried}")
    assert not [e for e in page.page_errors if "plotly" in e.lower() or "widget" in e.lower()], (
        page.page_errors)
