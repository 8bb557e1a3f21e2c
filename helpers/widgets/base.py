"""``LiveFigure``: controls + one FigureWidget, updated in one ``batch_update()`` per change.

Subclasses build their controls and figure, then implement ``_update()`` (compute with the
compute layer, then rewrite trace data with a figures-layer updater), or split it into
``_compute()`` and ``_apply(state)`` so that the next result can be computed while the browser
still paints the last. Everything the user needs to see goes through here:

* an exception inside a callback is shown in the widget (a red status line and the
  traceback in an ``Output``), never lost;
* displaying the object shows the live widget in JupyterLab, and a static HTML snapshot
  of the current figure in viewers without a widget front end (nbconvert HTML, slides).
* a control moved in the browser (a slider dragged, a key held down) is coalesced and
  paced: the update runs on the kernel's event loop with the newest value, intermediate
  values are dropped, never queued, and a new chart is sent only once the browser has
  shown the previous one. A value set from code updates at once, so the next line sees it.
* once the browser has drawn a chart and the controls stay still for ``PREFETCH_DELAY``,
  ``_prefetch()`` may compute ahead what the next change will probably ask for (the
  explorer: the depth one up and one down), one piece per turn of the kernel's event loop.

How a chart is paced by its browser (and ``PacedRedraw``, for a figure that a worker
thread keeps changing) is in ``helpers.widgets.pacing``.
"""

from __future__ import annotations

import html
import time
import traceback

import ipywidgets as widgets
import plotly.graph_objects as go
import plotly.io as pio

from helpers.activations import ACTIVATIONS
from helpers.widgets.pacing import BrowserAnswers, PacedRedraw, kernel_loop

__all__ = ["LiveFigure", "PacedRedraw", "activation_dropdown", "kernel_loop", "norm_dropdown",
           "norm_value"]


def activation_dropdown(value: str, names=None, layout=None) -> widgets.Dropdown:
    """A dropdown of activations shown by label: every registry entry, or just ``names``."""
    names = list(ACTIVATIONS) if names is None else list(names)
    if value not in names:
        raise ValueError(f"unknown activation {value!r}; valid choices: {', '.join(names)}")
    return widgets.Dropdown(options=[(ACTIVATIONS[n].label, n) for n in names], value=value,
                            description="activation", style={"description_width": "initial"},
                            layout=layout or widgets.Layout())


NO_NORM = "none"  # the norm dropdowns' value for "no normalization" (None is unselectable)


def norm_dropdown(value: str | None, labels: dict | None = None, description: str = "norm",
                  layout=None) -> widgets.Dropdown:
    """A dropdown of the norms (``None``, ``"batch"``, ``"layer"``), shown by ``labels``.

    Its values are strings, ``NO_NORM`` standing for ``None``: ipywidgets treats a Dropdown
    value of ``None`` as "nothing selected", so the browser would show a blank label. Read it
    with ``norm_value``.
    """
    labels = {None: "none", "batch": "batch", "layer": "layer", **(labels or {})}
    if value not in labels:
        raise ValueError(f"unknown norm {value!r}; valid choices: None, 'batch', 'layer'")
    return widgets.Dropdown(
        options=[(labels[k], NO_NORM if k is None else k) for k in (None, "batch", "layer")],
        value=NO_NORM if value is None else value, description=description,
        style={"description_width": "initial"}, layout=layout or widgets.Layout())


def norm_value(choice: str) -> str | None:
    """The ``MLPConfig`` norm a ``norm_dropdown`` value stands for."""
    return None if choice == NO_NORM else choice


