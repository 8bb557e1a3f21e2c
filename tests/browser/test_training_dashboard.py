"""The training dashboard in a real JupyterLab: Start trains with live charts, Stop stops it.

Runs a small notebook (tests/browser/fixtures/training_dashboard.ipynb) that shows the
dashboard with a budget of 2,000 steps, clicks Start, checks that the charts change while the
run is in progress (twice, at different steps), clicks Stop, and checks that the run ended
before its budget.
"""

from __future__ import annotations

import re
import time

import pytest
from lablib import run_to_first_chart

BUDGET = 2000
# The live training run's loss trace (index 1) and the progress text, read from the page.
JS_STATE = """
(root) => {
  const plot = root.querySelector('.js-plotly-plot');
  const data = plot ? (plot._fullData || plot.data || []) : [];
  const loss = data[1] && data[1].y ? Array.from(data[1].y) : [];
  return {n: loss.length, last: loss.length ? loss[loss.length - 1] : null,
          text: root.innerText};
}
"""


def wait_until(area, predicate, timeout_s: float, what: str) -> dict:
    deadline = time.monotonic() + timeout_s
    state = area.evaluate(JS_STATE)
    while time.monotonic() < deadline:
        state = area.evaluate(JS_STATE)
        if predicate(state):
            return state
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}; last state: "
                f"{ {k: v for k, v in state.items() if k != 'text'} }, text: "
                f"{state['text'][-400:]!r}")


@pytest.mark.browser
def test_start_trains_with_live_charts_and_stop_stops(page, lab):
    area = run_to_first_chart(page, lab, "notebooks/training_dashboard.ipynb")
    assert area.evaluate(JS_STATE)["n"] == 0

    area.get_by_role("button", name="Start").click()
    first = wait_until(area, lambda s: s["n"] >= 2, 90, "the loss chart to show the run")
    assert "steps/s" in first["text"] and "s left" in first["text"]
    later = wait_until(area, lambda s: s["n"] > first["n"], 60,
                       "the loss chart to change again while training runs")
    assert later["n"] > first["n"]

    clicked = time.monotonic()
    area.get_by_role("button", name="Stop").click()
    done = wait_until(area, lambda s: "stopped at step" in s["text"], 30, "the run to stop")
    latency = time.monotonic() - clicked
    step = int(re.search(r"stopped at step (\d+)", done["text"]).group(1))
    assert 0 < step < BUDGET, f"the run ended at step {step} of {BUDGET}"
    print(f"Stop: the run ended at step {step} of {BUDGET}, {latency:.2f} s after the click "
          "(page polling included)")
    # the last redraw may land just after the status line; then nothing trains any more, so
    # the chart keeps its last state
    last = done["n"]
    for _ in range(40):
        time.sleep(0.5)
        now = area.evaluate(JS_STATE)["n"]
        if now == last:
            break
        last = now
    time.sleep(1.5)
    assert area.evaluate(JS_STATE)["n"] == last
