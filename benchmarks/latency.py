"""What a user feels: key press -> chart repainted, in Chromium against a real JupyterLab.

    python benchmarks/latency.py              # 40 presses on the explorer, one training run
    python benchmarks/latency.py --presses 60 --json benchmarks/latency.json

Starts JupyterLab on a scratch notebook, opens it in headless Chromium (Debian's, at
/usr/bin/chromium or $CHROMIUM), and measures two things:

* **Gradient Flow Explorer, depth slider near depth 50** (width 64, batch 256, float64):
  the slider's handle has the keyboard focus and the presses step three up, six down and
  three up again (depths 47-53), each after the last repaint and a quarter second. Twice:
  as shipped (the explorer computes the next depth up and down while the slider stays
  still, and keeps the last charts shown) and with ``prefetch = False`` (every press
  computed after it arrives).
  Per press, on one clock (the kernel's ``time.time()`` and the page's
  ``performance.timeOrigin + performance.now()`` are both the machine's wall clock):
  ``to_kernel`` from the key's ``keydown`` to the kernel starting the update, ``kernel``
  the update itself (compute, then the new trace data handed to the widget), and
  ``back_and_paint`` from the end of the update to plotly's ``plotly_afterplot`` for the
  redrawn chart. ``total`` is key press to repaint. ``kernel`` runs from the start of the
  computation to the end of the chart write (a press that comes while the browser still
  paints the previous chart waits for it; single presses do not), ``compute`` its first
  part (the forward and backward pass and the statistics, before the chart is written).
* **The same slider dragged** for ``--drag-seconds`` between depths 40 and 60 (a mouse move
  every ~16 ms): charts sent and painted per second, how many depths were shown, and the
  time from letting go to the last repaint, which must show the slider's final depth
  (values are coalesced, never queued).
* **Training dashboard, one redraw during training** (depth 20, ReLU + He, trained for
  ``--train-seconds`` of a 2,000-step budget, then stopped): per redraw,
  ``kernel`` is the time the redraw takes in the kernel and ``back_and_paint`` from its end
  to the chart's ``plotly_afterplot``.

Prints median and p95 of each part and, with ``--json``, writes them to a file. A
benchmark, not a test: timings depend on the machine and its load (the load average is
reported with the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "browser")]

from lablib import LabServer, open_notebook, run_all_and_wait  # noqa: E402

from tools.browser import LAUNCH_ARGS, find_chromium  # noqa: E402

EXPLORER_TARGET_P95_MS = 150.0
DRAG_TARGET_PER_S = 10.0  # charts painted per second while the depth slider is dragged

SETUP = """\
import json, time
from helpers.notebook import setup
setup()
"""

EXPLORER = """\
from helpers.widgets.gradient_flow import make_gradient_flow_explorer

explorer = make_gradient_flow_explorer(depth=50, width=64, activation="sigmoid",
                                       dtype="float64")
computes, renders = [], []  # wall-clock seconds: (start, end) of each compute and chart write
_compute, _render = explorer._compute, explorer._render


def timed_compute():
    start = time.time()
    state = _compute()
    computes.append((start, time.time()))
    return state


def timed_render(state):
    start = time.time()
    _render(state)
    renders.append((start, time.time(), state[0].depth))


explorer._compute, explorer._render = timed_compute, timed_render
explorer.widget
"""

DASHBOARD = """\
from helpers.widgets.training import make_training_dashboard

dash = make_training_dashboard(depth=20, width=32, activation="relu", init="he", steps=2000)
draws = []  # (start, end) wall-clock seconds of every redraw in the kernel
_draw = dash._draw


def timed_draw(*args, **kwargs):
    start = time.time()
    _draw(*args, **kwargs)
    draws.append((start, time.time()))