class LiveFigure:
    """Base class: ``controls`` (name -> widget), ``figure`` (FigureWidget), ``status``."""

    STATIC_NOTE = ("A static snapshot of an interactive chart: run this notebook in JupyterLab "
                   "to move the controls.")
    ACK_TIMEOUT = 0.7  # s: a chart the browser never confirms does not hold back the next
    PREFETCH_DELAY = 0.08  # s the controls stay still after a drawn chart before prefetching

    def __init__(self, controls: dict, figure: go.Figure, columns: int = 3):
        self.controls = dict(controls)
        self.figure = go.FigureWidget(figure)
        self.status = widgets.HTML()
        self.output = widgets.Output()
        self.error: BaseException | None = None
        self.last_update_seconds = float("nan")
        self.updates = 0
        self._stale = False  # a control moved in the browser since the last compute
        self._pending = None  # (computed state,) waiting for the browser to be ready
        self._pump_handle = None
        self._prefetch_handle = None
        self._sent_at = 0.0
        self.answers = BrowserAnswers(self.figure)
        self.answers.listeners.append(self._on_browser_answer)
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        rows = [widgets.HBox(list(self.controls.values())[i:i + columns])
                for i in range(0, len(self.controls), columns)]
        self.widget = widgets.VBox([*rows, self.status, self.figure, self.output])

    def __getattr__(self, name):
        # explorer.depth -> the "depth" control, so tests and lessons can drive it directly
        controls = self.__dict__.get("controls", {})
        if name in controls:
            return controls[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or control {name!r}")

    def values(self) -> dict:
        """The current value of every control."""
        return {name: c.value for name, c in self.controls.items()}

    def _on_change(self, change) -> None:
        owner = change["owner"]
        if "value" in getattr(owner, "_property_lock", {}) and kernel_loop() is not None:
            self._stale = True  # from the browser: coalesce and pace (see the module doc)
            self._cancel_prefetch()
            self._schedule(0.0)
        else:
            self.update()

    def update(self) -> None:
        """Recompute and redraw from the current control values (errors are displayed)."""
        start = time.perf_counter()
        self._stale, self._pending = False, None  # what follows shows the current values
        ok, state = self._guard(self._compute)
        if ok:
            self._guard(self._render, state)
        self.updates += 1
        self.last_update_seconds = time.perf_counter() - start

    def _compute(self):
        """Compute what the next chart shows, without touching the widgets (see ``_apply``)."""
        return None

    def _apply(self, state) -> str:
        """Write ``state`` (from ``_compute``) into the figure and return the status line."""
        return self._update()

    def _update(self) -> str:
        raise NotImplementedError

    def _render(self, state) -> None:
        with self.figure.batch_update():
            message = self._apply(state)
        if self.error is not None:  # the previous update failed: clear its traceback
            self.output.outputs = ()
        self.error = None
        self.status.value = message or ""

    def _guard(self, fn, *args):
        """``(True, fn(*args))``, or ``(False, None)`` with the error shown in the widget."""
        try:
            return True, fn(*args)
        except Exception as exc:  # shown in the notebook: a widget never fails silently
            # Reset the outputs themselves: clear_output() only asks a front end to clear
            # (none listens under nbclient or in a test), and the tracebacks would pile up.
            self.output.outputs = ()
            self.show_error(exc, "Could not update")
            return False, None

    # -- controls moved in the browser: coalesced, computed ahead, sent when it is ready --
    def _on_browser_answer(self) -> None:
        if self._pending is not None or self._stale:
            if self._pump_handle is not None:  # waiting for this answer: go now
                self._pump_handle.cancel()
                self._pump_handle = None
            self._schedule(0.0)
        else:
            self._schedule_prefetch(self.PREFETCH_DELAY)

    # -- while nothing moves: compute ahead (see the module doc) --
    @staticmethod
    def _live() -> bool:
        """Whether a kernel event loop runs (JupyterLab), not a script or a headless run."""
        return kernel_loop() is not None

    def _prefetch(self) -> bool:
        """Compute one piece of what the next change will probably show, keeping it for
        ``_compute``; return whether there is more to do. Called only while idle."""
        return False

    def _schedule_prefetch(self, delay: float) -> None:
        loop = kernel_loop()
        if loop is not None:
            self._cancel_prefetch()
            self._prefetch_handle = loop.call_later(delay, self._prefetch_step)

    def _cancel_prefetch(self) -> None:
        if self._prefetch_handle is not None:
            self._prefetch_handle.cancel()
            self._prefetch_handle = None

    def _prefetch_step(self) -> None:
        self._prefetch_handle = None
        if self._stale or self._pending is not None or self._pump_handle is not None:
            return  # the controls moved: that comes first
        try:
            more = self._prefetch()
        except Exception:  # noqa: BLE001 - the same values computed for real show the error
            more = False
        if more:
            self._schedule_prefetch(0.0)  # messages that came meanwhile are handled first

    def _schedule(self, delay: float) -> None:
        loop = kernel_loop()
        if self._pump_handle is None and loop is not None:
            self._pump_handle = loop.call_later(delay, self._pump)
            loop.call_soon_threadsafe(lambda: None)  # wake the loop: it may sleep until a message

    def _pump(self) -> None:
        self._pump_handle = None
        start = time.perf_counter()
        if self._stale and self._pending is None:  # compute while the browser paints
            self._stale = False
            ok, state = self._guard(self._compute)
            self._pending = (state,) if ok else None
            if not ok:
                self.updates += 1
        if self._pending is None:
            return
        wait = self.answers.wait(self._sent_at, time.perf_counter(), self.ACK_TIMEOUT)
        if wait > 0:  # its answer reschedules us; the timeout is the fallback
            self._schedule(wait)
            return
        (state,), self._pending = self._pending, None
        self._guard(self._render, state)
        self._sent_at = time.perf_counter()
        self.updates += 1
        self.last_update_seconds = self._sent_at - start
        if self._stale:
            self._schedule(0.0)

    def show_error(self, exc: BaseException, heading: str) -> None:
        """Show ``exc`` in the status line and its traceback in the output (from any thread:
        call it inside the ``except`` block)."""
        self.error = exc
        self.status.value = (f'<span style="color:#D55E00"><b>{html.escape(heading)}:</b> '
                             f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</span>")
        self.output.append_stderr(traceback.format_exc())

    def _static_extra(self) -> str:
        """HTML shown under the snapshot in viewers without widgets (e.g. a results table)."""
        return ""

    def snapshot(self) -> go.Figure:
        """A static copy of the current figure."""
        return go.Figure(self.figure)

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
        # Viewers without a widget front end fall back to this static snapshot.
        html_figure = pio.to_html(self.snapshot(), include_plotlyjs=False, full_html=False)
        status = f"<div>{self.status.value}</div>" if self.status.value else ""
        bundle["text/html"] = (f"{status}{html_figure}{self._static_extra()}"
                               f"<p><i>{self.STATIC_NOTE}</i></p>")
        bundle["text/plain"] = f"{type(self).__name__}({self.values()})"
        return bundle
