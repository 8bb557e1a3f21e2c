"""The Gradient Flow Explorer follows its depth slider while it is dragged, in JupyterLab.

Runs tests/browser/fixtures/explorer_drag.ipynb (depth 30), drags the depth slider's handle
slowly to the right as a hand would, and reads the depth the chart shows (its activation-std
trace has one point per layer) while the mouse button is down. The chart must show several
depths before the button is released (it follows the drag), and soon after release the
depth the slider ends on (values are coalesced, none is lost at the end).
The rate it reaches is a benchmark figure (benchmarks/latency.py), not asserted here.
"""

from __future__ import annotations

import time

import pytest
from lablib import JS_ERRORS, run_to_first_chart

# The depth the explorer's chart shows: points of the activation-std trace (index 3) - 1.
JS_SHOWN_DEPTH = """
(root) => {
  const plot = root.querySelector('.js-plotly-plot');
  const t = plot && (plot._fullData || plot.data || [])[3];
  return t && t.x ? t.x.length - 1 : null;
}
"""


@pytest.mark.browser
def test_chart_follows_a_dragged_slider_and_ends_on_its_value(page, lab):
    area = run_to_first_chart(page, lab, "notebooks/explorer_drag.ipynb")
    assert area.evaluate(JS_SHOWN_DEPTH) == 30
    handle = area.locator(".widget-slider .noUi-handle").first
    handle.scroll_into_view_if_needed()
    track = area.locator(".widget-slider .noUi-target").first.bounding_box()
    box = handle.bounding_box()
    y = box["y"] + box["height"] / 2

    def x_of(depth):  # the slider's range is 1..100
        return track["x"] + track["width"] * (depth - 1) / 99

    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    shown = set()
    for depth in range(31, 61):  # ~0.1 s per step: about 3 s of dragging
        page.mouse.move(x_of(depth), y)
        time.sleep(0.1)
        shown.add(area.evaluate(JS_SHOWN_DEPTH))
    page.mouse.up()
    final = int(handle.get_attribute("aria-valuenow").split(".")[0])
    assert final >= 55, f"the drag moved the slider to {final} only"
    during = shown - {30, final}
    assert len(during) >= 2, f"while dragging the chart showed only the depths {sorted(shown)}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and area.evaluate(JS_SHOWN_DEPTH) != final:
        time.sleep(0.1)
    assert area.evaluate(JS_SHOWN_DEPTH) == final, (
        f"the slider ended on {final} but the chart shows {area.evaluate(JS_SHOWN_DEPTH)}")
    assert not page.evaluate(JS_ERRORS)
