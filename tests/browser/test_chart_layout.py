"""Chart text never collides: titles, legends, subplot titles and axis titles, drawn by Chromium.

Each training chart is drawn by plotly.js at the slide's width with the lesson's longest
labels (a dashboard title that names every setting), and the bounding boxes of its text
blocks must not overlap. Tick labels are left out: plotly spaces those itself.
"""

from __future__ import annotations

import functools
import itertools
import sys
from pathlib import Path

import plotly.io as pio
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from test_figures_training import fake_run  # noqa: E402

from helpers.figures import training as tf  # noqa: E402

JS_TEXT_BOXES = """() => {
  const out = [];
  const sel = 'text[class$="title"], g.legend, g.annotation';  // each text block once
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && (el.textContent || '').trim())
      out.push({what: (el.getAttribute('class') || '') + ' ' + el.textContent.slice(0, 40),
                x0: r.left, y0: r.top, x1: r.right, y1: r.bottom});
  }
  return out;
}"""


@functools.cache
def charts() -> dict:
    names = ("ReLU + He init", "sigmoid, default init", "residual + LayerNorm")
    runs = {n: fake_run(n, i) for i, n in enumerate(names)}
    dash = tf.dashboard_figure()
    live = runs[names[0]]
    tf.update_dashboard_figure(
        dash, live.history, [runs[names[1]].history], grid=live.grid,
        title="Next run: sigmoid, depth 50, width 128, init default, batchnorm (post), "
              "residual, seed 123456, spirals, adam lr 0.001, 2000 steps")
    return {"curves": tf.curves_figure(runs), "heatmap": tf.gradient_heatmap_figure(runs),
            "update_ratio": tf.update_ratio_figure(runs), "ratio": tf.ratio_figure(runs),
            "boundary": tf.decision_boundary_figure(runs, live.grid["x"][:, None].repeat(2, 1),
                                                    [0, 1, 0, 1, 0]),
            "dashboard": dash, "empty dashboard": tf.dashboard_figure()}


def overlaps(boxes: list[dict]) -> list[str]:
    bad = []
    for a, b in itertools.combinations(boxes, 2):
        w = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
        h = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
        if w > 1 and h > 1:
            bad.append(f"{a['what']!r} and {b['what']!r} overlap by {w:.0f} x {h:.0f} px")
    return bad


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    """Every chart as a page, beside one shared copy of plotly.js."""
    out = tmp_path_factory.mktemp("charts")
    for i, fig in enumerate(charts().values()):
        pio.write_html(fig, out / f"{i}.html", include_plotlyjs="directory", full_html=True)
    return out


@pytest.mark.browser
@pytest.mark.parametrize("name", list(charts()))
def test_training_chart_text_does_not_overlap(browser, pages, name):
    path = pages / f"{list(charts()).index(name)}.html"
    page = browser.new_page(viewport={"width": 1200, "height": 720})
    try:
        page.goto(path.as_uri())
        page.wait_for_selector(".main-svg .infolayer")
        boxes = page.evaluate(JS_TEXT_BOXES)
    finally:
        page.close()
    assert len(boxes) >= 3, boxes  # a title, a legend or subplot titles, axis titles
    bad = overlaps(boxes)
    assert not bad, "\n".join(bad)
