"""``LiveFigure``: controls + one FigureWidget, updated in one ``batch_update()`` per change.

Subclasses build their controls and figure, then implement ``_update()`` (compute with the
compute layer, then rewrite trace data with a figures-layer updater). Everything the user
needs to see goes through here:

* an exception inside a callback is shown in the widget (a red status line and the
  traceback in an ``Output``), never lost;
* displaying the object shows the live widget in JupyterLab, and a static HTML snapshot
  of the current figure in viewers without a widget front end (nbconvert HTML, slides).

``PacedRedraw`` serves a figure that a worker thread keeps changing (the training
dashboard): redraws run on the kernel's event loop, never queue up, and wait for the
browser to have shown the previous one.
"""

from __future__ import annotations

import asyncio
import html
import time
import traceback
from collections.abc import Callable

import ipywidgets as widgets
import plotly.graph_objects as go
import plotly.io as pio

from helpers.activations import ACTIVATIONS


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

    def __init__(self, controls: dict, figure: go.Figure, columns: int = 3):
        self.controls = dict(controls)
        self.figure = go.FigureWidget(figure)
        self.status = widgets.HTML()
        self.output = widgets.Output()
        self.error: BaseException | None = None
        self.last_update_seconds = float("nan")
        self.updates = 0
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
        self.update()

    def update(self) -> None:
        """Recompute and redraw from the current control values (errors are displayed)."""
        start = time.perf_counter()
        try:
            with self.figure.batch_update():
                message = self._update()
            if self.error is not None:  # the previous update failed: clear its traceback
                self.output.clear_output()
            self.error = None
            self.status.value = message or ""
        except Exception as exc:  # shown in the notebook: a widget never fails silently
            self.output.clear_output()
            self.show_error(exc, "Could not update")
        self.updates += 1
        self.last_update_seconds = time.perf_counter() - start

    def _update(self) -> str:
        raise NotImplementedError

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


class PacedRedraw:
    """Redraws of a ``FigureWidget`` requested from a worker thread, paced by the browser.

    ``request(*args)`` runs ``draw(*args)`` on the kernel's event loop (the thread that
    handles widget messages: in JupyterLab a FigureWidget changed from another thread was
    never redrawn), or at once when there is no loop (plain Python, tests). ``ready(now)``
    says whether a new redraw may be asked for: none is pending, and the browser has shown
    the last one (plotly's FigureWidget answers each update with its trace deltas), has
    never been seen, or is later than ``ack_timeout`` seconds. Frames are dropped, never
    queued, so a slow browser cannot fall behind the kernel.
    """

    def __init__(self, figure, draw: Callable, guard: Callable[[Callable], None],
                 ack_timeout: float = 3.0):
        self.draw, self.guard, self.ack_timeout = draw, guard, ack_timeout
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pending = False
        self.acked = self.sent = 0.0  # perf_counter of the last acknowledgement / redraw
        figure.observe(self._on_ack, names="_js2py_traceDeltas")

    def bind(self) -> None:
        """Use the running kernel's loop (call from the kernel's thread, e.g. on Start)."""
        self.loop = kernel_loop()

    def drawn(self) -> None:
        """Record that a redraw was just sent (call at the end of every draw)."""
        self.sent = time.perf_counter()

    def ready(self, now: float) -> bool:
        if self.pending:
            return False
        return self.acked == 0.0 or self.acked >= self.sent or now - self.sent > self.ack_timeout

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

    def _on_ack(self, change) -> None:
        if change["new"]:
            self.acked = time.perf_counter()