dash._draw = timed_draw
dash.widget
"""

# Listen on every chart of the page: the wall-clock time of each repaint, by chart index.
JS_LISTEN = """() => {
  window.__paints = [];
  window.__keys = [];
  const now = () => performance.timeOrigin + performance.now();
  document.addEventListener(
    'keydown', e => window.__keys.push(performance.timeOrigin + e.timeStamp), true);
  document.querySelectorAll('.js-plotly-plot').forEach((gd, i) => {
    gd.on('plotly_afterplot', () => window.__paints.push([i, now()]));
  });
  return document.querySelectorAll('.js-plotly-plot').length;
}"""

# The last repaint of one chart after a time, once its repaints stop for a while (or null).
JS_WAIT_PAINT = """([chart, after, quietMs, timeoutMs]) => new Promise(resolve => {
  const t0 = performance.now();
  let last = null, since = t0;
  const tick = () => {
    const now = performance.now();
    const mine = window.__paints.filter(p => p[0] === chart && p[1] > after);
    if (mine.length && mine[mine.length - 1][1] !== last) {
      last = mine[mine.length - 1][1];
      since = now;
    } else if (last !== null && now - since >= quietMs) {
      return resolve(last);
    }
    if (now - t0 >= timeoutMs) return resolve(last);
    setTimeout(tick, 25);
  };
  tick();
})"""

JS_KERNEL_EVAL = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  let text = '';
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  future.onIOPub = msg => {
    if (msg.header.msg_type === 'stream') text += msg.content.text;
    if (msg.header.msg_type === 'error') text += 'ERROR ' + msg.content.evalue;
  };
  await future.done;
  return text;
}"""


def stats(values_ms) -> dict:
    v = np.asarray(values_ms, dtype=np.float64)
    return {"n": int(v.size), "median_ms": round(float(np.median(v)), 1),
            "p95_ms": round(float(np.percentile(v, 95)), 1),
            "max_ms": round(float(v.max()), 1)}


def kernel_list(page, name: str) -> list:
    out = page.evaluate(JS_KERNEL_EVAL, f"print(json.dumps({name}))")
    return json.loads(out)


