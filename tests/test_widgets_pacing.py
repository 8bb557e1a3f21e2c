"""Controls moved in the browser: coalesced, computed ahead, sent once the browser is ready.

A comm message from the browser reaches a control through ``set_state`` (what these tests
call); a value set from code goes straight to ``update()``. The kernel's event loop is
replaced by a stand-in whose callbacks the test runs (a real asyncio loop cannot run
inside a thread where another library's loop runs, e.g. the browser tests' driver).
"""

import time

import numpy as np
import pytest

import helpers.widgets.base as base
from helpers.capture import gradient_profile
from helpers.models import build_mlp
from helpers.widgets.gradient_flow import make_gradient_flow_explorer


class Handle:
    def __init__(self, when, fn):
        self.when, self.fn, self.cancelled = when, fn, False

    def cancel(self):
        self.cancelled = True


class Loop:
    """The part of an asyncio loop the widgets use, on a clock the test advances."""

    def __init__(self):
        self.now, self.handles = 0.0, []

    def call_later(self, delay, fn, *args):
        handle = Handle(self.now + delay, lambda: fn(*args))
        self.handles.append(handle)
        return handle

    def call_soon_threadsafe(self, fn, *args):
        return self.call_later(0.0, fn, *args)

    def advance(self, seconds):
        end = self.now + seconds
        while due := sorted((h for h in self.handles if h.when <= end and not h.cancelled),
                            key=lambda h: h.when):
            handle = due[0]
            self.handles.remove(handle)
            self.now = max(self.now, handle.when)
            handle.fn()
        self.now = end
        self.handles = [h for h in self.handles if not h.cancelled]


@pytest.fixture
def loop(monkeypatch):
    loop = Loop()
    monkeypatch.setattr(base, "kernel_loop", lambda: loop)
    return loop


def run(loop, seconds=0.02):
    loop.advance(seconds)


def shown_depth(explorer) -> int:
    """The depth the chart shows: its activation-std trace has one point per layer."""
    return len(explorer.figure.data[3].x) - 1


def answer(explorer):
    """What plotly's front end sends once it has drawn the last update."""
    fig = explorer.figure
    fig.set_state({"_js2py_traceDeltas": {"trace_deltas": [],
                                          "trace_edit_id": fig._last_trace_edit_id}})


@pytest.fixture
def explorer(loop):
    explorer = make_gradient_flow_explorer(depth=4, width=8, batch=32)
    answer(explorer)  # the browser has drawn the chart it was shown with
    return explorer


def test_browser_values_are_coalesced_into_one_update_with_the_newest(explorer, loop):
    assert explorer.depth.continuous_update  # the chart follows a dragged slider
    before = explorer.updates
    for depth in (5, 6, 7):
        explorer.depth.set_state({"value": depth})
    assert explorer.updates == before and shown_depth(explorer) == 4  # nothing queued yet
    run(loop)
    assert explorer.updates == before + 1 and shown_depth(explorer) == 7
    assert explorer.config.depth == 7
    model = build_mlp(explorer.config)
    expected = gradient_profile(model, explorer.X, explorer.y).weight_grad_norm
    np.testing.assert_allclose(explorer.profile.weight_grad_norm, expected, rtol=1e-12)


def test_next_chart_waits_for_the_browser_but_is_computed_ahead(explorer, loop, monkeypatch):
    monkeypatch.setattr(explorer, "ACK_TIMEOUT", 30.0)
    explorer.depth.set_state({"value": 5})
    run(loop)
    sent = explorer._sent_at
    assert shown_depth(explorer) == 5
    assert explorer.answers.wait(sent, sent, explorer.ACK_TIMEOUT) > 0  # owed an answer
    explorer.depth.set_state({"value": 6})
    run(loop)
    assert shown_depth(explorer) == 5  # the browser has not shown depth 5 yet
    assert explorer._pending is not None and explorer._pending[0][0].depth == 6
    explorer.depth.set_state({"value": 7})  # arrives while 6 waits: drawn after it
    run(loop)
    assert shown_depth(explorer) == 5
    answer(explorer)
    run(loop)
    assert shown_depth(explorer) == 6  # the chart computed ahead goes out first
    answer(explorer)
    run(loop)
    assert shown_depth(explorer) == 7 and explorer._pending is None


