"""Every lesson in a real JupyterLab: Run All works and every control of every live widget
redraws its chart's data.

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


# The data of the charts in `root` (x, y, z and visibility of every trace): what a control
# must change (a title alone does not count).
JS_CHART_DATA = """
(root) => JSON.stringify(Array.from(root.querySelectorAll('.js-plotly-plot')).map(el =>
  (el._fullData || el.data || []).map(t => [t.x, t.y, t.z, t.visible]
    .map(v => (v && v.length !== undefined && typeof v !== 'string') ? Array.from(v) : v))))
"""

# Every control of a widget, in page order: tagged with data-control=i so that the test can
# find it again, described by kind and label, and whether it is disabled now.
JS_CONTROLS = """
(root) => {
  const sel = ['.widget-slider .noUi-handle', '.widget-dropdown select',
               '.widget-select-multiple select', '.widget-checkbox input[type=checkbox]',
               '.widget-toggle-buttons', '.widget-text input', '.widget-hslider input'];
  const found = Array.from(root.querySelectorAll(sel.join(', ')));
  return found.map((el, i) => {
    el.setAttribute('data-control', String(i));
    const box = el.closest('.widget-inline-hbox, .widget-hbox, .jupyter-widgets') || el;
    const label = box.querySelector('.widget-label, label');
    const kind = el.classList.contains('noUi-handle') ? 'slider'
      : el.classList.contains('widget-toggle-buttons') ? 'toggle'
      : el.tagName === 'SELECT' ? (el.multiple ? 'multi' : 'dropdown')
      : el.type === 'checkbox' ? 'checkbox' : 'text';
    const disabled = el.disabled || el.hasAttribute('disabled')
      || !!el.closest('[disabled], .mod-disabled');
    return {index: i, kind, disabled,
            label: ((label && label.innerText) || el.getAttribute('aria-label') || '').trim()};
  });
}
"""

# The titles of the charts in `root`.
JS_CHART_TITLES = """
(root) => Array.from(root.querySelectorAll('.js-plotly-plot')).map(el =>
  (el.layout && el.layout.title && el.layout.title.text) || '')
