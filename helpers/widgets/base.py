"""``LiveFigure``: controls + one FigureWidget, updated in one ``batch_update()`` per change.

Subclasses build their controls and figure, then implement ``_update()`` (compute with the
compute layer, then rewrite trace data with a figures-layer updater). Everything the user
needs to see goes through here:

* an exception inside a callback is shown in the widget (a red status line and the
  traceback in an ``Output``), never lost;
* displaying the object shows the live widget in JupyterLab, and a static HTML snapshot
  of the current figure in viewers without a widget front end (nbconvert HTML, slides).
"""

from __future__ import annotations

import html
import time
import traceback

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
            self.error = exc
            self.status.value = (
                f'<span style="color:#D55E00"><b>Could not update:</b> '
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</span>")
            self.output.clear_output()
            with self.output:
                traceback.print_exc()
        self.updates += 1
        self.last_update_seconds = time.perf_counter() - start

    def _update(self) -> str:
        raise NotImplementedError

    def snapshot(self) -> go.Figure:
        """A static copy of the current figure."""
        return go.Figure(self.figure)

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
        # Viewers without a widget front end fall back to this static snapshot.
        html_figure = pio.to_html(self.snapshot(), include_plotlyjs=False, full_html=False)
        status = f"<div>{self.status.value}</div>" if self.status.value else ""
        bundle["text/html"] = (
            f"{status}{html_figure}<p><i>A static snapshot of an interactive chart: run this "
            "notebook in JupyterLab to move the controls.</i></p>")
        bundle["text/plain"] = f"{type(self).__name__}({self.values()})"
        return bundle
