"""Pacing a live chart by its browser.

A chart redrawn faster than the browser paints it queues up in the browser, which then
shows old charts and answers clicks late. Everything here runs redraws on the kernel's
event loop (the thread that handles widget messages) and sends a new chart only once the
browser has drawn the last one, or a timeout has passed; intermediate charts are dropped,
never queued.

* ``kernel_loop()``: the IPython kernel's running event loop, or None.
* ``BrowserAnswers``: which chart updates the browser says it has drawn.
* ``PacedRedraw``: redraws requested from a worker thread (the training dashboard).

``LiveFigure`` (``helpers.widgets.base``) uses them for controls moved in the browser.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The IPython kernel's running event loop, or None outside a kernel.

    Only a kernel's loop delivers widget messages; another library's loop (a test's browser
    driver, say) may report itself running without ever running the redraws.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class BrowserAnswers:
    """Which updates of a ``FigureWidget`` its browser has drawn.

    Plotly's front end answers every update it has drawn with the update's edit id and the
    trace "deltas" (every default it filled in). This wraps the figure's ``set_state``,
    through which every message from its front end passes: it keeps the id, calls
    ``listeners``, and drops the deltas. Measured in JupyterLab (``benchmarks/latency.py``):
    plotly's own handling of the deltas cost the kernel about 100 ms per redraw of the
    Gradient Flow Explorer, and its notifications of them were unreliable (most answers did
    not reach an observer). Without them, ``trace.on_change`` callbacks and
    ``on_edits_completed`` do not fire; nothing in the course uses them.
    """

    def __init__(self, figure):
        self.figure = figure
        self.answered = 0  # the newest edit id the browser has answered
        self.count = 0  # answers received
        self.at = 0.0  # perf_counter of the newest answer (0: never seen a browser)
        self.listeners: list[Callable[[], None]] = []
        set_state = figure.set_state

        def watched(sync_data):
            if isinstance(sync_data, dict) and "_js2py_traceDeltas" in sync_data:
                sync_data = dict(sync_data)
                answer = sync_data.pop("_js2py_traceDeltas")
                if isinstance(answer, dict) and isinstance(answer.get("trace_edit_id"), int):
                    self.answered = max(self.answered, answer["trace_edit_id"])
                    self.count += 1
                    self.at = time.perf_counter()
                    for listener in self.listeners:
                        listener()
            return set_state(sync_data)

        figure.set_state = watched

    def waiting(self) -> bool:
        """True while an update was sent that the browser has not answered."""
        return self.answered < getattr(self.figure, "_last_trace_edit_id", 0)

    def wait(self, sent: float, now: float, timeout: float) -> float:
        """Seconds to hold the next chart back, for a chart sent at ``sent``: 0 once the
        browser has answered it, if it has never answered anything (a front end that does
        not answer is not waited for), or once ``timeout`` seconds have passed."""
        if self.at == 0.0 or not self.waiting():
            return 0.0
        return max(0.0, timeout - (now - sent))


class PacedRedraw:
    """Redraws of a ``FigureWidget`` requested from a worker thread, paced by the browser.

    ``request(*args)`` runs ``draw(*args)`` on the kernel's event loop (the thread that
    handles widget messages: in JupyterLab a FigureWidget changed from another thread was
    never redrawn), or at once when there is no loop (plain Python, tests). ``ready(now)``
    says whether a new redraw may be asked for: none is pending, and ``answers.wait`` holds
    nothing back (the browser has shown the last one, has never been seen, or is later than
    ``ack_timeout`` seconds). Frames are dropped, never queued, so a slow browser cannot
    fall behind the kernel.
    """

    def __init__(self, answers: BrowserAnswers, draw: Callable,
                 guard: Callable[[Callable], None], ack_timeout: float = 3.0):
        self.answers, self.draw, self.guard, self.ack_timeout = answers, draw, guard, ack_timeout
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pending = False
        self.sent = 0.0  # perf_counter of the last redraw

    def bind(self) -> None:
        """Use the running kernel's loop (call from the kernel's thread, e.g. on Start)."""
        self.loop = kernel_loop()

    def drawn(self) -> None:
        """Record that a redraw was just sent (call at the end of every draw)."""
        self.sent = time.perf_counter()

    def ready(self, now: float) -> bool:
        if self.pending:
            return False
        return self.answers.wait(self.sent, now, self.ack_timeout) == 0.0

    def request(self, *args) -> None:
        loop = self.loop
        if loop is not None and loop.is_running() and not loop.is_closed():
            self.pending = True
            loop.call_soon_threadsafe(self._on_loop, *args)
        else:
            self.draw(*args)

    def _on_loop(self, *args) -> None:
        self.pending = False
        self.guard(lambda: self.draw(*args))