def test_a_browser_that_never_answers_gets_the_chart_after_the_timeout(explorer, loop,
                                                                          monkeypatch):
    monkeypatch.setattr(explorer, "ACK_TIMEOUT", 0.2)
    explorer.depth.set_state({"value": 5})
    run(loop)
    explorer.depth.set_state({"value": 6})
    run(loop, 0.05)
    assert shown_depth(explorer) == 5
    time.sleep(0.25)  # the timeout is measured on the real clock
    run(loop, 0.3)
    assert shown_depth(explorer) == 6


def test_a_value_set_from_code_updates_at_once_and_drops_a_pending_chart(explorer, loop,
                                                                            monkeypatch):
    monkeypatch.setattr(explorer, "ACK_TIMEOUT", 30.0)
    explorer.depth.set_state({"value": 5})
    run(loop)
    explorer.depth.set_state({"value": 6})
    run(loop)  # depth 6 computed, waiting for the browser
    explorer.depth.value = 3  # a lesson cell: the next line must see it
    assert shown_depth(explorer) == 3 and explorer.config.depth == 3
    answer(explorer)
    run(loop)
    assert shown_depth(explorer) == 3  # the stale depth-6 chart never overwrites it


def test_a_front_end_that_never_answers_is_not_waited_for(loop, monkeypatch):
    explorer = make_gradient_flow_explorer(depth=4, width=8, batch=32)  # never answers
    monkeypatch.setattr(explorer, "ACK_TIMEOUT", 30.0)
    for depth in (5, 6):
        explorer.depth.set_state({"value": depth})
        run(loop)
        assert shown_depth(explorer) == depth