"""
NEXT_RUN = "Next run: "  # how the training dashboard titles its chart after a control moves

# Controls that may leave the chart's data alone, with the reason (none today).
MAY_LEAVE_CHART_ALONE: dict[tuple[str, str], str] = {}


def wait_for_change(area, before: str, js: str = JS_CHART_STATE, timeout_s: float = 45) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if area.evaluate(js) != before:
            return True
        time.sleep(0.25)
    return False


def settle(area, js: str = JS_CHART_DATA, quiet_s: float = 1.0, timeout_s: float = 30) -> str:
    """The chart data once it has stopped changing for `quiet_s` seconds."""
    deadline = time.monotonic() + timeout_s
    last, since = area.evaluate(js), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = area.evaluate(js)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return last


def drive(page, area, control: dict) -> str:
    """Change one control as a person would; return what was done."""
    el = area.locator(f"[data-control='{control['index']}']")
    el.scroll_into_view_if_needed()
    kind = control["kind"]
    if kind == "slider":
        el.focus()
        now, top = el.get_attribute("aria-valuenow"), el.get_attribute("aria-valuemax")
        key = "ArrowLeft" if now is not None and now == top else "ArrowRight"
        page.keyboard.press(key)
        return key
    if kind in ("dropdown", "multi"):
        options = el.locator("option").all_inner_texts()
        current = el.evaluate(
            "el => Array.from(el.selectedOptions).map(o => o.text)")
        others = [o for o in options if o not in current]
        if kind == "multi":
            pick = current[:1] + others[:1] if others else options[:1]
            el.select_option(label=pick)
            return f"select {pick}"
        el.select_option(label=others[0])
        return f"select {others[0]!r}"
    if kind == "checkbox":
        el.click()
        return "click"
    if kind == "toggle":
        button = el.locator("button:not(.mod-active)").first
        text = button.inner_text()
        button.click()
        return f"press {text!r}"
    value = el.input_value()
    try:
        new = str(int(float(value)) + 1)
    except ValueError:
        new = value + "1"
    el.fill(new)
    el.press("Enter")
    return f"type {new}"


# What the page and the server knew when a control left its chart alone: the kernel's state,
# the widget's status line, the page's errors and what the server (and the kernels) logged.
JS_KERNEL = """() => {
  const k = window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel;
  return k ? `${k.status}, ${k.connectionStatus}` : 'no kernel';
}"""


# What the kernel's live widgets know (asked silently, with a time limit): how many updates
# each ran, whether a change waits to be computed or sent, a scheduled redraw, its error.
KERNEL_PROBE = (
    "import gc, warnings\n"
    "from helpers.widgets.base import LiveFigure\n"
    "with warnings.catch_warnings():\n"
    "    warnings.simplefilter('ignore')\n"
    "    _probe_live = [o for o in gc.get_objects() if isinstance(o, LiveFigure)]\n"
    "print([(type(o).__name__, o.values(), o.updates, o._stale, o._pending is not None,\n"
    "        repr(o._pump_handle), repr(o.error), o.status.value[:200], o.answers.count,\n"
    "        o.answers.answered, getattr(o.figure, '_last_trace_edit_id', None))\n"
    "       for o in _probe_live])\n")
JS_KERNEL_PROBE = """async (code) => {
  const k = window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel;
  if (!k) return 'no kernel';
  const out = [];
  const future = k.requestExecute({code, silent: true, store_history: false});
  future.onIOPub = (msg) => {
    const c = msg.content;
    if (c.text) out.push(c.text);
    if (c.ename) out.push(`${c.ename}: ${c.evalue}`);
  };
  const answer = await Promise.race([future.done.then(() => 'answered'),
    new Promise(r => setTimeout(() => r('no answer within 10 s'), 10000))]);
  return `${answer}: ${out.join('')}`;
}"""


def diagnosis(page, area, lab, log_start: int) -> str:
    try:
        status = area.evaluate(
            "(root) => Array.from(root.querySelectorAll('.widget-html')).map(e => e.innerText)")
        kernel = page.evaluate(JS_KERNEL)
        probe = page.evaluate(JS_KERNEL_PROBE, KERNEL_PROBE)
    except Exception as exc:  # noqa: BLE001 - a diagnosis must never hide the failure
        status, kernel, probe = f"unreadable: {exc}", "unreadable", "unreadable"
    with open(lab.log_path, "rb") as log:
        log.seek(log_start)
        logged = log.read().decode(errors="replace").splitlines()[-40:]
    return "\n".join([f"kernel: {kernel}", f"widget status lines: {status}",
                      f"the kernel's live widgets: {probe}",
                      f"page errors: {page.page_errors}", f"console errors: {page.console_errors}",
                      "server log since the test began:", *logged])


@pytest.mark.browser
# One rerun, from a freshly loaded JupyterLab: once, on a loaded CI machine, every control
# of one widget went unanswered for 30 s each while the same lesson passed everywhere else.
# A fault that reproduces fails both runs; the first run's diagnosis is printed either way.
@pytest.mark.flaky(reruns=1)
@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_runs_and_widgets_move_charts(page, lab, nb_path, request):
    rel = f"notebooks/{nb_path.name}"
    if getattr(request.node, "execution_count", 1) > 1:
        page.goto("about:blank")  # a rerun: open_notebook loads JupyterLab afresh
    log_start = lab.log_path.stat().st_size
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
    failures = []
    for k, area in enumerate(live):
        area.scroll_into_view_if_needed()
        area.locator(".js-plotly-plot .main-svg").first.wait_for(state="attached")
        controls = area.evaluate(JS_CONTROLS)
        assert controls, f"widget {k} has a chart but no control the test can find"
        for i, control in enumerate(controls):  # every control, each must redraw the data
            control = area.evaluate(JS_CONTROLS)[i]  # enabled state may depend on others
            name = f"widget {k} control {i} ({control['kind']} {control['label']!r})"
            if control["disabled"]:
                print(f"  {name}: disabled, skipped")
                continue
            before = settle(area)
            before_state, titles_before = area.evaluate(JS_CHART_STATE), area.evaluate(
                JS_CHART_TITLES)
            what = drive(page, area, control)
            wait_for_change(area, before_state, JS_CHART_STATE, timeout_s=45 if i == 0 else 30)
            changed = wait_for_change(area, before, JS_CHART_DATA, timeout_s=3)
            # A training dashboard's controls set up the next run, which Start trains (its own
            # browser test presses Start and Stop): each must say so in the chart's title.
            titles = area.evaluate(JS_CHART_TITLES)
            next_run = (not changed and titles and titles != titles_before
                        and all(t.startswith(NEXT_RUN) for t in titles))
            allowed = MAY_LEAVE_CHART_ALONE.get((nb_path.stem, control["label"]))
            outcome = "redrawn" if changed else "retitled for the next run" if next_run else (
                "unchanged")
            print(f"  {name}: {what} -> {outcome} at {time.monotonic() - t0:.1f} s")
            if not changed and not next_run and allowed is None:
                failures.append(f"{name}: {what} left every chart's data unchanged")
                if len(failures) == 1:  # what the page and the server knew then
                    failures.append(diagnosis(page, area, lab, log_start))
    assert not failures, "\n".join(failures)
    assert not [e for e in page.page_errors if "plotly" in e.lower() or "widget" in e.lower()], (
        page.page_errors)