def write_notebook(path: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


def wait_paint(page, chart: int, after_ms: float, quiet_s: float = 0.25,
               timeout_s: float = 10.0) -> float | None:
    """The last repaint of ``chart`` after ``after_ms`` once repaints stop for ``quiet_s``.

    The page waits on its own clock (one call): polling it from here would run the page's
    JavaScript and the browser driver every few milliseconds, on the cores the kernel and
    the repaint being measured need.
    """
    return page.evaluate(JS_WAIT_PAINT, [chart, after_ms, quiet_s * 1e3, timeout_s * 1e3])


def _slider_handle(page):
    return page.locator(".widget-slider .noUi-handle, .widget-slider .slider-handle").first


# Depth steps of the presses: three up, six down, three up (50, 51, 52, 53, 52, ..., 47, ...,
# 50): some presses go on in one direction, some turn back, all near depth 50.
PRESS_PATTERN = ["ArrowRight"] * 3 + ["ArrowLeft"] * 6 + ["ArrowRight"] * 3


def measure_explorer(page, presses: int, ahead: bool = True) -> dict:
    """Key presses on the focused depth slider, each waited for until repainted.

    ``ahead`` is the explorer's ``prefetch``: with it, while the slider stays still the
    kernel computes the depth one up and one down and keeps the last charts shown; without
    it every press is computed after it arrives.
    """
    page.evaluate(JS_KERNEL_EVAL, f"explorer.prefetch = {ahead}")
    handle = _slider_handle(page)
    handle.focus()
    chart = 0  # the explorer's chart is the first on the page
    seen_before = len(kernel_list(page, "computes"))
    presses_seen = []  # (key time, repaint time or None), in order
    for i in range(presses + 2):  # the first two are not counted (caches warm up)
        key = PRESS_PATTERN[i % len(PRESS_PATTERN)]
        n_keys = page.evaluate("() => window.__keys.length")
        page.keyboard.press(key)
        t_key = page.evaluate("(n) => window.__keys[n]", n_keys)
        presses_seen.append((t_key, wait_paint(page, chart, t_key)))
    computes = kernel_list(page, "computes")[seen_before:]
    renders = kernel_list(page, "renders")[seen_before:]
    if not len(computes) == len(renders) == len(presses_seen):
        raise RuntimeError(f"{len(presses_seen)} presses but {len(computes)} computes and "
                           f"{len(renders)} chart writes in the kernel")
    total, to_kernel, kernel, compute, back = [], [], [], [], []
    for (t_key, painted), (start, computed), (_, end, _) in list(
            zip(presses_seen, computes, renders, strict=True))[2:]:
        if painted is None:
            raise RuntimeError("a press was never repainted")
        total.append(painted - t_key)
        to_kernel.append(start * 1e3 - t_key)
        kernel.append((end - start) * 1e3)
        compute.append((computed - start) * 1e3)
        back.append(painted - end * 1e3)
    return {"presses": len(total), "computed_ahead": ahead, "total": stats(total),
            "to_kernel": stats(to_kernel), "kernel": stats(kernel), "compute": stats(compute),
            "back_and_paint": stats(back)}


def measure_drag(page, seconds: float, low: int = 40, high: int = 60) -> dict:
    """Drag the depth slider's handle back and forth between ``low`` and ``high`` for
    ``seconds`` (a mouse move every ~16 ms, as a hand gives), then let go.

    Reports the charts the kernel sent per second while dragging, those the browser painted,
    how many distinct depths the slider passed and the kernel computed, and the time from
    letting go to the last repaint, which must show the slider's final depth.
    """
    handle = _slider_handle(page)
    track = page.locator(".widget-slider .noUi-target, .widget-slider .slider").first.bounding_box()
    box = handle.bounding_box()
    y = box["y"] + box["height"] / 2

    def x_of(depth):  # the slider's range is 1..100
        return track["x"] + track["width"] * (depth - 1) / 99

    n_renders = len(kernel_list(page, "renders"))
    page.evaluate("() => window.__paints.length = 0")
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    t0 = page.evaluate("() => performance.timeOrigin + performance.now()")
    positions = np.concatenate([np.linspace(50, high, 20), np.linspace(high, low, 40),
                                np.linspace(low, 50, 20)])
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        page.mouse.move(x_of(positions[i % len(positions)]), y)
        i += 1
        time.sleep(0.016)
    page.mouse.move(x_of(high), y)
    page.mouse.up()
    t_up = page.evaluate("() => performance.timeOrigin + performance.now()")
    last = wait_paint(page, 0, t_up, quiet_s=1.0)
    renders = kernel_list(page, "renders")[n_renders:]
    final = json.loads(page.evaluate(JS_KERNEL_EVAL, "print(json.dumps([explorer.depth.value, "
                                     "explorer.config.depth]))"))
    paints = page.evaluate("() => window.__paints.filter(p => p[0] === 0).map(p => p[1])")
    during = [r for r in renders if r[1] * 1e3 <= t_up]
    painted = {next((p for p in paints if p >= r[1] * 1e3), None) for r in during} - {None}
    span = (t_up - t0) / 1e3
    return {"seconds": round(span, 2), "mouse_moves": i,
            "charts_sent_per_s": round(len(during) / span, 1),
            "charts_painted_per_s": round(len(painted) / span, 1),
            "depths_shown": len({r[2] for r in during}),
            "release_to_last_paint_ms": None if last is None else round(last - t_up, 1),
            "final_slider_depth": final[0], "final_chart_depth": final[1]}


def measure_dashboard(page, seconds: float) -> dict:
    page.evaluate("() => window.__paints.length = 0")
    page.evaluate(JS_KERNEL_EVAL, "dash.start()")  # the kernel stays free to send redraws
    time.sleep(seconds)
    page.evaluate(JS_KERNEL_EVAL, "dash.stop(wait=10)")
    time.sleep(1.0)  # the last redraw's repaint
    draws = kernel_list(page, "draws")[1:]  # the first is the empty chart at creation
    paints = page.evaluate("() => window.__paints.filter(p => p[0] === 1).map(p => p[1])")
    kernel, back = [], []
    for start, end in draws:
        later = [p for p in paints if p >= end * 1e3]
        if later:
            kernel.append((end - start) * 1e3)
            back.append(later[0] - end * 1e3)
    run = json.loads(page.evaluate(JS_KERNEL_EVAL, "print(json.dumps({'steps': int("
                                   "dash.history.steps[-1]) + 1, 'seconds': dash.history.seconds,"
                                   " 'answered': dash.answers.count}))"))
    return {"redraws": len(kernel), "kernel": stats(kernel), "back_and_paint": stats(back),
            "total": stats(np.add(kernel, back)), "redraws_sent": len(draws),
            "browser_answers": run["answered"], "steps": run["steps"],
            "train_seconds": round(run["seconds"], 2)}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presses", type=int, default=40, help="key presses (at least 30)")
    ap.add_argument("--train-seconds", type=float, default=8.0,
                    help="how long the dashboard trains before Stop")
    ap.add_argument("--drag-seconds", type=float, default=4.0,
                    help="how long the depth slider is dragged")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    args = ap.parse_args(argv)
    chromium = os.environ.get("CHROMIUM") or find_chromium()
    if chromium is None:
        sys.exit("no Chromium found: apt-get install -y chromium (or set CHROMIUM)")
    from playwright.sync_api import sync_playwright

    result: dict = {"load_average_start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="latency") as tmp:
        tmp = Path(tmp)
        write_notebook(tmp / "latency.ipynb", [SETUP, EXPLORER, DASHBOARD])
        server = LabServer(tmp, tmp / "lab").start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                open_notebook(page, server, "latency.ipynb")
                run_all_and_wait(page)
                page.wait_for_function(
                    "() => document.querySelectorAll('.js-plotly-plot').length >= 2",
                    timeout=60_000)
                time.sleep(1.0)
                page.evaluate(JS_LISTEN)
                result["explorer"] = measure_explorer(page, args.presses, ahead=True)
                result["explorer_on_press"] = measure_explorer(page, args.presses, ahead=False)
                page.evaluate(JS_KERNEL_EVAL, "explorer.prefetch = True")
                result["drag"] = measure_drag(page, args.drag_seconds)
                result["dashboard"] = measure_dashboard(page, args.train_seconds)
                browser.close()
        finally:
            server.stop()
    result["load_average_end"] = os.getloadavg()
    p95 = result["explorer"]["total"]["p95_ms"]
    result["explorer_target"] = {"p95_ms_under": EXPLORER_TARGET_P95_MS,
                                 "met": p95 < EXPLORER_TARGET_P95_MS}
    rate = result["drag"]["charts_painted_per_s"]
    result["drag_target"] = {"painted_per_s_at_least": DRAG_TARGET_PER_S,
                             "met": rate >= DRAG_TARGET_PER_S}
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


def print_report(r: dict) -> None:
    def row(name, s):
        print(f"  {name:<16}{s['median_ms']:>10.1f}{s['p95_ms']:>10.1f}{s['max_ms']:>10.1f}")

    print(f"load average {r['load_average_start'][0]:.1f} -> {r['load_average_end'][0]:.1f}")
    for name, how in (("explorer", "computed ahead (as shipped)"),
                      ("explorer_on_press", "computed on each press (prefetch off)")):
        e = r[name]
        print(f"Explorer, depth slider at 47-53, {how}: {e['presses']} presses")
        print(f"  {'':<16}{'median':>10}{'p95':>10}{'max (ms)':>10}")
        for k in ("total", "to_kernel", "kernel", "compute", "back_and_paint"):
            row(k if k != "compute" else "  of it compute", e[k])
    g = r["drag"]
    print(f"Explorer, depth slider dragged for {g['seconds']:.1f} s ({g['mouse_moves']} mouse "
          f"moves): {g['charts_sent_per_s']:.1f} charts/s sent, {g['charts_painted_per_s']:.1f} "
          f"painted, {g['depths_shown']} depths shown; let go -> last repaint "
          f"{g['release_to_last_paint_ms']} ms, showing depth {g['final_chart_depth']} "
          f"(slider {g['final_slider_depth']})")
    d = r["dashboard"]
    print(f"Dashboard, one redraw during training: {d['redraws']} redraws matched to a repaint "
          f"({d['redraws_sent']} sent, {d['browser_answers']} answered by the browser) in "
          f"{d['steps']} steps, {d['train_seconds']:.1f} s")
    for k in ("total", "kernel", "back_and_paint"):
        row(k, d[k])
    t = r["explorer_target"]
    print(f"explorer p95 under {t['p95_ms_under']:.0f} ms: {'met' if t['met'] else 'NOT met'}")
    t = r["drag_target"]
    print(f"drag: at least {t['painted_per_s_at_least']:.0f} charts painted per second: "
          f"{'met' if t['met'] else 'NOT met'}")


if __name__ == "__main__":
    main()