def test_an_error_during_a_browser_update_is_shown(explorer, loop, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("helpers.widgets.gradient_flow.gradient_profile", broken)
    explorer.depth.set_state({"value": 5})
    run(loop)
    assert "RuntimeError: boom" in explorer.status.value
    assert isinstance(explorer.error, RuntimeError) and explorer._pending is None
    monkeypatch.undo()
    monkeypatch.setattr(base, "kernel_loop", lambda: loop)
    explorer.depth.set_state({"value": 6})
    run(loop)
    assert explorer.error is None and shown_depth(explorer) == 6


def counting_profiles(monkeypatch):
    """Count the explorer's gradient measurements (the depths it measured, in order)."""
    import helpers.widgets.gradient_flow as gf

    measured = []
    real = gf.gradient_profile

    def counted(model, X, y):
        measured.append(model.config.depth)
        return real(model, X, y)

    monkeypatch.setattr(gf, "gradient_profile", counted)
    return measured


def press(explorer, loop, depth):
    """A key press on the depth slider: the value arrives, the chart goes out and is drawn."""
    explorer.depth.set_state({"value": depth})
    run(loop)
    answer(explorer)


def test_while_idle_the_depths_next_to_the_chart_are_computed_ahead(explorer, loop,
                                                                     monkeypatch):
    measured = counting_profiles(monkeypatch)
    press(explorer, loop, 5)  # from depth 4
    assert measured == [5]
    run(loop, explorer.PREFETCH_DELAY / 2)
    assert measured == [5]  # not before the controls have been still for a while
    run(loop, explorer.PREFETCH_DELAY)
    assert measured == [5, 6]  # one up; depth 4, shown before, is kept
    run(loop, 1.0)
    assert measured == [5, 6]  # nothing more
    press(explorer, loop, 6)  # shown from what was computed ahead: nothing measured
    assert measured == [5, 6] and shown_depth(explorer) == 6
    fresh = gradient_profile(build_mlp(explorer.config), explorer.X, explorer.y)
    np.testing.assert_array_equal(explorer.profile.weight_grad_norm, fresh.weight_grad_norm)
    np.testing.assert_array_equal(explorer.profile.activation_hist, fresh.activation_hist)
    run(loop, 1.0)
    assert measured == [5, 6, 7]
    press(explorer, loop, 5)
    press(explorer, loop, 4)  # pressed at once, both kept from before
    assert measured == [5, 6, 7] and shown_depth(explorer) == 4
    fresh = gradient_profile(build_mlp(explorer.config), explorer.X, explorer.y)
    np.testing.assert_array_equal(explorer.profile.weight_grad_norm, fresh.weight_grad_norm)
    run(loop, 1.0)
    assert measured == [5, 6, 7, 3]  # going down: 3 first (5 is kept)
    explorer.prefetch = False  # every press is computed
    press(explorer, loop, 5)
    run(loop, 1.0)
    assert measured == [5, 6, 7, 3, 5]


def test_a_control_moved_before_the_delay_cancels_computing_ahead(explorer, loop,
                                                                   monkeypatch):
    measured = counting_profiles(monkeypatch)
    press(explorer, loop, 5)
    run(loop, explorer.PREFETCH_DELAY / 2)
    explorer.width.set_state({"value": 12})  # the user goes on: no work ahead for width 8
    run(loop)
    assert measured == [5, 5]
    assert explorer.config.width == 12
    run(loop, 1.0)  # no answer for the width-12 chart yet: nothing is computed ahead
    assert measured == [5, 5]


def test_computing_ahead_can_be_turned_off_and_skips_big_networks(explorer, loop,
                                                                   monkeypatch):
    measured = counting_profiles(monkeypatch)
    explorer.prefetch = False
    press(explorer, loop, 5)
    run(loop, 1.0)
    assert measured == [5]
    explorer.prefetch = True
    monkeypatch.setattr(explorer, "PREFETCH_MAX_WEIGHTS", 6 * 8 * 8 - 1)  # depth x width^2
    press(explorer, loop, 6)
    run(loop, 1.0)
    assert measured == [5, 6]


def test_a_failure_while_computing_ahead_is_shown_when_that_depth_is_chosen(
        explorer, loop, monkeypatch):
    import helpers.widgets.gradient_flow as gf

    real = gf.gradient_profile

    def broken_at_6(model, X, y):
        if model.config.depth == 6:
            raise RuntimeError("boom at depth 6")
        return real(model, X, y)

    monkeypatch.setattr(gf, "gradient_profile", broken_at_6)
    press(explorer, loop, 5)
    run(loop, 1.0)  # computing depth 6 ahead fails quietly: nothing was asked for yet
    assert explorer.error is None and shown_depth(explorer) == 5
    press(explorer, loop, 6)
    assert "RuntimeError: boom at depth 6" in explorer.status.value


# -- the pieces, on their own -------------------------------------------------------------
def test_browser_answers_keep_the_newest_edit_id_and_drop_the_deltas():
    from helpers.widgets.pacing import BrowserAnswers

    class Figure:
        _last_trace_edit_id = 0

        def __init__(self):
            self.states = []

        def set_state(self, sync_data):
            self.states.append(sync_data)

    fig = Figure()
    answers = BrowserAnswers(fig)
    heard = []
    answers.listeners.append(lambda: heard.append(answers.answered))
    assert (answers.answered, answers.count, answers.at) == (0, 0, 0.0) and not answers.waiting()
    fig._last_trace_edit_id = 2
    assert answers.waiting()
    fig.set_state({"_js2py_traceDeltas": {"trace_edit_id": 2, "trace_deltas": []}, "x": 1})
    assert fig.states == [{"x": 1}] and answers.answered == 2 and answers.count == 1
    assert answers.at > 0 and heard == [2] and not answers.waiting()
    fig.set_state({"_js2py_traceDeltas": {"trace_edit_id": 1}})  # a late answer: id kept
    assert answers.answered == 2 and answers.count == 2 and heard == [2, 2]
    for not_an_answer in ({"_js2py_traceDeltas": None}, {"_js2py_traceDeltas": {"id": 3}},
                          {"_js2py_traceDeltas": {"trace_edit_id": "3"}}, {"y": 2}):
        fig.set_state(not_an_answer)
    assert answers.count == 2 and heard == [2, 2]
    assert fig.states[-1] == {"y": 2} and fig.states[-2] == {}
    assert not BrowserAnswers(type("Bare", (), {"set_state": lambda self, d: None})()).waiting()


def test_kernel_loop_is_the_running_loop_of_a_kernel_only(monkeypatch):
    import asyncio
    import threading

    import IPython

    from helpers.widgets.pacing import kernel_loop

    class Shell:
        kernel = object()

    assert kernel_loop() is None  # no IPython shell here
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    assert kernel_loop() is None  # a kernel, but no running loop

    async def inside():
        return kernel_loop(), asyncio.get_running_loop()

    def in_a_thread():  # a fresh thread: another library's loop may run in this one
        result = []
        thread = threading.Thread(target=lambda: result.append(asyncio.run(inside())))
        thread.start()
        thread.join()
        return result[0]

    got, running = in_a_thread()
    assert got is running
    monkeypatch.setattr(IPython, "get_ipython", lambda: type("Terminal", (), {})())
    assert in_a_thread()[0] is None  # a shell without a kernel
